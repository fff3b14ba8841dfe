/**
 * @module link-format/format
 * Writing links as `application/link-format` text (RFC 6690 §2). Runs for every discovery
 * response, so it is one pass with string appends and no per-attribute allocation beyond the
 * output, and it checks its input so that what it writes is valid and parses back unchanged.
 *
 * Quoting (RFC 6690 §2 leaves a choice for link-extensions):
 * - a cardinal number is written bare (`ct=40`, `sz=262144`, RFC 7252 §7.2.1), except for the
 *   attributes whose ABNF wants a quoted string or a relation-type (rt, if, rel, rev, anchor,
 *   title), which are always quoted;
 * - an ext-name-star value (`title*`) is an RFC 5987 ext-value and is written bare;
 * - everything else is a quoted-string, which the link-extension rule accepts for any name.
 */
import { InvalidArgumentError } from '../errors.js';
import { isCardinal, isHrefChar, isPtoken, isStarName, isValidName, namesEqual } from './grammar.js';
import type { Link } from './types.js';

/** Attributes never written bare: their ABNF is quoted-string or relation-types (RFC 6690 §2). */
const ALWAYS_QUOTED = ['rt', 'if', 'rel', 'rev', 'anchor', 'title'] as const;

/**
 * Serializes links as CoRE Link Format (RFC 6690 §2): `</path>;rt="x";ct=40;obs`, links joined by
 * `,` with no whitespace. The empty list gives the empty string (RFC 6690 §4).
 *
 * @throws InvalidArgumentError when a link cannot be written validly: a target with whitespace,
 *   controls, `"`, `<` or `>`; a name that is not a parmname; or a `name*` whose value is not a
 *   bare ext-value. Nothing is written in that case.
 * @example
 * ```ts
 * formatLinks([{ href: '/sensors', attributes: [['ct', '40'], ['title', 'Sensor Index']] }]);
 * // '</sensors>;ct=40;title="Sensor Index"'
 * ```
 */
export function formatLinks(links: readonly Link[]): string {
  let out = '';
  for (let i = 0; i < links.length; i++) {
    const link = links[i]!;
    const href = link.href;
    checkHref(href, i);
    out += i === 0 ? `<${href}>` : `,<${href}>`;
    const attributes = link.attributes;
    for (let j = 0; j < attributes.length; j++) {
      const attribute = attributes[j]!;
      out += formatParam(attribute[0], attribute[1], i);
    }
  }
  return out;
}

function formatParam(name: string, value: string | true, link: number): string {
  if (!isValidName(name)) {
    throw new InvalidArgumentError(`link ${link}: ${JSON.stringify(name)} is not a link parameter name`);
  }
  if (isStarName(name)) {
    if (value === true || !isPtoken(value)) {
      throw new InvalidArgumentError(
        `link ${link}: ${name} needs an RFC 5987 ext-value such as UTF-8'en'text`,
      );
    }
    return `;${name}=${value}`;
  }
  if (value === true) return `;${name}`;
  if (isCardinal(value) && !alwaysQuoted(name)) return `;${name}=${value}`;
  return `;${name}="${escapeQuoted(value)}"`;
}

/**
 * quoted-string content (RFC 2616 §2.2): `"` and `\` must be escaped; controls other than HTAB
 * are not qdtext, so they become quoted-pairs too. Returns `value` itself when nothing needs it.
 */
function escapeQuoted(value: string): string {
  let out = '';
  let segment = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22 || c === 0x5c || (c < 0x20 && c !== 0x09) || c === 0x7f) {
      out += `${value.slice(segment, i)}\\`;
      segment = i;
    }
  }
  return out === '' ? value : out + value.slice(segment);
}

function alwaysQuoted(name: string): boolean {
  for (let i = 0; i < ALWAYS_QUOTED.length; i++) if (namesEqual(name, ALWAYS_QUOTED[i]!)) return true;
  return false;
}

function checkHref(href: string, link: number): void {
  for (let i = 0; i < href.length; i++) {
    if (!isHrefChar(href.charCodeAt(i))) {
      throw new InvalidArgumentError(
        `link ${link}: target ${JSON.stringify(href)} has ${JSON.stringify(href[i])}, which a link cannot carry`,
      );
    }
  }
}
