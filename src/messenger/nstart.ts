/**
 * @module messenger/nstart
 * NSTART (RFC 7252 §4.7): at most `limit` outstanding interactions per server, and per CoAP group
 * (groupcomm-bis §3.6.1, design.md "NSTART = 1 per group"). Extra interactions wait in FIFO
 * order. Keys are strings such as `127.0.0.1:5683`; a key's state is dropped when idle, so the
 * table holds only peers with work in flight.
 */
import { abortError } from '../errors.js';

interface Slot {
  active: number;
  readonly waiting: Array<{
    resolve: () => void;
    reject: (e: Error) => void;
    signal: AbortSignal | undefined;
    onAbort: (() => void) | undefined;
  }>;
}

export class ConcurrencyLimiter {
  private readonly slots = new Map<string, Slot>();
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Peers with interactions in flight or waiting. */
  get size(): number {
    return this.slots.size;
  }

  /** Takes a slot for `key` now if one is free. */
  tryAcquire(key: string): boolean {
    let s = this.slots.get(key);
    if (s === undefined) this.slots.set(key, (s = { active: 0, waiting: [] }));
    if (s.active < this.limit) {
      s.active++;
      return true;
    }
    return false;
  }

  /**
   * Resolves when a slot for `key` is taken; rejects with the signal's error (`abortError`) if
   * `signal` fires first, or has fired already.
   */
  acquire(key: string, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.tryAcquire(key)) return Promise.resolve();
    const s = this.slots.get(key)!;
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject, signal, onAbort: undefined as (() => void) | undefined };
      if (signal) {
        waiter.onAbort = () => {
          const i = s.waiting.indexOf(waiter);
          if (i >= 0) {
            s.waiting.splice(i, 1);
            reject(abortError(signal));
          }
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      s.waiting.push(waiter);
    });
  }

  /** Frees a slot for `key`, handing it to the next waiter if any. */
  release(key: string): void {
    const s = this.slots.get(key);
    if (s === undefined) return;
    const next = s.waiting.shift();
    if (next !== undefined) {
      // A long-lived signal shared by many requests must not collect listeners.
      if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
      next.resolve();
      return;
    }
    s.active--;
    if (s.active <= 0) this.slots.delete(key);
  }

  /** Rejects every waiter (on close). */
  rejectAll(err: Error): void {
    for (const s of this.slots.values()) for (const w of s.waiting.splice(0)) w.reject(err);
    this.slots.clear();
  }
}
