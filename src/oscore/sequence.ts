/**
 * @module oscore/sequence
 * The Sender Sequence Number (RFC 8613 §3.2.2, §7.2, §7.2.1) and its persistence across
 * restarts (RFC 8613 Appendix B.1.1, §7.5). A nonce must never repeat under one key, so a
 * number is handed out at most once, and never beyond 2^40 - 1 (RFC 8613 §12.6).
 */
import { InvalidArgumentError } from '../errors.js';
import { OscoreError } from './errors.js';

/** RFC 8613 §7.2.1, §12.6: the Partial IV is at most 40 bits. */
export const MAX_SEQUENCE_NUMBER = 2 ** 40 - 1;

/** Hands out Sender Sequence Numbers, each once. */
export interface SequenceSource {
  /** The number the next `next()` returns (for inspection; does not consume it). */
  peek(): number;
  /** Returns the current number and advances. @throws OscoreError `ERR_OSCORE_SEQUENCE_EXHAUSTED`. */
  next(): number;
}

function checkStart(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_SEQUENCE_NUMBER + 1) {
    throw new InvalidArgumentError(`${what} ${n} is outside 0..2^40`);
  }
}

/**
 * An in-memory counter, starting at 0 by default (RFC 8613 §3.2.2). Reading and incrementing is
 * one synchronous step, which is the atomicity RFC 8613 §7.2 asks for.
 *
 * @example
 * const ctx = SecurityContext.derive({ masterSecret, senderId, recipientId, senderSequence: new CounterSequence(100) });
 */
export class CounterSequence implements SequenceSource {
  #n: number;
  constructor(start = 0) {
    checkStart(start, 'sequence number');
    this.#n = start;
  }
  peek(): number {
    return this.#n;
  }
  next(): number {
    if (this.#n > MAX_SEQUENCE_NUMBER) {
      throw new OscoreError(
        'ERR_OSCORE_SEQUENCE_EXHAUSTED',
        'Sender Sequence Number space exhausted; derive a new context',
      );
    }
    return this.#n++;
  }
}

/**
 * Nonvolatile storage for one sender's sequence-number bound. `save` must be durable when it
 * returns (e.g. `writeFileSync` + `fsyncSync`): the number it records is used right after.
 */
export interface SequenceStorage {
  /** The stored bound, or `undefined` when nothing was ever stored (first boot). */
  load(): number | undefined;
  /** Durably records that no number >= `bound` has been used yet. */
  save(bound: number): void;
}

/** Options of `PersistentSequence`. */
export interface PersistentSequenceOptions {
  /** K of RFC 8613 Appendix B.1.1: how many numbers one write reserves. Default 100. */
  readonly reserve?: number;
  /**
   * F of RFC 8613 Appendix B.1.1: an extra gap added on restart, for storage whose writes may
   * be lost or delayed. Default 0, which is safe only because `save` is synchronous and durable.
   */
  readonly margin?: number;
}

/**
 * A Sender Sequence Number that survives restarts (RFC 8613 Appendix B.1.1). Before handing out
 * a number at or beyond the stored bound, it stores `number + K`; after a restart it starts at
 * the stored bound (+ F). So at most K numbers are skipped per restart and none is reused.
 *
 * @example
 * ```ts
 * const seq = new PersistentSequence(new FileSequenceStorage('/var/lib/app/ssn'), { reserve: 100 });
 * const ctx = SecurityContext.derive({ ...inputs, senderSequence: seq });
 * ```
 */
export class PersistentSequence implements SequenceSource {
  readonly #storage: SequenceStorage;
  readonly #reserve: number;
  #n: number;
  #bound: number;

  constructor(storage: SequenceStorage, options: PersistentSequenceOptions = {}) {
    const reserve = options.reserve ?? 100;
    const margin = options.margin ?? 0;
    if (!Number.isSafeInteger(reserve) || reserve < 1)
      throw new InvalidArgumentError(`reserve (K) ${reserve}; must be >= 1`);
    if (!Number.isSafeInteger(margin) || margin < 0)
      throw new InvalidArgumentError(`margin (F) ${margin}; must be >= 0`);
    const stored = storage.load();
    if (stored !== undefined) checkStart(stored, 'stored sequence bound');
    this.#storage = storage;
    this.#reserve = reserve;
    // A restart resumes at the stored bound: every number used before it was below the bound.
    this.#n = stored === undefined ? 0 : Math.min(stored + margin, MAX_SEQUENCE_NUMBER + 1);
    // Nothing is reserved in this run yet, so the first next() writes before it returns.
    this.#bound = this.#n;
  }

  peek(): number {
    return this.#n;
  }

  next(): number {
    const n = this.#n;
    if (n > MAX_SEQUENCE_NUMBER) {
      throw new OscoreError(
        'ERR_OSCORE_SEQUENCE_EXHAUSTED',
        'Sender Sequence Number space exhausted; derive a new context',
      );
    }
    if (n >= this.#bound) {
      const bound = Math.min(n + this.#reserve, MAX_SEQUENCE_NUMBER + 1);
      // Store before use: if the write throws, the number is not handed out.
      this.#storage.save(bound);
      this.#bound = bound;
    }
    this.#n = n + 1;
    return n;
  }
}

/**
 * A `SequenceStorage` in memory, for tests and for simulating restarts.
 *
 * @example
 * const storage = new MemorySequenceStorage();
 * const sequence = new PersistentSequence(storage, { reserve: 10 });
 * sequence.next(); // 0; storage.writes is [10]: up to 10 may be used before the next write
 */
export class MemorySequenceStorage implements SequenceStorage {
  value: number | undefined;
  /** Every value saved, in order. */
  readonly writes: number[] = [];
  constructor(value?: number) {
    this.value = value;
  }
  load(): number | undefined {
    return this.value;
  }
  save(bound: number): void {
    this.value = bound;
    this.writes.push(bound);
  }
}
