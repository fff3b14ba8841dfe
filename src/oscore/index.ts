/**
 * @module oscore
 * OSCORE (RFC 8613) as pure functions over `CoapMessage`: context derivation (§3), the OSCORE
 * option (§6.1), nonce and AAD (§5.2, §5.4), protection and verification of requests and
 * responses (§8), replay protection and sequence numbers (§7), and the error responses (§8.2).
 * No sockets and no timers: the client and server layers call these.
 */
export { AeadAlgorithm, type AeadParameters, aeadParameters, type HkdfAlgorithm } from './algorithms.js';
export { RequestBinding } from './binding.js';
export {
  CborSimple,
  type CborValue,
  decodeCbor,
  decodeCborSequence,
  encodeCbor,
  encodeCborWrapped,
} from './cbor.js';
export { isInnerOption, isOuterOnlyOption, isOuterOption, type OptionClass, optionClass } from './classes.js';
export {
  CommonContext,
  type ContextResolver,
  deriveInfo,
  RecipientContext,
  SecurityContext,
  type SecurityContextInput,
  SecurityContextRegistry,
  SenderContext,
} from './context.js';
export { aadArray, computeNonce, encStructure, externalAad, OSCORE_VERSION, oscoreAad } from './cose.js';
export {
  OscoreError,
  type OscoreErrorCode,
  type OscoreErrorResponse,
  oscoreErrorResponse,
} from './errors.js';
export {
  type DecodeOscoreOptionOptions,
  decodeOscoreOption,
  decodePartialIv,
  encodeOscoreOption,
  encodePartialIv,
  type OscoreOptionValue,
} from './option.js';
export { decodePlaintext, encodePlaintext, type Plaintext } from './plaintext.js';
export {
  type ProtectedRequest,
  type ProtectRequestOptions,
  type ProtectResponseOptions,
  protectRequest,
  protectResponse,
} from './protect.js';
export { type DecomposedProxyUri, decomposeProxyUri } from './proxy-uri.js';
export { DEFAULT_REPLAY_WINDOW, MAX_REPLAY_WINDOW, type ReplayVerdict, ReplayWindow } from './replay.js';
export {
  CounterSequence,
  MAX_SEQUENCE_NUMBER,
  MemorySequenceStorage,
  PersistentSequence,
  type PersistentSequenceOptions,
  type SequenceSource,
  type SequenceStorage,
} from './sequence.js';
export {
  isOscoreMessage,
  type UnprotectedRequest,
  type UnprotectedResponse,
  type UnprotectOptions,
  unprotectRequest,
  unprotectResponse,
} from './unprotect.js';
