/**
 * @module group-json/error
 * The one error class of the `application/coap-group+json` codec (RFC 7390 §2.6.2.1, §6.2).
 * The group configuration resource answers it with 4.00 Bad Request and the message as the
 * diagnostic payload (R50), so every message says what is wrong and where, in plain words.
 */
import { CoapError } from '../errors.js';

/**
 * A payload or value that is not valid `application/coap-group+json` (RFC 7390 §2.6.2.1), or a
 * membership that cannot be written in it. Code `ERR_COAP_GROUP_JSON`.
 *
 * @example
 * ```ts
 * try { parseMembership('{"a":"10.0.0.1"}'); }
 * catch (e) { if (e instanceof GroupJsonError) console.log(e.message); }
 * // member "a": "10.0.0.1" is not a multicast address (224.0.0.0/4 or ff00::/8)
 * ```
 */
export class GroupJsonError extends CoapError {
  constructor(message: string) {
    super('ERR_COAP_GROUP_JSON', message);
  }
}

/**
 * A value quoted for a message. Long values are cut, because messages travel back as CoAP
 * diagnostic payloads and an attacker-sized echo is not useful to anyone; JSON quoting keeps
 * control characters and lone surrogates visible and harmless.
 */
export function quote(value: string, max = 64): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max - 3)}...` : value);
}
