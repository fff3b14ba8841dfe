/**
 * @module http-gateway/limits
 * What keeps the gateway from becoming an amplifier (RFC 8075 §8.1, §10.2; RFC 7252 §11.3;
 * groupcomm-bis §3.6): concurrent group requests per client and in total, group requests
 * waiting for their group (the client sends one request per group at a time, NSTART 1, so a
 * request that would wait for most of its window is refused rather than answered late), the
 * request rates per client and per group (token buckets), and a group that answered nothing and
 * may not be probed again yet (RFC 7252 §4.7). Every refusal is a 429 with Retry-After.
 */
import { tooMany } from './refusal.js';

/** A rate: `rate` requests per second on average, `burst` at once. */
export interface GatewayRate {
  readonly rate: number;
  readonly burst: number;
}

/** The limits of an `HttpGateway` (docs/proxy.md lists the defaults and why). */
export interface GatewayLimits {
  /** Largest Multicast-Timeout honoured, seconds: larger values are lowered to it. */
  readonly maxTimeout: number;
  /** Concurrent group requests of one HTTP client (by address). */
  readonly groupRequestsPerClient: number;
  /** Concurrent group requests of all clients. */
  readonly groupRequests: number;
  /** Group requests that may wait behind the one in flight to the same group. */
  readonly queuedPerGroup: number;
  /** Concurrent unicast requests of all clients. */
  readonly unicastRequests: number;
  /** Requests (unicast and group) of one HTTP client. */
  readonly clientRate: GatewayRate;
  /** Group requests to one group, from all clients. */
  readonly groupRate: GatewayRate;
  /** Bytes of responses one group request may hold (multipart, JSON) or have unsent (SSE). */
  readonly responseBytes: number;
  /** Bytes of responses all group requests may hold together. */
  readonly bufferedBytes: number;
  /** Largest HTTP request body, bytes. */
  readonly requestBodyBytes: number;
  /** Longest wait for a unicast response, seconds (RFC 8075 §8.5). */
  readonly unicastTimeout: number;
  /** Open HTTP connections. */
  readonly connections: number;
  /** Concurrent observations of single nodes (`Observe: 0` event streams), of all clients. */
  readonly observations: number;
}

/** The default limits (docs/proxy.md, "HTTP gateway"). */
export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = Object.freeze({
  maxTimeout: 60,
  groupRequestsPerClient: 4,
  groupRequests: 32,
  queuedPerGroup: 4,
  unicastRequests: 64,
  clientRate: Object.freeze({ rate: 10, burst: 20 }),
  groupRate: Object.freeze({ rate: 1, burst: 5 }),
  responseBytes: 1024 * 1024,
  bufferedBytes: 16 * 1024 * 1024,
  requestBodyBytes: 64 * 1024,
  unicastTimeout: 30,
  connections: 256,
  observations: 16,
});

/** Token buckets by key, bounded in keys (full buckets are forgotten first). */
class Buckets {
  readonly #rate: GatewayRate;
  readonly #max: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(rate: GatewayRate, maxKeys: number) {
    this.#rate = rate;
    this.#max = maxKeys;
  }

  #refill(key: string, now: number): { tokens: number; at: number } {
    const b = this.#buckets.get(key) ?? { tokens: this.#rate.burst, at: now };
    b.tokens = Math.min(this.#rate.burst, b.tokens + ((now - b.at) / 1000) * this.#rate.rate);
    b.at = now;
    return b;
  }

  /** ms until `key` has a token (0: now). */
  wait(key: string, now: number): number {
    const b = this.#refill(key, now);
    return b.tokens >= 1 ? 0 : ((1 - b.tokens) / this.#rate.rate) * 1000;
  }

  take(key: string, now: number): void {
    const b = this.#refill(key, now);
    b.tokens -= 1;
    this.#buckets.delete(key);
    this.#buckets.set(key, b);
    // Oldest first. A forgotten bucket starts full again, which only matters under a flood
    // of more distinct keys than the table holds.
    for (const k of this.#buckets.keys()) {
      if (this.#buckets.size <= this.#max) break;
      if (k !== key) this.#buckets.delete(k);
    }
  }
}

/** A group request let in: release it when it ends. */
export interface GroupTicket {
  /** When its window ends (ms on the gateway's clock). */
  readonly deadline: number;
  release(): void;
}

interface Active {
  readonly client: string;
  readonly group: string;
  readonly deadline: number;
}

/** @internal Admission of requests against the limits. */
export class Admission {
  readonly #limits: GatewayLimits;
  readonly #clients: Buckets;
  readonly #groups: Buckets;
  readonly #active = new Set<Active>();
  readonly #silentUntil = new Map<string, number>();
  #unicast = 0;
  #observations = 0;

  constructor(limits: GatewayLimits) {
    this.#limits = limits;
    this.#clients = new Buckets(limits.clientRate, 10_000);
    this.#groups = new Buckets(limits.groupRate, 10_000);
  }

  /** Group requests in flight or waiting for their group. */
  get activeGroups(): number {
    return this.#active.size;
  }

  /** Unicast requests in flight. */
  get activeUnicast(): number {
    return this.#unicast;
  }

  #soonest(filter: (a: Active) => boolean, now: number): number {
    let t = Number.POSITIVE_INFINITY;
    for (const a of this.#active) if (filter(a)) t = Math.min(t, a.deadline);
    return Number.isFinite(t) ? t - now : 1000;
  }

  /**
   * Lets a group request with a window of `windowMs` in, or throws a 429 Refusal.
   * `client` is the HTTP client's address, `group` the group's `address|port`.
   */
  admitGroup(client: string, group: string, windowMs: number, now: number): GroupTicket {
    const l = this.#limits;
    const silent = this.#silentUntil.get(group);
    if (silent !== undefined && silent > now)
      throw tooMany(
        'the group answered nothing and may not be asked again yet (RFC 7252 §4.7)',
        silent - now,
      );
    if (silent !== undefined) this.#silentUntil.delete(group);
    let mine = 0;
    let ahead = 0;
    let free = now;
    for (const a of this.#active) {
      if (a.client === client) mine++;
      if (a.group === group) {
        ahead++;
        free = Math.max(free, a.deadline);
      }
    }
    if (mine >= l.groupRequestsPerClient)
      throw tooMany(
        `${mine} group requests of this client are under way (at most ${l.groupRequestsPerClient})`,
        this.#soonest((a) => a.client === client, now),
      );
    if (this.#active.size >= l.groupRequests)
      throw tooMany(
        `the gateway has ${this.#active.size} group requests under way (at most ${l.groupRequests})`,
        this.#soonest(() => true, now),
      );
    // The group takes one request at a time; waiting for most of the window answers too late.
    if (ahead > l.queuedPerGroup || free - now > windowMs / 2)
      throw tooMany(`the group is busy with ${ahead} request${ahead === 1 ? '' : 's'}`, free - now);
    const waitClient = this.#clients.wait(client, now);
    if (waitClient > 0) throw tooMany('this client sends requests too fast', waitClient);
    const waitGroup = this.#groups.wait(group, now);
    if (waitGroup > 0) throw tooMany('the group is asked too often', waitGroup);
    this.#clients.take(client, now);
    this.#groups.take(group, now);
    // groupcomm-proxy §5.2.1 counts T' from sending; a request that waited for its group still
    // ends at received + T', so that its answer reaches the client in time (our reading).
    const a: Active = { client, group, deadline: now + windowMs };
    this.#active.add(a);
    return { deadline: a.deadline, release: () => this.#active.delete(a) };
  }

  /** Lets a unicast request in, or throws a 429 Refusal; call the result when it ends. */
  admitUnicast(client: string, now: number): () => void {
    if (this.#unicast >= this.#limits.unicastRequests)
      throw tooMany(`the gateway has ${this.#unicast} unicast requests under way`, 1000);
    const wait = this.#clients.wait(client, now);
    if (wait > 0) throw tooMany('this client sends requests too fast', wait);
    this.#clients.take(client, now);
    this.#unicast++;
    let done = false;
    return () => {
      if (!done) this.#unicast--;
      done = true;
    };
  }

  /** Lets an observation of one node in, or throws a 429 Refusal; call the result when it ends. */
  admitObservation(client: string, now: number): () => void {
    if (this.#observations >= this.#limits.observations)
      throw tooMany(
        `the gateway has ${this.#observations} observations under way (at most ${this.#limits.observations})`,
        1000,
      );
    const wait = this.#clients.wait(client, now);
    if (wait > 0) throw tooMany('this client sends requests too fast', wait);
    this.#clients.take(client, now);
    this.#observations++;
    let done = false;
    return () => {
      if (!done) this.#observations--;
      done = true;
    };
  }

  /** The group `group` may not be asked again before `until` (a silent group, RFC 7252 §4.7). */
  holdGroup(group: string, until: number): void {
    if (this.#silentUntil.size >= 10_000) this.#silentUntil.clear();
    this.#silentUntil.set(group, until);
  }
}

/** @internal Bytes held by all group requests together. */
export class ByteBudget {
  readonly #max: number;
  #used = 0;
  constructor(max: number) {
    this.#max = max;
  }
  get used(): number {
    return this.#used;
  }
  /** Takes `n` bytes if they fit. */
  take(n: number): boolean {
    if (this.#used + n > this.#max) return false;
    this.#used += n;
    return true;
  }
  give(n: number): void {
    this.#used = Math.max(0, this.#used - n);
  }
}
