/**
 * @module oscore/group
 * Group OSCORE (draft-ietf-core-oscore-groupcomm) over the OSCORE primitives: the group Security
 * Context (§2), CCS credentials (§2.4), pairwise keys with X25519 or P-256 ECDH (§2.5.1), the
 * extended AAD and the encrypted countersignature with EdDSA or ES256 (§2.1.8, §3, §4), and
 * protection in the group and pairwise modes (§7, §8). Not covered: Group Manager interactions,
 * rekeying with a new Gid, dynamic Recipient Contexts, signature algorithms other than
 * EdDSA/Ed25519 and ES256/P-256, Group Encryption Algorithms without integrity.
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
export { type CredentialKey, ccsCredential, credentialKey, Ec2Curve, OkpCurve } from './credential.js';
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
  sharedSecretP256,
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
  SIGNATURE_LENGTH,
  splitGroupPayload,
  verifyCountersignature,
  verifyEitherLayout,
  xorKeystream,
} from './signature.js';
export {
  type GroupContextResolver,
  type UnprotectedGroupRequest,
  type UnprotectedGroupResponse,
  unprotectGroupRequest,
  unprotectGroupResponse,
} from './unprotect.js';
