/**
 * @module client/freshness
 * RFC 7641 §3.4: a notification is newer than the last one if its sequence number is ahead in
 * 24-bit serial arithmetic, or if more than 128 seconds passed since the last one.
 */

/** RFC 7641 §3.4: 128 s after which any sequence number counts as fresh. */
const FRESHNESS_MS = 128_000;
const HALF = 1 << 23;

/** Tracks the newest notification of one observation. */
export class Freshness {
  private last: number | undefined;
  private lastAt = 0;

  /** True (and remembered) when (`seq`, `now`) is newer than the last accepted notification. */
  accept(seq: number, now: number): boolean {
    const v1 = this.last;
    const fresh =
      v1 === undefined ||
      (v1 < seq && seq - v1 < HALF) ||
      (v1 > seq && v1 - seq > HALF) ||
      now > this.lastAt + FRESHNESS_MS;
    if (fresh) {
      this.last = seq;
      this.lastAt = now;
    }
    return fresh;
  }
}
