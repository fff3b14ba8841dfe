/**
 * @module errors
 * Typed errors. Each has a stable `code` string, listed in docs/errors.md;
 * callers switch on `code`, never on the message text.
 */

/**
 * Every `code` a `CoapError` can carry; docs/errors.md describes each one, and
 * test/unit/errors-doc.test.ts keeps this list, that table and the sources in step.
 */
export type CoapErrorCode =
  // Arguments and input
  | 'ERR_COAP_INVALID_ARGUMENT'
  | 'ERR_COAP_INVALID_URI'
  | 'ERR_COAP_UNSUPPORTED_SCHEME'
  | 'ERR_COAP_MESSAGE_FORMAT'
  | 'ERR_COAP_MESSAGE_ENCODE'
  | 'ERR_COAP_LINK_FORMAT'
  | 'ERR_COAP_CBOR'
  | 'ERR_COAP_CRI'
  | 'ERR_COAP_BLOCK_OPTION'
  | 'ERR_COAP_GROUP_JSON'
  | 'ERR_COAP_PAYLOAD_FORMAT'
  // Requests
  | 'ERR_COAP_TIMEOUT'
  | 'ERR_COAP_RESET'
  | 'ERR_COAP_ABORTED'
  | 'ERR_COAP_CLOSED'
  | 'ERR_COAP_RESOLVE'
  | 'ERR_COAP_TOKENS_EXHAUSTED'
  | 'ERR_COAP_MESSAGE_IDS_EXHAUSTED'
  | 'ERR_COAP_BODY_TOO_LARGE'
  | 'ERR_COAP_BLOCK_CHANGED'
  | 'ERR_COAP_BLOCK_INCOMPLETE'
  | 'ERR_COAP_RESPONSE'
  // Groups (RFC 7390)
  | 'ERR_COAP_GROUP_USE_GROUP'
  | 'ERR_COAP_GROUP_NOT_MULTICAST'
  | 'ERR_COAP_GROUP_BROADCAST'
  | 'ERR_COAP_GROUP_CONFIRMABLE'
  | 'ERR_COAP_GROUP_SECURE_SCHEME'
  | 'ERR_COAP_GROUP_ETAG'
  | 'ERR_COAP_GROUP_SCOPE'
  // Group configuration (RFC 7390 §2.6.2)
  | 'ERR_COAP_GROUP_STATE_CORRUPT'
  | 'ERR_COAP_GROUP_STATE_IO'
  | 'ERR_COAP_GROUP_CONFIG_FULL'
  | 'ERR_COAP_STATE_IO'
  // Resource directory (RFC 9176)
  | 'ERR_COAP_RD_STATE_CORRUPT'
  | 'ERR_COAP_RD_STATE_IO'
  | 'ERR_COAP_RD_NOT_FOUND'
  | 'ERR_COAP_RD_REFUSED'
  // Sockets and interfaces
  | 'ERR_COAP_BIND'
  | 'ERR_COAP_JOIN'
  | 'ERR_COAP_NO_SOCKET'
  | 'ERR_COAP_NO_MULTICAST_INTERFACE'
  | 'ERR_COAP_MULTICAST_INTERFACE'
  | 'ERR_COAP_UNKNOWN_INTERFACE'
  | 'ERR_COAP_NOT_LISTENING'
  | 'ERR_COAP_ALREADY_LISTENING'
  | 'ERR_COAP_ENDPOINT_TAKEN'
  // OSCORE (RFC 8613) and Group OSCORE
  | 'ERR_OSCORE_FORMAT'
  | 'ERR_OSCORE_CBOR'
  | 'ERR_OSCORE_UNKNOWN_KID'
  | 'ERR_OSCORE_REPLAY'
  | 'ERR_OSCORE_DECRYPT'
  | 'ERR_OSCORE_SIGNATURE'
  | 'ERR_OSCORE_SEQUENCE_EXHAUSTED'
  | 'ERR_OSCORE_OBSERVE'
  | 'ERR_OSCORE_CONFIG'
  | 'ERR_OSCORE_NO_CONTEXT'
  | 'ERR_OSCORE_UNPROTECTED'
  | 'ERR_OSCORE_OUTER_BLOCKWISE';

/**
 * The base of every error this library throws. Narrow on `code`:
 *
 * @example
 * try {
 *   await client.request({ uri, signal: AbortSignal.timeout(5000) });
 * } catch (err) {
 *   if (err instanceof CoapError && err.code === 'ERR_COAP_TIMEOUT') console.log('no answer in time');
 * }
 */
export class CoapError extends Error {
  /** Stable identifier, e.g. `ERR_COAP_TIMEOUT`. */
  readonly code: CoapErrorCode;
  constructor(code: CoapErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An option passed to a constructor or a call is invalid; nothing was done. */
export class InvalidArgumentError extends CoapError {
  constructor(message: string) {
    super('ERR_COAP_INVALID_ARGUMENT', message);
  }
}

/** Bytes that are not a well-formed CoAP message (RFC 7252 §3). `offset` is where decoding stopped. */
export class MessageFormatError extends CoapError {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super('ERR_COAP_MESSAGE_FORMAT', `${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

/** A message that cannot be encoded (bad option length, token length or code). */
export class MessageEncodeError extends CoapError {
  constructor(message: string) {
    super('ERR_COAP_MESSAGE_ENCODE', message);
  }
}

/** A URI that is not a valid `coap` URI for this use (RFC 7252 §6). */
export class InvalidUriError extends CoapError {
  readonly uri: string;
  constructor(uri: string, reason: string) {
    super('ERR_COAP_INVALID_URI', `invalid CoAP URI ${JSON.stringify(uri)}: ${reason}`);
    this.uri = uri;
  }
}

/**
 * No response arrived in time: a CON was retransmitted MAX_RETRANSMIT times, a NON's wait ran
 * out, or the request's signal fired with a timeout (`AbortSignal.timeout()`; `cause` is its
 * reason). `name` is `'TimeoutError'`, as for `fetch`.
 */
export class CoapTimeoutError extends CoapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_COAP_TIMEOUT', message, options);
    this.name = 'TimeoutError';
  }
}

/** The peer answered with a Reset (RFC 7252 §4.2). */
export class CoapResetError extends CoapError {
  constructor(message: string) {
    super('ERR_COAP_RESET', message);
  }
}

/**
 * The request was cancelled through its AbortSignal. `name` is `'AbortError'`, as for `fetch`,
 * and `cause` is the signal's reason.
 */
export class CoapAbortError extends CoapError {
  constructor(message = 'the request was aborted', options?: { cause?: unknown }) {
    super('ERR_COAP_ABORTED', message, options);
    this.name = 'AbortError';
  }
}

/**
 * The error a request rejects with when `signal` fired: a `CoapTimeoutError` when the reason is
 * a timeout (`AbortSignal.timeout()` gives a `TimeoutError` DOMException), else a
 * `CoapAbortError`; either way `cause` is `signal.reason`.
 */
export function abortError(signal: AbortSignal | undefined): CoapAbortError | CoapTimeoutError {
  const reason: unknown = signal?.reason;
  if ((reason as { name?: unknown } | undefined)?.name === 'TimeoutError')
    return new CoapTimeoutError('the request timed out: its signal fired', { cause: reason });
  return new CoapAbortError('the request was aborted', { cause: reason });
}

/** The endpoint or server is closed, or closed while the request was pending. */
export class CoapClosedError extends CoapError {
  constructor(message = 'the endpoint is closed') {
    super('ERR_COAP_CLOSED', message);
  }
}

/** A group (multicast) request broke a rule of RFC 7390 / RFC 7252 §8 (CON, coaps, ETag, scope). */
export class GroupRequestError extends CoapError {
  constructor(code: CoapErrorCode, message: string) {
    super(code, message);
  }
}

/** A name could not be resolved, or resolved to the wrong kind of address. */
export class ResolveError extends CoapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_COAP_RESOLVE', message, options);
  }
}

/** A socket, join or interface operation failed (bind, addMembership, unknown interface). */
export class TransportError extends CoapError {
  constructor(code: CoapErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * Thrown by a resource handler to answer with an error response (RFC 7252 §5.9.2, §5.9.3).
 * `code` on the wire is `responseCode`, e.g. `'4.00'`.
 */
export class CoapResponseError extends CoapError {
  readonly responseCode: string;
  readonly diagnostic: string;
  readonly maxAge: number | undefined;
  constructor(responseCode: string, diagnostic = '', options?: { maxAge?: number }) {
    super('ERR_COAP_RESPONSE', `${responseCode}${diagnostic ? ` ${diagnostic}` : ''}`);
    this.responseCode = responseCode;
    this.diagnostic = diagnostic;
    this.maxAge = options?.maxAge;
  }
}

/**
 * A request URI whose scheme names a transport this stack does not implement: `coaps` (DTLS,
 * RFC 7252 §9) and the RFC 8323 schemes `coap+tcp`, `coaps+tcp`, `coap+ws`, `coaps+ws`. Thrown
 * before any name is resolved or anything is sent. Requests are protected with OSCORE over
 * `coap` instead (RFC 8613; the `security` option of `CoapClient.create`).
 */
export class UnsupportedSchemeError extends CoapError {
  declare readonly code: 'ERR_COAP_UNSUPPORTED_SCHEME';
  readonly uri: string;
  /** The scheme as given, lower-cased, e.g. `coaps`. */
  readonly scheme: string;
  constructor(uri: string, scheme: string, transport: string) {
    super(
      'ERR_COAP_UNSUPPORTED_SCHEME',
      `${scheme}:// needs ${transport}, which coap-group does not implement, so nothing was sent: use coap:// and protect the request with OSCORE (--oscore FILE on the command line, the security option of CoapClient.create)`,
    );
    this.uri = uri;
    this.scheme = scheme;
  }
}
