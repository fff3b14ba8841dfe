/**
 * @module proxy
 * A CoAP forward and reverse proxy (RFC 7252 §5.7) for unicast targets, with a cache (§5.6),
 * and for groups (RFC 7390 §2.9, draft-ietf-core-groupcomm-proxy): allow-list, Multicast-Timeout,
 * Reply-From, Group-ETag, Observe, reverse routes and limits. docs/proxy.md describes it.
 */
export type { AllowEntry } from './allow-list.js';
export type { CacheOptions, GroupForwardingOptions, ProxySettings } from './config.js';
export type { ProxyStats } from './layer.js';
export type { LimitOptions, RateOptions } from './limits.js';
export type { ProxyMembership } from './membership.js';
export {
  type AttachedProxy,
  type AttachProxyOptions,
  attachProxy,
  CoapProxy,
  type OutwardEndpoint,
  type ProxyOptions,
} from './proxy.js';
export type { ReverseRoute } from './reverse.js';
