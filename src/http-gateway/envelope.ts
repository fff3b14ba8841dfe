/**
 * @module http-gateway/envelope
 * How the answers to a group request are wrapped, chosen by Accept: the draft's multipart batch
 * (groupcomm-proxy §9.6; the default, and for `*\/*`), or one of two conveniences beside it, a
 * JSON document and a `text/event-stream` (HTML Living Standard §9.2) with one event per member
 * response as it arrives. The JSON objects are the shapes docs/proxy.md defines; a member's
 * object is the one `coap-group --json` prints for a response. The media types that choose an
 * envelope are not forwarded as the CoAP Accept option; the other ranges of Accept are.
 */
import { codeToString } from '../message/codes.js';
import { isTextFormat } from '../options/content-format.js';
import { Opt } from '../options/registry.js';
import { uintOption } from '../options/values.js';
import type { CoapAnswerParts } from './answer.js';
import type { MediaRange } from './media.js';

/** The wrapping of a group answer. */
export type Envelope = 'multipart' | 'json' | 'sse';

const ENVELOPES: ReadonlyMap<string, Envelope> = new Map([
  ['multipart/mixed', 'multipart'],
  ['multipart/*', 'multipart'],
  ['*/*', 'multipart'],
  ['application/json', 'json'],
  ['text/event-stream', 'sse'],
]);

/** The envelope Accept prefers (multipart when it names none), and the ranges left for CoAP. */
export function chooseEnvelope(ranges: readonly MediaRange[]): { envelope: Envelope; rest: MediaRange[] } {
  const envelope = ranges.map((r) => ENVELOPES.get(r.type)).find((e) => e !== undefined) ?? 'multipart';
  return { envelope, rest: ranges.filter((r) => !ENVELOPES.has(r.type)) };
}

/** One member response in the JSON and SSE envelopes. */
export interface MemberResponseJson {
  /** `127.0.0.2:5683` or `[fd00::2]:5683`: the transport source of the response. */
  readonly from: string;
  /** `2.05`. */
  readonly code: string;
  /** The Content-Format, when the response has one. */
  readonly format?: number;
  /** The payload as text, for a text Content-Format (or none, when it is valid UTF-8). */
  readonly payload?: string;
  /** The payload in base64, for any other. */
  readonly payloadBase64?: string;
  /** ms from sending the group request to receiving this response. */
  readonly ms: number;
  /** The Observe sequence number of a notification (event streams with `Observe: 0`). */
  readonly observe?: number;
}

/** Why collection ended. */
export type SummaryReason = 'window' | 'buffer' | 'closed' | 'error';

/** The end of a group answer in the JSON and SSE envelopes. */
export interface GroupSummaryJson {
  readonly responses: number;
  readonly endpoints: number;
  /** ms from receiving the HTTP request to the end of collection. */
  readonly ms: number;
  readonly reason: SummaryReason;
  /** The Multicast-Timeout used, seconds (after the gateway's cap). */
  readonly timeout: number;
  /** With reason `error`: what went wrong. */
  readonly error?: string;
}

/** The JSON envelope. */
export interface GroupResultJson {
  readonly target: string;
  readonly method: string;
  readonly responses: MemberResponseJson[];
  readonly summary: GroupSummaryJson;
}

/** `127.0.0.2:5683` or `[::1]:5683`. */
export function endpointText(a: { readonly address: string; readonly port: number }): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

function isText(payload: Buffer, format: number | undefined): boolean {
  if (format !== undefined) return isTextFormat(format);
  // No Content-Format: diagnostics and plain values are text when they decode cleanly.
  return !payload.includes(0) && Buffer.from(payload.toString('utf8')).equals(payload);
}

/** The JSON object of one member response. */
export function memberJson(
  res: CoapAnswerParts,
  source: { readonly address: string; readonly port: number },
  ms: number,
): MemberResponseJson {
  const format = uintOption(res.options, Opt.ContentFormat);
  const body = isText(res.payload, format)
    ? { payload: res.payload.toString('utf8') }
    : { payloadBase64: res.payload.toString('base64') };
  return {
    from: endpointText(source),
    code: codeToString(res.code),
    ...(format !== undefined ? { format } : {}),
    ...body,
    ms: Math.round(ms),
  };
}

/** One server-sent event (its data is one line of JSON, which never holds a raw newline). */
export function sseEvent(name: 'response' | 'summary', data: object): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
