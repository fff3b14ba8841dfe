/**
 * @module client/group-policy
 * The checks a group request must pass before anything is sent (RFC 7390 §2.5, §2.7, §5.1,
 * §5.4.2; RFC 7252 §8.1, §8.2.1): NON only, `coap` only, no ETag in RFC 7390 mode, and a scope no
 * wider than site-local unless allowed. IPv4 broadcast is refused as a destination of any
 * request (docs/decisions.md): groups are IP multicast (RFC 7390 §2.5; other transports are out
 * of scope, groupcomm-bis §3.9.5). The IPv6 all-nodes groups are multicast and allowed.
 */
import { networkInterfaces } from 'node:os';
import { GroupRequestError } from '../errors.js';
import type { CoapOption } from '../message/types.js';
import { Opt } from '../options/registry.js';
import type { CoapUri } from '../uri/index.js';
import { ipFamily, ipv6MulticastScope } from '../util/ip.js';

/** RFC 7346 scope 5: site-local. */
const SITE_LOCAL = 5;
/** Traditional IPv4 TTL scoping: below 32 stays within a site. */
const IPV4_SITE_TTL = 32;

export interface GroupPolicyInput {
  readonly uri: CoapUri;
  readonly confirmable: boolean | undefined;
  readonly options: readonly CoapOption[];
  readonly groupcommBis: boolean;
}

/** Throws `GroupRequestError` for a request RFC 7390 forbids. */
export function checkGroupRequest(i: GroupPolicyInput): void {
  if (i.uri.scheme === 'coaps') {
    throw new GroupRequestError(
      'ERR_COAP_GROUP_SECURE_SCHEME',
      'coaps:// cannot address a group: DTLS is unicast only (RFC 7390 §5.1); use coap:// (protected, if need be, by a group security layer: the client option security)',
    );
  }
  if (i.confirmable === true) {
    throw new GroupRequestError(
      'ERR_COAP_GROUP_CONFIRMABLE',
      'group requests are Non-confirmable (RFC 7252 §8.1); drop the CON flag',
    );
  }
  if (!i.groupcommBis && i.options.some((o) => o.number === Opt.ETag)) {
    throw new GroupRequestError(
      'ERR_COAP_GROUP_ETAG',
      'a multicast GET must not carry an ETag (RFC 7252 §8.2.1); remove it or opt in to groupcomm-bis mode',
    );
  }
}

/** Throws `GroupRequestError` when the group's scope is wider than site-local and not allowed. */
export function checkScope(address: string, hops: number, allowWideScope: boolean): void {
  if (allowWideScope) return;
  if (ipFamily(address) === 6) {
    const scope = ipv6MulticastScope(address);
    if (scope > SITE_LOCAL) {
      throw new GroupRequestError(
        'ERR_COAP_GROUP_SCOPE',
        `${address} has scope ${scope}, wider than site-local (5) (RFC 7390 §5.4.2); pass allowWideScope (--allow-wide-scope) if intended`,
      );
    }
  } else if (hops >= IPV4_SITE_TTL) {
    throw new GroupRequestError(
      'ERR_COAP_GROUP_SCOPE',
      `TTL ${hops} reaches beyond a site (RFC 7390 §5.4.2); pass allowWideScope (--allow-wide-scope) if intended`,
    );
  }
}

/** RFC 919 §7: the limited broadcast address. */
const LIMITED_BROADCAST = '255.255.255.255';

function ipv4ToUint(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function uintToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * The IPv4 broadcast addresses of this host: the limited broadcast and the directed broadcast
 * of every subnet of its interfaces (RFC 922), except /31 and /32, which have none (RFC 3021).
 * Read once per client: an address added later needs a new client (as for sockets).
 */
export function localBroadcasts(): ReadonlySet<string> {
  const out = new Set([LIMITED_BROADCAST]);
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4') continue;
      const mask = ipv4ToUint(a.netmask);
      if (mask >= 0xfffffffe) continue;
      out.add(uintToIpv4((ipv4ToUint(a.address) | ~mask) >>> 0));
    }
  }
  return out;
}

/**
 * Throws `GroupRequestError` `ERR_COAP_GROUP_BROADCAST` for an IPv4 broadcast destination. A
 * broadcast reaches every host of a link whether it speaks CoAP or not, leaves by the route's
 * interface rather than one the caller pinned, and ignores the TTL that scopes groups; a
 * confirmable request would be retransmitted to all of them.
 */
export function checkNotBroadcast(address: string, broadcasts: ReadonlySet<string>): void {
  if (!broadcasts.has(address)) return;
  throw new GroupRequestError(
    'ERR_COAP_GROUP_BROADCAST',
    `${address} is an IPv4 broadcast address: CoAP groups are IP multicast groups (RFC 7390 §2.5); send to a group such as 224.0.1.187 (All CoAP Nodes) with group()`,
  );
}
