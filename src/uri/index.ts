/**
 * @module uri
 * CoAP URIs (RFC 7252 §6): parsing, canonical formatting, the request options a URI becomes
 * (§6.4) and comes back from (§6.5), and response locations (§5.10.7, §8.2).
 */
export {
  type Cri,
  type CriAuthority,
  CriError,
  type CriReference,
  criOfEndpoint,
  decodeCri,
  decodeCriReference,
  decodeReplyFrom,
  encodeCri,
  encodeCriReference,
  encodeReplyFrom,
  formatCri,
  type ReplyFrom,
} from './cri.js';
export { formatHost, formatUri, isGroupUri, pathString, queryString } from './format.js';
export { locationOf, resolveLocation } from './location.js';
export type { RequestDestination, SocketAddress } from './options.js';
export { optionsToUri, pathOf, queryOf, uriToOptions } from './options.js';
export { parseUri } from './parse.js';
export type { CoapScheme, CoapUri } from './types.js';
export { defaultPort } from './types.js';
