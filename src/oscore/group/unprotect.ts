/**
 * @module oscore/group/unprotect
 * Verifying Group OSCORE requests and responses (draft-ietf-core-oscore-groupcomm §6, §7.2,
 * §7.4, §8.4, §8.6) on top of RFC 8613 §8.2/§8.4: the Group Flag picks the mode, 'kid context'
 * finds the group, 'kid' the member; in the group mode the countersignature is decrypted and
 * verified before the ciphertext is decrypted (§7.2, Step 6), and replay of responses is checked
 * per server with Response Numbers (§5.3.1).
 */

import { isRequestCode, isResponseCode } from '../../message/codes.js';
import type { CoapMessage, CoapOption } from '../../message/types.js';
import { Opt } from '../../options/registry.js';
import { decodeUint, encodeUint } from '../../options/values.js';
import { aeadDecrypt } from '../algorithms.js';
import { computeNonce } from '../cose.js';
import { OscoreError } from '../errors.js';
import { parseOuter, rebuild } from '../fields.js';
import { decodePartialIv } from '../option.js';
import { decodePlaintext } from '../plaintext.js';
import type { UnprotectOptions } from '../unprotect.js';
import { type GroupRecipientContext, GroupSecurityContext } from './context.js';
import { type GroupOscoreMode, GroupRequestBinding, groupAad, modeAlgorithm, receiveKey } from './mode.js';
import {
  countersignatureKeystream,
  SIGNATURE_LENGTH,
  splitGroupPayload,
  verifyEitherLayout,
  xorKeystream,
} from './signature.js';

/** Finds the group context for a 'kid context' (Gid). */
export type GroupContextResolver = (gid: Buffer) => GroupSecurityContext | undefined;

/** A verified Group OSCORE request. */
export interface UnprotectedGroupRequest {
  readonly request: CoapMessage;
  readonly context: GroupSecurityContext;
  /** The client's Recipient Context. */
  readonly sender: GroupRecipientContext;
  readonly mode: GroupOscoreMode;
  readonly binding: GroupRequestBinding;
  readonly outerOptions: CoapOption[];
}

/** A verified Group OSCORE response. */
export interface UnprotectedGroupResponse {
  readonly response: CoapMessage;
  /** The replying server's Sender ID. */
  readonly serverId: Buffer;
  readonly partialIv: Buffer | undefined;
  readonly outerOptions: CoapOption[];
}

interface OpenInput {
  ctx: GroupSecurityContext;
  mode: GroupOscoreMode;
  peer: GroupRecipientContext;
  payload: Buffer;
  nonce: Buffer;
  aad: { externalAad: Buffer; aad: Buffer };
  keystream: { partialIv: Buffer; id: Buffer; idContext: Buffer; request: boolean };
}

/** Verifies the countersignature first (group mode), then decrypts (draft §7.2 Step 6, §7.4 Step 5). */
function open(i: OpenInput): Buffer {
  const alg = modeAlgorithm(i.ctx.common, i.mode);
  let ciphertext = i.payload;
  if (i.mode === 'group') {
    const split = splitGroupPayload(i.payload, SIGNATURE_LENGTH, alg.tagLength);
    const ks = countersignatureKeystream({
      signatureEncryptionKey: i.ctx.common.signatureEncryptionKey!,
      length: SIGNATURE_LENGTH,
      ...i.keystream,
    });
    // Either Countersign_structure layout is accepted, the group's own tried first.
    verifyEitherLayout(
      i.peer.publicKey,
      i.aad.externalAad,
      split.ciphertext,
      xorKeystream(split.encryptedSignature, ks),
      i.ctx.common.countersignature,
    );
    ciphertext = split.ciphertext;
  }
  return aeadDecrypt(alg, receiveKey(i.mode, i.peer), i.nonce, i.aad.aad, ciphertext);
}

function unknown(what: string): never {
  throw new OscoreError('ERR_OSCORE_UNKNOWN_KID', what);
}

/**
 * Verifies a Group OSCORE request (draft §7.2, §8.4). Recipient Contexts are not created on the
 * fly: an unknown 'kid' fails with `ERR_OSCORE_UNKNOWN_KID` (the application may fetch the
 * member's credential, `addRecipient`, and wait for the next request).
 * @throws OscoreError `ERR_OSCORE_FORMAT`, `ERR_OSCORE_UNKNOWN_KID`, `ERR_OSCORE_REPLAY`,
 *   `ERR_OSCORE_SIGNATURE` or `ERR_OSCORE_DECRYPT`.
 */
export function unprotectGroupRequest(
  outer: CoapMessage,
  contexts: GroupSecurityContext | GroupContextResolver,
  options: UnprotectOptions = {},
): UnprotectedGroupRequest {
  const { oscore, oscoreBytes, keep, discarded } = parseOuter(outer, true, options.proxyOptions);
  const { kid, partialIv: piv, kidContext: gid } = oscore;
  if (kid === undefined || piv === undefined || gid === undefined) {
    throw new OscoreError(
      'ERR_OSCORE_FORMAT',
      "a Group OSCORE request needs 'kid', 'Partial IV' and 'kid context'",
    );
  }
  const mode: GroupOscoreMode = oscore.groupFlag ? 'group' : 'pairwise';
  const ctx =
    contexts instanceof GroupSecurityContext
      ? contexts.common.idContext.equals(gid)
        ? contexts
        : undefined
      : contexts(gid);
  if (ctx === undefined) unknown(`no group with Gid ${gid.toString('hex')}`);
  const alg = modeAlgorithm(ctx.common, mode);
  // Draft §7.2: a request whose 'kid' is our own Sender ID is not processed.
  const peer = kid.equals(ctx.sender.id) ? undefined : ctx.recipient(kid);
  if (peer === undefined) unknown(`no Recipient Context for kid ${kid.toString('hex') || "''"}`);
  const seq = decodePartialIv(piv);
  if (peer.replayWindow.check(seq) !== 'fresh') {
    throw new OscoreError(
      'ERR_OSCORE_REPLAY',
      `Partial IV ${seq} was received before or is outside the window`,
    );
  }
  const nonce = computeNonce(ctx.common.commonIv, kid, piv, alg.nonceLength);
  const aad = groupAad(ctx.common, {
    requestKid: kid,
    requestPiv: piv,
    requestKidContext: gid,
    oscoreOption: oscoreBytes,
    senderCredential: peer.credential,
  });
  const keystream = { partialIv: piv, id: kid, idContext: gid, request: true };
  const plainBytes = open({ ctx, mode, peer, payload: outer.payload, nonce, aad, keystream });
  // Only a verified request moves the window (draft §7.2: not after a bad signature either).
  peer.replayWindow.update(seq);
  const plain = decodePlaintext(plainBytes);
  if (!isRequestCode(plain.code))
    throw new OscoreError('ERR_OSCORE_FORMAT', `inner code ${plain.code} is not a request`);
  const innerObserve = plain.options.find((o) => o.number === Opt.Observe);
  const binding = new GroupRequestBinding({
    kid,
    partialIv: piv,
    kidContext: gid,
    nonce,
    observe: innerObserve !== undefined && decodeUint(innerObserve.value) === 0,
    mode,
  });
  return {
    request: rebuild(outer, keep, plain),
    context: ctx,
    sender: peer,
    mode,
    binding,
    outerOptions: discarded,
  };
}

/**
 * Verifies one server's response to a Group OSCORE request (draft §7.4, §8.6). Each server may
 * send one response with the request's nonce, then only increasing Partial IVs (its Response
 * Number, §5.3.1). Each response is processed in its own mode (Group Flag), whatever the
 * request's was.
 * @throws OscoreError `ERR_OSCORE_FORMAT`, `ERR_OSCORE_UNKNOWN_KID`, `ERR_OSCORE_REPLAY`,
 *   `ERR_OSCORE_SIGNATURE`, `ERR_OSCORE_DECRYPT` or `ERR_OSCORE_OBSERVE`.
 */
export function unprotectGroupResponse(
  outer: CoapMessage,
  ctx: GroupSecurityContext,
  binding: GroupRequestBinding,
  options: UnprotectOptions = {},
): UnprotectedGroupResponse {
  const { oscore, oscoreBytes, keep, discarded } = parseOuter(outer, true, options.proxyOptions);
  // Draft §6: a message is processed in the mode its Group Flag says. A group mode request may
  // be answered in the pairwise mode (§1), and a pairwise one in the group mode (§7.3).
  const mode: GroupOscoreMode = oscore.groupFlag ? 'group' : 'pairwise';
  const alg = modeAlgorithm(ctx.common, mode);
  // Draft §7.4 Step 2: without 'kid', the response is from the server a pairwise request was for.
  const serverId = oscore.kid ?? binding.target;
  if (serverId === undefined)
    throw new OscoreError('ERR_OSCORE_FORMAT', "a response to a group mode request lacks 'kid'");
  if (binding.target !== undefined && !serverId.equals(binding.target))
    unknown('the response is from another server');
  const gid = oscore.kidContext ?? ctx.common.idContext;
  if (!gid.equals(ctx.common.idContext))
    unknown(`no context for Gid ${gid.toString('hex')} (rekeying is not supported)`);
  const peer = ctx.recipient(serverId);
  if (peer === undefined) unknown(`no Recipient Context for kid ${serverId.toString('hex')}`);
  const state = binding.server(serverId);
  const piv = oscore.partialIv;
  const seq = piv === undefined ? undefined : decodePartialIv(piv);
  if (
    piv === undefined ? state.nonceUsed : state.responseNumber !== undefined && seq! <= state.responseNumber
  ) {
    throw new OscoreError(
      'ERR_OSCORE_REPLAY',
      `a replayed or older response from server ${serverId.toString('hex')}`,
    );
  }
  const nonce =
    piv === undefined ? binding.nonce : computeNonce(ctx.common.commonIv, serverId, piv, alg.nonceLength);
  const aad = groupAad(ctx.common, {
    requestKid: binding.kid,
    requestPiv: binding.partialIv,
    requestKidContext: binding.kidContext ?? ctx.common.idContext,
    oscoreOption: oscoreBytes,
    senderCredential: peer.credential,
  });
  const keystream =
    piv === undefined
      ? { partialIv: binding.partialIv, id: binding.kid, idContext: gid, request: false }
      : { partialIv: piv, id: serverId, idContext: gid, request: false };
  const plain = decodePlaintext(open({ ctx, mode, peer, payload: outer.payload, nonce, aad, keystream }));
  if (!isResponseCode(plain.code))
    throw new OscoreError('ERR_OSCORE_FORMAT', `inner code ${plain.code} is not a response`);
  const observeAt = plain.options.findIndex((o) => o.number === Opt.Observe);
  if (observeAt >= 0 && !binding.observe) {
    throw new OscoreError('ERR_OSCORE_OBSERVE', 'Inner Observe in a response to a request without Observe');
  }
  if (seq === undefined) state.nonceUsed = true;
  else {
    state.responseNumber = seq;
    if (observeAt >= 0)
      plain.options[observeAt] = { number: Opt.Observe, value: encodeUint(seq % 0x1000000) };
  }
  binding.responses++;
  return {
    response: rebuild(outer, keep, plain),
    serverId: Buffer.from(serverId),
    partialIv: piv,
    outerOptions: discarded,
  };
}
