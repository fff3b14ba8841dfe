/**
 * @module rd/lookup
 * Endpoint and resource lookup (RFC 9176 §6): search criteria as in RFC 6690 §4.1 (a trailing
 * `*` is a prefix, relation-type attributes match any of their values), all of which must
 * match; a resource link also matches a criterion its endpoint matches, and an endpoint matches
 * a criterion any of its resource links matches (§6.2); `page` and `count` (§6.2); `href`
 * compared with resolved targets, and with registration resources in path-absolute form or as
 * URIs (§6.2). Results keep registration order, then link order.
 */
import { CoapResponseError } from '../errors.js';
import { type Link, matchesFilter } from '../link-format/index.js';
import type { Registration } from './registration.js';
import { isAbsoluteUri, pathOfReference } from './uri-ref.js';

/** The two lookup types of RFC 9176 §6, Table 1. */
export type LookupKind = 'ep' | 'res';

/** One search criterion: `name=value`, `name=prefix*`, or `name` alone (any value). */
export interface Criterion {
  readonly name: string;
  readonly value: string;
  /** The same criterion as it applies to an endpoint link (an `href` URI reduced to its path). */
  readonly endpointValue: string;
}

/** A parsed lookup query. */
export interface LookupQuery {
  readonly criteria: readonly Criterion[];
  readonly page: number | undefined;
  readonly count: number | undefined;
}

/** Who is looking: link-local registrations are shown only on their link (RFC 9176 §6.1, §6.4). */
export interface Viewer {
  readonly linkLocal: boolean;
}

/** Most links a page may start after (keeps `page * count` an exact integer). */
const MAX_INDEX = 2 ** 31;

function pagingNumber(name: string, value: string | undefined): number {
  if (value === undefined || !/^[0-9]{1,10}$/.test(value) || Number(value) >= MAX_INDEX) {
    throw new CoapResponseError('4.00', `${name} must be a whole number below ${MAX_INDEX}`);
  }
  return Number(value);
}

/**
 * Reads a lookup's query arguments (percent-decoded Uri-Query values).
 * @throws CoapResponseError 4.00 for a bad or repeated `page`/`count`, or `page` without `count`
 *   (RFC 9176 §6.2: "cannot be used without the count parameter").
 */
export function parseLookupQuery(query: readonly string[]): LookupQuery {
  const criteria: Criterion[] = [];
  let page: number | undefined;
  let count: number | undefined;
  for (const arg of query) {
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const value = eq < 0 ? '*' : arg.slice(eq + 1);
    if (name === 'page' || name === 'count') {
      if ((name === 'page' ? page : count) !== undefined) {
        throw new CoapResponseError('4.00', `${name} is given twice`);
      }
      const n = pagingNumber(name, eq < 0 ? undefined : value);
      if (name === 'page') page = n;
      else count = n;
      continue;
    }
    if (name === '') throw new CoapResponseError('4.00', `query argument ${JSON.stringify(arg)} has no name`);
    const endpointValue =
      name.toLowerCase() === 'href' && isAbsoluteUri(value) ? pathOfReference(value) : value;
    criteria.push({ name, value, endpointValue });
  }
  if (page !== undefined && count === undefined) {
    throw new CoapResponseError('4.00', 'page needs count (RFC 9176 §6.2)');
  }
  return { criteria, page, count };
}

function endpointMatches(r: Registration, c: Criterion): boolean {
  return matchesFilter(r.endpointLink, c.name, c.endpointValue);
}

function anyLinkMatches(r: Registration, c: Criterion): boolean {
  const links = r.resolved;
  for (let i = 0; i < links.length; i++) if (matchesFilter(links[i]!, c.name, c.value)) return true;
  return false;
}

/** Whether the registration appears in an endpoint lookup with these criteria (RFC 9176 §6.2). */
export function endpointSelected(r: Registration, criteria: readonly Criterion[]): boolean {
  for (const c of criteria) if (!endpointMatches(r, c) && !anyLinkMatches(r, c)) return false;
  return true;
}

/**
 * The registration's links a resource lookup returns (RFC 9176 §6.2): those for which every
 * criterion is matched by the link or by its endpoint.
 */
export function resourcesSelected(r: Registration, criteria: readonly Criterion[]): Link[] {
  // Criteria the endpoint satisfies hold for every one of its links: test them once.
  const rest = criteria.filter((c) => !endpointMatches(r, c));
  if (rest.length === 0) return r.resolved as Link[];
  const out: Link[] = [];
  next: for (const link of r.resolved) {
    for (const c of rest) if (!matchesFilter(link, c.name, c.value)) continue next;
    out.push(link);
  }
  return out;
}

/** Whether `r` contributes anything to a lookup of this kind (for deciding who to notify). */
export function contributes(kind: LookupKind, r: Registration, criteria: readonly Criterion[]): boolean {
  if (kind === 'ep') return endpointSelected(r, criteria);
  return resourcesSelected(r, criteria).length > 0;
}

/** Whether a viewer may see a registration. */
export function visible(r: Registration, viewer: Viewer): boolean {
  return !r.linkLocal || viewer.linkLocal;
}

/**
 * Runs a lookup over `candidates` (in registration order) and returns the page asked for. The
 * scan stops once the page is full.
 */
export function runLookup(
  kind: LookupKind,
  candidates: Iterable<Registration>,
  q: LookupQuery,
  viewer: Viewer,
): Link[] {
  const first = q.count === undefined ? 0 : (q.page ?? 0) * q.count;
  const end = q.count === undefined ? Number.POSITIVE_INFINITY : first + q.count;
  const out: Link[] = [];
  let index = 0;
  for (const r of candidates) {
    if (index >= end) break;
    if (!visible(r, viewer)) continue;
    const links =
      kind === 'ep'
        ? endpointSelected(r, q.criteria)
          ? [r.endpointLink]
          : []
        : resourcesSelected(r, q.criteria);
    for (const link of links) {
      if (index >= first && index < end) out.push(link);
      index++;
    }
  }
  return out;
}
