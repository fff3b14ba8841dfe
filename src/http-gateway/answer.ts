/**
 * @module http-gateway/answer
 * One CoAP response as an HTTP response (RFC 7252 §10.2, RFC 8075 §6-§7): the status of Table 2,
 * Content-Type from Content-Format (a diagnostic payload as `text/plain; charset=utf-8`, §6.6,
 * never in the reason phrase), ETag, Max-Age as `Cache-Control: max-age` on cacheable codes
 * (RFC 7252 §5.6.1, §5.10.5: 60 when absent) counting down the time the response was held, and
 * as Retry-After on 5.03 and 4.29 (Table 2 note 8), Location-* as a Location rebuilt through the
 * hosting template (RFC 7252 §10.2.4). The same record is written as a unicast response and as a
 * part of a group batch.
 */
import { Code, codeClass } from '../message/codes.js';
import type { CoapOption } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { findOption, uintOption } from '../options/values.js';
import { type CoapUri, formatUri, resolveLocation } from '../uri/index.js';
import { etagHeader } from './etag.js';
import { contentTypeOf } from './media.js';
import { httpStatus } from './status.js';

/** An HTTP response: status line, header fields in order, body. */
export interface HttpAnswer {
  readonly status: number;
  readonly reason: string;
  readonly headers: Array<[string, string]>;
  readonly body: Buffer;
}

/** The parts of a CoAP response this mapping reads. */
export interface CoapAnswerParts {
  readonly code: number;
  readonly options: readonly CoapOption[];
  readonly payload: Buffer;
}

/** How a response is read. */
export interface AnswerContext {
  /** The HTTP request carried validators (RFC 8075 §7 note 3). */
  readonly conditional: boolean;
  /** The request URI (for Location-*), and the responder for a group's response. */
  readonly base: CoapUri;
  readonly responder?: { readonly address: string; readonly port: number };
  /** The HC Proxy URI path, e.g. `/hc/`. */
  readonly prefix: string;
  /** ms since the response arrived: Max-Age counts down by it (RFC 7252 §5.6.1). */
  readonly heldMs?: number;
}

/** RFC 7252 §5.6, §5.9: 2.05, 2.03 and the error classes may be cached, with Max-Age. */
function cacheable(code: number): boolean {
  return code === Code.Content || code === Code.Valid || codeClass(code) === 4 || codeClass(code) === 5;
}

/** A CoAP URI as a Hosting HTTP URI path (RFC 8075 §5.3, §5.3.2: IPv6 brackets percent-encoded). */
export function hostingPath(prefix: string, uri: CoapUri): string {
  const text = formatUri(uri);
  const start = text.indexOf('//') + 2;
  const end = text.indexOf(']', start);
  if (text[start] !== '[' || end < 0) return prefix + text;
  return `${prefix}${text.slice(0, start)}%5B${text.slice(start + 1, end)}%5D${text.slice(end + 1)}`;
}

/** The HTTP response for a CoAP response. */
export function toHttpAnswer(res: CoapAnswerParts, ctx: AnswerContext): HttpAnswer {
  const { status, reason } = httpStatus(res.code, res.payload.length > 0, ctx.conditional);
  const headers: Array<[string, string]> = [];
  const bodyless = status === 204 || status === 304;
  const format = uintOption(res.options, Opt.ContentFormat);
  if (!bodyless && res.payload.length > 0) {
    const diagnostic = codeClass(res.code) !== 2;
    const type =
      format !== undefined
        ? contentTypeOf(format)
        : diagnostic
          ? 'text/plain; charset=utf-8'
          : 'application/octet-stream';
    headers.push(['Content-Type', type]);
  } else if (!bodyless && format !== undefined) headers.push(['Content-Type', contentTypeOf(format)]);
  const etag = findOption(res.options, Opt.ETag);
  if (etag !== undefined && etag.value.length > 0) headers.push(['ETag', etagHeader(etag.value)]);
  const maxAge = uintOption(res.options, Opt.MaxAge);
  if (cacheable(res.code)) {
    const left = Math.max(0, (maxAge ?? 60) - Math.floor((ctx.heldMs ?? 0) / 1000));
    headers.push(['Cache-Control', `max-age=${left}`]);
  }
  if ((res.code === Code.ServiceUnavailable || res.code === Code.TooManyRequests) && maxAge !== undefined)
    headers.push(['Retry-After', String(maxAge)]);
  const location = resolveLocation(ctx.base, ctx.responder, res.options);
  if (location !== undefined) headers.push(['Location', hostingPath(ctx.prefix, location)]);
  return { status, reason, headers, body: bodyless ? Buffer.alloc(0) : res.payload };
}
