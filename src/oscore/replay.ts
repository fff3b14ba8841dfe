/**
 * @module oscore/replay
 * The anti-replay sliding window of a Recipient Context (RFC 8613 §3.2.2, §7.4), as in
 * RFC 6347 §4.1.2.6: the highest Partial IV accepted and a bitmap of the `size` below it.
 * Memory is bounded by the window size, whatever the traffic.
 */
import { InvalidArgumentError } from '../errors.js';

/** RFC 8613 §3.2.2: the default window size. */
export const DEFAULT_REPLAY_WINDOW = 32;
/** A cap on the window size, so a configuration error cannot make a huge bitmap. */
export const MAX_REPLAY_WINDOW = 4096;

/** What `check` found. */
export type ReplayVerdict = 'fresh' | 'replayed' | 'too-old';

/**
 * A sliding replay window. `check` and `update` are separate because RFC 8613 §8.2 updates the
 * window only after decryption succeeded (step 6); both are synchronous, so a caller that calls
 * them in the same synchronous turn gets the atomicity RFC 8613 §7.4 requires.
 *
 * @example
 * ```ts
 * const w = new ReplayWindow();
 * w.check(5); // 'fresh'
 * w.update(5);
 * w.check(5); // 'replayed'
 * ```
 */
export class ReplayWindow {
  readonly size: number;
  /** The highest sequence number accepted, or -1 before the first. */
  #highest = -1;
  /** Bit i set: `highest - i` was accepted. Bit 0 is `highest` itself. */
  #bits = 0n;
  /** Numbers below this are rejected (RFC 8613 Appendix B.1.2: after a reboot, set from a verified request). */
  #floor = 0;

  constructor(size = DEFAULT_REPLAY_WINDOW) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_REPLAY_WINDOW) {
      throw new InvalidArgumentError(`replay window size ${size}; allowed 1-${MAX_REPLAY_WINDOW}`);
    }
    this.size = size;
  }

  /** The highest sequence number accepted so far, or -1. */
  get highest(): number {
    return this.#highest;
  }

  /** Whether `seq` may be accepted; does not change the window. */
  check(seq: number): ReplayVerdict {
    if (seq < this.#floor) return 'too-old';
    if (seq > this.#highest) return 'fresh';
    const offset = this.#highest - seq;
    if (offset >= this.size) return 'too-old';
    return (this.#bits >> BigInt(offset)) & 1n ? 'replayed' : 'fresh';
  }

  /** Records `seq` as received. Call only after `check(seq)` said `'fresh'` and the message verified. */
  update(seq: number): void {
    if (this.check(seq) !== 'fresh') throw new InvalidArgumentError(`sequence number ${seq} is not fresh`);
    const mask = (1n << BigInt(this.size)) - 1n;
    if (seq > this.#highest) {
      const shift = seq - this.#highest;
      this.#bits = shift >= this.size ? 1n : ((this.#bits << BigInt(shift)) | 1n) & mask;
      this.#highest = seq;
    } else {
      this.#bits |= 1n << BigInt(this.#highest - seq);
    }
  }

  /**
   * Forgets everything and accepts only numbers >= `lowest` (RFC 8613 Appendix B.1.2: after a
   * reboot, the Partial IV of a request verified fresh with Echo becomes the lower limit).
   */
  reset(lowest: number): void {
    if (!Number.isSafeInteger(lowest) || lowest < 0) throw new InvalidArgumentError(`lower limit ${lowest}`);
    this.#highest = -1;
    this.#bits = 0n;
    this.#floor = lowest;
  }
}
