/**
 * @module uri/percent
 * Percent-encoding (RFC 3986 §2.1-§2.4) with the character sets RFC 7252 §6.5 keeps unencoded in
 * a host, a path segment and a query argument, and the checked decoding §6.4 steps 5, 8 and 9 need.
 */
import { InvalidUriError } from '../errors.js';

/** A set of ASCII characters, as a 128-entry table indexed by code. */
export type CharSet = Uint8Array;

function charSet(...groups: string[]): CharSet {
  const t = new Uint8Array(128);
  for (const g of groups) for (let i = 0; i < g.length; i++) t[g.charCodeAt(i)] = 1;
  return t;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** RFC 3986 §2.3. */
const UNRESERVED_CHARS = `${ALNUM}-._~`;
/** RFC 3986 §2.2. */
const SUB_DELIMS = "!$&'()*+,;=";
const SUB_DELIMS_NO_AMP = "!$'()*+,;=";

/** RFC 3986 §2.3 unreserved: what an RFC 6874 ZoneID keeps. */
export const UNRESERVED: CharSet = charSet(UNRESERVED_CHARS);
/** RFC 3986 §3.2.2 reg-name (without `%`, which the decoder handles). */
export const REG_NAME: CharSet = charSet(UNRESERVED_CHARS, SUB_DELIMS);
/** RFC 3986 §3.3 pchar: what RFC 7252 §6.5 step 6 keeps in a segment. */
export const SEGMENT: CharSet = charSet(UNRESERVED_CHARS, SUB_DELIMS, ':@');
/** A whole path-abempty: segments and their `/` separators. */
export const PATH: CharSet = charSet(UNRESERVED_CHARS, SUB_DELIMS, ':@/');
/** RFC 3986 §3.4 query: pchar, `/` and `?`. */
export const QUERY: CharSet = charSet(UNRESERVED_CHARS, SUB_DELIMS, ':@/?');
/** RFC 7252 §6.5 step 8: a query argument keeps the query set except `&`, its separator. */
export const QUERY_ARG: CharSet = charSet(UNRESERVED_CHARS, SUB_DELIMS_NO_AMP, ':@/?');

const HEX = '0123456789ABCDEF';

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * Percent-encodes every UTF-8 byte of `text` that is not an ASCII character in `keep`, with
 * upper-case hex digits (RFC 7252 §6.5). A lone surrogate is encoded as U+FFFD, the bytes the
 * option value would carry. Returns `text` itself when nothing needs encoding.
 */
export function percentEncode(text: string, keep: CharSet): string {
  let clean = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80 || keep[c] !== 1) {
      clean = false;
      break;
    }
  }
  if (clean) return text;
  const bytes = Buffer.from(text, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out += b < 0x80 && keep[b] === 1 ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/**
 * Checks that `raw` holds only characters of `allowed`, well-formed `%XX` triplets, and (as in an
 * IRI, RFC 3987 §3.1) non-ASCII characters, which stand for their UTF-8 percent-encoding.
 * @throws InvalidUriError naming the first offending character of the `what` component.
 */
export function checkComponent(raw: string, allowed: CharSet, what: string, uri: string): void {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      if (isHex(raw.charCodeAt(i + 1)) && isHex(raw.charCodeAt(i + 2))) {
        i += 2;
        continue;
      }
      throw new InvalidUriError(
        uri,
        `bad percent-encoding "${raw.slice(i, i + 3)}" in the ${what}: "%" must be followed by two hex digits`,
      );
    }
    if (c < 0x80) {
      if (allowed[c] !== 1) {
        throw new InvalidUriError(uri, `character ${JSON.stringify(raw[i])} is not allowed in the ${what}`);
      }
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = raw.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) {
        throw new InvalidUriError(uri, `unpaired surrogate in the ${what}`);
      }
      i++;
    }
  }
}

/**
 * Decodes `%XX` triplets of a component already passed through `checkComponent`. The bytes must
 * be UTF-8, since option values of string format are (RFC 7252 §3.2).
 * @throws InvalidUriError when the decoded bytes are not UTF-8.
 */
export function percentDecode(raw: string, what: string, uri: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidUriError(uri, `bad percent-encoding in the ${what}: the bytes are not valid UTF-8`);
  }
}
