/**
 * @module link-format/filter
 * Attribute lookup and query filtering of links (RFC 6690 §4.1), as a server applies it to
 * `/.well-known/core?rt=...` and a client to what it discovered. Runs per discovery request:
 * queries are read once per call, and matching a link allocates nothing.
 *
 * Choices where RFC 6690 §4.1 is open:
 * - several query arguments must all match (AND); §4.1 only defines one;
 * - an argument without `=` matches links that have that attribute, like `name=*`;
 * - names compare ASCII case-insensitively (ABNF literals, RFC 5234 §2.3), values bitwise;
 * - rel, rev, rt, if and ct are space-separated lists (RFC 6690 §2, RFC 7252 §7.2.1), and match
 *   when any one entry matches;
 * - a valueless attribute (`obs`) has the empty string as its value;
 * - a literal `*` at the end of a value cannot be asked for: Uri-Query arrives percent-decoded.
 */
import { namesEqual } from './grammar.js';
import type { Link } from './types.js';

/** One query argument, read once: `name`, and the value without its trailing `*`. */
interface Filter {
  readonly name: string;
  readonly value: string;
  readonly prefix: boolean;
  /** True when only the attribute's presence is asked for (`name` or `name=*`). */
  readonly exists: boolean;
  readonly href: boolean;
  readonly list: boolean;
}

const LIST_ATTRIBUTES = ['rel', 'rev', 'rt', 'if', 'ct'] as const;

/**
 * The value of the first attribute named `name` (ASCII case-insensitive), `true` for a valueless
 * one, or undefined when the link has none.
 */
export function linkAttribute(link: Link, name: string): string | true | undefined {
  const attributes = link.attributes;
  for (let i = 0; i < attributes.length; i++) {
    const attribute = attributes[i]!;
    if (namesEqual(attribute[0], name)) return attribute[1];
  }
  return undefined;
}

/**
 * Whether `link` matches the query `name=value` (RFC 6690 §4.1). A value ending in `*` is a
 * prefix (an empty prefix matches any value); `href` matches the link target; a link without
 * the attribute never matches.
 *
 * @example
 * ```ts
 * matchesFilter({ href: '/s/l', attributes: [['rt', 'light-lux core.sen-light']] }, 'rt', 'core.sen*'); // true
 * ```
 */
export function matchesFilter(link: Link, name: string, value: string): boolean {
  return matches(link, makeFilter(name, value));
}

/**
 * The links that match every query argument (RFC 6690 §4.1), in their order. `queries` are the
 * request's Uri-Query values, already percent-decoded: `name=value`, `name=prefix*`, or `name`.
 * No queries returns a copy of every link.
 *
 * @example
 * ```ts
 * filterLinks(parseLinks(payload), ['rt=temperature-c']);
 * ```
 */
export function filterLinks(links: readonly Link[], queries: readonly string[]): Link[] {
  const filters: Filter[] = [];
  for (let i = 0; i < queries.length; i++) {
    const query = queries[i]!;
    const eq = query.indexOf('=');
    filters.push(eq < 0 ? makeFilter(query, '*') : makeFilter(query.slice(0, eq), query.slice(eq + 1)));
  }
  const out: Link[] = [];
  next: for (let i = 0; i < links.length; i++) {
    const link = links[i]!;
    for (let j = 0; j < filters.length; j++) if (!matches(link, filters[j]!)) continue next;
    out.push(link);
  }
  return out;
}

function makeFilter(name: string, value: string): Filter {
  const prefix = value.charCodeAt(value.length - 1) === 0x2a;
  const stem = prefix ? value.slice(0, -1) : value;
  let list = false;
  for (let i = 0; i < LIST_ATTRIBUTES.length; i++) if (namesEqual(name, LIST_ATTRIBUTES[i]!)) list = true;
  return {
    name,
    value: stem,
    prefix,
    exists: prefix && stem.length === 0,
    href: namesEqual(name, 'href'),
    list,
  };
}

function matches(link: Link, filter: Filter): boolean {
  if (filter.href) return filter.exists || matchesSpan(link.href, 0, link.href.length, filter);
  const attributes = link.attributes;
  for (let i = 0; i < attributes.length; i++) {
    const attribute = attributes[i]!;
    if (!namesEqual(attribute[0], filter.name)) continue;
    if (filter.exists) return true;
    const value = attribute[1] === true ? '' : attribute[1];
    if (filter.list ? matchesAnyEntry(value, filter) : matchesSpan(value, 0, value.length, filter)) {
      return true;
    }
  }
  return false;
}

/** RFC 6690 §4.1: "each value MUST be treated as a separate target attribute when matching". */
function matchesAnyEntry(value: string, filter: Filter): boolean {
  if (value.length === 0) return matchesSpan(value, 0, 0, filter);
  let start = 0;
  while (start < value.length) {
    let end = value.indexOf(' ', start);
    if (end < 0) end = value.length;
    if (end > start && matchesSpan(value, start, end, filter)) return true;
    start = end + 1;
  }
  return false;
}

/** Whether `target[start, end)` equals the filter value, or starts with it for a prefix. */
function matchesSpan(target: string, start: number, end: number, filter: Filter): boolean {
  const length = end - start;
  const want = filter.value;
  if (filter.prefix ? length < want.length : length !== want.length) return false;
  return target.startsWith(want, start);
}
