/**
 * @module entry/server
 * The package's `coap-group/server` entry: the server alone (resources and routes, RFC 6690
 * discovery, RFC 7390 group membership with Leisure and suppression, RFC 7641 notifications,
 * RFC 7959 block-wise responses), the site and responder seams a layer or proxy handler plugs
 * into, and what its users need beside it (entry/common). The package's root gives the same
 * names.
 */
export type { LeisureSetting } from '../server/leisure.js';
export { IncomingRequest } from '../server/request.js';
export type { Handler, ResourceMeta, ResourceOptions, SecureResourceOptions } from '../server/resource.js';
export type { Responder, ResponderStage, RespondOptions } from '../server/responder.js';
export type { ResponseInit } from '../server/response.js';
export {
  CoapServer,
  type GroupSpec,
  type ListenInfo,
  parseGroupSpec,
  ResourceBuilder,
  type ServerOptions,
} from '../server/server.js';
export type {
  InboundRequest,
  RequestSecurity,
  ServerSecurity,
  Site,
  SiteHost,
  SiteLayer,
} from '../server/site.js';
export { DEFAULT_SUPPRESSION, type SuppressionPolicy } from '../server/suppression.js';
export type { JoinedGroup, LocalSocket, Transport } from '../transport/types.js';
export * from './common.js';
