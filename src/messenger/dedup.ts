/**
 * @module messenger/dedup
 * Duplicate detection (RFC 7252 §4.5, RFC 7390 §2.5): a message with the Message ID, source and
 * token of one seen within EXCHANGE_LIFETIME (CON) or NON_LIFETIME (NON) is a duplicate. The
 * token is compared too: a retransmission is byte-identical, so the same MID with another token
 * is a new message from a peer whose 16-bit MID space wrapped (which happens within the
 * lifetime at a few hundred messages per second) and must not be answered with a stale reply.
 *
 * O(1) per message: entries are kept in two FIFOs ordered by expiry (one per lifetime) and in a
 * two-level map keyed without string building. Memory is bounded by `maxEntries`; the entry
 * closest to expiry is evicted first. Expired entries are dropped as new ones arrive, and one
 * sweep timer, armed at the earliest expiry, empties the table of an endpoint gone idle.
 */
import type { Runtime, TimerHandle } from '../runtime.js';

/** One remembered message. `reply` is what was sent back, replayed for duplicates. */
export interface DedupEntry {
  readonly address: string;
  readonly key: number;
  readonly token: Buffer;
  readonly expires: number;
  reply: Buffer | undefined;
  /** Set once the entry is evicted or replaced. */
  dead: boolean;
}

class Fifo {
  items: DedupEntry[] = [];
  head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  peek(): DedupEntry | undefined {
    return this.items[this.head];
  }
  push(e: DedupEntry): void {
    this.items.push(e);
  }
  shift(): DedupEntry | undefined {
    const e = this.items[this.head];
    if (e === undefined) return undefined;
    this.items[this.head++] = undefined as unknown as DedupEntry;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return e;
  }
}

export interface DedupOptions {
  readonly maxEntries: number;
  readonly conLifetimeMs: number;
  readonly nonLifetimeMs: number;
}

export class DedupCache {
  private readonly byAddress = new Map<string, Map<number, DedupEntry>>();
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
    const key = port * 65536 + messageId;
    let inner = this.byAddress.get(address);
    const found = inner?.get(key);
    if (found?.token.equals(token)) return { entry: found, isNew: false };
    if (found !== undefined) this.kill(found);
    if (this.live >= this.options.maxEntries) this.evictOldest();
    // Killing or evicting may have removed this address's map; look it up again.
    inner = this.byAddress.get(address);
    const entry: DedupEntry = {
      address,
      key,
      // Copy: the token is a view into a datagram buffer that may be reused.
      token: Buffer.from(token),
      expires: now + (confirmable ? this.options.conLifetimeMs : this.options.nonLifetimeMs),
      reply: undefined,
      dead: false,
    };
    if (inner === undefined) this.byAddress.set(address, (inner = new Map()));
    inner.set(key, entry);
    (confirmable ? this.con : this.non).push(entry);
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
    this.con.items = [];
    this.con.head = 0;
    this.non.items = [];
    this.non.head = 0;
    this.live = 0;
  }

  private kill(e: DedupEntry): void {
    if (e.dead) return;
    e.dead = true;
    this.live--;
    const inner = this.byAddress.get(e.address);
    if (inner !== undefined && inner.get(e.key) === e) {
      inner.delete(e.key);
      if (inner.size === 0) this.byAddress.delete(e.address);
    }
  }

  private expire(now: number): void {
    for (const q of [this.con, this.non]) {
      for (let e = q.peek(); e !== undefined && (e.dead || e.expires <= now); e = q.peek()) {
        q.shift();
        this.kill(e);
      }
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
