/**
 * @module link-format/grammar
 * The character classes and name rules of the CoRE Link Format ABNF (RFC 6690 §2, RFC 5987
 * §3.2.1), shared by the parser and the serializer: what one writes the other reads, and what
 * one accepts the other can write back.
 */

/** ptokenchar (RFC 6690 §2): visible ASCII except DQUOTE, ",", ";" and "\". */
export function isPtokenChar(c: number): boolean {
  return c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x2c && c !== 0x3b && c !== 0x5c;
}

/** attr-char (RFC 5987 §3.2.1): the characters of a parmname. */
export function isAttrChar(c: number): boolean {
  const lower = c | 0x20;
  if ((c >= 0x30 && c <= 0x39) || (lower >= 0x61 && lower <= 0x7a)) return true;
  switch (c) {
    case 0x21: // !
    case 0x23: // #
    case 0x24: // $
    case 0x26: // &
    case 0x2b: // +
    case 0x2d: // -
    case 0x2e: // .
    case 0x5e: // ^
    case 0x5f: // _
    case 0x60: // `
    case 0x7c: // |
    case 0x7e: // ~
      return true;
    default:
      return false;
  }
}

/**
 * A character allowed in a link target. RFC 3986 forbids more (`\ ^ { | }` and non-ASCII), but
 * RFC 6690 §2 has percent-encodings decoded, so we only refuse what would break the framing or
 * is never part of a URI: controls, whitespace, DQUOTE, `<` and `>`.
 */
export function isHrefChar(c: number): boolean {
  return c > 0x20 && c !== 0x7f && c !== 0x22 && c !== 0x3c && c !== 0x3e;
}

/** Linear whitespace tolerated between tokens (RFC 6690 §5 shows links split across lines). */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** parmname [ "*" ] (RFC 5987 §3.2.1, RFC 6690 §2 ext-name-star). */
const NAME = /^[A-Za-z0-9!#$&+\-.^_`|~]+\*?$/;

/** Whether `name` can be written as a link-param name. */
export function isValidName(name: string): boolean {
  return NAME.test(name);
}

/** A name ending in `*` takes an RFC 5987 ext-value, written bare (RFC 6690 §2 ext-name-star). */
export function isStarName(name: string): boolean {
  return name.charCodeAt(name.length - 1) === 0x2a;
}

/** `1*ptokenchar`. */
export function isPtoken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) if (!isPtokenChar(value.charCodeAt(i))) return false;
  return true;
}

/** cardinal = "0" / ( %x31-39 *DIGIT ) (RFC 6690 §2). */
export function isCardinal(value: string): boolean {
  const n = value.length;
  if (n === 0) return false;
  const first = value.charCodeAt(0);
  if (first === 0x30) return n === 1;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * ASCII case-insensitive name equality without allocating: ABNF literals such as "rt" are
 * case-insensitive (RFC 5234 §2.3), so `RT="x"` is an `rt` attribute. Values stay bitwise
 * (RFC 6690 §3).
 */
export function namesEqual(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x >= 0x41 && x <= 0x5a) x += 0x20;
    if (y >= 0x41 && y <= 0x5a) y += 0x20;
    if (x !== y) return false;
  }
  return true;
}
