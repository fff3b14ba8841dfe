/**
 * @module client/unicast-exchange
 * One request of the plain exchanger (client/plain-exchanger) and its one response (RFC 7252
 * §5): a CON retransmitted by the messenger until ACK or RST, an empty ACK then a separate
 * response (§5.2.2), or a NON with a wait of MAX_TRANSMIT_WAIT; the response must come from the
 * endpoint the request went to (§5.3.2), the proxy when there is one (§5.7). One object is the
 * token's owner, the messenger's callbacks and the promise's settlement, so a request allocates
 * that object instead of a closure for each role.
 */
import { abortError, CoapResetError, CoapTimeoutError } from '../errors.js';
import type { CoapMessage } from '../message/types.js';
import { MessageType } from '../message/types.js';
import type { Messenger, Outgoing } from '../messenger/messenger.js';
import type { OutgoingCallbacks } from '../messenger/outgoing.js';
import type { Address } from '../transport/types.js';
import type { Scheduled } from '../util/timer-queue.js';
import type { ExchangeRequest } from './exchanger.js';
import type { TokenOwner, TokenTable } from './tokens.js';

/** Where the datagrams of `x` go: its proxy, or its destination. */
export const hopOf = (x: ExchangeRequest): Address => x.proxy ?? x.dest;

/** `x`'s next hop, for error messages. */
export const where = (x: ExchangeRequest): string =>
  x.proxy === undefined
    ? `${x.dest.address}:${x.dest.port}`
    : `the proxy ${x.proxy.address}:${x.proxy.port} (for ${x.dest.address}:${x.dest.port})`;

/** A request in flight; settles its promise once, with the response or the error that ended it. */
export class UnicastExchange implements TokenOwner, OutgoingCallbacks {
  readonly #m: Messenger;
  readonly #tokens: TokenTable<TokenOwner>;
  readonly #x: ExchangeRequest;
  readonly #hop: Address;
  readonly #resolve: (msg: CoapMessage) => void;
  readonly #reject: (err: Error) => void;
  #token: Buffer | undefined;
  #timer: Scheduled | undefined;
  #outgoing: Outgoing | undefined;
  #onAbort: (() => void) | undefined;
  #done = false;

  constructor(
    m: Messenger,
    tokens: TokenTable<TokenOwner>,
    x: ExchangeRequest,
    resolve: (msg: CoapMessage) => void,
    reject: (err: Error) => void,
  ) {
    this.#m = m;
    this.#tokens = tokens;
    this.#x = x;
    this.#hop = hopOf(x);
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Takes a token and sends; throws only when no token is free. */
  start(): void {
    const m = this.#m;
    const x = this.#x;
    const token = this.#tokens.allocate(4, this);
    this.#token = token;
    try {
      this.#outgoing = m.send(
        { type: x.confirmable ? MessageType.CON : MessageType.NON, token, ...x.parts },
        this.#hop,
        undefined,
        this,
      );
    } catch (err) {
      this.#fail(err as Error);
      return;
    }
    if (!x.confirmable) this.#wait(m.times.maxTransmitWait * 1000, 'to the NON request');
    else if (x.timeout !== undefined) this.#wait(x.timeout, `within ${x.timeout} ms`);
    const signal = x.signal;
    if (signal !== undefined) {
      this.#onAbort = () => this.#fail(abortError(signal));
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  deliver(msg: CoapMessage, remote: Address): boolean {
    const hop = this.#hop;
    if (remote.address !== hop.address || remote.port !== hop.port) return false;
    let res: CoapMessage | undefined = msg;
    const screen = this.#x.screen;
    if (screen !== undefined) {
      try {
        res = screen(msg, remote);
      } catch (err) {
        this.#fail(err as Error);
        return true;
      }
      // Discarded by the screen (e.g. it failed verification): another may still come.
      if (res === undefined) return true;
    }
    this.#finish();
    this.#resolve(res);
    return true;
  }

  abort(err: Error): void {
    this.#fail(err);
  }

  onAck(ack: CoapMessage): void {
    // An empty ACK means a separate response follows (RFC 7252 §5.2.2).
    if (ack.code === 0) this.#wait(this.#m.times.exchangeLifetime * 1000, 'after its empty ACK');
  }

  onReset(): void {
    this.#fail(new CoapResetError(`${where(this.#x)} answered with Reset`));
  }

  onTimeout(): void {
    this.#fail(
      new CoapTimeoutError(
        `no ACK from ${where(this.#x)} after ${this.#m.params.maxRetransmit} retransmissions`,
      ),
    );
  }

  onError(err: Error): void {
    this.#fail(err);
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#tokens.release(this.#token!, false);
    this.#outgoing?.cancel();
    this.#m.timers.cancel(this.#timer);
    if (this.#onAbort !== undefined) this.#x.signal?.removeEventListener('abort', this.#onAbort);
  }

  #fail(err: Error): void {
    if (this.#done) return;
    this.#finish();
    this.#reject(err);
  }

  #wait(ms: number, what: string): void {
    const m = this.#m;
    const x = this.#x;
    m.timers.cancel(this.#timer);
    this.#timer = m.timers.schedule(x.timeout !== undefined ? Math.min(ms, x.timeout) : ms, () =>
      this.#fail(new CoapTimeoutError(`no response from ${where(x)} ${what}`)),
    );
  }
}
