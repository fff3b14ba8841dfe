/**
 * @module oscore/group/mode
 * What differs between the group mode (draft-ietf-core-oscore-groupcomm §7) and the pairwise
 * mode (§8) when a message is encrypted: the algorithm, the key, the nonce length (§3.3 of the
 * draft: XOR with the first bytes of the Common IV) and the AAD fields; plus the binding a
 * request leaves for its responses from several servers (§5.1, §5.3.1 Response Numbers).
 */
import { InvalidArgumentError } from '../../errors.js';
import type { AeadParameters } from '../algorithms.js';
import { RequestBinding } from '../binding.js';
import { encStructure } from '../cose.js';
import { OscoreError } from '../errors.js';
import type { GroupCommonContext, GroupRecipientContext, GroupSecurityContext } from './context.js';
import { type GroupAadFields, type GroupAlgorithms, groupExternalAad } from './signature.js';

/** Group mode: one key for the whole group plus a countersignature. Pairwise: a key per pair of members. */
export type GroupOscoreMode = 'group' | 'pairwise';

/** The algorithms of a Common Context, for the aad_array (draft §3.4). */
export function groupAlgorithms(common: GroupCommonContext): GroupAlgorithms {
  return {
    aead: common.aead?.alg,
    groupEncryption: common.groupEncryption?.alg,
    signature: common.signatureAlgorithm,
    pairwiseKeyAgreement: common.pairwiseKeyAgreementAlgorithm,
  };
}

/**
 * The encryption algorithm of a mode (draft §2.1.1, §2.1.7).
 * @throws OscoreError `ERR_OSCORE_FORMAT` when the group does not use that mode (draft §6: the
 *   message is discarded; the server may answer 4.02).
 */
export function modeAlgorithm(common: GroupCommonContext, mode: GroupOscoreMode): AeadParameters {
  const alg = mode === 'group' ? common.groupEncryption : common.aead;
  if (alg === undefined)
    throw new OscoreError('ERR_OSCORE_FORMAT', `the ${mode} mode is not used in this group`);
  return alg;
}

/** The AAD (`Enc_structure` over the Group OSCORE external_aad) for a message. */
export function groupAad(
  common: GroupCommonContext,
  fields: Omit<GroupAadFields, 'algorithms' | 'gmCredential'>,
): {
  externalAad: Buffer;
  aad: Buffer;
} {
  const externalAad = groupExternalAad({
    ...fields,
    algorithms: groupAlgorithms(common),
    gmCredential: common.gmCredential,
  });
  return { externalAad, aad: encStructure(externalAad) };
}

/** What a client tracks per replying server (draft §5.3.1). */
export interface ServerResponseState {
  /** A response from this server with the request's nonce was accepted. */
  nonceUsed: boolean;
  /** The Response Number: the highest Partial IV accepted from this server. */
  responseNumber: number | undefined;
}

/**
 * A Group OSCORE request binding. Beyond the OSCORE one it knows the mode, the intended server
 * of a pairwise request, and one `ServerResponseState` per server that answered: a group request
 * has many responders (draft §5.3.1). Memory grows only with servers in the Recipient Contexts.
 *
 * @example
 * const { message: sent, binding } = protectGroupRequest(request, group);
 * console.log(binding.mode, binding.servers.size); // 'group' 0: no server has answered yet
 */
export class GroupRequestBinding extends RequestBinding {
  readonly mode: GroupOscoreMode;
  /** The Recipient ID a pairwise request was protected for. */
  readonly target: Buffer | undefined;
  readonly servers = new Map<string, ServerResponseState>();

  constructor(
    init: ConstructorParameters<typeof RequestBinding>[0] & { mode: GroupOscoreMode; target?: Buffer },
  ) {
    super(init);
    this.mode = init.mode;
    this.target = init.target === undefined ? undefined : Buffer.from(init.target);
  }

  /** The state for one server, created on first use. */
  server(id: Buffer): ServerResponseState {
    const k = id.toString('hex');
    let st = this.servers.get(k);
    if (st === undefined) {
      st = { nonceUsed: false, responseNumber: undefined };
      this.servers.set(k, st);
    }
    return st;
  }
}

/** The key a mode encrypts a message to (or from) `peer` with. */
export function sendKey(
  ctx: GroupSecurityContext,
  mode: GroupOscoreMode,
  peer: GroupRecipientContext | undefined,
): Buffer {
  if (mode === 'group') return ctx.sender.key;
  if (peer === undefined) throw new InvalidArgumentError('the pairwise mode needs the recipient');
  return peer.pairwiseKeys().sender;
}

/** The key a mode decrypts a message from `peer` with. */
export function receiveKey(mode: GroupOscoreMode, peer: GroupRecipientContext): Buffer {
  return mode === 'group' ? peer.key : peer.pairwiseKeys().recipient;
}
