/**
 * @module messenger/messenger
 * The message layer (RFC 7252 §4): Confirmable retransmission with exponential back-off (§4.2,
 * §4.8), ACK and RST matching by Message ID, piggy-backed and separate responses (§5.2),
 * duplicate detection (§4.5), rejection of malformed or unprocessable messages (§4.2, §4.3,
 * §5.4.1), and the multicast rules of §8.1: no ACK and no RST for a request that arrived via
 * multicast. Requests go up to the endpoint's one request owner, responses to its listeners;
 * what it sends, receives and rejects is traced (messenger/trace).
 */
import { type DerivedTimes, deriveTimes, type TransmissionParameters } from '../constants.js';
import { CoapClosedError, CoapError, type MessageFormatError } from '../errors.js';
import { Code } from '../message/codes.js';
import { decodeMessage } from '../message/decode.js';
import { encodeMessage } from '../message/encode.js';
import { type CoapMessage, EMPTY, MessageType } from '../message/types.js';
import { optionDefinition } from '../options/registry.js';
import type { Runtime } from '../runtime.js';
import { systemRuntime } from '../runtime.js';
import type { Address, Datagram, LocalSocket, Transport } from '../transport/types.js';
import { type Scheduled, TimerQueue } from '../util/timer-queue.js';
import { DedupCache } from './dedup.js';
import { resolveTransmission } from './params.js';
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
  /** Which critical options the layers above understand (RFC 7252 §5.4.1). Default: the registry, minus OSCORE, Q-Block and EDHOC. */
  readonly isRecognizedOption?: (number: number) => boolean;
}

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

interface Pending extends Outgoing {
  readonly remote: Address;
  readonly via: LocalSocket | undefined;
  readonly bytes: Buffer;
  readonly confirmable: boolean;
  readonly callbacks: OutgoingCallbacks;
  attempts: number;
  timeoutMs: number;
  timer: Scheduled | undefined;
}

const UNRECOGNIZED_BY_DEFAULT = new Set([9, 19, 21, 31]);

function defaultRecognized(n: number): boolean {
  return optionDefinition(n) !== undefined && !UNRECOGNIZED_BY_DEFAULT.has(n);
}

/** The message layer over one transport. */
export class Messenger {
  readonly transport: Transport;
  readonly runtime: Runtime;
  readonly params: TransmissionParameters;
  readonly times: DerivedTimes;
  readonly timers: TimerQueue;
  readonly #subscribers = new Subscribers();

  private readonly dedup: DedupCache;
  private readonly pending = new Map<number, Pending>();
  private nextMid: number;
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
    // RFC 7252 §4.4: start the Message ID at a random value.
    this.nextMid = this.runtime.randomInt(0x10000);
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
    return { pending: this.pending.size, dedup: this.dedup.size, timers: this.timers.size };
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
      const mid = this.nextMid;
      this.nextMid = (this.nextMid + 1) & 0xffff;
      if (!this.pending.has(mid)) return mid;
    }
    // Reusing a pending ID would let its ACK or RST settle the wrong message.
    throw new CoapError(
      'ERR_COAP_MESSAGE_IDS_EXHAUSTED',
      'every Message ID is in use by an outstanding message; wait for some to finish',
    );
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
    const confirmable = msg.type === MessageType.CON;
    const p: Pending = {
      messageId,
      size: bytes.length,
      remote,
      via,
      bytes,
      confirmable,
      callbacks,
      attempts: 0,
      timeoutMs: 0,
      timer: undefined,
      cancel: () => this.forget(p),
    };
    this.pending.set(messageId, p);
    if (confirmable) {
      const p0 = this.params;
      p.timeoutMs = p0.ackTimeout * 1000 * (1 + this.runtime.random() * (p0.ackRandomFactor - 1));
      p.timer = this.timers.schedule(p.timeoutMs, () => this.retransmit(p));
    }
    this.transmit(bytes, remote, via, msg, callbacks.onError ? (err) => this.sendFailed(p, err) : undefined);
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

  private sendFailed(p: Pending, err: Error | null): void {
    if (err === null || !this.pending.has(p.messageId)) return;
    this.forget(p);
    p.callbacks.onError?.(err);
  }

  private retransmit(p: Pending): void {
    p.timer = undefined;
    if (this.pending.get(p.messageId) !== p) return;
    if (p.attempts >= this.params.maxRetransmit) {
      this.forget(p);
      p.callbacks.onTimeout?.();
      return;
    }
    p.attempts++;
    p.timeoutMs *= 2;
    p.timer = this.timers.schedule(p.timeoutMs, () => this.retransmit(p));
    this.transmit(p.bytes, p.remote, p.via);
  }

  private forget(p: Pending): void {
    if (this.pending.get(p.messageId) === p) this.pending.delete(p.messageId);
    this.timers.cancel(p.timer);
    p.timer = undefined;
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
    const data = d.data;
    // RFC 7252 §4.2: a CON that cannot be processed is answered with RST, if its header is readable.
    // Never for multicast (§8.1), and never for another version (§3: silently ignore).
    if (d.multicast || data.length < 4 || data[0]! >> 6 !== 1 || ((data[0]! >> 4) & 3) !== MessageType.CON)
      return;
    const mid = (data[2]! << 8) | data[3]!;
    this.sendRaw(
      { type: MessageType.RST, code: 0, messageId: mid, token: EMPTY, options: [], payload: EMPTY },
      d.remote,
      d.local,
    );
  }

  /** Rejects a well-formed message: RST for CON (and unicast NON), silence for multicast. */
  private reject(msg: CoapMessage, d: Datagram, reason: string): void {
    traceRejected(d, reason, msg);
    if (d.multicast || msg.type === MessageType.ACK || msg.type === MessageType.RST) return;
    this.sendRaw(
      { type: MessageType.RST, code: 0, messageId: msg.messageId, token: EMPTY, options: [], payload: EMPTY },
      d.remote,
      d.local,
    );
  }

  private receiveEmpty(msg: CoapMessage, d: Datagram): void {
    if (msg.type === MessageType.ACK || msg.type === MessageType.RST) {
      const p = this.pending.get(msg.messageId);
      if (p === undefined || !sameAddress(p.remote, d.remote)) return;
      this.forget(p);
      if (msg.type === MessageType.ACK) p.callbacks.onAck?.(msg);
      else p.callbacks.onReset?.();
      return;
    }
    // RFC 7252 §4.3: an empty CON is a ping, answered with RST; an empty NON is ignored.
    if (msg.type === MessageType.CON && !d.multicast) this.reject(msg, d, 'ping');
  }

  private firstUnrecognizedCritical(msg: CoapMessage): number | undefined {
    const options = msg.options;
    for (let i = 0; i < options.length; i++) {
      const n = options[i]!.number;
      if ((n & 1) === 1 && !this.recognized(n)) return n;
    }
    return undefined;
  }

  /** Duplicate detection of an incoming message (RFC 7252 §4.5). */
  private remember(msg: CoapMessage, d: Datagram, confirmable: boolean): ReturnType<DedupCache['check']> {
    return this.dedup.check(d.remote.address, d.remote.port, msg.messageId, msg.token, confirmable);
  }

  private receiveRequest(msg: CoapMessage, d: Datagram): void {
    // A request in an ACK or RST is meaningless (RFC 7252 §4.2, §4.3).
    if (msg.type === MessageType.ACK || msg.type === MessageType.RST)
      return this.reject(msg, d, 'request in ACK/RST');
    const confirmable = msg.type === MessageType.CON;
    const { entry, isNew } = this.remember(msg, d, confirmable);
    if (!isNew) {
      // RFC 7252 §4.5: a duplicate CON gets the same reply again; a duplicate NON is ignored.
      if (confirmable && entry.reply !== undefined && !d.multicast)
        this.transmit(entry.reply, d.remote, d.local);
      return;
    }
    const critical = this.firstUnrecognizedCritical(msg);
    if (critical !== undefined) {
      // RFC 7252 §5.4.1: 4.02 for a CON request; a NON is rejected (§4.3), silently if multicast.
      if (confirmable && !d.multicast) {
        entry.reply = this.sendRaw(
          {
            type: MessageType.ACK,
            code: Code.BadOption,
            messageId: msg.messageId,
            token: msg.token,
            options: [],
            payload: Buffer.from(`unrecognized critical option ${critical}`),
          },
          d.remote,
          d.local,
        );
      } else this.reject(msg, d, `unrecognized critical option ${critical}`);
      return;
    }
    this.#subscribers.request(new ServerExchange(this, msg, d, entry));
  }

  private receiveResponse(msg: CoapMessage, d: Datagram): void {
    if (msg.type === MessageType.RST) return; // RST must be empty (RFC 7252 §4.2)
    if (msg.type === MessageType.ACK) {
      const p = this.pending.get(msg.messageId);
      if (p === undefined || !sameAddress(p.remote, d.remote)) return;
      // RFC 7252 §5.4.1: a piggy-backed response with an unrecognized critical option is
      // rejected (silently, as for any ACK); the request keeps waiting until it times out.
      if (this.firstUnrecognizedCritical(msg) !== undefined)
        return this.reject(msg, d, 'unrecognized critical option');
      this.forget(p);
      p.callbacks.onAck?.(msg);
      this.#subscribers.response(msg, d.remote, d.local);
      return;
    }
    const confirmable = msg.type === MessageType.CON;
    const { entry, isNew } = this.remember(msg, d, confirmable);
    if (!isNew) {
      if (confirmable && entry.reply !== undefined) this.transmit(entry.reply, d.remote, d.local);
      return;
    }
    const critical = this.firstUnrecognizedCritical(msg);
    const matched = critical === undefined && this.#subscribers.response(msg, d.remote, d.local);
    if (confirmable) {
      // RFC 7252 §5.3.2: a CON response nobody waits for is rejected with RST; otherwise ACKed.
      entry.reply = this.sendRaw(
        {
          type: matched ? MessageType.ACK : MessageType.RST,
          code: 0,
          messageId: msg.messageId,
          token: EMPTY,
          options: [],
          payload: EMPTY,
        },
        d.remote,
        d.local,
      );
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
    const pending = [...this.pending.values()];
    for (const p of pending) this.timers.cancel(p.timer);
    this.pending.clear();
    // Nothing waiting on a message may hang: a ping, a fire-and-forget CON, a shared client.
    for (const p of pending) p.callbacks.onError?.(new CoapClosedError());
    this.timers.close();
    this.dedup.clear();
    await this.transport.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function sameAddress(a: Address, b: Address): boolean {
  return a.port === b.port && a.address === b.address;
}
