/**
 * @module oscore/endpoint/client-challenge
 * A protected request sent with `send()` must still hear a freshness challenge. A server that
 * cannot yet tell the request is fresh (it restarted: RFC 8613 Appendix B.1.2) answers with a
 * protected 4.01 carrying Echo and delivers nothing until the request comes again with that
 * value (RFC 9175 §2.4); to a request that disclaimed 4.xx it sends nothing at all (RFC 7967).
 * So a protected send disclaims only 2.xx and 5.xx (No-Response 18), and its token is listened
 * on for a short while (`SendListener`): a verified challenge is answered once, by sending the
 * request again with the Echo value and No-Response 26; any other answer is dropped. At most
 * MAX_LISTENING sends of one client listen at once; beyond that a send is protected as before
 * and nobody listens.
 */
import type { ExchangeRequest, Exchanger, LayerContext, MessageParts } from '../../client/exchanger.js';
import type { CoapMessage } from '../../message/types.js';
import { Opt } from '../../options/registry.js';
import { encodeUint, withOption } from '../../options/values.js';
import type { Address } from '../../transport/types.js';
import type { SecuredKind, SecuredRequest } from './client-protection.js';

/** Sends listening for a challenge at once, per client. */
const MAX_LISTENING = 1024;

/** RFC 7967 §2.1: bit (n-1) disclaims class n; 26 = 2.xx, 4.xx and 5.xx, 18 = all but 4.xx. */
const ALL_CLASSES = 26;
const ALL_BUT_4XX = 18;

type Protect = (parts: MessageParts, dest: Address, kind: SecuredKind) => SecuredRequest | undefined;

function withNoResponse(parts: MessageParts, value: number): MessageParts {
  return { ...parts, options: withOption(parts.options, Opt.NoResponse, encodeUint(value)) };
}

/** The protected sends of one client, and how many of them listen now. */
export class ChallengedSends {
  readonly #inner: Exchanger;
  readonly #context: LayerContext;
  readonly #protect: Protect;
  #listening = 0;

  constructor(inner: Exchanger, context: LayerContext, protect: Protect) {
    this.#inner = inner;
    this.#context = context;
    this.#protect = protect;
  }

  /**
   * Sends `x` protected, listening for a challenge. Rejects, unsent, when it cannot be protected;
   * sends it as it is where the protection allows plaintext.
   */
  send(x: ExchangeRequest): Promise<void> {
    const inner = this.#inner;
    if (this.#listening >= MAX_LISTENING) {
      const secured = this.#protect(x.parts, x.dest, 'unicast');
      return inner.send(secured === undefined ? x : { ...x, parts: secured.parts });
    }
    const secured = this.#protect(withNoResponse(x.parts, ALL_BUT_4XX), x.dest, 'unicast');
    if (secured === undefined) return inner.send(x);
    this.#listening++;
    return inner.send(
      { ...x, parts: secured.parts },
      {
        // A challenge comes at once (unicast, no Leisure): a couple of ACK timeouts is plenty.
        ms: 2 * this.#context.params.ackTimeout * 1000,
        response: (msg, remote) => this.#answer(x, secured, msg, remote),
        stopped: () => {
          this.#listening--;
        },
      },
    );
  }

  /** A response on a listening send's token: true (stop listening) once one verified. */
  #answer(x: ExchangeRequest, secured: SecuredRequest, msg: CoapMessage, remote: Address): boolean {
    let opened: CoapMessage | undefined;
    try {
      opened = secured.open(msg, remote);
    } catch {
      opened = undefined;
    }
    if (opened === undefined) return false;
    const again = secured.retry?.(opened);
    if (again !== undefined) this.#resend(x, withNoResponse(again, ALL_CLASSES));
    return true;
  }

  /** The request again, with the Echo value, as a NON nobody listens to. */
  #resend(x: ExchangeRequest, parts: MessageParts): void {
    try {
      const secured = this.#protect(parts, x.dest, 'unicast');
      if (secured === undefined) return;
      this.#inner
        .send({ dest: x.dest, proxy: x.proxy, parts: secured.parts, kind: 'unicast', confirmable: false })
        .catch(() => {});
    } catch {
      // Closing, or no Sequence Number left: the request is lost, as a NON may be.
    }
  }
}
