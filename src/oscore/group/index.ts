/**
 * @module oscore/group
 * Group OSCORE (draft-ietf-core-oscore-groupcomm) over the OSCORE primitives: the group Security
 * Context (§2), CCS credentials (§2.4), pairwise keys with X25519 (§2.5.1), the extended AAD and
 * the encrypted countersignature (§3, §4), and protection in the group and pairwise modes (§7, §8).
 * Not covered: Group Manager interactions, rekeying with a new Gid, dynamic Recipient Contexts,
 * signature algorithms other than EdDSA/Ed25519, Group Encryption Algorithms without integrity.
 */
export {
  ED25519_SIGNATURE_LENGTH,
  GroupCommonContext,
  type GroupContextInput,
  GroupRecipientContext,
  GroupSecurityContext,
  GroupSenderContext,
  PairwiseKeyAgreementAlgorithm,
  SignatureAlgorithm,
} from './context.js';
export { type CredentialKey, ccsCredential, credentialKey, OkpCurve } from './credential.js';
export {
  type GroupOscoreMode,
  GroupRequestBinding,
  groupAlgorithms,
  type ServerResponseState,
} from './mode.js';
export {
  derivePairwiseKeys,
  ed25519PrivateToX25519,
  ed25519PublicToX25519,
  type PairwiseKeyInput,
  sharedSecret,
} from './pairwise.js';
export {
  type ProtectGroupRequestOptions,
  type ProtectGroupResponseOptions,
  protectGroupRequest,
  protectGroupResponse,
} from './protect.js';
export {
  countersign,
  countersignatureKeystream,
  countersignStructure,
  type GroupAadFields,
  type GroupAlgorithms,
  groupExternalAad,
  type KeystreamInput,
  splitGroupPayload,
  verifyCountersignature,
  xorKeystream,
} from './signature.js';
export {
  type GroupContextResolver,
  type UnprotectedGroupRequest,
  type UnprotectedGroupResponse,
  unprotectGroupRequest,
  unprotectGroupResponse,
} from './unprotect.js';
