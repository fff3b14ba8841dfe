/**
 * @module http-gateway/etag
 * Entity tags between HTTP and CoAP. A CoAP ETag is 1-8 opaque bytes and always strong (RFC 7252
 * §5.10.6); RFC 8075 leaves its HTTP spelling open, so this gateway writes it as a strong
 * entity-tag holding the unpadded base64url of the bytes (`ETag: "q83v"`, RFC 9110 §8.8.3) and
 * reads If-Match and If-None-Match back the same way (RFC 9110 §13.1.1, §13.1.2: If-None-Match
 * compares weakly, so `W/` is accepted there; If-Match compares strongly).
 */
import type { CoapOption } from '../message/types.js';
import { EMPTY } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { refuse } from './refusal.js';

/** The HTTP ETag value of a CoAP ETag. */
export function etagHeader(etag: Buffer): string {
  return `"${etag.toString('base64url')}"`;
}

/** `*`, or the entity-tags of a list header with their weakness. */
type TagList = '*' | Array<{ readonly weak: boolean; readonly opaque: string }>;

function parseTags(header: string): TagList | undefined {
  const text = header.trim();
  if (text === '*') return '*';
  const out: Array<{ weak: boolean; opaque: string }> = [];
  const re = /\s*(W\/)?"([\x21\x23-\x7e]*)"\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while (end < text.length && (m = re.exec(text)) !== null) {
    out.push({ weak: m[1] !== undefined, opaque: m[2]! });
    end = re.lastIndex;
  }
  return end === text.length && out.length > 0 ? out : undefined;
}

/** The bytes of one of this gateway's entity-tags, or undefined for a tag it never made. */
function bytesOf(opaque: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]{2,11}$/.test(opaque)) return undefined;
  const b = Buffer.from(opaque, 'base64url');
  return b.length >= 1 && b.length <= 8 && b.toString('base64url') === opaque ? b : undefined;
}

/** What the HTTP preconditions of a request become in CoAP. */
export interface Conditions {
  readonly options: CoapOption[];
  /** The request carried validators for a GET: a 2.03 answers it with 304 (RFC 8075 §7 note 3). */
  readonly conditional: boolean;
}

/**
 * Maps If-Match and If-None-Match (RFC 7252 §5.10.8, §5.10.6.2 for a GET's validators).
 * @throws Refusal 400 for a header that is not an entity-tag list; 412 for an If-Match that no
 *   CoAP ETag can satisfy (a weak tag, or one this gateway never sent).
 */
export function conditions(
  method: string,
  ifMatch: string | undefined,
  ifNoneMatch: string | undefined,
): Conditions {
  const options: CoapOption[] = [];
  let conditional = false;
  if (ifMatch !== undefined) {
    const tags = parseTags(ifMatch);
    if (tags === undefined)
      throw refuse(400, `If-Match ${JSON.stringify(ifMatch)} is not an entity-tag list`);
    if (tags === '*') options.push({ number: Opt.IfMatch, value: EMPTY });
    else {
      for (const t of tags) {
        const b = t.weak ? undefined : bytesOf(t.opaque);
        if (b !== undefined) options.push({ number: Opt.IfMatch, value: b });
      }
      if (options.length === 0)
        throw refuse(
          412,
          'If-Match names no entity-tag of this gateway, so it cannot hold (RFC 9110 §13.1.1)',
        );
    }
  }
  if (ifNoneMatch !== undefined) {
    const tags = parseTags(ifNoneMatch);
    if (tags === undefined)
      throw refuse(400, `If-None-Match ${JSON.stringify(ifNoneMatch)} is not an entity-tag list`);
    if (tags === '*') options.push({ number: Opt.IfNoneMatch, value: EMPTY });
    else if (method === 'GET' || method === 'HEAD') {
      // A GET's validators become ETag options; the server answers 2.03 for a current one.
      for (const t of tags) {
        const b = bytesOf(t.opaque);
        if (b !== undefined) {
          options.push({ number: Opt.ETag, value: b });
          conditional = true;
        }
      }
    }
  }
  return { options, conditional };
}
