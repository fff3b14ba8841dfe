/**
 * @module client/tokens
 * Tokens (RFC 7252 §5.3.1) and their reuse rules for groups (RFC 7390 §2.5, RFC 7967 §2.3):
 * every request gets fresh random bytes; a token is never handed out while it is active, nor
 * while it sits in the bounded table of recently retired group tokens (the reuse interval
 * NON_LIFETIME + MAX_LATENCY + MAX_SERVER_RESPONSE_DELAY, more than 500 s by default). Each
 * active token has a `TokenOwner`, the exchange that a response with that token goes to.
 */
import { CoapError } from '../errors.js';
import type { CoapMessage } from '../message/types.js';
import type { Runtime } from '../runtime.js';
import type { Address, LocalSocket } from '../transport/types.js';

/** What the client's token table holds for each outstanding request. */
export interface TokenOwner {
  /** A response with this token; false when it is not for this request (then nobody claims it). */
  deliver(message: CoapMessage, remote: Address, local: LocalSocket): boolean;
  /**
   * Ends the request with `err` (the client is closing). An observation deregisters and
   * returns a promise that settles once its deregistration has left.
   */
  abort(err: Error): void | Promise<void>;
}

/** A bounded FIFO of retired tokens with their retirement time. */
export class TokenTable<T> {
  private readonly active = new Map<string, T>();
  private readonly retired = new Map<string, number>();
  private readonly runtime: Runtime;
  private readonly reuseMs: number;
  private readonly maxRetired: number;
  private pool: Buffer = Buffer.alloc(0);
  private poolPos = 0;

  constructor(runtime: Runtime, reuseMs: number, maxRetired = 4096) {
    this.runtime = runtime;
    this.reuseMs = reuseMs;
    this.maxRetired = maxRetired;
  }

  /** Active tokens. */
  get size(): number {
    return this.active.size;
  }

  /** Retired tokens still remembered. */
  get retiredSize(): number {
    return this.retired.size;
  }

  /** Allocates a fresh token of `length` bytes and registers `value` under it. */
  allocate(length: number, value: T): Buffer {
    this.expire();
    for (let i = 0; i < 64; i++) {
      const token = this.draw(length);
      const key = token.toString('latin1');
      if (!this.active.has(key) && !this.retired.has(key)) {
        this.active.set(key, value);
        return token;
      }
    }
    throw new CoapError(
      'ERR_COAP_TOKENS_EXHAUSTED',
      'no fresh token after 64 draws: too many requests outstanding',
    );
  }

  /**
   * `length` random bytes from a pool refilled 1 KiB at a time: one call to the random source
   * serves many requests (drawing 4 bytes at a time was a quarter of the client's CPU).
   */
  private draw(length: number): Buffer {
    if (this.poolPos + length > this.pool.length) {
      this.pool = this.runtime.randomBytes(1024);
      this.poolPos = 0;
    }
    const token = this.pool.subarray(this.poolPos, this.poolPos + length);
    this.poolPos += length;
    return token;
  }

  get(token: Buffer): T | undefined {
    return this.active.get(token.toString('latin1'));
  }

  /** Removes an active token; `quarantine` keeps it out of reuse for the reuse interval (groups). */
  release(token: Buffer, quarantine: boolean): void {
    const key = token.toString('latin1');
    this.active.delete(key);
    if (!quarantine) return;
    if (this.retired.size >= this.maxRetired) {
      const oldest = this.retired.keys().next();
      if (!oldest.done) this.retired.delete(oldest.value);
    }
    this.retired.set(key, this.runtime.now() + this.reuseMs);
  }

  values(): IterableIterator<T> {
    return this.active.values();
  }

  private expire(): void {
    const now = this.runtime.now();
    // Insertion order is expiry order: stop at the first one still in quarantine.
    for (const [k, until] of this.retired) {
      if (until > now) break;
      this.retired.delete(k);
    }
  }
}
