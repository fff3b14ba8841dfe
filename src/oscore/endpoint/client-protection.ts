/**
 * @module oscore/endpoint/client-protection
 * What the client side of the security layer asks of a protection scheme, one request at a
 * time: protect a request for its destination, open the responses to it (RFC 8613 §8.1, §8.4;
 * Group OSCORE draft-ietf-core-oscore-groupcomm §7.1, §7.4), ask for it again when a verified
 * answer is an Echo challenge (RFC 9175 §2.4), and protect what follows by unicast for one
 * responder of a group request (draft §8, §10). The exchanger wrapper (client-exchanger) does
 * the rest: when to open, when to retry, what to send to whom.
 */
import type { ExchangeKind, MessageParts } from '../../client/exchanger.js';
import type { CoapMessage, CoapOption } from '../../message/types.js';
import type { Address } from '../../transport/types.js';

export type { MessageParts };

/** What kind of exchange a request starts; decides which context applies and how errors end it. */
export type SecuredKind = ExchangeKind;

/** One protected request, kept for as long as its responses may come. */
export interface SecuredRequest {
  /** The parts to put on the wire instead of the original ones. */
  readonly parts: MessageParts;
  /**
   * Default Leisure in seconds of the group this request goes to, when protection changes it
   * (groupcomm-bis §3.1.5: 20 s with the Group OSCORE group mode, 13 s with the pairwise mode).
   * The client then collects responses for that long plus a margin, unless given a `window`.
   */
  readonly leisure?: number;
  /**
   * Verifies a response to this request and returns the original (decrypted) response, or
   * `undefined` to discard it silently (it failed verification; another may still come).
   * Throws a `CoapError` to end a unicast exchange (e.g. an unprotected OSCORE error response).
   */
  open(response: CoapMessage, remote: Address): CoapMessage | undefined;
  /**
   * For a verified response, the original request to send once more, or `undefined`. Used for
   * the Echo challenge of RFC 9175 §2.4 / RFC 8613 Appendix B.1.2: a 4.01 carrying Echo is
   * answered by repeating the request with that Echo value (the client retries once).
   */
  retry?(opened: {
    readonly code: number;
    readonly options: readonly CoapOption[];
  }): MessageParts | undefined;
  /**
   * For a group request: protects a unicast request to the responder at `remote` for the member
   * its verified answer proved it is (Group OSCORE §8, §10), never by a lookup of the address.
   * Used for the Echo follow-up, block-wise continuations and deregistration. `undefined` when
   * no verified answer came from `remote`: the caller then sends nothing, not even in the clear.
   */
  forResponder?(parts: MessageParts, remote: Address, kind: SecuredKind): SecuredRequest | undefined;
}

/**
 * Protects requests for their destination. A client given a security layer never sends a
 * request in the clear on its own: only an explicit choice does (the layer's, e.g.
 * `OscoreClientSecurity`'s `plaintext` option, or the request's `unprotected: true`).
 * `protectionLayer()` turns one into the layer a client takes (`CoapClient.create({ security })`).
 */
export interface RequestProtection {
  /** Critical options this scheme processes in responses (e.g. OSCORE, 9); the messenger accepts them. */
  readonly criticalOptions?: readonly number[];
  /**
   * The protected request. `undefined` means "send it as it is" and must be returned only for
   * a destination the layer was told to reach unprotected; a request that cannot be protected
   * otherwise throws a `CoapError` (e.g. `ERR_OSCORE_NO_CONTEXT`), and nothing is sent.
   */
  protect(parts: MessageParts, dest: Address, kind: SecuredKind): SecuredRequest | undefined;
}
