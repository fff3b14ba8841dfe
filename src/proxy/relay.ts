/**
 * @module proxy/relay
 * Relaying responses to a client on its token, after the exchange itself ended with an empty ACK
 * (RFC 7252 §5.2.2: an ACK "if it knows in advance that there will be no piggybacked
 * response"). Each relayed response is a separate NON message (a CON now and then for an
 * observation, RFC 7641 §4.5), sent through the responder's `notify`, so a security layer still
 * protects it and the message layer tracks it: a Reset from the client to any of them cancels
 * the forwarding (groupcomm-proxy §5.1.3, §5.2.3), as does a CON left unacknowledged (RFC 7641
 * §4.5). The client's No-Response is applied here (RFC 7967 §2), since `notify` does not.
 */
import type { CoapMessage } from '../message/types.js';
import type { Outgoing } from '../messenger/outgoing.js';
import type { ResponseParts } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { uintOption } from '../options/values.js';
import type { Responder } from '../server/responder.js';
import { DEFAULT_SUPPRESSION, isSuppressed } from '../server/suppression.js';

/** Relayed messages whose Reset is still matched; older ones are forgotten. */
const TRACKED = 32;

/** Sends a forwarding's responses to its client. */
export class Relay {
  readonly #res: Responder;
  readonly #noResponse: number | undefined;
  readonly #onGone: () => void;
  readonly #tracked: Outgoing[] = [];
  #closed = false;

  /**
   * `request` is the client's (its No-Response counts); `onGone` runs once when the client
   * resets a relayed message or does not acknowledge a CON one.
   */
  constructor(res: Responder, request: CoapMessage, onGone: () => void) {
    this.#res = res;
    this.#noResponse = uintOption(request.options, Opt.NoResponse);
    this.#onGone = onGone;
  }

  /** Sends one response; false when it did not go (suppressed, closed, or a layer refused it). */
  send(parts: ResponseParts, confirmable = false): boolean {
    if (this.#closed) return false;
    if (isSuppressed(parts.code, parts.payload.length, false, DEFAULT_SUPPRESSION, this.#noResponse))
      return false;
    let out: Outgoing | undefined;
    const gone = () => {
      if (!this.#closed) this.#onGone();
    };
    try {
      out = this.#res.notify(parts, confirmable, {
        onReset: gone,
        onTimeout: gone,
        onAck: () => this.#forget(out),
      });
    } catch {
      // The client's side is closed: nobody to relay to.
      out = undefined;
    }
    if (out === undefined) return false;
    this.#tracked.push(out);
    if (this.#tracked.length > TRACKED) this.#tracked.shift()!.cancel();
    return true;
  }

  #forget(out: Outgoing | undefined): void {
    const i = out === undefined ? -1 : this.#tracked.indexOf(out);
    if (i >= 0) this.#tracked.splice(i, 1);
  }

  /** Stops tracking what was sent; nothing more is sent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const o of this.#tracked) o.cancel();
    this.#tracked.length = 0;
  }
}
