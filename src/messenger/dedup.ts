/**
 * @module messenger/dedup
 * Duplicate detection (RFC 7252 §4.5, RFC 7390 §2.5): a message with the Message ID, source and
 * token of one seen within EXCHANGE_LIFETIME (CON) or NON_LIFETIME (NON) is a duplicate. The
 * token is compared too: a retransmission is byte-identical, so the same MID with another token
 * is a new message from a peer whose 16-bit MID space wrapped (which happens within the
 * lifetime at a few hundred messages per second) and must not be answered with a stale reply.
 *
 * This runs for every message received, so it allocates nothing per message. Entries live in
 * slots of typed arrays (a slab), found through one hash table of slot chains, keyed by source
 * address, port and Message ID with a per-table random seed (so no peer can choose colliding
 * keys). The token is held as three integers below 2^24 and compared in place. A slot is freed
 * and reused as soon as its entry ends; each entry has a generation number of its own, which
 * tells a reference to an entry that ended from one to the entry that reuses its slot. Once the
 * table is empty, the sweep shrinks the slab back to its first size.
 *
 * O(1) per message: entries are also kept in two FIFOs ordered by expiry (one per lifetime),
 * as (slot, generation) pairs. Memory is bounded by `maxEntries`; the entry closest to expiry is
 * evicted first. Expired entries are dropped as new ones arrive, and one sweep timer, armed at
 * the earliest expiry, empties the table of an endpoint gone idle.
 */
import type { Runtime, TimerHandle } from '../runtime.js';
import { SlotFifo } from './slot-fifo.js';

/** One remembered message. `reply` is what was sent back, replayed for duplicates. */
export interface DedupEntry {
  readonly expires: number;
  reply: Buffer | undefined;
  /** True once the entry was evicted, replaced or expired. */
  readonly dead: boolean;
}

export interface DedupOptions {
  readonly maxEntries: number;
  readonly conLifetimeMs: number;
  readonly nonLifetimeMs: number;
}

/** Int32 fields per slot in `rec`. */
const STRIDE = 8;
/** port << 16 | Message ID, as an int32. */
const KEY = 0;
/** The token: bytes 0-2, bytes 3-5, and length << 16 | bytes 6-7 (see `lookup`). */
const T0 = 1;
const T1 = 2;
const T2 = 3;
/** The next slot in the hash chain (or in the free list); -1 ends it. */
const NEXT = 4;
/** The entry's number, unique in the table (see `generations`). */
const GEN = 5;
/** The key's full hash, so a chain walk and a rehash need not recompute it. */
const HASH = 6;
/** 0 free, 1 CON, 2 NON. */
const STATE = 7;

const FREE = 0;
const CON = 1;
const NON = 2;

export class DedupCache {
  private rec = new Int32Array(16 * STRIDE);
  private expiresAt = new Float64Array(16);
  private address: (string | undefined)[] = new Array<string | undefined>(16).fill(undefined);
  private replies: (Buffer | undefined)[] = new Array<Buffer | undefined>(16).fill(undefined);
  /** A copy of a token longer than 8 bytes (never decoded from the wire, RFC 7252 §3). */
  private longTokens: (Buffer | undefined)[] = new Array<Buffer | undefined>(16).fill(undefined);
  private buckets = new Int32Array(32).fill(-1);
  private freeHead = -1;
  /** Slots handed out so far; the ones below it are in use or in the free list. */
  private used = 0;
  private readonly con = new SlotFifo((s, g) => this.isLive(s, g));
  private readonly non = new SlotFifo((s, g) => this.isLive(s, g));
  private live = 0;
  /**
   * The generation of the last entry made. Each entry takes the next one, whatever its slot, so
   * a reference (slot, generation) never matches a later entry, even after the slab shrank and
   * its slots were handed out again (it would take 2^32 entries to come round).
   */
  private generations = 0;
  private sweepTimer: TimerHandle | undefined;
  /** The objects `check` handed out, by slot (`check` only). */
  private refs: Map<number, EntryRef> | undefined;
  private readonly seed = (Math.random() * 0x7fffffff) | 0;
  private readonly runtime: Runtime;
  private readonly options: DedupOptions;

  constructor(runtime: Runtime, options: DedupOptions) {
    this.runtime = runtime;
    this.options = options;
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
    const rec = this.rec;
    for (let s = this.buckets[h & (this.buckets.length - 1)]!; s >= 0; s = rec[s * STRIDE + NEXT]!) {
      const at = s * STRIDE;
      if (rec[at + HASH] !== h || rec[at + KEY] !== key || this.address[s] !== address) continue;
      if (
        rec[at + T0] === t0 &&
        rec[at + T1] === t1 &&
        rec[at + T2] === t2 &&
        (n <= 8 || token.equals(this.longTokens[s]!))
      )
        return -1 - s;
      // The same Message ID with another token: a new message replaces the old one.
      this.kill(s);
      break;
    }
    if (this.live >= this.options.maxEntries) this.evictOldest();
    const s = this.allocate();
    const at = s * STRIDE;
    const r = this.rec;
    r[at + KEY] = key;
    r[at + T0] = t0;
    r[at + T1] = t1;
    r[at + T2] = t2;
    r[at + HASH] = h;
    r[at + STATE] = confirmable ? CON : NON;
    this.generations = (this.generations + 1) | 0;
    r[at + GEN] = this.generations;
    const b = h & (this.buckets.length - 1);
    r[at + NEXT] = this.buckets[b]!;
    this.buckets[b] = s;
    this.expiresAt[s] = now + (confirmable ? this.options.conLifetimeMs : this.options.nonLifetimeMs);
    this.address[s] = address;
    // A token is a view into a datagram buffer that may be reused: a long one is copied.
    if (n > 8) this.longTokens[s] = Buffer.from(token);
    (confirmable ? this.con : this.non).push(s, r[at + GEN]!, this.live);
    this.live++;
    this.armSweep(now);
    return s;
  }

  /** The current generation of `slot`: a reference taken now is valid while it stays the same. */
  generation(slot: number): number {
    return this.rec[slot * STRIDE + GEN]!;
  }

  /** The reply remembered for the entry in `slot`. */
  replyOf(slot: number): Buffer | undefined {
    return this.replies[slot];
  }

  /** Remembers `reply` for the entry in `slot`, unless that entry ended (its generation changed). */
  setReply(slot: number, generation: number, reply: Buffer | undefined): void {
    const at = slot * STRIDE;
    if (this.rec[at + GEN] === generation && this.rec[at + STATE] !== FREE) this.replies[slot] = reply;
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
    const generation = this.generation(slot);
    // One object per entry, so that the entry of a duplicate is the entry of the original.
    this.refs ??= new Map();
    let entry = this.refs.get(slot);
    if (entry === undefined || entry.generation !== generation) {
      entry = new EntryRef(this, slot, generation);
      this.refs.set(slot, entry);
    }
    return { entry, isNew: r >= 0 };
  }

  /** @internal for EntryRef */
  isLive(slot: number, generation: number): boolean {
    const at = slot * STRIDE;
    return this.rec[at + GEN] === generation && this.rec[at + STATE] !== FREE;
  }

  /** @internal for EntryRef */
  expiryOf(slot: number): number {
    return this.expiresAt[slot]!;
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
    this.live = 0;
    this.shrink();
  }

  /** Back to the initial 16 slots, with no entry (`live` is 0). */
  private shrink(): void {
    this.con.clear();
    this.non.clear();
    this.refs = undefined;
    this.resize(16);
  }

  /** A free slot, growing the slab when every slot is in use. */
  private allocate(): number {
    if (this.freeHead >= 0) {
      const s = this.freeHead;
      this.freeHead = this.rec[s * STRIDE + NEXT]!;
      return s;
    }
    if (this.used === this.expiresAt.length) this.resize(this.used * 2);
    return this.used++;
  }

  /** Ends the entry in `slot`: out of its chain, its references dropped, the slot free. */
  private kill(s: number): void {
    const rec = this.rec;
    const at = s * STRIDE;
    if (rec[at + STATE] === FREE) return;
    const b = rec[at + HASH]! & (this.buckets.length - 1);
    let p = this.buckets[b]!;
    if (p === s) this.buckets[b] = rec[at + NEXT]!;
    else {
      // Bounded by the chain's length.
      while (p >= 0 && rec[p * STRIDE + NEXT] !== s) p = rec[p * STRIDE + NEXT]!;
      if (p >= 0) rec[p * STRIDE + NEXT] = rec[at + NEXT]!;
    }
    rec[at + STATE] = FREE;
    this.address[s] = undefined;
    this.replies[s] = undefined;
    this.longTokens[s] = undefined;
    rec[at + NEXT] = this.freeHead;
    this.freeHead = s;
    this.live--;
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
    while (this.headExpiry(this.con) <= now) this.kill(this.con.shift());
    while (this.headExpiry(this.non) <= now) this.kill(this.non.shift());
  }

  private evictOldest(): void {
    // Bounded: each pass ends one live entry.
    while (this.live >= this.options.maxEntries && this.live > 0) {
      const q = this.headExpiry(this.con) <= this.headExpiry(this.non) ? this.con : this.non;
      this.kill(q.shift());
    }
  }

  /** Grows (or, emptied, shrinks) the slab to `capacity` slots; the hash table follows. */
  private resize(capacity: number): void {
    const keep = this.live > 0 ? this.used : 0;
    const rec = new Int32Array(capacity * STRIDE);
    rec.set(this.rec.subarray(0, keep * STRIDE));
    const expiresAt = new Float64Array(capacity);
    expiresAt.set(this.expiresAt.subarray(0, keep));
    const grow = <T>(a: (T | undefined)[]) => {
      const out = new Array<T | undefined>(capacity).fill(undefined);
      for (let i = 0; i < keep; i++) out[i] = a[i];
      return out;
    };
    this.address = grow(this.address);
    this.replies = grow(this.replies);
    this.longTokens = grow(this.longTokens);
    this.rec = rec;
    this.expiresAt = expiresAt;
    if (keep === 0) {
      this.used = 0;
      this.freeHead = -1;
    }
    // The chains are rebuilt from each live slot's hash; free slots keep their free-list links.
    const buckets = new Int32Array(capacity * 2).fill(-1);
    for (let s = 0; s < keep; s++) {
      const at = s * STRIDE;
      if (rec[at + STATE] === FREE) continue;
      const b = rec[at + HASH]! & (buckets.length - 1);
      rec[at + NEXT] = buckets[b]!;
      buckets[b] = s;
    }
    this.buckets = buckets;
  }
}

/** An entry as an object (`check`): reads and writes go to its slot while the entry lives. */
class EntryRef implements DedupEntry {
  readonly #table: DedupCache;
  readonly #slot: number;
  readonly generation: number;

  constructor(table: DedupCache, slot: number, generation: number) {
    this.#table = table;
    this.#slot = slot;
    this.generation = generation;
  }

  get expires(): number {
    return this.#table.expiryOf(this.#slot);
  }

  get reply(): Buffer | undefined {
    return this.#table.isLive(this.#slot, this.generation) ? this.#table.replyOf(this.#slot) : undefined;
  }

  set reply(value: Buffer | undefined) {
    this.#table.setReply(this.#slot, this.generation, value);
  }

  get dead(): boolean {
    return !this.#table.isLive(this.#slot, this.generation);
  }
}
