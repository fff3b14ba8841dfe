/**
 * @module proxy/allow-list
 * Who may have requests forwarded to a group. RFC 7390 §2.9 lets a proxy forward to a group for
 * "explicitly allow-listed clients" only; groupcomm-proxy §5.2.1 step 2 has it check that the
 * client is allow-listed "to the group URI specified in the present request", else 4.01. An
 * entry names client addresses (CIDR) or an identity a security layer verified (groupcomm-proxy
 * §4 REQ2), and may be limited to some group URIs. A group URI with a path limits the entry to
 * requests under that path; an end-to-end protected request hides its path (RFC 8613 §4.1:
 * Uri-Path is Class E), so such an entry refuses it: fail closed.
 */
import { InvalidArgumentError } from '../errors.js';
import type { RequestSecurity } from '../server/site.js';
import { type CoapUri, parseUri } from '../uri/index.js';
import { type Cidr, canonicalIPv6, cidrContains, ipFamily, isMulticast, parseCidr } from '../util/ip.js';

/** One allow-list entry; `from` and `kid` may be combined (both must then match). */
export interface AllowEntry {
  /** Client addresses, as a CIDR prefix or one address (`127.0.0.0/8`, `::1`). */
  readonly from?: string;
  /** An identity a security layer verified (`RequestSecurity.kid`, lowercase hex; `''` the empty one). */
  readonly kid?: string;
  /** With `kid`: the identity's ID context, lowercase hex. */
  readonly idContext?: string;
  /**
   * The groups this entry covers, as `coap://GROUP[:PORT][/PATH]` with a multicast IP literal;
   * absent: every group.
   */
  readonly groups?: readonly string[];
}

/** The client of a request as the allow-list sees it. */
export interface AllowClient {
  readonly address: string;
  readonly security: RequestSecurity | undefined;
}

interface GroupPattern {
  readonly host: string;
  readonly port: number;
  readonly path: readonly string[];
}

interface Entry {
  readonly cidr: Cidr | undefined;
  readonly kid: string | undefined;
  readonly idContext: string | undefined;
  readonly groups: readonly GroupPattern[] | undefined;
}

const HEX = /^(?:[0-9a-f]{2})*$/;

function hostKey(host: string): string {
  return ipFamily(host) === 6 ? canonicalIPv6(host) : host;
}

function parseGroup(text: string, i: number): GroupPattern {
  let uri: CoapUri;
  try {
    uri = parseUri(text);
  } catch (err) {
    throw new InvalidArgumentError(`allow[${i}].groups: ${(err as Error).message}`);
  }
  if (uri.scheme !== 'coap' || uri.hostKind === 'name' || !isMulticast(uri.host) || uri.query.length > 0)
    throw new InvalidArgumentError(
      `allow[${i}].groups: ${text} is not a coap:// group URI with a multicast IP literal and no query`,
    );
  return { host: hostKey(uri.host), port: uri.port, path: uri.path };
}

function parseEntry(e: AllowEntry, i: number): Entry {
  if (e === null || typeof e !== 'object') throw new InvalidArgumentError(`allow[${i}] must be an object`);
  if (e.from === undefined && e.kid === undefined)
    throw new InvalidArgumentError(`allow[${i}] names no client: give from (a CIDR) or kid`);
  let cidr: Cidr | undefined;
  if (e.from !== undefined) {
    cidr = typeof e.from === 'string' ? parseCidr(e.from) : undefined;
    if (cidr === undefined)
      throw new InvalidArgumentError(`allow[${i}].from ${String(e.from)} is not a CIDR prefix or IP address`);
  }
  for (const [k, v] of [
    ['kid', e.kid],
    ['idContext', e.idContext],
  ] as const) {
    if (v !== undefined && (typeof v !== 'string' || !HEX.test(v)))
      throw new InvalidArgumentError(`allow[${i}].${k} must be lowercase hex, not ${String(v)}`);
  }
  if (e.idContext !== undefined && e.kid === undefined)
    throw new InvalidArgumentError(`allow[${i}].idContext needs kid`);
  if (e.groups !== undefined && (!Array.isArray(e.groups) || e.groups.length === 0))
    throw new InvalidArgumentError(`allow[${i}].groups must list at least one group URI, or be left out`);
  return {
    cidr,
    kid: e.kid,
    idContext: e.idContext,
    groups: e.groups?.map((g) => parseGroup(g, i)),
  };
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  if (prefix.length > path.length) return false;
  for (let i = 0; i < prefix.length; i++) if (path[i] !== prefix[i]) return false;
  return true;
}

/** The checked allow-list. */
export class AllowList {
  readonly #entries: readonly Entry[];

  /** @throws InvalidArgumentError naming the entry that is wrong. */
  constructor(entries: readonly AllowEntry[]) {
    if (!Array.isArray(entries)) throw new InvalidArgumentError('allow must be an array of entries');
    this.#entries = entries.map(parseEntry);
  }

  get size(): number {
    return this.#entries.length;
  }

  /**
   * True when some entry lets `client` reach `group` (a multicast IP literal) at `port` and
   * `path`. `pathHidden`: the request's path is encrypted end to end, so path-limited entries refuse it.
   */
  allows(
    client: AllowClient,
    group: string,
    port: number,
    path: readonly string[],
    pathHidden: boolean,
  ): boolean {
    const host = hostKey(group);
    for (const e of this.#entries) {
      if (e.cidr !== undefined && !cidrContains(e.cidr, client.address)) continue;
      if (e.kid !== undefined) {
        const s = client.security;
        if (s === undefined || s.kid !== e.kid) continue;
        if (e.idContext !== undefined && s.idContext !== e.idContext) continue;
      }
      if (e.groups === undefined) return true;
      for (const g of e.groups) {
        if (g.host !== host || g.port !== port) continue;
        if (g.path.length === 0) return true;
        if (!pathHidden && startsWith(path, g.path)) return true;
      }
    }
    return false;
  }
}
