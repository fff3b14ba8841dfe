/**
 * @module transport/local-addresses
 * Which of a node's own unicast addresses answers a group request (RFC 7252 §8.2: the response
 * leaves from a unicast address; RFC 7390 §2.5). On a node with several links, or with only a
 * link-local address in common with the requester, the first socket of the family is not always
 * one the requester can reach: the answer comes from an address on the link the request came in
 * on, found from the requester's zone (a link-local source names its interface), the interface
 * of a link-scoped group socket, or the on-link prefix that holds the requester.
 */
import { networkInterfaces } from 'node:os';
import { type Cidr, cidrContains, ipFamily, parseCidr, splitZone } from '../util/ip.js';

/** What the transport knows of one of its own unicast addresses. */
export interface LocalFacts {
  /** The interface that holds the address (its zone for a link-local one), when known. */
  readonly iface: string | undefined;
  /** The on-link prefix of the address, when the interface table lists it. */
  readonly prefix: Cidr | undefined;
  /** An IPv6 link-local address (fe80::/10): it reaches only its own link. */
  readonly linkLocal: boolean;
}

/** The shape of `os.networkInterfaces()`, injectable for tests. */
export type InterfaceTable = NodeJS.Dict<readonly { address: string; family: string; cidr: string | null }[]>;

/** True for IPv6 link-local unicast addresses, fe80::/10 (RFC 4291 §2.5.6), zone or not. */
export function isLinkLocalUnicast(address: string): boolean {
  const a = address.toLowerCase();
  return a.startsWith('fe8') || a.startsWith('fe9') || a.startsWith('fea') || a.startsWith('feb');
}

/**
 * Looks `address` up in the interface table: the interface that has it, or whose prefix holds it
 * (127.0.0.2 is on lo through 127.0.0.1/8), and that prefix.
 */
export function localFacts(address: string, table: InterfaceTable = networkInterfaces()): LocalFacts {
  const { address: bare, zone } = splitZone(address);
  const linkLocal = ipFamily(address) === 6 && isLinkLocalUnicast(bare);
  const family = ipFamily(address) === 4 ? 'IPv4' : 'IPv6';
  let holder: { iface: string; prefix: Cidr | undefined } | undefined;
  for (const [name, entries] of Object.entries(table)) {
    if (zone !== undefined && name !== zone) continue;
    for (const e of entries ?? []) {
      if (e.family !== family) continue;
      const prefix = e.cidr === null ? undefined : parseCidr(e.cidr.replace(/%.*\//, '/'));
      if (e.address === bare) return { iface: name, prefix, linkLocal };
      if (holder === undefined && prefix !== undefined && cidrContains(prefix, bare)) {
        holder = { iface: name, prefix };
      }
    }
  }
  return { iface: holder?.iface ?? zone, prefix: holder?.prefix, linkLocal };
}

/** One candidate socket for an answer. */
export interface AnswerCandidate<T> {
  readonly local: T;
  readonly family: 4 | 6;
  readonly facts: LocalFacts;
}

/**
 * Chooses the socket that answers a group datagram from `remote`, received on a group socket
 * whose interface is `ingress` when that is known (a link-scoped group is bound per interface).
 * In order: for a link-local requester, a link-local address on its link; an address whose
 * prefix holds the requester (on the ingress link when known); for a request on a link-scoped
 * group, a link-local address on that link; then the first routable address of the family,
 * then the first of the family. Undefined only when no socket has the family.
 */
export function chooseAnswer<T>(
  candidates: readonly AnswerCandidate<T>[],
  remote: string,
  ingress: string | undefined,
): T | undefined {
  const family = ipFamily(remote);
  const mine = candidates.filter((c) => c.family === family);
  if (mine.length <= 1) return mine[0]?.local;
  const { address: bare, zone } = splitZone(remote);
  const link = zone ?? ingress;
  const linkLocalOn = (name: string | undefined) =>
    name === undefined ? undefined : mine.find((c) => c.facts.linkLocal && c.facts.iface === name);
  if (family === 6 && isLinkLocalUnicast(bare)) {
    const ll = linkLocalOn(link);
    if (ll !== undefined) return ll.local;
  }
  const onPrefix = mine.filter(
    (c) => !c.facts.linkLocal && c.facts.prefix !== undefined && cidrContains(c.facts.prefix, bare),
  );
  const best = onPrefix.find((c) => link !== undefined && c.facts.iface === link) ?? onPrefix[0];
  if (best !== undefined) return best.local;
  const onLink =
    linkLocalOn(ingress) ??
    (link === undefined ? undefined : mine.find((c) => !c.facts.linkLocal && c.facts.iface === link));
  if (onLink !== undefined) return onLink.local;
  return (mine.find((c) => !c.facts.linkLocal) ?? mine[0])?.local;
}
