/**
 * @module server/response
 * What a handler returns, turned into response parts: the code (by default the one RFC 7252 §5.8
 * gives for the method), payload, Content-Format, Max-Age, ETag and Location-Path.
 */
import { type CoapResponseError, InvalidArgumentError } from '../errors.js';
import { Code, type MethodName, parseCode } from '../message/codes.js';
import type { CoapOption } from '../message/types.js';
import { EMPTY } from '../message/types.js';
import type { ResponseParts } from '../messenger/server-exchange.js';
import { parseContentFormat } from '../options/content-format.js';
import { Opt } from '../options/registry.js';
import { encodeUint } from '../options/values.js';

/** A handler's answer. */
export interface ResponseInit {
  /** `'2.05'` or the numeric code. Default: 2.05 for GET/FETCH, 2.04 for PUT/POST/PATCH/iPATCH, 2.02 for DELETE, 2.01 when `location` is set. */
  code?: string | number;
  /** A string (UTF-8), bytes, or an object (sent as JSON, Content-Format 50 unless `format` says otherwise). */
  payload?: string | Buffer | Uint8Array | object;
  format?: number | string;
  /** Max-Age in seconds (RFC 7252 §5.10.5). */
  maxAge?: number;
  etag?: Buffer;
  /** Location-Path segments of a created resource (RFC 7252 §5.10.7). */
  location?: readonly string[];
  options?: readonly CoapOption[];
}

const DEFAULT_CODE: Record<MethodName, number> = {
  GET: Code.Content,
  FETCH: Code.Content,
  POST: Code.Changed,
  PUT: Code.Changed,
  PATCH: Code.Changed,
  iPATCH: Code.Changed,
  DELETE: Code.Deleted,
};

function toCode(c: string | number): number {
  const n = typeof c === 'number' ? c : parseCode(c);
  if (n === undefined || n < 0x40 || n > 0xbf)
    throw new InvalidArgumentError(`response code ${String(c)} is not a 2.xx-5.xx code`);
  return n;
}

/**
 * The bytes of the last text payload of one resource's responses: a handler that answers the
 * same text again gets the same bytes without encoding them again. Response payloads are never
 * written to after they are made, so one buffer can serve many responses.
 */
export class TextMemo {
  text: string | undefined = undefined;
  bytes: Buffer = EMPTY;

  /** The UTF-8 bytes of `text`. */
  bytesOf(text: string): Buffer {
    if (text !== this.text) {
      this.bytes = Buffer.from(text);
      this.text = text;
    }
    return this.bytes;
  }
}

/** Builds the response for a handler's result; `memo` lends a text payload's bytes (see `TextMemo`). */
export function toResponseParts(
  method: MethodName,
  r: ResponseInit | undefined,
  memo?: TextMemo,
): ResponseParts {
  const init = r ?? {};
  const options: CoapOption[] = [];
  let payload = EMPTY;
  let format =
    init.format === undefined
      ? undefined
      : typeof init.format === 'number'
        ? init.format
        : parseContentFormat(init.format);
  const p = init.payload;
  if (typeof p === 'string') {
    payload = memo === undefined ? Buffer.from(p) : memo.bytesOf(p);
    if (format === undefined && payload.length > 0) format = 0;
  } else if (Buffer.isBuffer(p)) payload = p;
  else if (p instanceof Uint8Array) payload = Buffer.from(p);
  else if (p !== undefined) {
    payload = Buffer.from(JSON.stringify(p));
    format ??= 50;
  }
  if (init.etag) options.push({ number: Opt.ETag, value: init.etag });
  if (init.location)
    for (const seg of init.location) options.push({ number: Opt.LocationPath, value: Buffer.from(seg) });
  if (format !== undefined) options.push({ number: Opt.ContentFormat, value: encodeUint(format) });
  if (init.maxAge !== undefined) options.push({ number: Opt.MaxAge, value: encodeUint(init.maxAge) });
  if (init.options) options.push(...init.options);
  if (options.length > 1) options.sort((a, b) => a.number - b.number);
  const code =
    init.code !== undefined ? toCode(init.code) : init.location ? Code.Created : DEFAULT_CODE[method];
  return { code, options, payload };
}

/** The response for a thrown `CoapResponseError` (diagnostic payload, RFC 7252 §5.5.2). */
export function errorParts(err: CoapResponseError): ResponseParts {
  const code = parseCode(err.responseCode) ?? Code.InternalServerError;
  const options: CoapOption[] = [];
  if (err.maxAge !== undefined) options.push({ number: Opt.MaxAge, value: encodeUint(err.maxAge) });
  return { code, options, payload: err.diagnostic ? Buffer.from(err.diagnostic) : EMPTY };
}
