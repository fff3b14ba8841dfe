/**
 * @module oscore/errors
 * The typed error of the OSCORE layer and the error responses a server sends for it
 * (RFC 8613 §7.4, §8.2 steps 2, 3 and 6). Callers switch on `code`, never on the text.
 */
import { CoapError } from '../errors.js';
import { code as makeCode } from '../message/codes.js';
import type { CoapOption } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { encodeUint } from '../options/values.js';

/** The stable codes an `OscoreError` carries. */
export type OscoreErrorCode =
  /** The OSCORE option or compressed COSE object is malformed (RFC 8613 §6.1, §8.2 step 2). */
  | 'ERR_OSCORE_FORMAT'
  /** No Recipient Context for the 'kid' (and 'kid context') received (RFC 8613 §8.2 step 2). */
  | 'ERR_OSCORE_UNKNOWN_KID'
  /** The Partial IV was received before or is older than the replay window (RFC 8613 §7.4). */
  | 'ERR_OSCORE_REPLAY'
  /** AEAD decryption or integrity verification failed (RFC 8613 §8.2 step 6, §8.4 step 5). */
  | 'ERR_OSCORE_DECRYPT'
  /** The Sender Sequence Number space is exhausted; a new context is needed (RFC 8613 §7.2.1). */
  | 'ERR_OSCORE_SEQUENCE_EXHAUSTED'
  /** A response's Observe does not match the request (RFC 8613 §4.1.3.5.2, §8.4.2). */
  | 'ERR_OSCORE_OBSERVE'
  /** CBOR outside the supported subset, or not well-formed (RFC 8949). */
  | 'ERR_OSCORE_CBOR'
  /** A Group OSCORE countersignature did not verify (draft-ietf-core-oscore-groupcomm §7.2). */
  | 'ERR_OSCORE_SIGNATURE';

/**
 * An OSCORE processing failure. `code` says which step failed; `errorResponse()` says what a
 * server answers.
 *
 * @example
 * ```ts
 * try { unprotectRequest(outer, contexts.resolve); }
 * catch (e) {
 *   if (e instanceof OscoreError) reply(oscoreErrorResponse(e)); // unprotected, per RFC 8613 §8.3
 * }
 * ```
 */
export class OscoreError extends CoapError {
  declare readonly code: OscoreErrorCode;
  constructor(code: OscoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** An unprotected error response (RFC 8613 §8.3: OSCORE errors are sent without OSCORE processing). */
export interface OscoreErrorResponse {
  /** The response code, e.g. 0x82 for 4.02. */
  readonly code: number;
  /** Outer Max-Age 0, so OSCORE-unaware caches do not keep the error (RFC 8613 §4.1.3.1). */
  readonly options: CoapOption[];
  /** The diagnostic payload RFC 8613 suggests (UTF-8). */
  readonly payload: Buffer;
}

const RESPONSES: Partial<Record<OscoreErrorCode, readonly [number, string]>> = {
  // RFC 8613 §8.2 step 2: decompression or COSE decoding failed.
  ERR_OSCORE_FORMAT: [makeCode(4, 2), 'Failed to decode COSE'],
  ERR_OSCORE_CBOR: [makeCode(4, 2), 'Failed to decode COSE'],
  // RFC 8613 §8.2 step 2: no Recipient Context for the 'kid'.
  ERR_OSCORE_UNKNOWN_KID: [makeCode(4, 1), 'Security context not found'],
  // RFC 8613 §7.4: the Partial IV was seen before.
  ERR_OSCORE_REPLAY: [makeCode(4, 1), 'Replay detected'],
  // RFC 8613 §8.2 step 6.
  ERR_OSCORE_DECRYPT: [makeCode(4, 0), 'Decryption failed'],
  // draft-ietf-core-oscore-groupcomm §7.2: a bad countersignature is treated like a decryption failure.
  ERR_OSCORE_SIGNATURE: [makeCode(4, 0), 'Decryption failed'],
};

/**
 * What a server answers when verifying a request failed, or `undefined` when the failure is not
 * one a server reports (e.g. a client-side error). RFC 8613 makes each response a MAY; the
 * server may equally stay silent, which is the right choice for multicast requests.
 *
 * RFC 8613 §8.2: 4.02 "Failed to decode COSE", 4.01 "Security context not found",
 * 4.01 "Replay detected" (§7.4), 4.00 "Decryption failed"; each with an Outer Max-Age 0.
 * An unknown critical *inner* option is not an OSCORE error: it is answered by normal CoAP
 * processing with 4.02, and that response is then protected (RFC 8613 §8.2 step 8, §8.3).
 */
export function oscoreErrorResponse(
  err: OscoreError,
  options?: { diagnostic?: boolean },
): OscoreErrorResponse | undefined {
  const entry = RESPONSES[err.code];
  if (entry === undefined) return undefined;
  const [code, text] = entry;
  return {
    code,
    options: [{ number: Opt.MaxAge, value: encodeUint(0) }],
    payload: options?.diagnostic === false ? Buffer.alloc(0) : Buffer.from(text, 'utf8'),
  };
}
