/**
 * @module index
 * The public API of coap-group. Everything a user (and the CLI) may rely on is exported here.
 */

export * from './block/index.js';
export { BlockTransferError } from './client/block-transfer-error.js';
export type { RequestOptions, ResponseClass } from './client/build.js';
export { type ClientOptions, CoapClient, type UnicastRequestOptions } from './client/client.js';
export type {
  ExchangeKind,
  ExchangeRequest,
  Exchanger,
  ExchangerLayer,
  LayerContext,
  MessageParts,
  ResponseStream,
  Screen,
  SendListener,
  StreamSink,
} from './client/exchanger.js';
export {
  type GroupRequestOptions,
  GroupResponse,
  GroupResponses,
  type GroupSummary,
} from './client/group.js';
export { Observation, type ObserveRequestOptions } from './client/observe.js';
export { type Resolver, resolveHost, systemResolver } from './client/resolve.js';
export { CoapResponse } from './client/response.js';
export { parseRequestUri } from './client/scheme.js';
export * from './constants.js';
export * from './errors.js';
export { FakeRuntime, type SettleOptions } from './fake-runtime.js';
export {
  type AccessDecision,
  type AccessPolicy,
  attachGroupConfig,
  CidrAccessPolicy,
  type CidrPolicyOptions,
  type Controller,
  DEFAULT_GROUP_CONFIG_PATH,
  DEFAULT_LEAVE_GRACE_MS,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_RATE_LIMIT,
  DEFAULT_RESOLVE_TIMEOUT_MS,
  type EntryState,
  type EntryStatus,
  FileGroupConfigStore,
  GroupConfig,
  GroupConfigFullError,
  type GroupConfigOptions,
  type GroupConfigState,
  type GroupConfigStatus,
  type GroupConfigStore,
  GroupStateError,
  type GroupStateErrorCode,
  type GroupTarget,
  IdentityAccessPolicy,
  type IdentityPolicyOptions,
  LOOPBACK_PREFIXES,
  MemoryGroupConfigStore,
  parseController,
  type RateLimitOptions,
  STATE_FILE_NAME,
  type StoreFile,
  type StoreFs,
} from './group-config/index.js';
export * from './group-json/index.js';
export type { Membership as GroupMembership } from './group-json/types.js';
export * from './http-gateway/index.js';
export * from './link-format/index.js';
export {
  Code,
  codeToString,
  Method,
  type MethodName,
  methodName,
  parseCode,
  reasonPhrase,
} from './message/codes.js';
export { decodeMessage } from './message/decode.js';
export { describeMessage } from './message/describe.js';
export { encodeMessage } from './message/encode.js';
export type { CoapMessage, CoapOption } from './message/types.js';
export { MessageType } from './message/types.js';
export { Messenger, type MessengerOptions } from './messenger/messenger.js';
export { ContentFormat, isTextFormat, mediaTypeOf, parseContentFormat } from './options/content-format.js';
export {
  isCritical,
  isNoCacheKey,
  isUnsafe,
  Opt,
  optionByName,
  optionDefinition,
} from './options/registry.js';
export { decodeUint, encodeUint, findOption, findOptions } from './options/values.js';
export { SecurityContext, type SecurityContextInput } from './oscore/context.js';
export * from './oscore/endpoint/index.js';
export { OscoreError, type OscoreErrorCode } from './oscore/errors.js';
export { type GroupContextInput, GroupSecurityContext } from './oscore/group/context.js';
export { ccsCredential } from './oscore/group/credential.js';
export {
  MemorySequenceStorage,
  PersistentSequence,
  type PersistentSequenceOptions,
  type SequenceSource,
  type SequenceStorage,
} from './oscore/sequence.js';
export * from './rd/index.js';
export type { Runtime, TimerHandle } from './runtime.js';
export { systemRuntime } from './runtime.js';
export type { LeisureSetting } from './server/leisure.js';
export { IncomingRequest } from './server/request.js';
export type { Handler, ResourceMeta, ResourceOptions, SecureResourceOptions } from './server/resource.js';
export type { Responder, ResponderStage, RespondOptions } from './server/responder.js';
export type { ResponseInit } from './server/response.js';
export {
  CoapServer,
  type GroupSpec,
  type ListenInfo,
  parseGroupSpec,
  ResourceBuilder,
  type ServerOptions,
} from './server/server.js';
export type {
  InboundRequest,
  RequestSecurity,
  ServerSecurity,
  Site,
  SiteHost,
  SiteLayer,
} from './server/site.js';
export { DEFAULT_SUPPRESSION, type SuppressionPolicy } from './server/suppression.js';
export { type ResolvedInterface, resolveInterface } from './transport/interfaces.js';
export {
  type LinkConditions,
  MemoryNetwork,
  MemoryTransport,
  type NetworkStats,
} from './transport/memory.js';
export type {
  Address,
  Datagram,
  JoinedGroup,
  LocalSocket,
  MulticastOptions,
  Transport,
} from './transport/types.js';
export { UdpTransport, type UdpTransportOptions } from './transport/udp.js';
export * from './uri/index.js';
export { canonicalIPv6, cidrContains, ipFamily, isMulticast, parseCidr } from './util/ip.js';
