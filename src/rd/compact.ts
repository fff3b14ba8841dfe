/**
 * @module rd/compact
 * Keeps registered links small (RFC 9176 §8.4: an RD holds what many endpoints send it): link
 * structures copied into arrays of exact size (a parser's arrays keep room to grow), and the
 * attribute names and short values that recur across registrations (`rt`, `if`, `core.s`, a
 * sector's resource types) stored once. The table of shared strings is bounded.
 */
import type { Link } from '../link-format/index.js';

/** Distinct strings shared at most. */
const MAX_SHARED = 8192;
/** Longer values are rarely repeated (hrefs, titles): not worth a table entry. */
const MAX_SHARED_LENGTH = 48;

/** One string per distinct value, for the names and short values of link attributes. */
export class Interner {
  private readonly table = new Map<string, string>();

  /** The shared copy of `s` (itself if new and there is room). */
  get(s: string): string {
    if (s.length > MAX_SHARED_LENGTH) return s;
    const known = this.table.get(s);
    if (known !== undefined) return known;
    if (this.table.size < MAX_SHARED) {
      // A flattened copy: `s` may be a slice that keeps a whole payload alive.
      const own = ` ${s}`.slice(1);
      this.table.set(own, own);
      return own;
    }
    return s;
  }

  get size(): number {
    return this.table.size;
  }
}

/** The links with exact-size arrays and shared names and values. */
export function compactLinks(links: readonly Link[], intern: Interner): Link[] {
  const out = new Array<Link>(links.length);
  for (let i = 0; i < links.length; i++) {
    const l = links[i]!;
    const attrs = new Array<[string, string | true]>(l.attributes.length);
    for (let j = 0; j < l.attributes.length; j++) {
      const [k, v] = l.attributes[j]!;
      attrs[j] = [intern.get(k), v === true ? true : intern.get(v)];
    }
    out[i] = { href: l.href, attributes: attrs };
  }
  return out;
}
