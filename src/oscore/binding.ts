/**
 * @module oscore/binding
 * The association both endpoints keep from a request to its responses (RFC 8613 §7.1, §8):
 * the request's 'kid' and Partial IV go into every response's AAD, and its nonce is reused by
 * responses without a Partial IV. It also carries the little state that keeps the request's nonce
 * from being used twice (RFC 8613 §7.2) and notifications from being replayed (§7.4.1).
 */
/**
 * A request as OSCORE saw it. The client gets one from `protectRequest`, the server from
 * `unprotectRequest`; each passes it, with the Security Context, to the response functions. Keep
 * both with the Token for as long as responses may come (for Observe, as long as the observation
 * lasts, RFC 8613 §8).
 *
 * @example
 * const { message: sent, binding } = protectRequest(request, ctx);
 * // ...the response that came back on the request's token:
 * const opened = unprotectResponse(response, ctx, binding);
 */
export class RequestBinding {
  /** 'request_kid': the client's Sender ID. */
  readonly kid: Buffer;
  /** 'request_piv'. */
  readonly partialIv: Buffer;
  /** The 'kid context' the request carried, if any. */
  readonly kidContext: Buffer | undefined;
  /** The request's AEAD nonce. */
  readonly nonce: Buffer;
  /** The request was an Observe registration (Inner Observe 0, RFC 8613 §4.1.3.5.1). */
  readonly observe: boolean;
  /**
   * A response was already protected (server) or accepted (client) with the request's nonce.
   * A second one must carry its own Partial IV (RFC 8613 §4.1.3.5, §8.3.1, §8.4.2).
   */
  nonceUsed = false;
  /** Responses protected (server) or accepted (client) so far. */
  responses = 0;
  /** Client: the Notification Number, the highest Partial IV of an accepted notification (RFC 8613 §7.4.1). */
  notificationNumber: number | undefined = undefined;

  constructor(init: {
    kid: Buffer;
    partialIv: Buffer;
    kidContext: Buffer | undefined;
    nonce: Buffer;
    observe: boolean;
  }) {
    // Copies: the caller's buffers may be views into a datagram that gets reused.
    this.kid = Buffer.from(init.kid);
    this.partialIv = Buffer.from(init.partialIv);
    this.kidContext = init.kidContext === undefined ? undefined : Buffer.from(init.kidContext);
    this.nonce = Buffer.from(init.nonce);
    this.observe = init.observe;
  }
}
