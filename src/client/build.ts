/**
 * @module client/build
 * Request options as the application gives them, turned into a target and a message: method,
 * URI decomposition (RFC 7252 §6.4), payload and its Content-Format, Accept, No-Response
 * (RFC 7967) and extra options.
 */
import { InvalidArgumentError } from '../errors.js';
import { Method, type MethodName } from '../message/codes.js';
import type { CoapOption } from '../message/types.js';
import { EMPTY } from '../message/types.js';
import { parseContentFormat } from '../options/content-format.js';
import { Opt } from '../options/registry.js';
import { encodeUint } from '../options/values.js';
import type { CoapUri } from '../uri/index.js';
import { parseRequestUri } from './scheme.js';

/** Classes a client can disclaim with No-Response (RFC 7967 §2.1). */
export type ResponseClass = 2 | 4 | 5;

/** What a request carries. */
export interface RequestOptions {
  /** The target, e.g. `coap://127.0.0.1/light` or `coap://[ff02::fd%25eth0]/.well-known/core`. */
  uri: string | CoapUri;
  method?: MethodName;
  payload?: string | Buffer | Uint8Array;
  /** Content-Format of the payload: a number or a media type. Default: text/plain for a string payload. */
  format?: number | string;
  /** Accept option: a number or a media type. */
  accept?: number | string;
  /** RFC 7967: classes the client is not interested in (`[2]` for no 2.xx), or the raw option value. */
  noResponse?: readonly ResponseClass[] | number;
  /** Extra options, e.g. `{ number: Opt.ETag, value }`. */
  options?: readonly CoapOption[];
  signal?: AbortSignal;
  /**
   * Send this request unprotected even though the client has a security layer: an explicit
   * choice, e.g. discovery of a server that has no context. Without it, a client with a
   * security layer protects every request or refuses it (`ClientSecurity.protect`).
   */
  unprotected?: boolean;
}

/** RFC 7967 §2.1: bit (n-1) disclaims class n. */
export function noResponseValue(v: readonly ResponseClass[] | number): number {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 255)
      throw new InvalidArgumentError(`noResponse ${v} is not a byte`);
    return v;
  }
  let bits = 0;
  for (const c of v) {
    if (c !== 2 && c !== 4 && c !== 5) throw new InvalidArgumentError(`noResponse class ${c}: use 2, 4 or 5`);
    bits |= 1 << (c - 1);
  }
  return bits;
}

/**
 * The target of a unicast request, observation or ping; a scheme this client has no transport
 * for is refused before anything else (client/scheme).
 */
export function toUri(uri: string | CoapUri): CoapUri {
  return parseRequestUri(uri);
}

function formatNumber(v: number | string, what: string): number {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 65535)
      throw new InvalidArgumentError(`${what} ${v} is outside 0-65535`);
    return v;
  }
  return parseContentFormat(v);
}

/** The method code; GET when absent. */
export function methodCode(m: MethodName | undefined): number {
  if (m === undefined) return Method.GET;
  const c = Method[m];
  if (c === undefined)
    throw new InvalidArgumentError(`unknown method ${m}; use one of ${Object.keys(Method).join(', ')}`);
  return c;
}

/** The payload and the options that do not depend on the destination. */
export function bodyAndOptions(o: RequestOptions): { payload: Buffer; options: CoapOption[] } {
  const payload =
    o.payload === undefined
      ? EMPTY
      : typeof o.payload === 'string'
        ? Buffer.from(o.payload)
        : Buffer.from(o.payload);
  const options: CoapOption[] = [];
  if (o.format !== undefined) {
    options.push({ number: Opt.ContentFormat, value: encodeUint(formatNumber(o.format, 'format')) });
  } else if (typeof o.payload === 'string' && payload.length > 0) {
    options.push({ number: Opt.ContentFormat, value: EMPTY });
  }
  if (o.accept !== undefined)
    options.push({ number: Opt.Accept, value: encodeUint(formatNumber(o.accept, 'accept')) });
  if (o.noResponse !== undefined) {
    options.push({ number: Opt.NoResponse, value: encodeUint(noResponseValue(o.noResponse)) });
  }
  if (o.options) options.push(...o.options);
  return { payload, options };
}

const byNumber = (a: CoapOption, b: CoapOption) => a.number - b.number;

/** `options` in place in option-number order, as the encoder wants them (RFC 7252 §3.1). */
export function sortOptions(options: CoapOption[]): CoapOption[] {
  return options.sort(byNumber);
}
