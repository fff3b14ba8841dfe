/**
 * @module rd/match
 * One lookup criterion compiled once into a test of a link (RFC 9176 §6.2, matching as RFC 6690
 * §4.1): the same rules as `matchesFilter` of the link-format module (a trailing `*` is a
 * prefix, `name` alone or `name=*` asks for presence, relation-type attributes match any of
 * their values, `href` matches the target, names compare ASCII case-insensitively), but without
 * reading the criterion again for every link of every registration a lookup scans.
 * test/unit/rd-match.test.ts checks both agree on random links and criteria.
 */
import { namesEqual } from '../link-format/grammar.js';
import type { Link } from '../link-format/index.js';

/** Attributes whose value is a space-separated list (RFC 6690 §2, RFC 7252 §7.2.1). */
const LIST_ATTRIBUTES = ['rel', 'rev', 'rt', 'if', 'ct'] as const;

/** A compiled criterion: does this link match? */
export type LinkTest = (link: Link) => boolean;

/** Compiles `name=value` (the value may end in `*`; `*` alone asks for presence). */
export function compileCriterion(name: string, value: string): LinkTest {
  const prefix = value.endsWith('*');
  const want = prefix ? value.slice(0, -1) : value;
  const exists = prefix && want.length === 0;
  const span = (target: string, start: number, end: number): boolean => {
    const length = end - start;
    if (prefix ? length < want.length : length !== want.length) return false;
    return target.startsWith(want, start);
  };
  if (namesEqual(name, 'href')) return exists ? () => true : (l) => span(l.href, 0, l.href.length);
  const list = LIST_ATTRIBUTES.some((n) => namesEqual(n, name));
  const anyEntry = (v: string): boolean => {
    if (v.length === 0) return span(v, 0, 0);
    for (let start = 0; start < v.length; ) {
      let end = v.indexOf(' ', start);
      if (end < 0) end = v.length;
      if (end > start && span(v, start, end)) return true;
      start = end + 1;
    }
    return false;
  };
  return (link) => {
    const attributes = link.attributes;
    for (let i = 0; i < attributes.length; i++) {
      const a = attributes[i]!;
      if (!namesEqual(a[0], name)) continue;
      if (exists) return true;
      const v = a[1] === true ? '' : a[1];
      if (list ? anyEntry(v) : span(v, 0, v.length)) return true;
    }
    return false;
  };
}
