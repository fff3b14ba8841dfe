/**
 * @module messenger/dedup
 * Duplicate detection (RFC 7252 §4.5, RFC 7390 §2.5): a message with the Message ID, source and
 * token of one seen within EXCHANGE_LIFETIME (CON) or NON_LIFETIME (NON) is a duplicate. The
 * token is compared too: a retransmission is byte-identical, so the same MID with another token
 * is a new message from a peer whose 16-bit MID space wrapped (which happens within the
 * lifetime at a few hundred messages per second) and must not be answered with a stale reply.
 *
 * This runs for every message received, so it builds no key and copies nothing. Entries sit in a
 * map per source address (the datagram's own string), then per block (port and top 4 bits of the
 * Message ID), then per Message ID. Every numeric key is a small integer, which V8 hashes without
 * allocating, where a composite `port * 65536 + messageId` is a heap number for most client
 * ports; and no map outgrows 4096 entries, as one busy peer's would, whose rehashes after
 * deletions allocate large tables. The token is held as three integers below 2^24 and compared in
 * place. A block's map is deleted when its last entry goes, an address's when its last block goes.
 *
 * O(1) per message: entries are also kept in two FIFOs ordered by expiry (one per lifetime).
 * Memory is bounded by `maxEntries`; the entry closest to expiry is evicted first. Expired
 * entries are dropped as new ones arrive, and one sweep timer, armed at the earliest expiry,
 * empties the table of an endpoint gone idle.
 */
import type { Runtime, TimerHandle } from '../runtime.js';

/** One remembered message. `reply` is what was sent back, replayed for duplicates. */
export interface DedupEntry {
  readonly expires: number;
  reply: Buffer | undefined;
  /** Set once the entry is evicted or replaced. */
  dead: boolean;
}

/** Entries of one source endpoint and MID range, by Message ID; in `blocks` while it has any. */
interface Block {
  readonly mids: Map<number, Entry>;
  readonly address: string;
  readonly key: number;
  /** Its address's map. */
  readonly blocks: Map<number, Block>;
}

interface Entry extends DedupEntry {
  readonly block: Block;
  readonly messageId: number;
  /** The token: bytes 0-2, bytes 3-5, and length << 16 | bytes 6-7 (see `check`). */
  readonly t0: number;
  readonly t1: number;
  readonly t2: number;
  /** A copy of a token longer than 8 bytes (never decoded from the wire, RFC 7252 §3). */
  readonly long: Buffer | undefined;
}

/** Entries in expiry order: a ring that doubles when full (or drops its dead entries instead, when most are). */
class Fifo {
  private items = new Array<Entry | undefined>(16).fill(undefined);
  private head = 0;
  length = 0;
  peek(): Entry | undefined {
    return this.items[this.head];
  }
  /** `live`: entries alive in all queues, so that more than twice as many here are mostly dead. */
  push(e: Entry, live: number): void {
    const cap = this.items.length;
    if (this.length === cap) this.resize(this.length > 2 * live ? cap : cap * 2);
    this.items[(this.head + this.length++) & (this.items.length - 1)] = e;
  }
  shift(): Entry | undefined {
    const e = this.items[this.head];
    if (e === undefined) return undefined;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    // Give the memory of a burst back once the queue has drained to a quarter.
    if (--this.length < this.items.length >> 2 && this.items.length > 16) this.resize(this.items.length >> 1);
    return e;
  }
  clear(): void {
    this.items = new Array<Entry | undefined>(16).fill(undefined);
    this.head = 0;
    this.length = 0;
  }
  private resize(capacity: number): void {
    const next = new Array<Entry | undefined>(capacity).fill(undefined);
    const mask = this.items.length - 1;
    let n = 0;
    for (let i = 0; i < this.length; i++) {
      const e = this.items[(this.head + i) & mask]!;
      if (!e.dead) next[n++] = e;
    }
    this.items = next;
    this.head = 0;
    this.length = n;
  }
}

export interface DedupOptions {
  readonly maxEntries: number;
  readonly conLifetimeMs: number;
  readonly nonLifetimeMs: number;
}

export class DedupCache {
  private readonly byAddress = new Map<string, Map<number, Block>>();
  private readonly con = new Fifo();
  private readonly non = new Fifo();
  private live = 0;
  private sweepTimer: TimerHandle | undefined;
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
   * Looks the message up. Returns the earlier entry for a duplicate; otherwise remembers the
   * message and returns the new entry with `isNew` true.
   */
  check(
    address: string,
    port: number,
    messageId: number,
    token: Buffer,
    confirmable: boolean,
  ): { entry: DedupEntry; isNew: boolean } {
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
    const key = (port << 4) | ((messageId >> 12) & 15);
    let block = this.byAddress.get(address)?.get(key);
    const found = block?.mids.get(messageId);
    if (found !== undefined) {
      if (found.t0 === t0 && found.t1 === t1 && found.t2 === t2 && (n <= 8 || token.equals(found.long!)))
        return { entry: found, isNew: false };
      this.kill(found);
    } else if (this.live >= this.options.maxEntries) this.evictOldest();
    // Killing or evicting may have emptied, and so removed, this block's and its address's maps.
    if (block === undefined || block.mids.size === 0) {
      let blocks = this.byAddress.get(address);
      if (blocks === undefined) this.byAddress.set(address, (blocks = new Map()));
      blocks.set(key, (block = { mids: new Map(), address, key, blocks }));
    }
    const expires = now + (confirmable ? this.options.conLifetimeMs : this.options.nonLifetimeMs);
    // A token is a view into a datagram buffer that may be reused: a long one is copied.
    const long = n > 8 ? Buffer.from(token) : undefined;
    const entry: Entry = { reply: undefined, dead: false, expires, block, messageId, t0, t1, t2, long };
    block.mids.set(messageId, entry);
    (confirmable ? this.con : this.non).push(entry, this.live);
    this.live++;
    this.armSweep(now);
    return { entry, isNew: true };
  }

  /** One timer at the earliest expiry (at least 1 s away, to batch the work). */
  private armSweep(now: number): void {
    if (this.sweepTimer !== undefined || this.live === 0) return;
    const a = this.con.peek()?.expires ?? Number.POSITIVE_INFINITY;
    const b = this.non.peek()?.expires ?? Number.POSITIVE_INFINITY;
    const at = Math.min(a, b);
    if (at === Number.POSITIVE_INFINITY) return;
    this.sweepTimer = this.runtime.setTimeout(
      () => {
        this.sweepTimer = undefined;
        const t = this.runtime.now();
        this.expire(t);
        this.armSweep(t);
      },
      Math.max(1000, at - now),
    );
  }

  /** Forgets everything. */
  clear(): void {
    if (this.sweepTimer !== undefined) this.runtime.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.byAddress.clear();
    this.con.clear();
    this.non.clear();
    this.live = 0;
  }

  private kill(e: Entry): void {
    if (e.dead) return;
    e.dead = true;
    this.live--;
    const b = e.block;
    if (b.mids.get(e.messageId) !== e) return;
    b.mids.delete(e.messageId);
    if (b.mids.size > 0) return;
    b.blocks.delete(b.key);
    if (b.blocks.size === 0) this.byAddress.delete(b.address);
  }

  private expire(now: number): void {
    for (let e = this.con.peek(); e !== undefined && (e.dead || e.expires <= now); e = this.con.peek()) {
      this.con.shift();
      this.kill(e);
    }
    for (let e = this.non.peek(); e !== undefined && (e.dead || e.expires <= now); e = this.non.peek()) {
      this.non.shift();
      this.kill(e);
    }
  }

  private evictOldest(): void {
    // Bounded: each pass removes at least one queued entry, live or dead.
    for (let i = 0; i < this.con.length + this.non.length + 1 && this.live >= this.options.maxEntries; i++) {
      const a = this.con.peek();
      const b = this.non.peek();
      const q =
        a === undefined
          ? this.non
          : b === undefined
            ? this.con
            : a.expires <= b.expires
              ? this.con
              : this.non;
      const e = q.shift();
      if (e === undefined) return;
      this.kill(e);
    }
  }
}
