/**
 * @module server/observe
 * Observers of resources (RFC 7641): registration by a GET with Observe 0, removal by Observe 1
 * (§3.6), by an RST to a notification or a CON notification that times out (§3.6, §4.5).
 * Notifications carry an increasing 24-bit sequence number (§4.4), are NON by default with a
 * CON at least every 24 hours (§4.5) or every `conEvery`-th, and each observer has at most one
 * notification outstanding: a newer state replaces it (§4.5.2). The table is bounded.
 * Observers registered by a multicast GET (groupcomm-bis §3.7) are notified by unicast, each
 * notification after a Leisure like the first response; a newer state replaces one still
 * waiting (RFC 7641 §4.5.2 lets intermediate states be skipped). Notifications go out through
 * the responder of the registering request, so whatever a layer did to that response it does
 * to each notification.
 */
import type { CoapMessage } from '../message/types.js';
import type { Messenger, Outgoing } from '../messenger/messenger.js';
import type { ResponseParts } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { encodeUint } from '../options/values.js';
import type { Address } from '../transport/types.js';
import { peerKey } from '../util/peer-key.js';
import type { Scheduled } from '../util/timer-queue.js';
import type { Resource } from './resource.js';
import type { Responder } from './responder.js';
import type { RequestSecurity } from './site.js';

/** RFC 7641 §4.5: at least one CON notification every 24 hours. */
const CON_INTERVAL_MS = 24 * 3600 * 1000;

/** One registered observer. */
export interface Observer {
  readonly key: string;
  /** The responder of the registering request: remote, token, group, and the way out. */
  readonly responder: Responder;
  /** A copy of the registering request, replayed through the handler for each notification. */
  readonly request: CoapMessage;
  readonly resource: Resource;
  /** Who a layer verified as the registering request's sender, for the handler. */
  readonly security: RequestSecurity | undefined;
  lastCon: number;
  sent: number;
  outstanding: Outgoing | undefined;
  /** When the oldest CON notification still without ACK was sent (RFC 7641 §4.5.2). */
  unackedSince: number | undefined;
  /** A notification waiting for its Leisure (multicast registrations), with the latest state. */
  waiting?: { parts: ResponseParts; readonly timer: Scheduled } | undefined;
}

export interface ObserveOptions {
  /** Observers at most; default 1024. Further registrations are served without Observe. */
  readonly maxObservers?: number;
  /** Send every n-th notification as CON (0: only the 24-hour rule); default 0. */
  readonly conEvery?: number;
}

function observerKey(remote: Address, token: Buffer): string {
  return `${peerKey(remote)}|${token.toString('hex')}`;
}

export class ObserverRegistry {
  private readonly observers = new Map<string, Observer>();
  private seq = 0;
  private readonly messenger: Messenger;
  private readonly maxObservers: number;
  private readonly conEvery: number;

  constructor(messenger: Messenger, options: ObserveOptions = {}) {
    this.messenger = messenger;
    this.maxObservers = options.maxObservers ?? 1024;
    this.conEvery = options.conEvery ?? 0;
  }

  get size(): number {
    return this.observers.size;
  }

  /** The next sequence number (RFC 7641 §4.4: 24 bits, wrapping). */
  nextSequence(): number {
    this.seq = (this.seq + 1) & 0xffffff;
    return this.seq;
  }

  /** Registers (or refreshes, §4.1) an observer; false when the table is full. */
  register(o: Omit<Observer, 'key' | 'lastCon' | 'sent' | 'outstanding' | 'unackedSince'>): boolean {
    const key = observerKey(o.responder.remote, o.responder.token);
    const existing = this.observers.get(key);
    if (existing) {
      this.remove(key);
    } else if (this.observers.size >= this.maxObservers) return false;
    const request = {
      ...o.request,
      token: Buffer.from(o.request.token),
      payload: Buffer.from(o.request.payload),
    };
    this.observers.set(key, {
      ...o,
      key,
      request,
      lastCon: this.messenger.runtime.now(),
      sent: 0,
      outstanding: undefined,
      unackedSince: undefined,
    });
    return true;
  }

  /** Removes the observer `remote` registered with `token` (RFC 7641 §3.6). */
  deregister(remote: Address, token: Buffer): void {
    this.remove(observerKey(remote, token));
  }

  remove(key: string): void {
    const o = this.observers.get(key);
    if (!o) return;
    this.observers.delete(key);
    o.outstanding?.cancel();
    if (o.waiting !== undefined) this.messenger.timers.cancel(o.waiting.timer);
    o.waiting = undefined;
  }

  /** Observers of a resource. */
  of(resource: Resource): Observer[] {
    const out: Observer[] = [];
    for (const o of this.observers.values()) if (o.resource === resource) out.push(o);
    return out;
  }

  /**
   * Sends a notification to `o` after `leisure()` ms (groupcomm-bis §3.7: the Leisure of a
   * multicast registration applies to every notification, not to retransmissions of a CON).
   * While one waits, a newer state only replaces its content and keeps its place.
   */
  notifyAfter(o: Observer, parts: ResponseParts, leisure: () => number): void {
    if (this.observers.get(o.key) !== o) return;
    if (o.waiting !== undefined) {
      o.waiting.parts = parts;
      return;
    }
    const timer = this.messenger.timers.schedule(Math.max(0, leisure()), () => {
      const latest = o.waiting?.parts ?? parts;
      o.waiting = undefined;
      this.notify(o, latest);
    });
    o.waiting = { parts, timer };
  }

  /** Sends one notification to `o` now; a 4.xx/5.xx ends the observation (RFC 7641 §4.2). */
  notify(o: Observer, parts: ResponseParts): void {
    if (this.observers.get(o.key) !== o) return;
    const now = this.messenger.runtime.now();
    const isError = parts.code >> 5 !== 2;
    o.sent++;
    // RFC 7641 §4.5.2: a newer notification replaces one still being retransmitted, but the
    // client must still answer in time: a CON unacknowledged for MAX_TRANSMIT_WAIT, across
    // replacements, means the client is gone.
    if (o.unackedSince !== undefined && now - o.unackedSince >= this.messenger.times.maxTransmitWait * 1000) {
      this.remove(o.key);
      return;
    }
    const confirmable =
      !isError &&
      (o.unackedSince !== undefined ||
        now - o.lastCon >= CON_INTERVAL_MS ||
        (this.conEvery > 0 && o.sent % this.conEvery === 0));
    if (confirmable) {
      o.lastCon = now;
      o.unackedSince ??= now;
    }
    const options = isError
      ? parts.options
      : [...parts.options, { number: Opt.Observe, value: encodeUint(this.nextSequence()) }].sort(
          (a, b) => a.number - b.number,
        );
    o.outstanding?.cancel();
    o.outstanding = o.responder.notify({ code: parts.code, options, payload: parts.payload }, confirmable, {
      onReset: () => this.remove(o.key),
      onTimeout: () => this.remove(o.key),
      onAck: () => {
        o.outstanding = undefined;
        o.unackedSince = undefined;
      },
    });
    // A notification the layers would not let go (it could not be protected) ends the observation.
    if (isError || o.outstanding === undefined) this.remove(o.key);
  }

  clear(): void {
    for (const k of [...this.observers.keys()]) this.remove(k);
  }
}
