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
import type { Link } from '../link-format/index.js';
import { compileCriterion, type LinkTest } from './match.js';
import { DIGEST_MARK, type Registration } from './registration.js';
import { isAbsoluteUri, pathOfReference } from './uri-ref.js';

/** The two lookup types of RFC 9176 §6, Table 1. */
export type LookupKind = 'ep' | 'res';

/** One search criterion: `name=value`, `name=prefix*`, or `name` alone (any value). */
export interface Criterion {
  readonly name: string;
  readonly value: string;
  /** Whether a resource link matches it. */
  readonly test: LinkTest;
  /** Whether an endpoint link matches it (an `href` URI is compared by its path). */
  readonly testEndpoint: LinkTest;
  /** What a registration's digest must contain for any of its links to match. */
  readonly needle: string;
  /** What its endpoint digest must contain for its endpoint link to match. */
  readonly endpointNeedle: string;
}

/** The digest entry (or entry start, for a prefix) a criterion needs (see `digestOf`). */
function needleOf(name: string, value: string): string {
  const lower = name.toLowerCase();
  if (value === '*') return `${DIGEST_MARK}${lower}=`;
  return value.endsWith('*')
    ? `${DIGEST_MARK}${lower}=${value.slice(0, -1)}`
    : `${DIGEST_MARK}${lower}=${value}${DIGEST_MARK}`;
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
    const test = compileCriterion(name, value);
    criteria.push({
      name,
      value,
      test,
      testEndpoint: endpointValue === value ? test : compileCriterion(name, endpointValue),
      needle: needleOf(name, value),
      endpointNeedle: needleOf(name, endpointValue),
    });
  }
  if (page !== undefined && count === undefined) {
    throw new CoapResponseError('4.00', 'page needs count (RFC 9176 §6.2)');
  }
  return { criteria, page, count };
}

function endpointMatches(r: Registration, c: Criterion): boolean {
  return r.endpointDigest.includes(c.endpointNeedle) && c.testEndpoint(r.endpointLink);
}

function anyLinkMatches(r: Registration, c: Criterion): boolean {
  if (!r.digest.includes(c.needle)) return false;
  const links = r.resolved;
  for (let i = 0; i < links.length; i++) if (c.test(links[i]!)) return true;
  return false;
}

/** Whether the registration appears in an endpoint lookup with these criteria (RFC 9176 §6.2). */
export function endpointSelected(r: Registration, criteria: readonly Criterion[]): boolean {
  for (let i = 0; i < criteria.length; i++) {
    const c = criteria[i]!;
    if (!endpointMatches(r, c) && !anyLinkMatches(r, c)) return false;
  }
  return true;
}

/**
 * The registration's links a resource lookup returns (RFC 9176 §6.2): those for which every
 * criterion is matched by the link or by its endpoint.
 */
export function resourcesSelected(r: Registration, criteria: readonly Criterion[]): readonly Link[] {
  // Criteria the endpoint satisfies hold for every one of its links: test them once.
  let rest: Criterion[] | undefined;
  for (let i = 0; i < criteria.length; i++) {
    const c = criteria[i]!;
    if (!endpointMatches(r, c)) (rest ??= []).push(c);
  }
  if (rest === undefined) return r.resolved;
  for (let i = 0; i < rest.length; i++) if (!r.digest.includes(rest[i]!.needle)) return NONE;
  let out: Link[] | undefined;
  const links = r.resolved;
  for (let i = 0; i < links.length; i++) {
    const link = links[i]!;
    if (allMatch(rest, link)) (out ??= []).push(link);
  }
  return out ?? NONE;
}

function allMatch(criteria: readonly Criterion[], link: Link): boolean {
  for (let i = 0; i < criteria.length; i++) if (!criteria[i]!.test(link)) return false;
  return true;
}

const NONE: readonly Link[] = [];

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
