/**
 * @module proxy/observe-order
 * Observe numbers across a relay (RFC 7641 §3.4, §4.4, §5; groupcomm-proxy §5.4.2). Each member
 * numbers its own notifications, so the proxy orders them per member, drops the ones older than
 * the newest seen (§3.4: V1 < V2 with V2 - V1 < 2^23, or V1 > V2 with V1 - V2 > 2^23, or more
 * than 128 s later), and renumbers what it relays with one 24-bit sequence per client
 * registration, since "each hop MUST generate its own values" (§5) and one member's numbers
 * would make another's look stale under the client's single token.
 */

/** 2^23: half the 24-bit Observe space (RFC 7641 §3.4). */
const HALF = 1 << 23;
/** RFC 7641 §3.4: after 128 s a notification is newer whatever its number. */
const MAX_REORDER_MS = 128_000;
/** Members whose last number is kept per registration at most. */
const MAX_SOURCES = 4096;

/** The ordering and numbering of one client registration. */
export class ObserveOrder {
  readonly #last = new Map<string, { value: number; at: number }>();
  #next: number;

  /** `start`: the first number relayed (a random one keeps a re-registration from looking old). */
  constructor(start: number) {
    this.#next = start & 0xffffff;
  }

  /** True when `value` from `source` at `now` (ms) is newer than what it sent before (and records it). */
  fresh(source: string, value: number, now: number): boolean {
    const prev = this.#last.get(source);
    if (prev !== undefined) {
      const v1 = prev.value;
      const newer =
        (v1 < value && value - v1 < HALF) ||
        (v1 > value && v1 - value > HALF) ||
        now > prev.at + MAX_REORDER_MS;
      if (!newer) return false;
    } else if (this.#last.size >= MAX_SOURCES) return false;
    this.#last.set(source, { value, at: now });
    return true;
  }

  /** The next number to relay with. */
  next(): number {
    const v = this.#next;
    this.#next = (this.#next + 1) & 0xffffff;
    return v;
  }

  /** Sources that sent a notification. */
  get sources(): number {
    return this.#last.size;
  }
}
