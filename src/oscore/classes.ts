/**
 * @module oscore/classes
 * Which options OSCORE encrypts (Class E, Inner) and which it leaves for proxies (Class U,
 * Outer), per the table of RFC 8613 §4.1 (Figure 5) and the special cases of §4.1.3; Echo and
 * Request-Tag per RFC 9175 §2.2.1 and §3.2.1. There are no Class I options yet (RFC 8613 §4.1.2).
 * The group proxy options are Class U at whatever numbers are configured
 * (draft-ietf-core-groupcomm-proxy §2, §3, §7.3): the proxy reads Multicast-Timeout and
 * Group-ETag and adds Reply-From, so none of them may be encrypted or dropped as a stray Outer copy.
 */
import {
  DEFAULT_PROXY_OPTION_NUMBERS,
  isProxyOptionNumber,
  type ProxyOptionNumbers,
} from '../options/proxy-numbers.js';
import { Opt } from '../options/registry.js';

/** How OSCORE treats an option number. */
export interface OptionClass {
  /** May be an Inner option: encrypted and integrity protected. */
  readonly inner: boolean;
  /** May be an Outer option: visible to and changeable by proxies. */
  readonly outer: boolean;
}

const E: OptionClass = Object.freeze({ inner: true, outer: false });
const U: OptionClass = Object.freeze({ inner: false, outer: true });
const EU: OptionClass = Object.freeze({ inner: true, outer: true });

const CLASSES = new Map<number, OptionClass>([
  [Opt.IfMatch, E],
  [Opt.UriHost, U], // §4.1.3.2: forward proxies need it
  [Opt.ETag, E],
  [Opt.IfNoneMatch, E],
  [Opt.Observe, EU], // §4.1.3.5: both, Inner for the endpoints and Outer for intermediaries
  [Opt.UriPort, U], // §4.1.3.2
  [Opt.LocationPath, E],
  [Opt.Oscore, U], // §4.1.3.7: only Outer, and never in the original message
  [Opt.UriPath, E],
  [Opt.ContentFormat, E],
  [Opt.MaxAge, EU], // §4.1.3.1: Inner for the client's cache; Outer 0 for errors and notifications
  [Opt.UriQuery, E],
  [Opt.Accept, E],
  [Opt.LocationQuery, E],
  [Opt.Block2, EU], // §4.1.3.4: Inner end-to-end, Outer hop-by-hop
  [Opt.Block1, EU],
  [Opt.Size2, EU],
  [Opt.ProxyUri, U], // §4.1.3.3: decomposed first; only scheme, host and port stay Outer
  [Opt.ProxyScheme, U],
  [Opt.Size1, EU],
  [Opt.NoResponse, EU], // §4.1.3.6: MUST be Inner; an Outer copy is allowed and ignored by the server
  [Opt.Echo, EU], // RFC 9175 §2.2.1: Inner for freshness, Outer only for reachability checks
  [Opt.RequestTag, EU], // RFC 9175 §3.2.1: like the Block options, Inner and Outer are independent
  // RFC 8768 §3 (Hop-Limit) and RFC 9668 §3.1 (EDHOC) make these Class U; proxies act on them.
  [Opt.HopLimit, U],
  [Opt.Edhoc, U],
  // Q-Block1/Q-Block2 (RFC 9177) fragment like Block1/Block2 and are handled like them.
  [Opt.QBlock1, EU],
  [Opt.QBlock2, EU],
]);

/**
 * The class of an option. RFC 8613 §4.1: options that are unknown, or whose OSCORE processing is
 * not defined, are Class E. `proxy` gives the numbers of the group proxy options (Class U);
 * by default 65026, 65016 and 65048.
 */
export function optionClass(
  number: number,
  proxy: ProxyOptionNumbers = DEFAULT_PROXY_OPTION_NUMBERS,
): OptionClass {
  if (isProxyOptionNumber(proxy, number)) return U;
  return CLASSES.get(number) ?? E;
}

/** True if the option goes into the ciphertext when it is in the original message. */
export function isInnerOption(number: number, proxy?: ProxyOptionNumbers): boolean {
  return optionClass(number, proxy).inner;
}

/** True if the option may appear in the options part of an OSCORE message. */
export function isOuterOption(number: number, proxy?: ProxyOptionNumbers): boolean {
  return optionClass(number, proxy).outer;
}

/**
 * True for options that are only Outer (Class U and not E): the receiver keeps them in the
 * decrypted message. Outer instances of every other option are discarded by the receiver
 * (RFC 8613 §8.2 step 1, §8.4 step 1).
 */
export function isOuterOnlyOption(number: number, proxy?: ProxyOptionNumbers): boolean {
  const c = optionClass(number, proxy);
  return c.outer && !c.inner;
}
