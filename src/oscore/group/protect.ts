/**
 * @module oscore/group/protect
 * Protecting requests and responses with Group OSCORE (draft-ietf-core-oscore-groupcomm §7.1,
 * §7.3 for the group mode; §8.3, §8.5 for the pairwise mode), on top of RFC 8613 §8.1/§8.3:
 * the OSCORE option is final before encryption (it is in the AAD, §3.4), and in the group mode
 * the payload is the ciphertext followed by the encrypted countersignature (§4.1).
 */

import { InvalidArgumentError } from '../../errors.js';
import { Code, isRequestCode, isResponseCode, Method } from '../../message/codes.js';
import { type CoapMessage, type CoapOption, EMPTY } from '../../message/types.js';
import type { ProxyOptionNumbers } from '../../options/proxy-numbers.js';
import { Opt } from '../../options/registry.js';
import { decodeUint } from '../../options/values.js';
import { aeadEncrypt } from '../algorithms.js';
import { computeNonce } from '../cose.js';
import { assemble, splitOptions } from '../fields.js';
import { encodeOscoreOption, encodePartialIv } from '../option.js';
import { encodePlaintext } from '../plaintext.js';
import type { GroupSecurityContext } from './context.js';
import { type GroupOscoreMode, GroupRequestBinding, groupAad, modeAlgorithm, sendKey } from './mode.js';
import { countersign, countersignatureKeystream, SIGNATURE_LENGTH, xorKeystream } from './signature.js';

/** Options of `protectGroupRequest`. */
export interface ProtectGroupRequestOptions {
  /** Default 'group'. The pairwise mode protects for one member: give `recipientId`. */
  readonly mode?: GroupOscoreMode;
  readonly recipientId?: Buffer;
  readonly outerOptions?: readonly CoapOption[];
  /** The numbers of the group proxy options, Class U (default 65026, 65016, 65048). */
  readonly proxyOptions?: ProxyOptionNumbers;
}

/** Options of `protectGroupResponse`. */
export interface ProtectGroupResponseOptions {
  /** As in `protectResponse`: default only when required (draft §7.3: not the first response). */
  readonly newPartialIv?: boolean;
  /**
   * The response's mode; default the request's. A group mode request may be answered in the
   * pairwise mode (draft §1, §6): no countersignature, so cheaper and 64 bytes shorter.
   */
  readonly mode?: GroupOscoreMode;
  readonly outerOptions?: readonly CoapOption[];
  /** The numbers of the group proxy options, Class U (default 65026, 65016, 65048). */
  readonly proxyOptions?: ProxyOptionNumbers;
}

/** Encrypts, and in the group mode countersigns and appends the encrypted signature (draft §3.1, §4.1). */
function seal(
  ctx: GroupSecurityContext,
  mode: GroupOscoreMode,
  key: Buffer,
  nonce: Buffer,
  aadParts: { externalAad: Buffer; aad: Buffer },
  plaintext: Buffer,
  keystream: { partialIv: Buffer; id: Buffer; request: boolean },
): Buffer {
  const alg = modeAlgorithm(ctx.common, mode);
  const ciphertext = aeadEncrypt(alg, key, nonce, aadParts.aad, plaintext);
  if (mode === 'pairwise') return ciphertext;
  const signature = countersign(
    ctx.sender.privateKey,
    aadParts.externalAad,
    ciphertext,
    ctx.common.countersignature,
  );
  const ks = countersignatureKeystream({
    signatureEncryptionKey: ctx.common.signatureEncryptionKey!,
    idContext: ctx.common.idContext,
    length: SIGNATURE_LENGTH,
    ...keystream,
  });
  return Buffer.concat([ciphertext, xorKeystream(signature, ks)]);
}

/**
 * Protects a request in the group mode (default) or the pairwise mode. 'kid context' always
 * carries the Gid (draft §3.2).
 * @throws InvalidArgumentError for a non-request code, a pairwise request without a known
 *   `recipientId`, or a mode the group does not use.
 */
export function protectGroupRequest(
  msg: CoapMessage,
  ctx: GroupSecurityContext,
  options: ProtectGroupRequestOptions = {},
): { message: CoapMessage; binding: GroupRequestBinding } {
  if (!isRequestCode(msg.code)) throw new InvalidArgumentError(`code ${msg.code} is not a request code`);
  const mode = options.mode ?? 'group';
  const { common, sender } = ctx;
  const alg = modeAlgorithm(common, mode);
  const peer = options.recipientId === undefined ? undefined : ctx.recipient(options.recipientId);
  if (mode === 'pairwise' && peer === undefined)
    throw new InvalidArgumentError('a pairwise request needs a known recipientId');
  const { inner, outer, observe } = splitOptions(msg, options.outerOptions, options.proxyOptions);
  if (observe !== undefined) {
    // RFC 8613 §4.1.3.5.1: Inner and Outer Observe both carry the registration's value.
    inner.push(observe);
    outer.push(observe);
  }
  const plaintext = encodePlaintext({ code: msg.code, options: inner, payload: msg.payload });
  const piv = encodePartialIv(sender.sequence.next());
  const oscore = encodeOscoreOption({
    partialIv: piv,
    kidContext: common.idContext,
    kid: sender.id,
    groupFlag: mode === 'group',
  });
  const nonce = computeNonce(common.commonIv, sender.id, piv, alg.nonceLength);
  const aadParts = groupAad(common, {
    requestKid: sender.id,
    requestPiv: piv,
    requestKidContext: common.idContext,
    oscoreOption: oscore,
    senderCredential: sender.credential,
  });
  const key = sendKey(ctx, mode, peer);
  const payload = seal(ctx, mode, key, nonce, aadParts, plaintext, {
    partialIv: piv,
    id: sender.id,
    request: true,
  });
  const binding = new GroupRequestBinding({
    kid: sender.id,
    partialIv: piv,
    kidContext: common.idContext,
    nonce,
    observe: observe !== undefined && decodeUint(observe.value) === 0,
    mode,
    ...(peer === undefined ? {} : { target: peer.id }),
  });
  const code = observe !== undefined ? Method.FETCH : Method.POST;
  return { message: assemble(msg, code, outer, oscore, payload), binding };
}

/**
 * Protects a response to a verified Group OSCORE request, in the request's mode unless `mode`
 * says otherwise. The 'kid' is always sent after a group mode request (draft §3.2). A fresh Partial IV is used when the
 * request's nonce was used already, or when this context's Gid differs from the request's (§7.3).
 */
export function protectGroupResponse(
  msg: CoapMessage,
  ctx: GroupSecurityContext,
  binding: GroupRequestBinding,
  options: ProtectGroupResponseOptions = {},
): CoapMessage {
  if (!isResponseCode(msg.code)) throw new InvalidArgumentError(`code ${msg.code} is not a response code`);
  const { common, sender } = ctx;
  const mode = options.mode ?? binding.mode;
  const alg = modeAlgorithm(common, mode);
  const rekeyed = binding.kidContext === undefined || !binding.kidContext.equals(common.idContext);
  const mustBeFresh = binding.nonceUsed || rekeyed;
  const fresh = options.newPartialIv ?? mustBeFresh;
  if (!fresh && mustBeFresh)
    throw new InvalidArgumentError("the request's nonce cannot be used here; a new Partial IV is required");
  const peer = ctx.recipient(binding.kid);
  if (mode === 'pairwise' && peer === undefined)
    throw new InvalidArgumentError('no Recipient Context for the client');
  const { inner, outer, observe } = splitOptions(msg, options.outerOptions, options.proxyOptions);
  if (observe !== undefined) {
    // RFC 8613 §4.1.3.5.2: a notification's Inner Observe is empty.
    inner.push({ number: Opt.Observe, value: EMPTY });
    outer.push(observe);
  }
  const plaintext = encodePlaintext({ code: msg.code, options: inner, payload: msg.payload });
  const piv = fresh ? encodePartialIv(sender.sequence.next()) : undefined;
  const oscore = encodeOscoreOption({
    ...(piv === undefined ? {} : { partialIv: piv }),
    ...(rekeyed ? { kidContext: common.idContext } : {}),
    // Draft §3.2: a response to a group mode request names its sender, whatever its own mode.
    ...(mode === 'group' || binding.mode === 'group' ? { kid: sender.id } : {}),
    groupFlag: mode === 'group',
  });
  const nonce =
    piv === undefined ? binding.nonce : computeNonce(common.commonIv, sender.id, piv, alg.nonceLength);
  const aadParts = groupAad(common, {
    requestKid: binding.kid,
    requestPiv: binding.partialIv,
    requestKidContext: binding.kidContext ?? common.idContext,
    oscoreOption: oscore,
    senderCredential: sender.credential,
  });
  // Draft §4.2: the keystream salt is the Partial IV that built the nonce, with its generator's ID.
  const ks =
    piv === undefined ? { partialIv: binding.partialIv, id: binding.kid } : { partialIv: piv, id: sender.id };
  const payload = seal(ctx, mode, sendKey(ctx, mode, peer), nonce, aadParts, plaintext, {
    ...ks,
    request: false,
  });
  if (piv === undefined) binding.nonceUsed = true;
  binding.responses++;
  return assemble(msg, observe !== undefined ? Code.Content : Code.Changed, outer, oscore, payload);
}
