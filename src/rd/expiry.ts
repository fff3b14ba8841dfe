/**
 * @module rd/expiry
 * Registration lifetimes (RFC 9176 §5: `lt`, 1 to 4294967295 seconds) on the injected clock:
 * one heap of deadlines and one runtime timer for all of them. A lifetime can be 136 years, far
 * beyond what a platform timer holds (2^31 - 1 ms), so the timer is armed for at most a day and
 * simply re-armed when it fires early.
 */
import type { Runtime, TimerHandle } from '../runtime.js';
import { type HeapNode, MinHeap } from '../util/heap.js';

/** The longest single timer, ms: well inside a 32-bit signed millisecond delay. */
const MAX_TIMER_MS = 24 * 3600 * 1000;

interface Deadline extends HeapNode {
  readonly id: string;
}

/** Calls `expire(id)` when an id's deadline (runtime ms) has passed. */
export class ExpiryQueue {
  private readonly heap = new MinHeap<Deadline>();
  private readonly byId = new Map<string, Deadline>();
  private timer: TimerHandle | undefined;
  private armedAt = Number.POSITIVE_INFINITY;
  private closed = false;
  private readonly runtime: Runtime;
  private readonly expire: (id: string) => void;

  constructor(runtime: Runtime, expire: (id: string) => void) {
    this.runtime = runtime;
    this.expire = expire;
  }

  get size(): number {
    return this.heap.size;
  }

  /** Sets (or moves) the deadline of `id`. */
  set(id: string, at: number): void {
    if (this.closed) return;
    this.delete(id);
    const node: Deadline = { key: at, seq: 0, index: -1, id };
    this.heap.push(node);
    this.byId.set(id, node);
    if (at < this.armedAt) this.arm();
  }

  delete(id: string): void {
    const node = this.byId.get(id);
    if (node === undefined) return;
    this.byId.delete(id);
    this.heap.remove(node);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.runtime.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer !== undefined) this.runtime.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    const next = this.heap.peek();
    if (next === undefined || this.closed) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next.key - this.runtime.now()));
    this.armedAt = this.runtime.now() + delay;
    this.timer = this.runtime.setTimeout(() => this.run(), delay);
  }

  private run(): void {
    this.timer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    const now = this.runtime.now();
    // Bounded: each pass removes one entry.
    for (let top = this.heap.peek(); top !== undefined && top.key <= now; top = this.heap.peek()) {
      this.heap.pop();
      this.byId.delete(top.id);
      this.expire(top.id);
    }
    this.arm();
  }
}
