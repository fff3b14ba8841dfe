/**
 * @module oscore/unprotect
 * Verifying OSCORE messages (RFC 8613 §8.2, §8.4, §8.4.2): decompress the COSE object, find the
 * context, check replay, decrypt, and rebuild the original message from the Outer header, the
 * Outer-only options and the decrypted Code, Inner options and payload.
 */

import { isRequestCode, isResponseCode } from '../message/codes.js';
import type { CoapMessage, CoapOption } from '../message/types.js';
import type { ProxyOptionNumbers } from '../options/proxy-numbers.js';
import { Opt } from '../options/registry.js';
import { decodeUint, encodeUint } from '../options/values.js';
import { aeadDecrypt } from './algorithms.js';
import { RequestBinding } from './binding.js';
import { type ContextResolver, SecurityContext } from './context.js';
import { computeNonce, oscoreAad } from './cose.js';
import { OscoreError } from './errors.js';
import { parseOuter, rebuild } from './fields.js';
import { decodePartialIv } from './option.js';
import { decodePlaintext } from './plaintext.js';

/** Options of the unprotect functions. */
export interface UnprotectOptions {
  /** The numbers of the group proxy options, kept as Outer-only (default 65026, 65016, 65048). */
  readonly proxyOptions?: ProxyOptionNumbers;
}

/** A verified request. */
export interface UnprotectedRequest {
  /** The original request: Outer header, Outer-only options, decrypted Code, options and payload. */
  readonly request: CoapMessage;
  /** The context that verified it; protect the response with it. */
  readonly context: SecurityContext;
  /** Pass to `protectResponse`. */
  readonly binding: RequestBinding;
  /** Outer instances of options that are also Inner (Observe, Block, Echo, ...), for hop-by-hop use. */
  readonly outerOptions: CoapOption[];
}

/** A verified response. */
export interface UnprotectedResponse {
  readonly response: CoapMessage;
  /** The response's own Partial IV, when it had one. */
  readonly partialIv: Buffer | undefined;
  readonly outerOptions: CoapOption[];
}

/** True if the message carries an OSCORE option, i.e. is to be verified rather than used as is. */
export function isOscoreMessage(msg: CoapMessage): boolean {
  return msg.options.some((o) => o.number === Opt.Oscore);
}

function resolve(
  contexts: SecurityContext | ContextResolver,
  kid: Buffer,
  kidContext: Buffer | undefined,
): SecurityContext {
  let ctx: SecurityContext | undefined;
  if (contexts instanceof SecurityContext) {
    const idOk = kidContext === undefined || (contexts.common.idContext?.equals(kidContext) ?? false);
    ctx = idOk && contexts.recipient.id.equals(kid) ? contexts : undefined;
  } else ctx = contexts(kid, kidContext);
  if (ctx === undefined) {
    throw new OscoreError(
      'ERR_OSCORE_UNKNOWN_KID',
      `no security context for kid ${kid.toString('hex') || "''"}`,
    );
  }
  return ctx;
}

/**
 * Verifies a request (RFC 8613 §8.2). On success the replay window is updated, so the same
 * request a second time fails with `ERR_OSCORE_REPLAY`.
 *
 * @param contexts one context, or a resolver from ('kid', 'kid context') to a context.
 * @throws OscoreError `ERR_OSCORE_FORMAT`, `ERR_OSCORE_UNKNOWN_KID`, `ERR_OSCORE_REPLAY` or
 *   `ERR_OSCORE_DECRYPT`; `oscoreErrorResponse()` says what to answer.
 */
export function unprotectRequest(
  outer: CoapMessage,
  contexts: SecurityContext | ContextResolver,
  options: UnprotectOptions = {},
): UnprotectedRequest {
  const { oscore, keep, discarded } = parseOuter(outer, false, options.proxyOptions);
  const { kid, partialIv: piv, kidContext } = oscore;
  // RFC 8613 §5: 'kid' and 'Partial IV' SHALL be present in requests.
  if (kid === undefined || piv === undefined) {
    throw new OscoreError('ERR_OSCORE_FORMAT', "a request's OSCORE option lacks 'kid' or 'Partial IV'");
  }
  const ctx = resolve(contexts, kid, kidContext);
  const { common, recipient } = ctx;
  const seq = decodePartialIv(piv);
  // RFC 8613 §8.2 step 3 before decryption: replays cost no AEAD work.
  if (recipient.replayWindow.check(seq) !== 'fresh') {
    throw new OscoreError(
      'ERR_OSCORE_REPLAY',
      `Partial IV ${seq} was received before or is outside the window`,
    );
  }
  const nonce = computeNonce(common.commonIv, recipient.id, piv);
  const aad = oscoreAad(common.aead.alg, kid, piv);
  const plainBytes = aeadDecrypt(common.aead, recipient.key, nonce, aad, outer.payload);
  // RFC 8613 §8.2 step 6: the window is updated only once the request verified. check() and
  // update() run in one synchronous turn, so nothing interleaves (§7.4 asks for atomicity).
  recipient.replayWindow.update(seq);
  const plain = decodePlaintext(plainBytes);
  if (!isRequestCode(plain.code))
    throw new OscoreError('ERR_OSCORE_FORMAT', `inner code ${plain.code} is not a request`);
  const innerObserve = plain.options.find((o) => o.number === Opt.Observe);
  const binding = new RequestBinding({
    kid,
    partialIv: piv,
    kidContext,
    nonce,
    observe: innerObserve !== undefined && decodeUint(innerObserve.value) === 0,
  });
  return { request: rebuild(outer, keep, plain), context: ctx, binding, outerOptions: discarded };
}

/**
 * Verifies a response to a request protected with `protectRequest` (RFC 8613 §8.4, §8.4.2).
 * A non-Observe request accepts one response; a registration accepts one notification without
 * Partial IV and then only increasing Partial IVs (RFC 8613 §7.4.1, keeping just the
 * Notification Number). A notification's Observe value becomes the low 3 bytes of its Partial IV
 * (RFC 8613 §4.1.3.5.2), so RFC 7641 ordering works on the result.
 *
 * @throws OscoreError `ERR_OSCORE_FORMAT`, `ERR_OSCORE_DECRYPT`, `ERR_OSCORE_REPLAY` or
 *   `ERR_OSCORE_OBSERVE`. A client stops processing the response on any of them (§8.4 step 8).
 */
export function unprotectResponse(
  outer: CoapMessage,
  ctx: SecurityContext,
  binding: RequestBinding,
  options: UnprotectOptions = {},
): UnprotectedResponse {
  const { oscore, keep, discarded } = parseOuter(outer, false, options.proxyOptions);
  const { common, recipient } = ctx;
  if (oscore.kid !== undefined && !oscore.kid.equals(recipient.id)) {
    throw new OscoreError('ERR_OSCORE_UNKNOWN_KID', "the response's 'kid' is not the server's Sender ID");
  }
  const piv = oscore.partialIv;
  if (!binding.observe && binding.responses > 0) {
    throw new OscoreError('ERR_OSCORE_REPLAY', 'a response to this request was already accepted');
  }
  if (piv === undefined && binding.nonceUsed) {
    throw new OscoreError('ERR_OSCORE_REPLAY', "a response with the request's nonce was already accepted");
  }
  const seq = piv === undefined ? undefined : decodePartialIv(piv);
  if (seq !== undefined && binding.notificationNumber !== undefined && seq <= binding.notificationNumber) {
    throw new OscoreError(
      'ERR_OSCORE_REPLAY',
      `notification Partial IV ${seq} is not newer than ${binding.notificationNumber}`,
    );
  }
  const nonce = piv === undefined ? binding.nonce : computeNonce(common.commonIv, recipient.id, piv);
  const aad = oscoreAad(common.aead.alg, binding.kid, binding.partialIv);
  const plain = decodePlaintext(aeadDecrypt(common.aead, recipient.key, nonce, aad, outer.payload));
  if (!isResponseCode(plain.code))
    throw new OscoreError('ERR_OSCORE_FORMAT', `inner code ${plain.code} is not a response`);
  const observeAt = plain.options.findIndex((o) => o.number === Opt.Observe);
  if (observeAt >= 0 && !binding.observe) {
    // RFC 8613 §4.1.3.5.2: an Inner Observe in a response to a non-Observe request stops processing.
    throw new OscoreError('ERR_OSCORE_OBSERVE', 'Inner Observe in a response to a request without Observe');
  }
  if (piv === undefined) binding.nonceUsed = true;
  if (observeAt >= 0 && seq !== undefined) {
    binding.notificationNumber = seq;
    plain.options[observeAt] = { number: Opt.Observe, value: encodeUint(seq % 0x1000000) };
  }
  binding.responses++;
  return { response: rebuild(outer, keep, plain), partialIv: piv, outerOptions: discarded };
}
