/**
 * @module proxy/limits
 * What keeps the proxy from becoming an amplifier (groupcomm-bis §6.3, spec: one request from a
 * client makes every member answer): group forwardings running at once per client and in all,
 * token buckets on group requests per client and per group and on unicast forwards per client,
 * and the bytes held by requests waiting for their group's turn. A refusal says in whole
 * seconds when to come back; the proxy answers it 5.03 with that Max-Age (RFC 7252 §5.9.3.4).
 * Every table is bounded: the rate state of the least recently seen keys is dropped first.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Runtime } from '../runtime.js';

/** A token bucket: `burst` at once, then `perSecond`. */
export interface RateOptions {
  readonly burst?: number;
  readonly perSecond?: number;
}

/** The limits of a proxy; each has a default. */
export interface LimitOptions {
  /** Group forwardings one client may have running (or waiting) at once; default 2. */
  readonly perClient?: number;
  /** Group forwardings running or waiting at once in all; default 64. */
  readonly total?: number;
  /** Requests waiting for one group's turn (NSTART 1 per group, groupcomm-bis §3.6); default 8. */
  readonly queuePerGroup?: number;
  /** Bytes of requests held waiting for their group's turn, in all; default 256 KiB. */
  readonly bufferedBytes?: number;
  /** Group requests per client; default burst 5, 1 per second. */
  readonly clientRate?: RateOptions;
  /** Group requests per group; default burst 20, 5 per second. */
  readonly groupRate?: RateOptions;
  /** Unicast forwards per client (an open proxy is a relay for anyone, RFC 8075 §10.4); default burst 50, 20 per second. */
  readonly unicastRate?: RateOptions;
  /** Clients and groups whose rate state is kept at most; default 10000. */
  readonly maxTracked?: number;
}

export interface ResolvedLimits {
  readonly perClient: number;
  readonly total: number;
  readonly queuePerGroup: number;
  readonly bufferedBytes: number;
  readonly clientRate: Required<RateOptions>;
  readonly groupRate: Required<RateOptions>;
  readonly unicastRate: Required<RateOptions>;
  readonly maxTracked: number;
}

function count(name: string, v: number | undefined, fallback: number, min = 1): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new InvalidArgumentError(`limits.${name} must be an integer >= ${min}, not ${String(v)}`);
  return v;
}

function rate(
  name: string,
  r: RateOptions | undefined,
  burst: number,
  perSecond: number,
): Required<RateOptions> {
  const b = count(`${name}.burst`, r?.burst, burst);
  const p = r?.perSecond ?? perSecond;
  if (typeof p !== 'number' || !(p > 0) || !Number.isFinite(p))
    throw new InvalidArgumentError(`limits.${name}.perSecond must be a number > 0, not ${String(p)}`);
  return { burst: b, perSecond: p };
}

/** The limits with defaults. @throws InvalidArgumentError */
export function resolveLimits(o: LimitOptions = {}): ResolvedLimits {
  return {
    perClient: count('perClient', o.perClient, 2),
    total: count('total', o.total, 64),
    queuePerGroup: count('queuePerGroup', o.queuePerGroup, 8, 0),
    bufferedBytes: count('bufferedBytes', o.bufferedBytes, 256 * 1024, 0),
    clientRate: rate('clientRate', o.clientRate, 5, 1),
    groupRate: rate('groupRate', o.groupRate, 20, 5),
    unicastRate: rate('unicastRate', o.unicastRate, 50, 20),
    maxTracked: count('maxTracked', o.maxTracked, 10_000),
  };
}

/** Token buckets by key on the injected clock, bounded in keys. */
class Buckets {
  readonly #rate: Required<RateOptions>;
  readonly #max: number;
  readonly #runtime: Runtime;
  readonly #state = new Map<string, { tokens: number; at: number }>();

  constructor(rate: Required<RateOptions>, max: number, runtime: Runtime) {
    this.#rate = rate;
    this.#max = max;
    this.#runtime = runtime;
  }

  get size(): number {
    return this.#state.size;
  }

  /** Takes a token for `key`: 0 when one was there, else whole seconds (>= 1) until one is. */
  take(key: string): number {
    const now = this.#runtime.now();
    const r = this.#rate;
    const s = this.#state.get(key);
    let tokens = r.burst;
    if (s !== undefined) {
      tokens = Math.min(r.burst, s.tokens + ((now - s.at) / 1000) * r.perSecond);
      this.#state.delete(key);
    } else if (this.#state.size >= this.#max) {
      this.#state.delete(this.#state.keys().next().value as string);
    }
    // Re-inserted: the map's order is least recently seen first.
    if (tokens >= 1) {
      this.#state.set(key, { tokens: tokens - 1, at: now });
      return 0;
    }
    this.#state.set(key, { tokens, at: now });
    return Math.max(1, Math.ceil((1 - tokens) / r.perSecond));
  }
}

/** A refusal: answer 5.03 with Max-Age `retryAfter` seconds. */
export interface Refusal {
  readonly retryAfter: number;
  readonly reason: string;
}

/** The running limits of one proxy. */
export class Limiter {
  readonly limits: ResolvedLimits;
  readonly #clients: Buckets;
  readonly #groups: Buckets;
  readonly #unicast: Buckets;
  readonly #running = new Map<string, number>();
  #total = 0;
  #buffered = 0;

  constructor(limits: ResolvedLimits, runtime: Runtime) {
    this.limits = limits;
    this.#clients = new Buckets(limits.clientRate, limits.maxTracked, runtime);
    this.#groups = new Buckets(limits.groupRate, limits.maxTracked, runtime);
    this.#unicast = new Buckets(limits.unicastRate, limits.maxTracked, runtime);
  }

  /**
   * Admits one group forwarding of `client` to `group`, counting it as running until `release`.
   * Concurrency is checked first, so a refused request takes no rate token.
   */
  admitGroup(client: string, group: string): Refusal | undefined {
    const l = this.limits;
    if (this.#total >= l.total)
      return { retryAfter: 1, reason: 'the proxy forwards as many group requests as it can' };
    if ((this.#running.get(client) ?? 0) >= l.perClient)
      return { retryAfter: 1, reason: `at most ${l.perClient} group requests per client at once` };
    const c = this.#clients.take(client);
    if (c > 0) return { retryAfter: c, reason: 'too many group requests from this client' };
    const g = this.#groups.take(group);
    if (g > 0) return { retryAfter: g, reason: 'too many group requests to this group' };
    if (this.#running.size >= l.maxTracked && !this.#running.has(client))
      return { retryAfter: 1, reason: 'too many clients at once' };
    this.#running.set(client, (this.#running.get(client) ?? 0) + 1);
    this.#total++;
    return undefined;
  }

  /** Ends a forwarding `admitGroup` admitted. */
  releaseGroup(client: string): void {
    const n = this.#running.get(client);
    if (n === undefined) return;
    if (n <= 1) this.#running.delete(client);
    else this.#running.set(client, n - 1);
    this.#total--;
  }

  /** Admits one unicast forward of `client`. */
  admitUnicast(client: string): Refusal | undefined {
    const s = this.#unicast.take(client);
    return s > 0 ? { retryAfter: s, reason: 'too many requests from this client' } : undefined;
  }

  /** Holds `bytes` of a waiting request; false when that would pass the bound. */
  hold(bytes: number): boolean {
    if (this.#buffered + bytes > this.limits.bufferedBytes) return false;
    this.#buffered += bytes;
    return true;
  }

  /** Gives back what `hold` took. */
  unhold(bytes: number): void {
    this.#buffered = Math.max(0, this.#buffered - bytes);
  }

  /** Sizes, for monitoring and leak tests. */
  stats(): { running: number; clients: number; buffered: number; tracked: number } {
    return {
      running: this.#total,
      clients: this.#running.size,
      buffered: this.#buffered,
      tracked: this.#clients.size + this.#groups.size + this.#unicast.size,
    };
  }
}

/** The bytes a request waiting for its group's turn holds: its payload and options, and a little for the rest. */
export function heldBytes(p: {
  readonly payload: Buffer;
  readonly options: readonly { readonly value: Buffer }[];
}): number {
  let n = p.payload.length + 64;
  for (const o of p.options) n += o.value.length + 4;
  return n;
}
