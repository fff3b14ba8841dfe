/**
 * @module messenger/dedup
 * Duplicate detection (RFC 7252 §4.5, RFC 7390 §2.5): a message with the Message ID, source and
 * token of one seen within EXCHANGE_LIFETIME (CON) or NON_LIFETIME (NON) is a duplicate. The
 * token is compared too: a retransmission is byte-identical, so the same MID with another token
 * is a new message from a peer whose 16-bit MID space wrapped (which happens within the
 * lifetime at a few hundred messages per second) and must not be answered with a stale reply.
 *
 * This module owns the matching and the lifetimes: the lookup, expiry, eviction and the sweep.
 * It runs for every message received, so it allocates nothing per message. Entries live in
 * slots of typed arrays (messenger/dedup-slab), found through one hash table of slot chains,
 * keyed by source address, port and Message ID with a per-table random seed from the injected
 * `Runtime` (so no peer can choose colliding keys). The token is held as three integers below
 * 2^24 and compared in place. A slot is freed and reused as soon as its entry ends; each entry
 * has a generation number of its own, which tells a reference to an entry that ended from one
 * to the entry that reuses its slot. Once the table is empty, the sweep shrinks the slab back
 * to its first size. `check` hands out entries as objects (messenger/dedup-entry).
 *
 * O(1) per message: entries are also kept in two FIFOs ordered by expiry (one per lifetime),
 * as (slot, generation) pairs. Memory is bounded by `maxEntries`; the entry closest to expiry is
 * evicted first. Expired entries are dropped as new ones arrive, and one sweep timer, armed at
 * the earliest expiry, empties the table of an endpoint gone idle.
 */
import type { Runtime, TimerHandle } from '../runtime.js';
import { type DedupEntry, EntryRefs } from './dedup-entry.js';
import { DedupSlab } from './dedup-slab.js';
import { SlotFifo } from './slot-fifo.js';

export type { DedupEntry } from './dedup-entry.js';

export interface DedupOptions {
  readonly maxEntries: number;
  readonly conLifetimeMs: number;
  readonly nonLifetimeMs: number;
}

/** Hash seeds are drawn below this (2^31 - 1), so they are non-negative int32s. */
const SEED_RANGE = 0x7fffffff;

/**
 * The duplicate-detection table of one endpoint. It extends the slab (messenger/dedup-slab)
 * rather than holding one, so the per-message lookup reaches the slots with no object between.
 */
export class DedupCache extends DedupSlab {
  private readonly con: SlotFifo;
  private readonly non: SlotFifo;
  private sweepTimer: TimerHandle | undefined;
  /** The objects `check` handed out (`check` only). */
  private refs: EntryRefs | undefined;
  private readonly seed: number;
  private readonly runtime: Runtime;
  private readonly options: DedupOptions;

  constructor(runtime: Runtime, options: DedupOptions) {
    super();
    this.runtime = runtime;
    this.options = options;
    this.seed = runtime.randomInt(SEED_RANGE) | 0;
    this.con = new SlotFifo((s, g) => this.isLive(s, g));
    this.non = new SlotFifo((s, g) => this.isLive(s, g));
  }

  /** Entries currently remembered. */
  get size(): number {
    return this.live;
  }

  /**
   * Looks the message up. For a new message, remembers it and returns its slot (>= 0); for a
   * duplicate, returns `-1 - slot` of the earlier entry. A slot stays the entry's while its
   * generation (`generation()`) is unchanged.
   */
  lookup(address: string, port: number, messageId: number, token: Buffer, confirmable: boolean): number {
    const now = this.runtime.now();
    this.expire(now);
    // Three integers below 2^24 that are equal exactly when tokens of up to 8 bytes are.
    const n = token.length;
    let t0 = 0;
    let t1 = 0;
    let t2 = 0;
    for (let i = 0; i < n && i < 8; i++) {
      const b = token[i]!;
      if (i < 3) t0 = (t0 << 8) | b;
      else if (i < 6) t1 = (t1 << 8) | b;
      else t2 = (t2 << 8) | b;
    }
    t2 |= n << 16;
    const key = (port << 16) | messageId;
    let h = this.seed ^ key;
    for (let i = 0; i < address.length; i++) h = Math.imul(h ^ address.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    h ^= h >>> 13;
    const earlier = this.find(h, key, address);
    if (earlier >= 0) {
      if (this.sameToken(earlier, t0, t1, t2, token)) return -1 - earlier;
      // The same Message ID with another token: a new message replaces the old one.
      this.free(earlier);
    }
    if (this.live >= this.options.maxEntries) this.evictOldest();
    const expires = now + (confirmable ? this.options.conLifetimeMs : this.options.nonLifetimeMs);
    const s = this.insert(h, key, t0, t1, t2, confirmable, expires, address, token);
    // The queue is told how many entries lived before this one.
    (confirmable ? this.con : this.non).push(s, this.generation(s), this.live - 1);
    this.armSweep(now);
    return s;
  }

  /**
   * `lookup` as an object: the entry (new, or the earlier one for a duplicate) and whether the
   * message is new. For tests and tools; the message layer uses `lookup`.
   */
  check(
    address: string,
    port: number,
    messageId: number,
    token: Buffer,
    confirmable: boolean,
  ): { entry: DedupEntry; isNew: boolean } {
    const r = this.lookup(address, port, messageId, token, confirmable);
    const slot = r >= 0 ? r : -1 - r;
    this.refs ??= new EntryRefs(this);
    return { entry: this.refs.get(slot, this.generation(slot)), isNew: r >= 0 };
  }

  /** One timer at the earliest expiry (at least 1 s away, to batch the work). */
  private armSweep(now: number): void {
    if (this.sweepTimer !== undefined || this.live === 0) return;
    const at = Math.min(this.headExpiry(this.con), this.headExpiry(this.non));
    if (at === Number.POSITIVE_INFINITY) return;
    this.sweepTimer = this.runtime.setTimeout(
      () => {
        this.sweepTimer = undefined;
        const t = this.runtime.now();
        this.expire(t);
        // Gone idle: give back the memory of the busiest time (up to `maxEntries` slots).
        if (this.live === 0) this.shrink();
        else this.armSweep(t);
      },
      Math.max(1000, at - now),
    );
  }

  /** Forgets everything. */
  clear(): void {
    if (this.sweepTimer !== undefined) this.runtime.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.shrink();
  }

  /** Back to the initial slab, with no entry. */
  private shrink(): void {
    this.con.clear();
    this.non.clear();
    this.refs = undefined;
    this.reset();
  }

  /** The expiry of the oldest live entry of a FIFO (stale pairs dropped), or +Infinity. */
  private headExpiry(q: SlotFifo): number {
    for (let s = q.headSlot(); s >= 0; s = q.headSlot()) {
      if (this.isLive(s, q.headGeneration())) return this.expiresAt[s]!;
      q.shift();
    }
    return Number.POSITIVE_INFINITY;
  }

  private expire(now: number): void {
    while (this.headExpiry(this.con) <= now) this.free(this.con.shift());
    while (this.headExpiry(this.non) <= now) this.free(this.non.shift());
  }

  private evictOldest(): void {
    // Bounded: each pass ends one live entry.
    while (this.live >= this.options.maxEntries && this.live > 0) {
      const q = this.headExpiry(this.con) <= this.headExpiry(this.non) ? this.con : this.non;
      this.free(q.shift());
    }
  }
}
