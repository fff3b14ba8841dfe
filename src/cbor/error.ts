/**
 * @module cbor/error
 * The one error class of the CBOR codec (RFC 8949): input outside the deterministic subset the
 * codec supports, or not well-formed.
 */
import { CoapError } from '../errors.js';

/**
 * A value that cannot be encoded, or bytes that are not well-formed CBOR of the supported
 * deterministic subset (RFC 8949 §4.2.1: no indefinite lengths, tags or floats, shortest heads).
 * Code `ERR_COAP_CBOR`.
 *
 * @example
 * ```ts
 * try { decodeCbor(Buffer.from('1801', 'hex')); }
 * catch (e) { if (e instanceof CborError) console.log(e.code); } // ERR_COAP_CBOR
 * ```
 */
export class CborError extends CoapError {
  constructor(message: string) {
    super('ERR_COAP_CBOR', message);
  }
}
