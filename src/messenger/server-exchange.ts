/**
 * @module messenger/server-exchange
 * One received request and the message-layer duty that comes with it (RFC 7252 §5.2): a CON
 * request is answered by a piggy-backed ACK if the response is ready within the ACK delay, and
 * otherwise by an empty ACK followed by a separate CON response. A NON request, or one that
 * arrived via multicast, gets a NON response and never an ACK or RST (RFC 7252 §5.2.3, §8.1).
 * The reply is remembered in the dedup entry so duplicates get the same bytes (§4.5).
 */
import type { CoapMessage, CoapOption } from '../message/types.js';
import { EMPTY, MessageType } from '../message/types.js';
import type { Address, Datagram, LocalSocket } from '../transport/types.js';
import type { Scheduled } from '../util/timer-queue.js';
import type { DedupEntry } from './dedup.js';
import type { Messenger, OutgoingCallbacks } from './messenger.js';

/** What a response carries; the message layer fills in type, Message ID and token. */
export interface ResponseParts {
  code: number;
  options: CoapOption[];
  payload: Buffer;
  /** Force a CON or NON separate response (e.g. Observe notifications); default follows the request. */
  confirmable?: boolean;
}

export class ServerExchange {
  readonly request: CoapMessage;
  readonly remote: Address;
  readonly local: LocalSocket;
  readonly multicast: boolean;
  readonly group: string | undefined;
  private state: 'open' | 'acked' | 'done' = 'open';
  private ackTimer: Scheduled | undefined;
  private readonly messenger: Messenger;
  private readonly entry: DedupEntry;

  constructor(messenger: Messenger, request: CoapMessage, d: Datagram, entry: DedupEntry) {
    this.messenger = messenger;
    this.request = request;
    this.remote = d.remote;
    this.local = d.local;
    this.multicast = d.multicast;
    this.group = d.group;
    this.entry = entry;
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
    this.entry.reply = this.messenger.sendRaw(
      emptyMessage(MessageType.ACK, this.request.messageId),
      this.remote,
      this.local,
    );
  }

  /**
   * Sends the response. Returns the separate response's handle for a CON separate response
   * (so Observe can learn of an RST), otherwise undefined.
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
      this.entry.reply = this.messenger.sendRaw(
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
      return;
    }
    const wasAcked = this.state === 'acked';
    this.state = 'done';
    const confirmable = parts.confirmable ?? wasAcked;
    const msg = {
      type: confirmable ? MessageType.CON : MessageType.NON,
      code: parts.code,
      token,
      options: parts.options,
      payload: parts.payload,
    };
    if (confirmable) {
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
    if (!wasAcked) this.entry.reply = this.request.type === MessageType.CON ? bytes : undefined;
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
    this.entry.reply = this.messenger.sendRaw(
      emptyMessage(MessageType.RST, this.request.messageId),
      this.remote,
      this.local,
    );
  }
}

function emptyMessage(type: MessageType, messageId: number): CoapMessage {
  return { type, code: 0, messageId, token: EMPTY, options: [], payload: EMPTY };
}
