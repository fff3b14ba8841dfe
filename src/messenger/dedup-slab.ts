/**
 * @module messenger/dedup-slab
 * The storage of the duplicate-detection table (messenger/dedup, RFC 7252 §4.5): its entries in
 * slots of typed arrays (a slab), the free list of slots, the hash table of slot chains, and each
 * entry's generation number. It hands out and frees slots, links them into their chains, and
 * grows or shrinks the slab; what an entry means and when it ends is messenger/dedup's.
 *
 * Nothing here allocates per message: a slot is freed and reused as soon as its entry ends, and
 * the arrays are replaced only when the slab grows (doubling) or, emptied, shrinks. The layout
 * constants below stay private to this file on purpose: V8 folds a module's own constants into
 * the compiled code, but reads an exported (or imported) one from memory on every use: with the
 * constants shared, the per-message lookup measured about a tenth slower. So the code that reads
 * the slot layout is all here, and messenger/dedup calls it (V8 inlines these small methods).
 */

/** Int32 fields per slot in `rec`. */
const STRIDE = 8;
/** port << 16 | Message ID, as an int32. */
const KEY = 0;
/** The token: bytes 0-2, bytes 3-5, and length << 16 | bytes 6-7 (see `DedupCache.lookup`). */
const T0 = 1;
const T1 = 2;
const T2 = 3;
/** The next slot in the hash chain (or in the free list); -1 ends it. */
const NEXT = 4;
/** The entry's number, unique in the table (see `DedupSlab.generations`). */
const GEN = 5;
/** The key's full hash, so a chain walk and a rehash need not recompute it. */
const HASH = 6;
/** 0 free, 1 CON, 2 NON. */
const STATE = 7;

const FREE = 0;
const CON = 1;
const NON = 2;

/** The first (and, once emptied, again the) number of slots. */
const INITIAL_SLOTS = 16;

/**
 * The slots of a duplicate-detection table and the hash chains through them: the base of
 * `DedupCache`, so that its per-message lookup reads these arrays with no object in between.
 */
export class DedupSlab {
  /** `STRIDE` int32 fields per slot (KEY … STATE). */
  protected rec = new Int32Array(INITIAL_SLOTS * STRIDE);
  /** When each slot's entry expires (runtime milliseconds). */
  protected expiresAt = new Float64Array(INITIAL_SLOTS);
  /** The source address of each slot's entry; undefined for a free slot. */
  protected address: (string | undefined)[] = new Array<string | undefined>(INITIAL_SLOTS).fill(undefined);
  /** The reply sent for each slot's entry, replayed for its duplicates. */
  protected replies: (Buffer | undefined)[] = new Array<Buffer | undefined>(INITIAL_SLOTS).fill(undefined);
  /** A copy of a token longer than 8 bytes (never decoded from the wire, RFC 7252 §3). */
  protected longTokens: (Buffer | undefined)[] = new Array<Buffer | undefined>(INITIAL_SLOTS).fill(undefined);
  /** The first slot of each hash chain (-1 for none); a power of two, twice the slots. */
  protected buckets = new Int32Array(INITIAL_SLOTS * 2).fill(-1);
  /** Slots handed out so far; the ones below it are in use or in the free list. */
  protected used = 0;
  /** Slots in use (entries that live). */
  protected live = 0;
  private freeHead = -1;
  /**
   * The generation of the last entry made. Each entry takes the next one, whatever its slot, so
   * a reference (slot, generation) never matches a later entry, even after the slab shrank and
   * its slots were handed out again (it would take 2^32 entries to come round).
   */
  private generations = 0;

  /** True while the entry that had `generation` in `slot` lives. */
  isLive(slot: number, generation: number): boolean {
    const at = slot * STRIDE;
    return this.rec[at + GEN] === generation && this.rec[at + STATE] !== FREE;
  }

  /** The current generation of `slot` (the generation of its entry, or of its last one). */
  generation(slot: number): number {
    return this.rec[slot * STRIDE + GEN]!;
  }

  /** When the entry in `slot` expires. */
  expiryOf(slot: number): number {
    return this.expiresAt[slot]!;
  }

  /** The reply remembered for the entry in `slot`. */
  replyOf(slot: number): Buffer | undefined {
    return this.replies[slot];
  }

  /** Remembers `reply` for the entry in `slot`, unless that entry ended (its generation changed). */
  setReply(slot: number, generation: number, reply: Buffer | undefined): void {
    if (this.isLive(slot, generation)) this.replies[slot] = reply;
  }

  /** The slot of the entry with hash `hash`, key `key` (port << 16 | Message ID) and `address`, or -1. */
  protected find(hash: number, key: number, address: string): number {
    const rec = this.rec;
    const addresses = this.address;
    const buckets = this.buckets;
    for (let s = buckets[hash & (buckets.length - 1)]!; s >= 0; s = rec[s * STRIDE + NEXT]!) {
      const at = s * STRIDE;
      if (rec[at + HASH] === hash && rec[at + KEY] === key && addresses[s] === address) return s;
    }
    return -1;
  }

  /** Whether the entry in `slot` has this token (`t0`…`t2` as `DedupCache.lookup` packs it). */
  protected sameToken(slot: number, t0: number, t1: number, t2: number, token: Buffer): boolean {
    const rec = this.rec;
    const at = slot * STRIDE;
    return (
      rec[at + T0] === t0 &&
      rec[at + T1] === t1 &&
      rec[at + T2] === t2 &&
      (token.length <= 8 || token.equals(this.longTokens[slot]!))
    );
  }

  /**
   * Stores a new entry in a free slot, growing the slab when every slot is in use: gives it the
   * next generation, links it into its chain and counts it live. Returns its slot.
   */
  protected insert(
    hash: number,
    key: number,
    t0: number,
    t1: number,
    t2: number,
    confirmable: boolean,
    expires: number,
    address: string,
    token: Buffer,
  ): number {
    let s = this.freeHead;
    if (s >= 0) this.freeHead = this.rec[s * STRIDE + NEXT]!;
    else {
      if (this.used === this.expiresAt.length) this.resize(this.used * 2);
      s = this.used++;
    }
    // Read after the slab may have grown.
    const rec = this.rec;
    const at = s * STRIDE;
    rec[at + KEY] = key;
    rec[at + T0] = t0;
    rec[at + T1] = t1;
    rec[at + T2] = t2;
    rec[at + HASH] = hash;
    rec[at + STATE] = confirmable ? CON : NON;
    this.generations = (this.generations + 1) | 0;
    rec[at + GEN] = this.generations;
    const b = hash & (this.buckets.length - 1);
    rec[at + NEXT] = this.buckets[b]!;
    this.buckets[b] = s;
    this.expiresAt[s] = expires;
    this.address[s] = address;
    // A token may be a view into a buffer its owner reuses (a decoded one is a copy, others need
    // not be): a long one is copied; one of up to 8 bytes is kept as integers.
    if (token.length > 8) this.longTokens[s] = Buffer.from(token);
    this.live++;
    return s;
  }

  /** Ends the entry in `slot`: out of its chain, its references dropped, the slot free. */
  protected free(s: number): void {
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

  /** Forgets every entry and goes back to the first size, giving back the memory of a burst. */
  protected reset(): void {
    this.live = 0;
    this.resize(INITIAL_SLOTS);
  }

  /** Grows (or, emptied, shrinks) the slab to `capacity` slots; the hash table follows. */
  private resize(capacity: number): void {
    const keep = this.live > 0 ? this.used : 0;
    const rec = new Int32Array(capacity * STRIDE);
    rec.set(this.rec.subarray(0, keep * STRIDE));
    const expiresAt = new Float64Array(capacity);
    expiresAt.set(this.expiresAt.subarray(0, keep));
    this.address = copyInto(this.address, capacity, keep);
    this.replies = copyInto(this.replies, capacity, keep);
    this.longTokens = copyInto(this.longTokens, capacity, keep);
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

/** A new array of `capacity` holding the first `keep` items of `a`, the rest undefined. */
function copyInto<T>(a: (T | undefined)[], capacity: number, keep: number): (T | undefined)[] {
  const out = new Array<T | undefined>(capacity).fill(undefined);
  for (let i = 0; i < keep; i++) out[i] = a[i];
  return out;
}
