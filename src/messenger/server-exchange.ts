/**
 * @module messenger/server-exchange
 * One received request and the message-layer duty that comes with it (RFC 7252 §5.2): a CON
 * request is answered by a piggy-backed ACK if the response is ready within the ACK delay, and
 * otherwise by an empty ACK followed by a separate CON response. A NON request, or one that
 * arrived via multicast, gets a NON response and never an ACK or RST (RFC 7252 §5.2.3, §8.1).
 * The reply is remembered in the dedup entry so duplicates get the same bytes (§4.5). Several
 * responses on one token (a proxy relaying each group member's answer) go as separate responses
 * after an empty ACK.
 */
import type { CoapMessage, CoapOption } from '../message/types.js';
import { MessageType } from '../message/types.js';
import type { Address, Datagram, LocalSocket } from '../transport/types.js';
import type { Scheduled, TimerQueue } from '../util/timer-queue.js';
import type { DedupCache } from './dedup.js';
import type { Outgoing, OutgoingCallbacks } from './outgoing.js';
import { emptyMessage } from './replies.js';

/** What a response carries; the message layer fills in type, Message ID and token. */
export interface ResponseParts {
  code: number;
  options: CoapOption[];
  payload: Buffer;
  /** Force a CON or NON separate response (e.g. Observe notifications); default follows the request. */
  confirmable?: boolean;
}

/** What an exchange needs of its message layer (the `Messenger`). */
export interface ExchangeHost {
  readonly timers: TimerQueue;
  /** ms a request may wait for its response before a CON gets an empty ACK. */
  readonly ackDelay: number;
  readonly isClosed: boolean;
  allocateMessageId(): number;
  send(
    message: Omit<CoapMessage, 'messageId'>,
    remote: Address,
    via: LocalSocket | undefined,
    callbacks?: OutgoingCallbacks,
  ): Outgoing;
  sendRaw(message: CoapMessage, remote: Address, via?: LocalSocket): Buffer;
}

export class ServerExchange {
  readonly request: CoapMessage;
  readonly remote: Address;
  readonly local: LocalSocket;
  readonly multicast: boolean;
  readonly group: string | undefined;
  private state: 'open' | 'acked' | 'done' = 'open';
  private ackTimer: Scheduled | undefined;
  /** True once a response went with more to follow: later ones are NON unless asked otherwise. */
  private streaming = false;
  private readonly messenger: ExchangeHost;
  /** The request's duplicate-detection entry: its table, slot and the slot's generation. */
  private readonly dedup: DedupCache;
  private readonly slot: number;
  private readonly generation: number;

  constructor(messenger: ExchangeHost, request: CoapMessage, d: Datagram, dedup: DedupCache, slot: number) {
    this.messenger = messenger;
    this.request = request;
    this.remote = d.remote;
    this.local = d.local;
    this.multicast = d.multicast;
    this.group = d.group;
    this.dedup = dedup;
    this.slot = slot;
    this.generation = dedup.generation(slot);
  }

  /** Remembers what was sent in reply, for duplicates of the request (RFC 7252 §4.5). */
  private remember(reply: Buffer | undefined): void {
    this.dedup.setReply(this.slot, this.generation, reply);
  }

  /** True for a unicast CON request (the only kind that is ever ACKed). */
  get confirmable(): boolean {
    return this.request.type === MessageType.CON && !this.multicast;
  }

  /** True once a response was sent or the request was rejected. */
  get done(): boolean {
    return this.state === 'done';
  }

  /**
   * Called by the layer above once it has taken the request, so that a CON request that is not
   * answered within the ACK delay gets an empty ACK (RFC 7252 §5.2.2).
   */
  armAck(): void {
    if (this.state !== 'open' || !this.confirmable || this.ackTimer !== undefined) return;
    this.ackTimer = this.messenger.timers.schedule(this.messenger.ackDelay, () => this.acknowledge());
  }

  /** Sends the empty ACK now (RFC 7252 §5.2.2). */
  acknowledge(): void {
    this.ackTimer = undefined;
    if (this.state !== 'open' || !this.confirmable) return;
    this.state = 'acked';
    this.remember(
      this.messenger.sendRaw(emptyMessage(MessageType.ACK, this.request.messageId), this.remote, this.local),
    );
  }

  /**
   * Sends the response and ends the exchange: piggy-backed on the ACK of a CON request still
   * open, otherwise a separate response (CON after an empty ACK unless `parts.confirmable` says).
   */
  respond(parts: ResponseParts, callbacks?: OutgoingCallbacks): void {
    // A handler that finishes after the server closed has nobody to answer to.
    if (this.state === 'done' || this.messenger.isClosed) return;
    this.messenger.timers.cancel(this.ackTimer);
    this.ackTimer = undefined;
    const token = this.request.token;
    if (this.state === 'open' && this.confirmable) {
      this.state = 'done';
      // Piggy-backed response (RFC 7252 §5.2.1).
      const reply = this.messenger.sendRaw(
        {
          type: MessageType.ACK,
          code: parts.code,
          messageId: this.request.messageId,
          token,
          options: parts.options,
          payload: parts.payload,
        },
        this.remote,
        this.local,
      );
      this.remember(reply);
      return;
    }
    const wasAcked = this.state === 'acked';
    this.state = 'done';
    this.#separate(parts, wasAcked, parts.confirmable ?? (wasAcked && !this.streaming), callbacks);
  }

  /**
   * Sends one response of several on this token, and keeps the exchange open for more (a proxy
   * relaying each group member's answer): a separate response, after an empty ACK to a CON
   * request (RFC 7252 §5.2.2); NON unless `parts.confirmable`. `respond()` or `finish()` ends it.
   */
  respondMore(parts: ResponseParts, callbacks?: OutgoingCallbacks): void {
    if (this.state === 'done' || this.messenger.isClosed) return;
    this.messenger.timers.cancel(this.ackTimer);
    this.ackTimer = undefined;
    if (this.state === 'open' && this.confirmable) this.acknowledge();
    this.streaming = true;
    this.#separate(parts, this.state === 'acked', parts.confirmable ?? false, callbacks);
  }

  #separate(
    parts: ResponseParts,
    wasAcked: boolean,
    confirmable: boolean,
    callbacks: OutgoingCallbacks | undefined,
  ): void {
    const token = this.request.token;
    if (confirmable) {
      const msg = {
        type: MessageType.CON,
        code: parts.code,
        token,
        options: parts.options,
        payload: parts.payload,
      };
      this.messenger.send(msg, this.remote, this.local, callbacks);
      return;
    }
    // One literal in the field order of every other message, so encoding sees one shape.
    const bytes = this.messenger.sendRaw(
      {
        type: MessageType.NON,
        code: parts.code,
        messageId: this.messenger.allocateMessageId(),
        token,
        options: parts.options,
        payload: parts.payload,
      },
      this.remote,
      this.local,
    );
    // Only a NON request's duplicates are ignored; remembering the reply serves CON duplicates.
    if (!wasAcked) this.remember(this.request.type === MessageType.CON ? bytes : undefined);
  }

  /**
   * Finishes without a response: a CON gets an empty ACK so the client stops retransmitting;
   * a NON or multicast request gets nothing (RFC 7252 §8.2, RFC 7390 §2.7 suppression).
   */
  finish(): void {
    if (this.state === 'done' || this.messenger.isClosed) return;
    this.messenger.timers.cancel(this.ackTimer);
    this.ackTimer = undefined;
    if (this.state === 'open' && this.confirmable) this.acknowledge();
    this.state = 'done';
  }

  /** Rejects the request with RST (unicast only; RFC 7252 §4.2, §4.3, §8.1). */
  reject(): void {
    if (this.state !== 'open' || this.messenger.isClosed) return;
    this.state = 'done';
    this.messenger.timers.cancel(this.ackTimer);
    if (this.multicast) return;
    this.remember(
      this.messenger.sendRaw(emptyMessage(MessageType.RST, this.request.messageId), this.remote, this.local),
    );
  }
}
