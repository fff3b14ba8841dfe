/**
 * @module proxy/config
 * The proxy's settings and their eager checks (design.md: options checked at construction, a
 * typed `InvalidArgumentError`): the group allow-list (RFC 7390 §2.9, groupcomm-proxy §4 REQ1,
 * REQ2), reverse routes (groupcomm-proxy §6), the cap on Multicast-Timeout, the unicast timeout
 * (RFC 8075 §8.5), the cache bounds (RFC 7252 §5.6), the limits that keep the proxy from becoming
 * an amplifier (groupcomm-bis §3.6, §6.3), and the option numbers of groupcomm-proxy.
 */
import { InvalidArgumentError } from '../errors.js';
import { type ProxyOptionNumbers, proxyOptionNumbers } from '../options/proxy-numbers.js';
import { type AllowEntry, AllowList } from './allow-list.js';
import { type LimitOptions, type ResolvedLimits, resolveLimits } from './limits.js';
import { type ProxyMembership, resolveMembership } from './membership.js';
import { type ReverseRoute, ReverseRoutes } from './reverse.js';

/** How the proxy forwards group requests (groupcomm-proxy); absent: group targets get 5.01. */
export interface GroupForwardingOptions {
  /**
   * Who may have requests forwarded to a group (groupcomm-proxy §5.2.1 step 2): client
   * addresses (CIDR) and OSCORE identities, each entry possibly limited to some group URIs.
   * Others get 4.01.
   */
  readonly allow?: readonly AllowEntry[];
  /** Paths on the proxy that stand for a group (groupcomm-proxy §6). */
  readonly reverse?: readonly ReverseRoute[];
  /** Largest Multicast-Timeout honoured, seconds: larger values are clamped to it; default 60. */
  readonly maxTimeout?: number;
  /**
   * Who is in each group, which Group-ETag revalidation and answers from the cache alone need
   * (groupcomm-proxy §7.1, §7.3); absent: the proxy never answers from the cache alone.
   */
  readonly membership?: ProxyMembership;
}

/** Bounds of the response cache (RFC 7252 §5.6). */
export interface CacheOptions {
  /** Most responses kept; default 1000. 0 turns the cache off. */
  readonly entries?: number;
  /** Most payload and option bytes kept; default 4 MiB. */
  readonly bytes?: number;
}

/** What every part of the proxy reads of its settings, resolved. */
export interface ProxyConfig {
  readonly numbers: ProxyOptionNumbers;
  /** Undefined when group forwarding is not configured (5.01). */
  readonly groups: ResolvedGroups | undefined;
  readonly cache: Required<CacheOptions>;
  readonly limits: ResolvedLimits;
  /** Longest wait for a unicast origin, ms (RFC 8075 §8.5: MAX_RTT + MAX_SERVER_RESPONSE_DELAY, capped). */
  readonly unicastTimeoutMs: number;
  /** Host names the proxy answers to as itself (RFC 7252 §5.7.2: loops). */
  readonly names: ReadonlySet<string>;
}

export interface ResolvedGroups {
  readonly allow: AllowList;
  readonly reverse: ReverseRoutes;
  readonly maxTimeout: number;
  readonly membership: ProxyMembership | undefined;
}

/** The settings `CoapProxy` and `proxyLayer` take besides their endpoints. */
export interface ProxySettings {
  /** Group forwarding; absent: group targets get 5.01 (RFC 7390 §2.9). */
  readonly groups?: GroupForwardingOptions;
  readonly cache?: CacheOptions;
  readonly limits?: LimitOptions;
  /** Option numbers of Multicast-Timeout, Reply-From and Group-ETag (docs/proxy.md). */
  readonly numbers?: Partial<ProxyOptionNumbers> | 'draft-suggested';
  /** Longest wait for a unicast origin server, seconds; default 93 (RFC 8075 §8.5 with MSRD capped at 48 s). */
  readonly unicastTimeout?: number;
  /** Host names that mean the proxy itself, besides its addresses. */
  readonly names?: readonly string[];
}

const DEFAULT_MAX_TIMEOUT = 60;
/** MAX_RTT (2 × MAX_LATENCY + PROCESSING_DELAY = 202 s) would hold a slot for minutes; 93 s is plenty on a LAN. */
const DEFAULT_UNICAST_TIMEOUT = 93;

function positive(name: string, v: number | undefined, fallback: number, allowZero = false): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0))
    throw new InvalidArgumentError(
      `${name} must be a number ${allowZero ? '>= 0' : '> 0'}, not ${String(v)}`,
    );
  return v;
}

/** Checks and resolves the settings. @throws InvalidArgumentError naming what is wrong. */
export function resolveProxyConfig(s: ProxySettings = {}): ProxyConfig {
  const numbers = proxyOptionNumbers(s.numbers);
  const g = s.groups;
  let groups: ResolvedGroups | undefined;
  if (g !== undefined) {
    const maxTimeout = positive('groups.maxTimeout', g.maxTimeout, DEFAULT_MAX_TIMEOUT);
    if (!Number.isInteger(maxTimeout))
      throw new InvalidArgumentError(`groups.maxTimeout must be whole seconds, not ${maxTimeout}`);
    groups = {
      allow: new AllowList(g.allow ?? []),
      reverse: new ReverseRoutes(g.reverse ?? []),
      maxTimeout,
      membership: g.membership === undefined ? undefined : resolveMembership(g.membership),
    };
  }
  const entries = positive('cache.entries', s.cache?.entries, 1000, true);
  const bytes = positive('cache.bytes', s.cache?.bytes, 4 * 1024 * 1024, true);
  if (!Number.isInteger(entries))
    throw new InvalidArgumentError(`cache.entries must be an integer, not ${entries}`);
  const names = new Set<string>();
  for (const n of s.names ?? []) {
    if (typeof n !== 'string' || n === '')
      throw new InvalidArgumentError('names must be non-empty host names');
    names.add(n.toLowerCase());
  }
  return {
    numbers,
    groups,
    cache: { entries, bytes },
    limits: resolveLimits(s.limits),
    unicastTimeoutMs: positive('unicastTimeout', s.unicastTimeout, DEFAULT_UNICAST_TIMEOUT) * 1000,
    names,
  };
}
