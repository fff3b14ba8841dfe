/**
 * @module proxy/unicast-observe
 * An Observe registration through the proxy to one origin server (RFC 7641 §5): the proxy
 * registers with its own token, answers the client with the first response and relays each
 * notification on the client's token, renumbered (§5: "Each hop MUST generate its own values
 * for the Observe Option") and checked for order (§3.4). A Reset from the client, or a CON
 * notification it does not acknowledge, ends it (§3.6, §4.5); so does the client's GET with
 * Observe 1 on the token, which goes to the origin on the proxy's token and whose answer is
 * relayed. Notifications that come after the end are reset.
 */
import type { MessageParts, ResponseStream } from '../client/exchanger.js';
import { Code } from '../message/codes.js';
import type { CoapMessage } from '../message/types.js';
import { MessageType } from '../message/types.js';
import type { ResponseParts } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { encodeUint, uintOption } from '../options/values.js';
import type { Responder } from '../server/responder.js';
import type { InboundRequest } from '../server/site.js';
import type { Address } from '../transport/types.js';
import { peerKey } from '../util/peer-key.js';
import {
  answer,
  clientKey,
  type Forwarding,
  forwardingKey,
  own,
  type ProxyState,
  unavailable,
} from './context.js';
import { forwardOptions, HOP_LIMIT_REACHED, unknownUnsafe } from './forward-options.js';
import { ObserveOrder } from './observe-order.js';
import { Relay } from './relay.js';
import type { UnicastTarget } from './unicast.js';

/** How long notifications on a freed token are reset. */
const TOMBSTONE_MS = 3600 * 1000;
/** A relayed notification goes CON after this many NON ones (RFC 7641 §4.5). */
const CON_EVERY = 16;

class UnicastObservation implements Forwarding {
  readonly observe = true;
  readonly #s: ProxyState;
  readonly #key: string;
  readonly #res: Responder;
  readonly #relay: Relay;
  readonly #order: ObserveOrder;
  readonly #origin: string;
  readonly #dest: Address;
  #stream: ResponseStream | undefined;
  #answered = false;
  #ended = false;
  #deregistering = false;
  #sinceCon = 0;

  constructor(state: ProxyState, req: InboundRequest, res: Responder, t: UnicastTarget, parts: MessageParts) {
    this.#s = state;
    this.#key = forwardingKey(req.remote, req.message.token);
    this.#res = res;
    this.#relay = new Relay(res, req.message, () => this.cancel());
    this.#order = new ObserveOrder(state.runtime.randomInt(0x1000000));
    this.#origin = peerKey(t.dest);
    this.#dest = t.dest;
    state.forwardings.set(this.#key, this);
    res.armAck();
    try {
      this.#stream = state.outward.core.exchanger.stream(
        { dest: t.dest, parts, kind: 'observe', confirmable: req.message.type === MessageType.CON },
        {
          response: (msg) => this.#response(msg),
          error: (err) => this.#fail(err),
          end: () => this.cancel(),
        },
      );
    } catch (err) {
      this.#fail(err as Error);
    }
  }

  #response(msg: CoapMessage): void {
    if (this.#ended) return;
    const s = this.#s;
    const bad = unknownUnsafe(msg.options, s.config.numbers);
    let parts: ResponseParts = { code: msg.code, options: msg.options, payload: msg.payload };
    if (bad !== undefined)
      parts = own(
        Code.BadGateway,
        `the origin's response has an unsafe option ${bad} this proxy does not know`,
      );
    const observed = uintOption(parts.options, Opt.Observe);
    const last = this.#deregistering || observed === undefined || parts.code >> 5 !== 2;
    if (observed !== undefined) {
      if (!this.#order.fresh(this.#origin, observed, s.runtime.now())) return;
      const options = parts.options.filter((o) => o.number !== Opt.Observe);
      if (!last) options.push({ number: Opt.Observe, value: encodeUint(this.#order.next()) });
      parts = { ...parts, options: options.sort((a, b) => a.number - b.number) };
    }
    s.counters.relayed++;
    if (!this.#answered) {
      this.#answered = true;
      answer(this.#res, parts);
    } else {
      const con = ++this.#sinceCon >= CON_EVERY;
      if (con) this.#sinceCon = 0;
      this.#relay.send(parts, con && !last);
    }
    // A response without Observe, or an error, ends the observation (RFC 7641 §3.2, §4.2).
    if (last) this.#end(false);
  }

  #fail(err: Error): void {
    if (this.#ended) return;
    if (!this.#answered) {
      this.#answered = true;
      const code = err.name === 'TimeoutError' ? Code.GatewayTimeout : Code.BadGateway;
      answer(this.#res, own(code, err.message), this.#s);
    }
    this.#end(true);
  }

  deregister(parts: MessageParts, _timeout: number): void {
    if (this.#ended) return;
    this.#deregistering = true;
    try {
      this.#stream?.resend(parts, this.#dest, true);
    } catch {
      this.#end(true);
    }
  }

  cancel(): void {
    this.#end(true);
  }

  #end(tombstone: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    const s = this.#s;
    const stream = this.#stream;
    if (stream !== undefined) {
      stream.close(true);
      if (tombstone) s.outward.tombstone(stream.token, TOMBSTONE_MS);
    }
    this.#relay.close();
    if (!this.#answered) this.#res.finish();
    if (s.forwardings.get(this.#key) === this) s.forwardings.delete(this.#key);
  }
}

/** Handles a GET or FETCH with Observe 0 to one origin server. */
export function observeUnicast(
  state: ProxyState,
  req: InboundRequest,
  res: Responder,
  t: UnicastTarget,
): void {
  const refusal = state.limiter.admitUnicast(clientKey(req.remote));
  if (refusal !== undefined) return answer(res, unavailable(refusal.retryAfter, refusal.reason), state);
  const numbers = state.config.numbers;
  const unknown = unknownUnsafe(t.others, numbers);
  if (unknown !== undefined)
    return answer(res, own(Code.BadOption, `unsafe option ${unknown} is not known to this proxy`), state);
  const options = forwardOptions(t.others, t.uri, t.dest, numbers);
  if (options === 'hop-limit')
    return answer(res, own(HOP_LIMIT_REACHED, 'Hop-Limit reached at this proxy'), state);
  state.counters.unicastForwarded++;
  new UnicastObservation(state, req, res, t, {
    code: req.message.code,
    options,
    payload: req.message.payload,
  });
}
