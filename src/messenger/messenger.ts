/**
 * @module messenger/messenger
 * The message layer (RFC 7252 §4): Confirmable retransmission with exponential back-off (§4.2,
 * §4.8), ACK and RST matching by Message ID, piggy-backed and separate responses (§5.2),
 * duplicate detection (§4.5), rejection of malformed or unprocessable messages (§4.2, §4.3,
 * §5.4.1), and the multicast rules of §8.1: no ACK and no RST for a request that arrived via
 * multicast. Requests go up to the endpoint's one request owner, responses to its listeners;
 * what it sends, receives and rejects is traced (messenger/trace). Tracked outgoing messages
 * live in messenger/outgoing, the critical-option check in messenger/critical.
 */
import { type DerivedTimes, deriveTimes, type TransmissionParameters } from '../constants.js';
import { CoapClosedError, type MessageFormatError } from '../errors.js';
import { decodeMessage } from '../message/decode.js';
import { encodeMessage } from '../message/encode.js';
import { type CoapMessage, EMPTY, MessageType } from '../message/types.js';
import type { Runtime } from '../runtime.js';
import { systemRuntime } from '../runtime.js';
import type { Address, Datagram, LocalSocket, Transport } from '../transport/types.js';
import { TimerQueue } from '../util/timer-queue.js';
import { defaultRecognized, firstUnrecognizedCritical } from './critical.js';
import { DedupCache } from './dedup.js';
import { type Outgoing, type OutgoingCallbacks, OutgoingTable } from './outgoing.js';
import { resolveTransmission } from './params.js';
import { badOption, emptyMessage, rstForUnreadable } from './replies.js';
import { ServerExchange } from './server-exchange.js';
import { type RequestHandler, type ResponseListener, Subscribers } from './subscribers.js';
import { traceMalformed, traceReceived, traceRejected, traceSent } from './trace.js';

/** Options of a `Messenger`. */
export interface MessengerOptions {
  readonly transport: Transport;
  readonly runtime?: Runtime;
  readonly transmission?: Partial<TransmissionParameters>;
  /** Upper bound of the duplicate-detection table; default 20000. */
  readonly maxDedupEntries?: number;
  /** How long a handler may take before a CON request gets an empty ACK (separate response); default 1000 ms. */
  readonly ackDelayMs?: number;
  /** Which critical options the layers above understand (RFC 7252 §5.4.1). Default: the registry, minus those left to upper layers (OSCORE, Q-Block, EDHOC). */
  readonly isRecognizedOption?: (number: number) => boolean;
}

export type { Outgoing, OutgoingCallbacks };

/**
 * The message layer over one transport.
 *
 * @example
 * const transport = await UdpTransport.create({ bind: [{ address: '127.0.0.1', port: 0 }] });
 * const messenger = new Messenger({ transport });
 * const client = await CoapClient.create({ messenger });
 */
export class Messenger {
  readonly transport: Transport;
  readonly runtime: Runtime;
  readonly params: TransmissionParameters;
  readonly times: DerivedTimes;
  readonly timers: TimerQueue;
  readonly #subscribers = new Subscribers();

  private readonly dedup: DedupCache;
  readonly #outgoing: OutgoingTable;
  private closed = false;
  private readonly ackDelayMs: number;
  private readonly recognized: (n: number) => boolean;

  constructor(options: MessengerOptions) {
    this.transport = options.transport;
    this.runtime = options.runtime ?? systemRuntime;
    this.params = resolveTransmission(options.transmission);
    this.times = deriveTimes(this.params);
    this.timers = new TimerQueue(this.runtime);
    this.dedup = new DedupCache(this.runtime, {
      maxEntries: options.maxDedupEntries ?? 20_000,
      conLifetimeMs: this.times.exchangeLifetime * 1000,
      nonLifetimeMs: this.times.nonLifetime * 1000,
    });
    this.ackDelayMs = options.ackDelayMs ?? 1000;
    this.recognized = options.isRecognizedOption ?? defaultRecognized;
    this.#outgoing = new OutgoingTable(this.runtime, this.timers, this.params, (bytes, remote, via, done) =>
      this.transmit(bytes, remote, via, undefined, done),
    );
    this.transport.setReceiver((d) => this.receive(d));
  }

  /**
   * Makes `handler` the one owner of this endpoint's requests (a server); returns a function
   * that gives it up. @throws CoapError `ERR_COAP_ENDPOINT_TAKEN` when another owner holds it.
   */
  setRequestHandler(handler: RequestHandler): () => void {
    return this.#subscribers.setRequestHandler(handler);
  }

  /** Adds a listener offered every response (a client); returns a function that removes it. */
  addResponseListener(listener: ResponseListener): () => void {
    return this.#subscribers.addResponseListener(listener);
  }

  /** Sizes of the bounded tables, for monitoring and leak tests. */
  stats(): { pending: number; dedup: number; timers: number } {
    return { pending: this.#outgoing.size, dedup: this.dedup.size, timers: this.timers.size };
  }

  /**
   * A Message ID not in use by an outgoing message (RFC 7252 §4.4; messenger/outgoing).
   * @throws CoapError `ERR_COAP_MESSAGE_IDS_EXHAUSTED` when all 65536 are pending.
   */
  allocateMessageId(): number {
    return this.#outgoing.allocateMessageId();
  }

  /**
   * Sends a message. A CON is retransmitted until ACK or RST (RFC 7252 §4.2). A NON is tracked
   * until `cancel()` so that an RST to it can be reported. `message.messageId` is assigned here.
   */
  send(
    message: Omit<CoapMessage, 'messageId'> & { messageId?: number },
    remote: Address,
    via?: LocalSocket,
    callbacks: OutgoingCallbacks = {},
  ): Outgoing {
    if (this.closed) throw new CoapClosedError();
    const messageId = message.messageId ?? this.allocateMessageId();
    const msg = message as CoapMessage;
    msg.messageId = messageId;
    const bytes = encodeMessage(msg);
    const p = this.#outgoing.track(messageId, bytes, msg.type === MessageType.CON, remote, via, callbacks);
    this.transmit(
      bytes,
      remote,
      via,
      msg,
      callbacks.onError ? (err) => this.#outgoing.failed(p, err) : undefined,
    );
    return p;
  }

  /** Sends a message once, untracked (ACK, RST, NON responses). */
  sendRaw(message: CoapMessage, remote: Address, via?: LocalSocket): Buffer {
    const bytes = encodeMessage(message);
    this.transmit(bytes, remote, via, message);
    return bytes;
  }

  /** @internal used by ServerExchange to replay. */
  transmit(
    bytes: Buffer,
    remote: Address,
    via: LocalSocket | undefined,
    msg?: CoapMessage,
    cb?: (e: Error | null) => void,
  ): void {
    traceSent(bytes, remote, msg);
    this.transport.send(bytes, remote.address, remote.port, via, cb);
  }

  /** @internal */
  get ackDelay(): number {
    return this.ackDelayMs;
  }

  private receive(d: Datagram): void {
    if (this.closed) return;
    let msg: CoapMessage;
    try {
      msg = decodeMessage(d.data);
    } catch (err) {
      this.rejectMalformed(d, err as MessageFormatError);
      return;
    }
    traceReceived(msg, d);
    const cls = msg.code >> 5;
    if (msg.code === 0) return this.receiveEmpty(msg, d);
    if (cls === 0) return this.receiveRequest(msg, d);
    if (cls === 2 || cls === 4 || cls === 5) return this.receiveResponse(msg, d);
    // RFC 7252 §4.2, §4.3: reserved classes are rejected.
    this.reject(msg, d, 'reserved code class');
  }

  private rejectMalformed(d: Datagram, err: MessageFormatError): void {
    traceMalformed(d, err.message);
    const rst = rstForUnreadable(d.data, d.multicast);
    if (rst !== undefined) this.sendRaw(rst, d.remote, d.local);
  }

  /** Rejects a well-formed message: RST for CON (and unicast NON), silence for multicast. */
  private reject(msg: CoapMessage, d: Datagram, reason: string): void {
    traceRejected(d, reason, msg);
    if (d.multicast || msg.type === MessageType.ACK || msg.type === MessageType.RST) return;
    this.sendRaw(emptyMessage(MessageType.RST, msg.messageId), d.remote, d.local);
  }

  private receiveEmpty(msg: CoapMessage, d: Datagram): void {
    if (msg.type === MessageType.ACK || msg.type === MessageType.RST) {
      const p = this.#outgoing.match(msg.messageId, d.remote);
      if (p === undefined) return;
      this.#outgoing.forget(p);
      if (msg.type === MessageType.ACK) p.callbacks.onAck?.(msg);
      else p.callbacks.onReset?.();
      return;
    }
    // RFC 7252 §4.3: an empty CON is a ping, answered with RST; an empty NON is ignored.
    if (msg.type === MessageType.CON && !d.multicast) this.reject(msg, d, 'ping');
  }

  /**
   * Duplicate detection of an incoming message (RFC 7252 §4.5): the slot of its new entry (>= 0),
   * or `-1 - slot` of the earlier one for a duplicate (messenger/dedup).
   */
  private remember(msg: CoapMessage, d: Datagram, confirmable: boolean): number {
    return this.dedup.lookup(d.remote.address, d.remote.port, msg.messageId, msg.token, confirmable);
  }

  private receiveRequest(msg: CoapMessage, d: Datagram): void {
    // A request in an ACK or RST is meaningless (RFC 7252 §4.2, §4.3).
    if (msg.type === MessageType.ACK || msg.type === MessageType.RST)
      return this.reject(msg, d, 'request in ACK/RST');
    const confirmable = msg.type === MessageType.CON;
    const slot = this.remember(msg, d, confirmable);
    if (slot < 0) {
      // RFC 7252 §4.5: a duplicate CON gets the same reply again; a duplicate NON is ignored.
      const reply = this.dedup.replyOf(-1 - slot);
      if (confirmable && reply !== undefined && !d.multicast) this.transmit(reply, d.remote, d.local);
      return;
    }
    const critical = firstUnrecognizedCritical(msg, this.recognized);
    if (critical !== undefined) {
      // RFC 7252 §5.4.1: 4.02 for a CON request; a NON is rejected (§4.3), silently if multicast.
      if (confirmable && !d.multicast) {
        const reply = this.sendRaw(badOption(msg, critical), d.remote, d.local);
        this.dedup.setReply(slot, this.dedup.generation(slot), reply);
      } else this.reject(msg, d, `unrecognized critical option ${critical}`);
      return;
    }
    this.#subscribers.request(new ServerExchange(this, msg, d, this.dedup, slot));
  }

  private receiveResponse(msg: CoapMessage, d: Datagram): void {
    if (msg.type === MessageType.RST) return; // RST must be empty (RFC 7252 §4.2)
    if (msg.type === MessageType.ACK) {
      const p = this.#outgoing.match(msg.messageId, d.remote);
      if (p === undefined) return;
      // RFC 7252 §5.4.1: a piggy-backed response with an unrecognized critical option is
      // rejected (silently, as for any ACK); the request keeps waiting until it times out.
      if (firstUnrecognizedCritical(msg, this.recognized) !== undefined)
        return this.reject(msg, d, 'unrecognized critical option');
      this.#outgoing.forget(p);
      p.callbacks.onAck?.(msg);
      this.#subscribers.response(msg, d.remote, d.local);
      return;
    }
    const confirmable = msg.type === MessageType.CON;
    const slot = this.remember(msg, d, confirmable);
    if (slot < 0) {
      const reply = this.dedup.replyOf(-1 - slot);
      if (confirmable && reply !== undefined) this.transmit(reply, d.remote, d.local);
      return;
    }
    // The listeners may take long enough for the entry to end: the reference is taken first.
    const generation = this.dedup.generation(slot);
    const critical = firstUnrecognizedCritical(msg, this.recognized);
    const matched = critical === undefined && this.#subscribers.response(msg, d.remote, d.local);
    if (confirmable) {
      // RFC 7252 §5.3.2: a CON response nobody waits for is rejected with RST; otherwise ACKed.
      const type = matched ? MessageType.ACK : MessageType.RST;
      const reply = this.sendRaw(emptyMessage(type, msg.messageId), d.remote, d.local);
      this.dedup.setReply(slot, generation, reply);
    }
  }

  /** Pings a peer with an empty CON (RFC 7252 §4.3); resolves true on RST or ACK, false on timeout. */
  ping(remote: Address, via?: LocalSocket): Promise<boolean> {
    return new Promise((resolve) => {
      this.send({ type: MessageType.CON, code: 0, token: EMPTY, options: [], payload: EMPTY }, remote, via, {
        onAck: () => resolve(true),
        onReset: () => resolve(true),
        onTimeout: () => resolve(false),
        onError: () => resolve(false),
      });
    });
  }

  /** Stops every retransmission and timer, and closes the transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Nothing waiting on a message may hang: a ping, a fire-and-forget CON, a shared client.
    this.#outgoing.close();
    this.timers.close();
    this.dedup.clear();
    await this.transport.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
