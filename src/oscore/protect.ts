/**
 * @module oscore/protect
 * Turning a CoAP request or response into an OSCORE message (RFC 8613 §8.1, §8.3, §8.3.1):
 * Inner options, Code and payload into the ciphertext; Outer options, the OSCORE option and an
 * Outer Code (POST/FETCH, 2.04/2.05, §4.2, §4.1.3.5) in the message that proxies see.
 */

import { InvalidArgumentError } from '../errors.js';
import { Code, isRequestCode, isResponseCode, Method } from '../message/codes.js';
import { type CoapMessage, type CoapOption, EMPTY } from '../message/types.js';
import type { ProxyOptionNumbers } from '../options/proxy-numbers.js';
import { Opt } from '../options/registry.js';
import { decodeUint } from '../options/values.js';
import { aeadEncrypt } from './algorithms.js';
import { RequestBinding } from './binding.js';
import type { SecurityContext } from './context.js';
import { computeNonce, oscoreAad } from './cose.js';
import { assemble, splitOptions } from './fields.js';
import { encodeOscoreOption, encodePartialIv } from './option.js';
import { encodePlaintext } from './plaintext.js';

/** Options of `protectRequest`. */
export interface ProtectRequestOptions {
  /** Send the ID Context as 'kid context' (RFC 8613 §5.1). Default false. */
  readonly kidContext?: boolean;
  /**
   * Extra Outer options, for intermediaries only: Outer Block (hop-by-hop), Outer No-Response 26
   * (§4.1.3.6), an Outer Echo (RFC 9175 §2.2.1). Only options that may be Outer are accepted.
   */
  readonly outerOptions?: readonly CoapOption[];
  /** The numbers of the group proxy options, Class U (default 65026, 65016, 65048). */
  readonly proxyOptions?: ProxyOptionNumbers;
}

/** Options of `protectResponse`. */
export interface ProtectResponseOptions {
  /**
   * Use a fresh Partial IV instead of the request's nonce (RFC 8613 §8.3 step 3). Default: only
   * when the request's nonce was already used, e.g. for every notification after the first
   * (§4.1.3.5). `false` when the nonce was already used throws, since that would reuse a nonce.
   */
  readonly newPartialIv?: boolean;
  /** Extra Outer options, e.g. an Outer Max-Age 0 on a notification (§4.1.3.1). */
  readonly outerOptions?: readonly CoapOption[];
  /** The numbers of the group proxy options, Class U (default 65026, 65016, 65048). */
  readonly proxyOptions?: ProxyOptionNumbers;
}

/** A protected request and the binding its responses are verified with. */
export interface ProtectedRequest {
  readonly message: CoapMessage;
  readonly binding: RequestBinding;
}

/**
 * Protects a request (RFC 8613 §8.1). Consumes one Sender Sequence Number.
 *
 * @example
 * ```ts
 * const { message, binding } = protectRequest(get, clientContext);
 * send(encodeMessage(message)); // keep `binding` with the Token for the response
 * ```
 * @throws InvalidArgumentError for a non-request code, a nested OSCORE option or a bad Proxy-Uri.
 * @throws OscoreError `ERR_OSCORE_SEQUENCE_EXHAUSTED` when no sequence number is left.
 */
export function protectRequest(
  msg: CoapMessage,
  ctx: SecurityContext,
  options: ProtectRequestOptions = {},
): ProtectedRequest {
  if (!isRequestCode(msg.code)) throw new InvalidArgumentError(`code ${msg.code} is not a request code`);
  const { common, sender } = ctx;
  if (options.kidContext && common.idContext === undefined) {
    throw new InvalidArgumentError('kidContext requested but the context has no ID Context');
  }
  const { inner, outer, observe } = splitOptions(msg, options.outerOptions, options.proxyOptions);
  if (observe !== undefined) {
    // RFC 8613 §4.1.3.5.1: Inner and Outer Observe both carry the original value.
    inner.push(observe);
    outer.push(observe);
  }
  // Encode first, so a message the codec rejects does not use up a sequence number.
  const plaintext = encodePlaintext({ code: msg.code, options: inner, payload: msg.payload });
  const piv = encodePartialIv(sender.sequence.next());
  const nonce = computeNonce(common.commonIv, sender.id, piv);
  const aad = oscoreAad(common.aead.alg, sender.id, piv);
  const ciphertext = aeadEncrypt(common.aead, sender.key, nonce, aad, plaintext);
  const oscore = encodeOscoreOption({
    partialIv: piv,
    kid: sender.id,
    ...(options.kidContext ? { kidContext: common.idContext } : {}),
  });
  // RFC 8613 §4.1.3.5: POST cannot carry Observe, so Observe requests go out as FETCH.
  const outerCode = observe !== undefined ? Method.FETCH : Method.POST;
  const binding = new RequestBinding({
    kid: sender.id,
    partialIv: piv,
    kidContext: options.kidContext ? common.idContext : undefined,
    nonce,
    observe: observe !== undefined && decodeUint(observe.value) === 0,
  });
  return { message: assemble(msg, outerCode, outer, oscore, ciphertext), binding };
}

/**
 * Protects a response to a verified request (RFC 8613 §8.3). Without a new Partial IV the
 * request's nonce is used, which is allowed once per request; later responses (notifications)
 * get a fresh Partial IV automatically.
 *
 * @throws InvalidArgumentError for a non-response code or `newPartialIv: false` when the
 *   request's nonce was already used.
 */
export function protectResponse(
  msg: CoapMessage,
  ctx: SecurityContext,
  binding: RequestBinding,
  options: ProtectResponseOptions = {},
): CoapMessage {
  if (!isResponseCode(msg.code)) throw new InvalidArgumentError(`code ${msg.code} is not a response code`);
  const fresh = options.newPartialIv ?? binding.nonceUsed;
  if (!fresh && binding.nonceUsed) {
    throw new InvalidArgumentError(
      "the request's nonce was already used by a response; a new Partial IV is required",
    );
  }
  const { common, sender } = ctx;
  const { inner, outer, observe } = splitOptions(msg, options.outerOptions, options.proxyOptions);
  if (observe !== undefined) {
    // RFC 8613 §4.1.3.5.2: the Inner Observe of a notification is empty; the Outer one may carry the value.
    inner.push({ number: Opt.Observe, value: EMPTY });
    outer.push(observe);
  }
  const plaintext = encodePlaintext({ code: msg.code, options: inner, payload: msg.payload });
  let nonce = binding.nonce;
  let piv: Buffer | undefined;
  if (fresh) {
    piv = encodePartialIv(sender.sequence.next());
    nonce = computeNonce(common.commonIv, sender.id, piv);
  }
  const aad = oscoreAad(common.aead.alg, binding.kid, binding.partialIv);
  const ciphertext = aeadEncrypt(common.aead, sender.key, nonce, aad, plaintext);
  if (!fresh) binding.nonceUsed = true;
  binding.responses++;
  const oscore = encodeOscoreOption(piv === undefined ? {} : { partialIv: piv });
  // RFC 8613 §4.2, §4.1.3.5: 2.04 (not cacheable) unless it is a notification, which is 2.05.
  return assemble(msg, observe !== undefined ? Code.Content : Code.Changed, outer, oscore, ciphertext);
}
