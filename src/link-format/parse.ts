/**
 * @module link-format/parse
 * Parsing `application/link-format` text into links (RFC 6690 §2). One pass over the text, no
 * backtracking and no regular expressions, so time is linear in the input; the only failure is
 * a LinkFormatError carrying the offset.
 *
 * Leniency, chosen for payloads from other implementations: whitespace (SP, HTAB, CR, LF) may
 * surround `<link>`, `,`, `;` and `=` (RFC 6690 §5 shows links split over lines), and parameter
 * names keep their case. Strictness, so that `formatLinks` can always write back what was read:
 * no empty list elements, no bare value that is not a ptoken, no quoted ext-value.
 */

import { LinkFormatError } from './error.js';
import { isAttrChar, isHrefChar, isPtokenChar, isSpace } from './grammar.js';
import type { Link } from './types.js';

const LT = 0x3c;
const GT = 0x3e;
const COMMA = 0x2c;
const SEMI = 0x3b;
const EQ = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const STAR = 0x2a;

/** The parse position; one per call, so parsing holds no state between calls. */
interface Cursor {
  readonly text: string;
  pos: number;
}

/**
 * Parses CoRE Link Format text (RFC 6690 §2) into links, in order. Empty or whitespace-only text
 * is the empty list (RFC 6690 §4: no links, zero-length payload).
 *
 * @throws LinkFormatError for anything else that is not a `link-value-list`; never anything else.
 * @example
 * ```ts
 * parseLinks('</sensors/temp>;rt="temperature-c";if="sensor";obs');
 * // [{ href: '/sensors/temp', attributes: [['rt', 'temperature-c'], ['if', 'sensor'], ['obs', true]] }]
 * ```
 */
export function parseLinks(text: string): Link[] {
  const links: Link[] = [];
  const cur: Cursor = { text, pos: 0 };
  skipSpace(cur);
  if (cur.pos === text.length) return links;
  for (;;) {
    links.push(readLink(cur));
    if (cur.pos === text.length) return links;
    if (text.charCodeAt(cur.pos) !== COMMA) fail(cur, `expected ";", "," or the end after a link`);
    cur.pos++;
    skipSpace(cur);
  }
}

/** link-value = "<" URI-Reference ">" *( ";" link-param ), with the whitespace after it. */
function readLink(cur: Cursor): Link {
  const { text } = cur;
  if (text.charCodeAt(cur.pos) !== LT) fail(cur, 'expected "<" to open a link');
  const open = cur.pos;
  const start = ++cur.pos;
  for (;;) {
    if (cur.pos === text.length) throw new LinkFormatError('link target not closed by ">"', open);
    const c = text.charCodeAt(cur.pos);
    if (c === GT) break;
    if (!isHrefChar(c)) fail(cur, 'character not allowed in a link target');
    cur.pos++;
  }
  const href = text.slice(start, cur.pos);
  cur.pos++;
  const attributes: Link['attributes'] = [];
  skipSpace(cur);
  while (text.charCodeAt(cur.pos) === SEMI) {
    cur.pos++;
    skipSpace(cur);
    attributes.push(readParam(cur));
  }
  return { href, attributes };
}

/** link-param: a name, then nothing or `=` and a ptoken or quoted-string; then whitespace. */
function readParam(cur: Cursor): [string, string | true] {
  const { text } = cur;
  const start = cur.pos;
  while (cur.pos < text.length && isAttrChar(text.charCodeAt(cur.pos))) cur.pos++;
  if (cur.pos === start) fail(cur, 'expected a parameter name after ";"');
  // ext-name-star: parmname "*" with no whitespace between (RFC 6690 §2).
  const star = text.charCodeAt(cur.pos) === STAR;
  if (star) cur.pos++;
  const name = text.slice(start, cur.pos);
  skipSpace(cur);
  if (text.charCodeAt(cur.pos) !== EQ) {
    if (star) fail(cur, `expected "=" and an ext-value after ${name}`);
    return [name, true];
  }
  cur.pos++;
  skipSpace(cur);
  let value: string;
  if (text.charCodeAt(cur.pos) === DQUOTE) {
    // An ext-value (RFC 5987) is never quoted; refusing it keeps title*= writable back.
    if (star) fail(cur, `the ext-value of ${name} must not be quoted`);
    value = readQuoted(cur);
  } else {
    const vstart = cur.pos;
    while (cur.pos < text.length && isPtokenChar(text.charCodeAt(cur.pos))) cur.pos++;
    if (cur.pos === vstart) fail(cur, `expected a value after ${name}=`);
    value = text.slice(vstart, cur.pos);
  }
  skipSpace(cur);
  return [name, value];
}

/** quoted-string (RFC 2616 §2.2): `\` escapes any one character. Unescaped in one pass. */
function readQuoted(cur: Cursor): string {
  const { text } = cur;
  const open = cur.pos;
  let segment = ++cur.pos;
  let value = '';
  for (;;) {
    if (cur.pos >= text.length) throw new LinkFormatError('quoted string not closed', open);
    const c = text.charCodeAt(cur.pos);
    if (c === DQUOTE) break;
    if (c === BACKSLASH) {
      // The escaped character is taken literally, whatever it is; the slice starting at it
      // picks it up with the text that follows.
      value += text.slice(segment, cur.pos);
      segment = cur.pos + 1;
      cur.pos += 2;
    } else {
      cur.pos++;
    }
  }
  value += text.slice(segment, cur.pos);
  cur.pos++;
  return value;
}

function skipSpace(cur: Cursor): void {
  const { text } = cur;
  while (cur.pos < text.length && isSpace(text.charCodeAt(cur.pos))) cur.pos++;
}

function fail(cur: Cursor, expected: string): never {
  const { text, pos } = cur;
  const found = pos < text.length ? JSON.stringify(text[pos]) : 'the end of the text';
  throw new LinkFormatError(`${expected}, found ${found}`, pos);
}
