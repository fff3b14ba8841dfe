/**
 * @module client/plain-stream
 * A request whose responses come as a stream, at the bottom of the client (client/exchanger has
 * the contract): a fresh random 8-byte token (RFC 7252 §5.3.1, RFC 7390 §2.5), the request sent
 * at once, and every response on the token handed to the sink: from any source for a group
 * (RFC 7252 §8.2), from the destination alone otherwise (§5.3.2). Later requests on the token (a
 * re-registration, RFC 7641 §3.3.1; a request to one member) are tracked until the stream
 * closes; a deregistration (RFC 7641 §3.6) is sent once, untracked.
 *
 * Through a forward proxy (groupcomm-proxy §5.1.1, §5.5.1) every datagram goes to the proxy and
 * only the proxy's are taken. A group request then carries Multicast-Timeout as an Outer option
 * (added here, below every layer: it is Class U, §2), and each response is handed up as coming
 * from the member its Reply-From names; one without Reply-From is the proxy's own answer, and
 * one whose Reply-From cannot be read is dropped (its origin is unknown).
 */
import { CoapResetError, CoapTimeoutError } from '../errors.js';
import type { CoapMessage } from '../message/types.js';
import { MessageType } from '../message/types.js';
import type { Messenger, Outgoing, OutgoingCallbacks } from '../messenger/messenger.js';
import type { ProxyOptionNumbers } from '../options/proxy-numbers.js';
import { encodeUint } from '../options/values.js';
import type { Address } from '../transport/types.js';
import { isMulticast } from '../util/ip.js';
import { peerKey } from '../util/peer-key.js';
import { sendOnce } from './deregister.js';
import type { ExchangeRequest, Exchanger, MessageParts, ResponseStream, StreamSink } from './exchanger.js';
import { defaultMulticastTimeout, replyFromSource } from './proxy-route.js';
import type { TokenOwner, TokenTable } from './tokens.js';

export class PlainStream implements ResponseStream {
  readonly token: Buffer;
  readonly size: number;
  readonly leisure: number | undefined;
  readonly multicastTimeout: number | undefined;
  readonly #m: Messenger;
  readonly #tokens: TokenTable<TokenOwner>;
  readonly #exchanger: Exchanger;
  readonly #sink: StreamSink;
  readonly #group: boolean;
  /** The proxy every datagram goes to, if any. */
  readonly #proxy: Address | undefined;
  /** The message tracked per destination (one to each); cancelled on close. */
  readonly #outgoing = new Map<string, Outgoing>();
  #closed = false;

  /** Allocates the token and sends `x`. @throws as `Messenger.send` and `TokenTable.allocate`. */
  constructor(
    messenger: Messenger,
    tokens: TokenTable<TokenOwner>,
    exchanger: Exchanger,
    x: ExchangeRequest,
    sink: StreamSink,
    numbers: ProxyOptionNumbers,
  ) {
    this.#m = messenger;
    this.#tokens = tokens;
    this.#exchanger = exchanger;
    this.#sink = sink;
    this.#group = x.kind === 'group';
    this.#proxy = x.proxy;
    this.leisure = x.leisure;
    const dest = x.dest;
    const proxy = x.proxy;
    let parts = x.parts;
    if (proxy !== undefined && this.#group) {
      const mt = x.multicastTimeout ?? defaultMulticastTimeout(x.leisure ?? messenger.params.defaultLeisure);
      this.multicastTimeout = mt;
      // groupcomm-proxy §2: 0 is sent as the empty value (encodeUint gives the minimal form).
      const options = [...parts.options, { number: numbers.multicastTimeout, value: encodeUint(mt) }];
      parts = { ...parts, options: options.sort((a, b) => a.number - b.number) };
    }
    const owner: TokenOwner = {
      deliver: (msg, remote) => {
        if (this.#closed) return false;
        if (proxy !== undefined) {
          if (remote.address !== proxy.address || remote.port !== proxy.port) return false;
          if (this.#group) this.#relayed(msg, proxy, numbers.replyFrom);
          else sink.response(msg, remote);
          return true;
        }
        if (!this.#group && (remote.address !== dest.address || remote.port !== dest.port)) return false;
        sink.response(msg, remote);
        return true;
      },
      abort: (err) => sink.end(err),
    };
    this.token = tokens.allocate(8, owner);
    try {
      this.size = this.#track(parts, dest, x.confirmable, (err) => sink.error(err)).size;
    } catch (err) {
      this.#closed = true;
      tokens.release(this.token, false);
      throw err;
    }
  }

  /** A response the proxy relayed (or sent itself) on a group request's token. */
  #relayed(msg: CoapMessage, proxy: Address, replyFrom: number): void {
    const from = replyFromSource(msg.options, replyFrom);
    if (from === null) return;
    if (from === undefined) {
      if (this.#sink.proxyAnswer !== undefined) this.#sink.proxyAnswer(msg, proxy);
      else this.#sink.response(msg, proxy);
      return;
    }
    this.#sink.response(msg, from.source);
  }

  /** After `close`, nothing is sent. */
  resend(parts: MessageParts, dest: Address, confirmable: boolean, onError?: (err: Error) => void): void {
    if (this.#closed) return;
    this.#track(parts, dest, confirmable, onError ?? ((err) => this.#sink.error(err)));
  }

  sendLast(parts: MessageParts, dest: Address): Promise<void> {
    return sendOnce(this.#m, { type: MessageType.NON, token: this.token, ...parts }, this.#proxy ?? dest);
  }

  /** The plain exchanger itself: nothing protects a plain stream's follow-ups either. */
  followUpExchanger(_remote: Address): Exchanger {
    return this.#exchanger;
  }

  close(quarantine: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const o of this.#outgoing.values()) o.cancel();
    this.#outgoing.clear();
    this.#tokens.release(this.token, quarantine);
  }

  #track(
    parts: MessageParts,
    target: Address,
    confirmable: boolean,
    onError: (err: Error) => void,
  ): Outgoing {
    const key = peerKey(target);
    const dest = this.#proxy ?? target;
    this.#outgoing.get(key)?.cancel();
    const callbacks: OutgoingCallbacks = {
      onTimeout: () => onError(new CoapTimeoutError(`no ACK from ${dest.address}:${dest.port}`)),
      onError,
    };
    // RFC 7252 §8.1: a multicast request is never reset; a Reset from anyone says nothing of it.
    if (!isMulticast(dest.address))
      callbacks.onReset = () =>
        onError(new CoapResetError(`${dest.address}:${dest.port} answered with Reset`));
    const out = this.#m.send(
      { type: confirmable ? MessageType.CON : MessageType.NON, token: this.token, ...parts },
      dest,
      undefined,
      callbacks,
    );
    this.#outgoing.set(key, out);
    return out;
  }
}
