/**
 * @module proxy/membership
 * Who is in a group, as far as the proxy knows. groupcomm-proxy §7.1 lets a proxy answer a group
 * request from its cache alone, and §7.3 lets it validate with Group-ETag, only when it "knows
 * all the CoAP servers that are currently members"; how it knows "is out of scope". Two sources:
 * a static list per group, or `'learned'`, where the members are the responders to the last
 * live request to the group. Learning is an approximation (a member that stayed silent, e.g. by
 * suppressing its response, is not known; one that left is still counted until the next live
 * request), documented in docs/proxy.md.
 */
import { InvalidArgumentError } from '../errors.js';
import { canonicalIPv6, ipFamily, isMulticast } from '../util/ip.js';
import { peerKey } from '../util/peer-key.js';

/**
 * Static members per group (`{ 'coap://224.0.1.187': ['127.0.0.2', '127.0.0.3:5683'] }`; a
 * member without a port answers from the group's port), or `'learned'`.
 */
export type ProxyMembership = 'learned' | Readonly<Record<string, readonly string[]>>;

/** Groups whose learned membership is kept at most. */
const MAX_LEARNED_GROUPS = 256;
/** Members learned per group at most. */
const MAX_LEARNED_MEMBERS = 1024;

/** `host|port` of a group (IPv6 in canonical form). */
export function groupKey(host: string, port: number): string {
  return peerKey({ address: ipFamily(host) === 6 ? canonicalIPv6(host) : host, port });
}

function parseAuthority(text: string, what: string, defaultPort: number): { host: string; port: number } {
  const t = text.replace(/^coap:\/\//, '').replace(/\/$/, '');
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(t) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(t);
  const host = m?.[1];
  const port = m?.[2] === undefined ? defaultPort : Number(m[2]);
  if (host === undefined || ipFamily(host) === 0 || !(port >= 1 && port <= 65535))
    throw new InvalidArgumentError(`membership: ${what} ${text} is not an IP address with an optional port`);
  return { host: ipFamily(host) === 6 ? canonicalIPv6(host) : host, port };
}

/** What the proxy knows of the groups' members. */
export class Members {
  readonly #static: ReadonlyMap<string, ReadonlySet<string>> | undefined;
  readonly #learned = new Map<string, ReadonlySet<string>>();

  constructor(membership: ProxyMembership) {
    if (membership === 'learned') {
      this.#static = undefined;
      return;
    }
    if (membership === null || typeof membership !== 'object')
      throw new InvalidArgumentError(
        "membership must be 'learned' or an object of group URI to member addresses",
      );
    const map = new Map<string, Set<string>>();
    for (const [group, members] of Object.entries(membership)) {
      const g = parseAuthority(group, 'group', 5683);
      if (!isMulticast(g.host))
        throw new InvalidArgumentError(`membership: ${group} is not a multicast address`);
      if (!Array.isArray(members) || members.length === 0)
        throw new InvalidArgumentError(`membership: ${group} lists no member`);
      map.set(
        groupKey(g.host, g.port),
        new Set(
          members.map((m) => {
            const a = parseAuthority(m, 'member', g.port);
            return peerKey({ address: a.host, port: a.port });
          }),
        ),
      );
    }
    this.#static = map;
  }

  /** The members of a group (`groupKey`) as `peerKey`s, or undefined when they are not known. */
  of(group: string): ReadonlySet<string> | undefined {
    return this.#static === undefined ? this.#learned.get(group) : this.#static.get(group);
  }

  /** After a live request to `group`: in learned mode, its responders become its members. */
  learn(group: string, responders: ReadonlySet<string>): void {
    if (this.#static !== undefined || responders.size === 0 || responders.size > MAX_LEARNED_MEMBERS) return;
    this.#learned.delete(group);
    if (this.#learned.size >= MAX_LEARNED_GROUPS)
      this.#learned.delete(this.#learned.keys().next().value as string);
    this.#learned.set(group, new Set(responders));
  }
}

/** Checks a membership setting. @throws InvalidArgumentError */
export function resolveMembership(m: ProxyMembership): ProxyMembership {
  new Members(m);
  return m;
}
