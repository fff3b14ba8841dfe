/**
 * @module oscore/endpoint
 * OSCORE (RFC 8613) and Group OSCORE (draft-ietf-core-oscore-groupcomm) as a layer around the
 * client's exchanger (client/exchanger) and around the server's site (`server/site`):
 * the key-material file (docs/security.md), the keyring, the client and server sides with Echo
 * (RFC 9175), and commissioning helpers.
 */
export { type OscoreClientOptions, OscoreClientSecurity } from './client.js';
export { protectionLayer } from './client-exchanger.js';
export type { RequestProtection, SecuredKind, SecuredRequest } from './client-protection.js';
export { loadOscoreConfig, type OscoreConfigOptions, parseOscoreConfig } from './config.js';
export {
  OscoreConfigError,
  OscoreExchangeError,
  type OscoreExchangeErrorCode,
  OscoreNoContextError,
} from './errors.js';
export {
  type GenerateGroupOptions,
  type GenerateOscoreOptions,
  generateGroup,
  generateOscorePair,
  type OscoreConfigFile,
  writeKeyFile,
} from './generate.js';
export { type Destination, type GroupEntry, type OscoreEntry, OscoreKeyring } from './keyring.js';
export { FileSequenceStorage } from './sequence-file.js';
export { type OscoreServerOptions, OscoreServerSecurity } from './server.js';
export type {
  OpenedRequest,
  OscoreRequestSecurity,
  RequestOrigin,
  SecurityVerdict,
} from './server-verdict.js';
