/**
 * @module http-gateway/media
 * Media types and CoAP Content-Formats (RFC 8075 §6): Content-Type (with Content-Encoding) to a
 * Content-Format through the registry and then the loose mapping of Table 1 (§6.3, without its
 * last row: an unknown type is refused with 415, not relabelled application/octet-stream), Accept
 * to an Accept option from the most preferred media range only (§6.1: a failure is silently
 * ignored, `*\/*` gives none), and back: a Content-Format to a Content-Type, or
 * `application/coap-payload; cf=N` for one this gateway does not know (§6.2).
 */
import { ContentFormat, mediaTypeOf } from '../options/content-format.js';
import { refuse } from './refusal.js';

/** A parsed media type or media range: lower-case `type/subtype`, parameters, and q. */
export interface MediaRange {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
  readonly q: number;
}

/** Parses one media type (`text/plain; charset=utf-8`); undefined when malformed. */
export function parseMediaType(text: string): MediaRange | undefined {
  const [head, ...rest] = text.split(';');
  const type = head!.trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+*-]+$|^\*\/\*$/.test(type)) return undefined;
  const params = new Map<string, string>();
  let q = 1;
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const name = p.slice(0, eq).trim().toLowerCase();
    const value = p
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (name === 'q') {
      const n = Number(value);
      q = Number.isFinite(n) && n >= 0 && n <= 1 ? n : 0;
    } else params.set(name, value.toLowerCase());
  }
  return { type, params, q };
}

/** The ranges of an Accept header, most preferred first (by q, then by order; q=0 dropped). */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (header === undefined || header.trim() === '') return [];
  const ranges = header
    .split(',')
    .map((part) => parseMediaType(part))
    .filter((r): r is MediaRange => r !== undefined && r.q > 0);
  // Array.prototype.sort is stable, so equal q keeps the client's order.
  return ranges.sort((a, b) => b.q - a.q);
}

/** text/plain in UTF-8 (or its ASCII subset): the only charset Content-Format 0 means. */
function isUtf8Text(range: MediaRange): boolean {
  const cs = range.params.get('charset');
  return cs === undefined || cs === 'utf-8' || cs === 'us-ascii';
}

/** The registry's exact entry for a media type, if any. */
function registered(range: MediaRange): number | undefined {
  if (range.type === 'text/plain') return isUtf8Text(range) ? ContentFormat.TextPlain : undefined;
  for (const [n, name] of REGISTRY) if (name === range.type) return n;
  return undefined;
}

const REGISTRY: ReadonlyArray<readonly [number, string]> = [
  ContentFormat.LinkFormat,
  ContentFormat.Xml,
  ContentFormat.OctetStream,
  ContentFormat.Exi,
  ContentFormat.Json,
  ContentFormat.Cbor,
  ContentFormat.CoapGroupJson,
].map((n) => [n, mediaTypeOf(n)!] as const);

/** RFC 8075 Table 1, top to bottom, without `*\/*`. */
function loose(range: MediaRange): number | undefined {
  const t = range.type;
  if (/^application\/[^/]+\+xml$/.test(t) || t === 'text/xml') return ContentFormat.Xml;
  if (/^application\/[^/]+\+json$/.test(t)) return ContentFormat.Json;
  if (/^application\/[^/]+\+cbor$/.test(t)) return ContentFormat.Cbor;
  if (t.startsWith('text/') && isUtf8Text(range)) return ContentFormat.TextPlain;
  return undefined;
}

/** `application/coap-payload; cf=N` (RFC 8075 §6.2, §9.2): N, or undefined if not of that form. */
function coapPayloadFormat(range: MediaRange): number | undefined {
  if (range.type !== 'application/coap-payload') return undefined;
  const cf = range.params.get('cf');
  if (cf === undefined || !/^\d{1,5}$/.test(cf) || Number(cf) > 65535) return -1;
  return Number(cf);
}

/**
 * The Content-Format of a request body (RFC 8075 §6.1, §6.4): undefined without Content-Type.
 * @throws Refusal 415 for a type or coding that does not map, and for
 *   `application/coap-payload` unless `passCoapPayload` (§6.2: not forwarded by default).
 */
export function requestFormat(
  contentType: string | undefined,
  contentEncoding: string | undefined,
  passCoapPayload: boolean,
): number | undefined {
  if (contentEncoding !== undefined && !/^\s*(identity)?\s*$/i.test(contentEncoding)) {
    throw refuse(
      415,
      `Content-Encoding ${contentEncoding} has no CoAP Content-Format: send the body unencoded (RFC 8075 §6.1)`,
    );
  }
  if (contentType === undefined || contentType.trim() === '') return undefined;
  const range = parseMediaType(contentType);
  if (range === undefined || range.type.includes('*'))
    throw refuse(415, `Content-Type ${JSON.stringify(contentType)} is not a media type`);
  const cf = coapPayloadFormat(range);
  if (cf !== undefined) {
    if (cf < 0) throw refuse(415, 'application/coap-payload needs a cf parameter from 0 to 65535');
    if (!passCoapPayload)
      throw refuse(
        415,
        'application/coap-payload is not forwarded by this gateway (RFC 8075 §6.2); send a registered media type',
      );
    return cf;
  }
  const n = registered(range) ?? loose(range);
  if (n === undefined) {
    throw refuse(
      415,
      `Content-Type ${range.type} has no CoAP Content-Format; use one of text/plain, ${REGISTRY.map(([, t]) => t).join(', ')} (RFC 8075 §6.4)`,
    );
  }
  return n;
}

/**
 * The Accept option for the most preferred range of `ranges` (RFC 8075 §6.1): undefined for none,
 * for a wildcard and for a type that does not map exactly (silently ignored).
 */
export function acceptFormat(ranges: readonly MediaRange[], passCoapPayload: boolean): number | undefined {
  const first = ranges[0];
  if (first === undefined || first.type.includes('*')) return undefined;
  const cf = coapPayloadFormat(first);
  if (cf !== undefined) return passCoapPayload && cf >= 0 ? cf : undefined;
  return registered(first);
}

/** The Content-Type of a Content-Format (RFC 8075 §6.1, §6.2). */
export function contentTypeOf(format: number): string {
  if (format === ContentFormat.TextPlain) return 'text/plain; charset=utf-8';
  return mediaTypeOf(format) ?? `application/coap-payload; cf=${format}`;
}
