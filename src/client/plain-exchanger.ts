/**
 * @module client/plain-exchanger
 * The exchanger at the bottom of every client (client/exchanger has the contract): one request
 * and its one response (RFC 7252 §5): a CON retransmitted by the messenger until ACK or RST, an
 * empty ACK then a separate response (§5.2.2), or a NON with a wait of MAX_TRANSMIT_WAIT; the
 * response must come from the endpoint the request went to (§5.3.2). A request that wants no
 * response (RFC 7967 §2.1) settles once sent. Streams are in client/plain-stream. Used raw, it
 * follows no Block2 and retries nothing. Each request is a client/unicast-exchange. Through a forward proxy (`ExchangeRequest.proxy`) the
 * proxy is that endpoint: the request goes to it, and its answer is the response (§5.7).
 */
import { abortError, CoapResetError, CoapTimeoutError } from '../errors.js';
import type { CoapMessage } from '../message/types.js';
import { MessageType } from '../message/types.js';
import type { Messenger, Outgoing } from '../messenger/messenger.js';
import type { ProxyOptionNumbers } from '../options/proxy-numbers.js';
import type { Scheduled } from '../util/timer-queue.js';
import type { ExchangeRequest, Exchanger, ResponseStream, SendListener, StreamSink } from './exchanger.js';
import { PlainStream } from './plain-stream.js';
import type { TokenOwner, TokenTable } from './tokens.js';
import { hopOf, UnicastExchange, where } from './unicast-exchange.js';

/** The plain exchanger over one messenger and the client's token table. */
export class PlainExchanger implements Exchanger {
  readonly #m: Messenger;
  readonly #tokens: TokenTable<TokenOwner>;
  readonly #numbers: ProxyOptionNumbers;

  /** `numbers`: the group proxy options this client uses (Multicast-Timeout, Reply-From). */
  constructor(messenger: Messenger, tokens: TokenTable<TokenOwner>, numbers: ProxyOptionNumbers) {
    this.#m = messenger;
    this.#tokens = tokens;
    this.#numbers = numbers;
  }

  request(x: ExchangeRequest): Promise<CoapMessage> {
    const { signal } = x;
    // A signal that fired while the name was resolved or a slot awaited: nothing is sent.
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<CoapMessage>((resolve, reject) =>
      new UnicastExchange(this.#m, this.#tokens, x, resolve, reject).start(),
    );
  }

  /**
   * A NON settles once handed to the socket, a CON once acknowledged. Without a listener the
   * token is one nobody waits for, so a response that still comes is rejected (RST for a CON).
   */
  send(x: ExchangeRequest, listener?: SendListener): Promise<void> {
    const m = this.#m;
    const { signal } = x;
    const dest = hopOf(x);
    if (signal?.aborted) {
      listener?.stopped();
      return Promise.reject(abortError(signal));
    }
    const token = this.#listen(x, listener) ?? m.runtime.randomBytes(4);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        outgoing?.cancel();
        reject(abortError(signal));
      };
      const settle = (err?: Error) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      let outgoing: Outgoing | undefined;
      // `m.send` throws when the messenger is closed: the listener, if any, then stops at its time.
      outgoing = m.send(
        { type: x.confirmable ? MessageType.CON : MessageType.NON, token, ...x.parts },
        dest,
        undefined,
        x.confirmable
          ? {
              onAck: () => settle(),
              onReset: () => settle(new CoapResetError(`${where(x)} answered with Reset`)),
              onTimeout: () => settle(new CoapTimeoutError(`no ACK from ${where(x)}`)),
              onError: (err) => settle(err),
            }
          : { onError: (err) => settle(err) },
      );
      if (!x.confirmable) {
        // The send callback has run once a microtask passes without an error; forget the NON.
        setImmediate(() => {
          outgoing?.cancel();
          settle();
        });
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Holds a token for `listener`, or returns undefined (no listener, or no token free). */
  #listen(x: ExchangeRequest, listener: SendListener | undefined): Buffer | undefined {
    if (listener === undefined) return undefined;
    const m = this.#m;
    let timer: Scheduled | undefined;
    let done = false;
    const stop = () => {
      if (done) return;
      done = true;
      m.timers.cancel(timer);
      this.#tokens.release(token, false);
      listener.stopped();
    };
    const owner: TokenOwner = {
      deliver: (msg, remote) => {
        const hop = hopOf(x);
        if (remote.address !== hop.address || remote.port !== hop.port) return false;
        if (!done && listener.response(msg, remote)) stop();
        return true;
      },
      abort: () => stop(),
    };
    let token: Buffer;
    try {
      token = this.#tokens.allocate(4, owner);
    } catch {
      listener.stopped();
      return undefined;
    }
    timer = m.timers.schedule(listener.ms, stop);
    return token;
  }

  stream(x: ExchangeRequest, sink: StreamSink): ResponseStream {
    return new PlainStream(this.#m, this.#tokens, this, x, sink, this.#numbers);
  }
}
