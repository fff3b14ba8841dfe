/**
 * @module client/group-policy
 * The checks a group request must pass before anything is sent (RFC 7390 §2.5, §2.7, §5.1,
 * §5.4.2; RFC 7252 §8.1, §8.2.1): NON only, `coap` only, no ETag in RFC 7390 mode, and a scope no
 * wider than site-local unless allowed.
 */
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
      'coaps:// cannot address a group: DTLS is unicast only (RFC 7390 §5.1); use coap:// (and Group OSCORE for protection)',
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
