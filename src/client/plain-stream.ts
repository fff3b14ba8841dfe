/**
 * @module client/plain-stream
 * A request whose responses come as a stream, at the bottom of the client (client/exchanger has
 * the contract): a fresh random 8-byte token (RFC 7252 §5.3.1, RFC 7390 §2.5), the request sent
 * at once, and every response on the token handed to the sink: from any source for a group
 * (RFC 7252 §8.2), from the destination alone otherwise (§5.3.2). Later requests on the token (a
 * re-registration, RFC 7641 §3.3.1; a request to one member) are tracked until the stream
 * closes; a deregistration (RFC 7641 §3.6) is sent once, untracked.
 */
import { CoapResetError, CoapTimeoutError } from '../errors.js';
import { MessageType } from '../message/types.js';
import type { Messenger, Outgoing, OutgoingCallbacks } from '../messenger/messenger.js';
import type { Address } from '../transport/types.js';
import { isMulticast } from '../util/ip.js';
import { peerKey } from '../util/peer-key.js';
import { sendOnce } from './deregister.js';
import type { ExchangeRequest, Exchanger, MessageParts, ResponseStream, StreamSink } from './exchanger.js';
import type { TokenOwner, TokenTable } from './tokens.js';

export class PlainStream implements ResponseStream {
  readonly token: Buffer;
  readonly size: number;
  readonly leisure: number | undefined = undefined;
  readonly #m: Messenger;
  readonly #tokens: TokenTable<TokenOwner>;
  readonly #exchanger: Exchanger;
  readonly #sink: StreamSink;
  readonly #group: boolean;
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
  ) {
    this.#m = messenger;
    this.#tokens = tokens;
    this.#exchanger = exchanger;
    this.#sink = sink;
    this.#group = x.kind === 'group';
    const dest = x.dest;
    const owner: TokenOwner = {
      deliver: (msg, remote) => {
        if (this.#closed) return false;
        if (!this.#group && (remote.address !== dest.address || remote.port !== dest.port)) return false;
        sink.response(msg, remote);
        return true;
      },
      abort: (err) => sink.end(err),
    };
    this.token = tokens.allocate(8, owner);
    try {
      this.size = this.#track(x.parts, dest, x.confirmable, (err) => sink.error(err)).size;
    } catch (err) {
      this.#closed = true;
      tokens.release(this.token, false);
      throw err;
    }
  }

  /** After `close`, nothing is sent. */
  resend(parts: MessageParts, dest: Address, confirmable: boolean, onError?: (err: Error) => void): void {
    if (this.#closed) return;
    this.#track(parts, dest, confirmable, onError ?? ((err) => this.#sink.error(err)));
  }

  sendLast(parts: MessageParts, dest: Address): Promise<void> {
    return sendOnce(this.#m, { type: MessageType.NON, token: this.token, ...parts }, dest);
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

  #track(parts: MessageParts, dest: Address, confirmable: boolean, onError: (err: Error) => void): Outgoing {
    const key = peerKey(dest);
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
