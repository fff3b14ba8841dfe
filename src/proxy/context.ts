/**
 * @module proxy/context
 * The narrow record the proxy's parts take (as the server's helpers take `ServerContext`): its
 * settings, its client side, the cache, the limits, the per-group turns, what it knows of the
 * groups' members, and the table of running forwardings keyed by the client's endpoint and
 * token (groupcomm-proxy §5.2.3 matches an Early Stop Request by "the same Token"). Also the
 * proxy's own answers: one response, never with Reply-From (groupcomm-proxy §5.5.1: the client
 * tells them from relayed ones by that).
 */
import type { MessageParts } from '../client/exchanger.js';
import type { CoapOption } from '../message/types.js';
import type { ResponseParts } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { encodeUint } from '../options/values.js';
import type { Runtime } from '../runtime.js';
import type { Responder } from '../server/responder.js';
import type { Address } from '../transport/types.js';
import type { TimerQueue } from '../util/timer-queue.js';
import type { ResponseCache } from './cache.js';
import type { ProxyConfig } from './config.js';
import type { GroupTurns } from './group-turns.js';
import type { Limiter } from './limits.js';
import type { Members } from './membership.js';
import type { Outward } from './outward.js';

/** A forwarding that relays responses to one client token. */
export interface Forwarding {
  /** True for an Observe registration (RFC 7641 §3.1) that may outlive its window. */
  readonly observe: boolean;
  /** Stops relaying and frees the proxy's token (groupcomm-proxy §5.2.3). */
  cancel(): void;
  /**
   * The client deregisters (RFC 7641 §3.6): `parts` goes out on the proxy's token, and what
   * answers it is relayed for `timeout` seconds (a unicast origin's one answer at once).
   */
  deregister?(parts: MessageParts, timeout: number): void;
}

/** Counters, for monitoring and the bench. */
export interface ProxyCounters {
  unicastForwarded: number;
  cacheHits: number;
  groupForwarded: number;
  relayed: number;
  refused: number;
}

/** What every part of the proxy takes. */
export interface ProxyState {
  readonly config: ProxyConfig;
  readonly outward: Outward;
  readonly runtime: Runtime;
  readonly timers: TimerQueue;
  readonly cache: ResponseCache;
  readonly limiter: Limiter;
  readonly turns: GroupTurns;
  readonly members: Members | undefined;
  /** Running forwardings by `forwardingKey`. */
  readonly forwardings: Map<string, Forwarding>;
  /** Forwardings that ended lately, by `forwardingKey`, with when they are forgotten (ms). */
  readonly ended: Map<string, number>;
  readonly counters: ProxyCounters;
}

/** The key of a client's request: its endpoint and token (RFC 7252 §5.3.2). */
export function forwardingKey(client: Address, token: Buffer): string {
  return `${client.address}|${client.port}|${token.toString('hex')}`;
}

/** Ended forwardings remembered at most (an Early Stop Request may still come for them). */
const MAX_ENDED = 1024;

/** Remembers that the forwarding `key` ended, for `ms` (a late Early Stop Request is then no error). */
export function rememberEnded(state: ProxyState, key: string, ms: number): void {
  const ended = state.ended;
  ended.delete(key);
  if (ended.size >= MAX_ENDED) ended.delete(ended.keys().next().value as string);
  ended.set(key, state.runtime.now() + ms);
}

/** True when the forwarding `key` ended lately. */
export function endedLately(state: ProxyState, key: string): boolean {
  const until = state.ended.get(key);
  if (until === undefined) return false;
  if (state.runtime.now() <= until) return true;
  state.ended.delete(key);
  return false;
}

/** The key of a client for the limits. */
export function clientKey(client: Address): string {
  return client.address;
}

/** One answer of the proxy itself, with a diagnostic payload (RFC 7252 §5.9.2). */
export function own(code: number, diagnostic: string, options: CoapOption[] = []): ResponseParts {
  return { code, options, payload: Buffer.from(diagnostic, 'utf8') };
}

/** 5.03 with Max-Age saying when to come back (RFC 7252 §5.9.3.4). */
export function unavailable(retryAfter: number, diagnostic: string): ResponseParts {
  return own((5 << 5) | 3, diagnostic, [{ number: Opt.MaxAge, value: encodeUint(retryAfter) }]);
}

/** Sends an answer of the proxy itself; the client's No-Response holds it back if it asked (RFC 7967 §2). */
export function answer(res: Responder, parts: ResponseParts, state?: ProxyState): void {
  if (state !== undefined && parts.code >> 5 !== 2) state.counters.refused++;
  res.respond(parts);
}
