/**
 * @module fake-runtime
 * A deterministic `Runtime` for tests: virtual time that moves only when `advance()` is called,
 * and a seeded pseudo-random generator. Users can drive their own tests with it together with
 * the memory transport.
 *
 * @example
 * const rt = new FakeRuntime({ seed: 1 });
 * rt.setTimeout(() => console.log('fired'), 1000);
 * await rt.advance(1000); // prints "fired"
 */
import type { Runtime, TimerHandle } from './runtime.js';
import { type HeapNode, MinHeap } from './util/heap.js';

interface FakeTimer extends HeapNode {
  fn: () => void;
  readonly __timer: true;
}

/**
 * Deterministic time and randomness for tests: timers fire when the test advances the clock,
 * and `random()` is a seeded sequence, so Leisure, retransmission and windows run the same way
 * every time.
 *
 * @example
 * const runtime = new FakeRuntime({ seed: 1 });
 * const net = new MemoryNetwork({ runtime });
 * const server = new CoapServer({ transport: net.createTransport({ bind: [{ address: '10.0.0.1', port: 5683 }] }), runtime });
 * server.get('/hello', () => ({ payload: 'hi' }));
 * await server.listen();
 * const client = await CoapClient.create({ transport: net.createTransport({ bind: [{ address: '10.0.0.2', port: 0 }] }), runtime });
 * // The virtual clock runs until the request is answered: no real waiting.
 * const res = await runtime.settle(client.request('coap://10.0.0.1/hello'));
 */
export class FakeRuntime implements Runtime {
  private time = 0;
  private state: number;
  private readonly timers = new MinHeap<FakeTimer>();
  readonly #settle: SettleOptions;

  /**
   * @param options.seed of `random()`; default 1.
   * @param options.start the virtual time at the start, ms; default 0.
   * @param options.settle the defaults of `settle()` (a test of long transfers allows more
   *   virtual time, or larger steps, once for all its calls).
   */
  constructor(options: { seed?: number; start?: number; settle?: SettleOptions } = {}) {
    this.state = (options.seed ?? 1) >>> 0 || 1;
    this.time = options.start ?? 0;
    this.#settle = { ...options.settle };
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: FakeTimer = { key: this.time + Math.max(0, ms), seq: 0, index: -1, fn, __timer: true };
    this.timers.push(t);
    return t;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.remove(handle as FakeTimer);
  }

  /** xorshift32: deterministic for a given seed. */
  random(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 4294967296;
  }

  randomBytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.random() * 256);
    return b;
  }

  randomInt(max: number): number {
    return Math.floor(this.random() * max);
  }

  /** Number of pending timers. */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * Advances time in steps until `p` settles, then returns its value or throws its error.
   * Throws if it is still pending after `maxMs` of virtual time. Options not given here are
   * the constructor's `settle`, else 60 000 ms in steps of 10 ms.
   */
  async settle<T>(p: Promise<T>, options: SettleOptions = {}): Promise<T> {
    const maxMs = options.maxMs ?? this.#settle.maxMs ?? 60_000;
    const step = options.step ?? this.#settle.step ?? 10;
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    p.then(
      (value) => {
        outcome = { ok: true, value };
      },
      (error: unknown) => {
        outcome = { ok: false, error };
      },
    );
    await this.advance(0);
    for (let t = 0; t < maxMs && outcome === undefined; t += step) await this.advance(step);
    if (outcome === undefined) throw new Error(`still pending after ${maxMs} ms of virtual time`);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order. Between timers it yields to the
   * event loop so promise continuations run as they would in real time.
   */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (let i = 0; i < 1_000_000; i++) {
      await flushMicrotasks();
      const top = this.timers.peek();
      if (top === undefined || top.key > end) break;
      this.timers.pop();
      this.time = Math.max(this.time, top.key);
      top.fn();
    }
    this.time = end;
    await flushMicrotasks();
  }
}

/** Options of `FakeRuntime.settle` (and its defaults, given to the constructor). */
export interface SettleOptions {
  /** Virtual time to allow, ms; default 60 000. */
  readonly maxMs?: number;
  /** Virtual time per step, ms; default 10. */
  readonly step?: number;
}

/** Lets pending promise callbacks (and the memory transport's deliveries) run. */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
