/**
 * @module util/timer-queue
 * Many deadlines, one runtime timer. Retransmissions, Leisure delays and lifetimes are scheduled
 * here instead of one `setTimeout` per message (issue: no timers per message on the hot path).
 * The underlying timer is re-armed only when the earliest deadline changes.
 */
import type { Runtime, TimerHandle } from '../runtime.js';
import { type HeapNode, MinHeap } from './heap.js';

/** A scheduled callback; keep it to cancel. */
export interface Scheduled extends HeapNode {
  fn: () => void;
}

export class TimerQueue {
  private readonly heap = new MinHeap<Scheduled>();
  private timer: TimerHandle | undefined;
  private armedAt = Number.POSITIVE_INFINITY;
  private closed = false;
  private readonly runtime: Runtime;
  private readonly fire = (): void => this.run();

  constructor(runtime: Runtime) {
    this.runtime = runtime;
  }

  /** Number of pending callbacks. */
  get size(): number {
    return this.heap.size;
  }

  /** Runs `fn` after `ms` milliseconds. */
  schedule(ms: number, fn: () => void): Scheduled {
    const node: Scheduled = { key: this.runtime.now() + Math.max(0, ms), seq: 0, index: -1, fn };
    if (this.closed) return node;
    this.heap.push(node);
    if (node.key < this.armedAt) this.arm(node.key);
    return node;
  }

  /** Cancels a scheduled callback; harmless if it already ran. */
  cancel(node: Scheduled | undefined): void {
    if (node === undefined || node.index < 0) return;
    this.heap.remove(node);
    if (this.heap.size === 0) this.disarm();
  }

  /** Cancels everything; later `schedule` calls do nothing. */
  close(): void {
    this.closed = true;
    while (this.heap.pop() !== undefined) {}
    this.disarm();
  }

  private arm(at: number): void {
    if (this.timer !== undefined) this.runtime.clearTimeout(this.timer);
    this.armedAt = at;
    const t = this.runtime.setTimeout(this.fire, Math.max(0, at - this.runtime.now()));
    this.timer = t;
  }

  private disarm(): void {
    if (this.timer !== undefined) this.runtime.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
  }

  private run(): void {
    this.timer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    // Bounded: each iteration removes one entry; entries scheduled by callbacks for "now"
    // run in the same pass only if already due.
    const now = this.runtime.now();
    for (let top = this.heap.peek(); top !== undefined && top.key <= now; top = this.heap.peek()) {
      this.heap.pop();
      top.fn();
    }
    const next = this.heap.peek();
    if (next !== undefined && !this.closed) this.arm(next.key);
  }
}
