/**
 * @module server/discovery
 * /.well-known/core (RFC 6690 §4, RFC 7252 §7.2): the links of every published resource, with
 * query filtering (RFC 6690 §4.1). For a multicast request a filter that matches nothing yields
 * an empty payload, which the discovery suppression profile keeps silent (RFC 7390 §2.7, R55).
 */
import { filterLinks, formatLinks, type Link } from '../link-format/index.js';
import type { Resource } from './resource.js';

function list<T>(v: T | readonly T[] | undefined): readonly T[] {
  return v === undefined ? [] : Array.isArray(v) ? (v as readonly T[]) : [v as T];
}

/** The link of one resource. */
export function resourceLink(r: Resource): Link {
  const attributes: Array<[string, string | true]> = [];
  const m = r.meta;
  const rt = list(m.rt);
  if (rt.length > 0) attributes.push(['rt', rt.join(' ')]);
  const ifs = list(m.if);
  if (ifs.length > 0) attributes.push(['if', ifs.join(' ')]);
  const ct = list(m.ct);
  if (ct.length > 0) attributes.push(['ct', ct.join(' ')]);
  if (m.sz !== undefined) attributes.push(['sz', String(m.sz)]);
  if (m.title !== undefined) attributes.push(['title', m.title]);
  if (m.obs) attributes.push(['obs', true]);
  return { href: r.path, attributes };
}

function isPattern(path: string): boolean {
  return path.includes('/:') || path.endsWith('/*');
}

/** The link-format document for `resources`, filtered by `query` (decoded Uri-Query values). */
export function discoveryDocument(resources: readonly Resource[], query: readonly string[]): string {
  // A route with parameters (`/lights/:id`, `/files/*`) is a pattern, not a resource: only its
  // concrete paths exist (RFC 6690 §2), so it is not listed.
  const links = resources.filter((r) => !r.meta.hidden && !isPattern(r.path)).map(resourceLink);
  return formatLinks(query.length > 0 ? filterLinks(links, query) : links);
}
