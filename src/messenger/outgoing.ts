/**
 * @module messenger/outgoing
 * Messages this endpoint sent and still tracks (RFC 7252 §4): Message ID allocation (§4.4),
 * Confirmable retransmission with exponential back-off (§4.2, §4.8), matching of an ACK or RST
 * to its message by Message ID and peer, and the callbacks that report how each one ended. A NON
 * is tracked until cancelled, so an RST to it can be reported (§4.3).
 */
import type { TransmissionParameters } from '../constants.js';
import { CoapClosedError, CoapError } from '../errors.js';
import type { CoapMessage } from '../message/types.js';
import type { Runtime } from '../runtime.js';
import type { Address, LocalSocket } from '../transport/types.js';
import type { Scheduled, TimerQueue } from '../util/timer-queue.js';

/** Callbacks of an outgoing message. */
export interface OutgoingCallbacks {
  /** An ACK arrived (empty, or carrying a piggy-backed response that then goes to the response listeners). */
  onAck?(ack: CoapMessage): void;
  /** The peer answered with RST. */
  onReset?(): void;
  /** A CON was retransmitted MAX_RETRANSMIT times without an ACK (RFC 7252 §4.2). */
  onTimeout?(): void;
  /** The first transmission could not be sent. */
  onError?(err: Error): void;
}

/** Handle of an outgoing message. */
export interface Outgoing {
  readonly messageId: number;
  /** Bytes of the encoded message. */
  readonly size: number;
  /** Stops retransmission and forgets the message. */
  cancel(): void;
}

/** A tracked message: what it takes to send it again and to match its ACK or RST. */
export interface Pending extends Outgoing {
  readonly remote: Address;
  readonly via: LocalSocket | undefined;
  readonly bytes: Buffer;
  readonly callbacks: OutgoingCallbacks;
  attempts: number;
  timeoutMs: number;
  timer: Scheduled | undefined;
}

/** Sends bytes (and traces them); `done` learns whether the first transmission left. */
export type Transmit = (
  bytes: Buffer,
  remote: Address,
  via: LocalSocket | undefined,
  done?: (err: Error | null) => void,
) => void;

/** The table of tracked messages of one endpoint. */
export class OutgoingTable {
  readonly #pending = new Map<number, Pending>();
  readonly #timers: TimerQueue;
  readonly #runtime: Runtime;
  readonly #params: TransmissionParameters;
  readonly #transmit: Transmit;
  #nextMid: number;

  constructor(runtime: Runtime, timers: TimerQueue, params: TransmissionParameters, transmit: Transmit) {
    this.#runtime = runtime;
    this.#timers = timers;
    this.#params = params;
    this.#transmit = transmit;
    // RFC 7252 §4.4: start the Message ID at a random value.
    this.#nextMid = runtime.randomInt(0x10000);
  }

  /** Messages tracked now. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * A Message ID not in use by an outgoing message: sequential from a random start, so an ID
   * comes back only after 65536 others (RFC 7252 §4.4), and never one still pending (a CON
   * awaiting its ACK, a tracked NON). That keeps a group request's ID apart from every exchange
   * still in flight to a member (RFC 7252 §8.1, RFC 7390 §2.5).
   * @throws CoapError `ERR_COAP_MESSAGE_IDS_EXHAUSTED` when all 65536 are pending.
   */
  allocateMessageId(): number {
    for (let i = 0; i < 0x10000; i++) {
      const mid = this.#nextMid;
      this.#nextMid = (this.#nextMid + 1) & 0xffff;
      if (!this.#pending.has(mid)) return mid;
    }
    // Reusing a pending ID would let its ACK or RST settle the wrong message.
    throw new CoapError(
      'ERR_COAP_MESSAGE_IDS_EXHAUSTED',
      'every Message ID is in use by an outstanding message; wait for some to finish',
    );
  }

  /** Tracks and sends encoded `bytes`; a CON is retransmitted until ACK, RST or MAX_RETRANSMIT. */
  track(
    messageId: number,
    bytes: Buffer,
    confirmable: boolean,
    remote: Address,
    via: LocalSocket | undefined,
    callbacks: OutgoingCallbacks,
  ): Pending {
    const p: Pending = {
      messageId,
      size: bytes.length,
      remote,
      via,
      bytes,
      callbacks,
      attempts: 0,
      timeoutMs: 0,
      timer: undefined,
      cancel: () => this.forget(p),
    };
    this.#pending.set(messageId, p);
    if (confirmable) {
      const p0 = this.#params;
      p.timeoutMs = p0.ackTimeout * 1000 * (1 + this.#runtime.random() * (p0.ackRandomFactor - 1));
      p.timer = this.#timers.schedule(p.timeoutMs, () => this.#retransmit(p));
    }
    return p;
  }

  /** Reports a first transmission that failed, unless the message already ended. */
  failed(p: Pending, err: Error | null): void {
    if (err === null || this.#pending.get(p.messageId) !== p) return;
    this.forget(p);
    p.callbacks.onError?.(err);
  }

  /** The message an ACK or RST from `remote` with this Message ID answers, if any (RFC 7252 §4.2). */
  match(messageId: number, remote: Address): Pending | undefined {
    const p = this.#pending.get(messageId);
    if (p === undefined || p.remote.port !== remote.port || p.remote.address !== remote.address)
      return undefined;
    return p;
  }

  /** Stops tracking `p`. */
  forget(p: Pending): void {
    if (this.#pending.get(p.messageId) === p) this.#pending.delete(p.messageId);
    this.#timers.cancel(p.timer);
    p.timer = undefined;
  }

  #retransmit(p: Pending): void {
    p.timer = undefined;
    if (this.#pending.get(p.messageId) !== p) return;
    if (p.attempts >= this.#params.maxRetransmit) {
      this.forget(p);
      p.callbacks.onTimeout?.();
      return;
    }
    p.attempts++;
    p.timeoutMs *= 2;
    p.timer = this.#timers.schedule(p.timeoutMs, () => this.#retransmit(p));
    this.#transmit(p.bytes, p.remote, p.via);
  }

  /** Forgets every message; nothing waiting on one may hang, so each learns the endpoint closed. */
  close(): void {
    const pending = [...this.#pending.values()];
    for (const p of pending) this.#timers.cancel(p.timer);
    this.#pending.clear();
    for (const p of pending) p.callbacks.onError?.(new CoapClosedError());
  }
}
