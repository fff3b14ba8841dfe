/**
 * @module oscore/endpoint/client-exchanger
 * The client side of the security layer, as a wrapper around the client's exchanger
 * (client/exchanger; as aiocoap wraps a site and undici composes interceptors). Each request is
 * protected for its destination (RFC 8613 §8.1), its response opened before it counts (§8.4):
 * one that fails verification is discarded while another may still come; a response an
 * intermediary cut into Outer Block2 fragments is joined first (§4.1.3.4.2, client-outer-block);
 * a verified 4.01 with Echo is answered once by sending the request again with that value
 * (RFC 9175 §2.4, RFC 8613 Appendix B.1.2). A `send()` listens for that challenge
 * (client-challenge); streams are opened per responder (client-stream, client-group-stream).
 * Nothing is sent in the clear that the protection did not allow: a request it refuses is
 * refused, unsent; only `unprotected: true` or the protection's own plaintext choice passes one
 * through as it is.
 */
import type {
  ExchangeRequest,
  Exchanger,
  ExchangerLayer,
  LayerContext,
  ResponseStream,
  SendListener,
  StreamSink,
} from '../../client/exchanger.js';
import { CoapError, InvalidArgumentError } from '../../errors.js';
import type { CoapMessage } from '../../message/types.js';
import { DEFAULT_PROXY_OPTION_NUMBERS } from '../../options/proxy-numbers.js';
import type { Address } from '../../transport/types.js';
import { ChallengedSends } from './client-challenge.js';
import { groupStream } from './client-group-stream.js';
import { joinOuter, outerBlock2 } from './client-outer-block.js';
import type { MessageParts, RequestProtection, SecuredKind, SecuredRequest } from './client-protection.js';
import { oneServerStream } from './client-stream.js';

/** How a wrapper protects a request: by destination, or for one responder of a group request. */
export type Protect = (parts: MessageParts, dest: Address, kind: SecuredKind) => SecuredRequest | undefined;

/** An exchanger that protects what it sends and opens what comes back. */
export class SecuredExchanger implements Exchanger {
  readonly #inner: Exchanger;
  readonly #context: LayerContext;
  readonly #protect: Protect;
  readonly #sends: ChallengedSends;

  constructor(inner: Exchanger, context: LayerContext, protect: Protect) {
    this.#inner = inner;
    this.#context = context;
    this.#protect = protect;
    this.#sends = new ChallengedSends(inner, context, protect);
  }

  /** The exchanger below this one. */
  get inner(): Exchanger {
    return this.#inner;
  }

  async request(x: ExchangeRequest): Promise<CoapMessage> {
    const inner = this.#inner;
    if (x.unprotected) return inner.request(x);
    const secured = this.#protect(x.parts, x.dest, x.kind);
    if (secured === undefined) return inner.request(x);
    const res = await this.#exchange(x, secured);
    const again = secured.retry?.(res);
    if (again === undefined) return res;
    // The request once more, with the challenge's Echo value; its answer is final.
    const second = this.#protect(again, x.dest, x.kind);
    if (second === undefined) return inner.request({ ...x, parts: again });
    return this.#exchange({ ...x, parts: again }, second);
  }

  /**
   * A listener from a layer above is not served on a protected send (this layer listens on its
   * token itself): it is stopped at once.
   */
  async send(x: ExchangeRequest, listener?: SendListener): Promise<void> {
    if (x.unprotected) return this.#inner.send(x, listener);
    listener?.stopped();
    return this.#sends.send(x);
  }

  /** @throws what the protection throws: the stream is refused, and nothing is sent. */
  stream(x: ExchangeRequest, sink: StreamSink): ResponseStream {
    const inner = this.#inner;
    if (x.unprotected) return inner.stream(x, sink);
    if (x.kind === 'group') {
      const secured = this.#protect(x.parts, x.dest, 'group');
      // Plaintext to this group, chosen explicitly: nothing to open, nothing to follow up.
      if (secured === undefined) return inner.stream(x, sink);
      return groupStream(
        inner,
        { ...x, leisure: secured.leisure ?? x.leisure },
        sink,
        secured,
        (remote) => this.forResponder(secured, remote),
        this.#context.proxyOptions ?? DEFAULT_PROXY_OPTION_NUMBERS,
      );
    }
    return oneServerStream(inner, x, sink, this.#protect, this);
  }

  /**
   * The exchanger for unicast requests to one responder of a protected group request: each is
   * protected for the member its verified answer proved it is, or refused.
   */
  forResponder(secured: SecuredRequest, remote: Address): Exchanger {
    const dest: Address = { address: remote.address, port: remote.port };
    return new SecuredExchanger(this.#inner, this.#context, (parts) => {
      const s = secured.forResponder?.(parts, dest, 'unicast');
      if (s === undefined) throw new InvalidArgumentError(`no verified member answered from ${dest.address}`);
      return s;
    });
  }

  /**
   * One protected exchange. A response an intermediary cut into Outer Block2 fragments is
   * joined before it is opened (RFC 8613 §4.1.3.4.2).
   */
  async #exchange(x: ExchangeRequest, secured: SecuredRequest): Promise<CoapMessage> {
    const above = x.screen;
    const msg = await this.#inner.request({
      ...x,
      parts: secured.parts,
      // RFC 8613 §8.4: a response that fails verification is not used. A fragment goes up as it
      // came (still protected), to be joined below.
      screen: (m, remote) => {
        if (outerBlock2(m) !== undefined) return m;
        const opened = secured.open(m, remote);
        return opened === undefined || above === undefined ? opened : above(opened, remote);
      },
    });
    const block = outerBlock2(msg);
    if (block === undefined) return msg;
    const whole = await joinOuter(secured.parts, msg, block, x.maxBodySize, (p) =>
      this.#inner.request({ ...x, parts: p, screen: undefined }),
    );
    // An ACK: a whole that fails verification throws, since nothing else will come.
    const opened = secured.open(whole, x.dest);
    const used = opened === undefined || above === undefined ? opened : above(opened, x.dest);
    if (used === undefined)
      throw new CoapError('ERR_OSCORE_DECRYPT', 'the joined protected response did not verify');
    return used;
  }
}

/**
 * Turns a request protection into the layer a client takes (`CoapClient.create({ security })`).
 * `OscoreClientSecurity` is one already; this serves other schemes, and tests.
 *
 * @example
 * ```ts
 * const client = await CoapClient.create({ security: protectionLayer(myProtection) });
 * ```
 */
export function protectionLayer(protection: RequestProtection): ExchangerLayer {
  return {
    ...(protection.criticalOptions !== undefined ? { criticalOptions: protection.criticalOptions } : {}),
    wrap: (inner, context) =>
      new SecuredExchanger(inner, context, (parts, dest, kind) => protection.protect(parts, dest, kind)),
  };
}
