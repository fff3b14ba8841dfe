/**
 * @module runtime
 * The injected clock and randomness (design.md §Layers). Retransmission, Leisure, windows and
 * dedup lifetimes all read time through a `Runtime`, so tests drive them deterministically with
 * `FakeRuntime` and production uses `systemRuntime`.
 */
import { randomBytes, randomInt } from 'node:crypto';

/** An opaque timer handle. */
export type TimerHandle = { readonly __timer: true } | NodeJS.Timeout;

/** Clock and randomness. */
export interface Runtime {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Uniform in [0, 1). */
  random(): number;
  /** `n` random bytes (tokens; RFC 7252 §5.3.1 asks for unpredictable ones). */
  randomBytes(n: number): Buffer;
  /** A uniform integer in [0, max). */
  randomInt(max: number): number;
}

/** The real clock (`performance.now`) and `node:crypto` randomness. */
export const systemRuntime: Runtime = Object.freeze({
  now: () => performance.now(),
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (h: TimerHandle) => clearTimeout(h as NodeJS.Timeout),
  random: () => Math.random(),
  randomBytes: (n: number) => randomBytes(n),
  randomInt: (max: number) => (max <= 1 ? 0 : randomInt(max)),
});
