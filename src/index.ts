/**
 * @module index
 * The public API of coap-group: what an application needs. The client and server (with the
 * errors, constants, codes and options both use: entry/client, entry/server), the in-memory
 * network and the deterministic runtime for tests, the group configuration resource
 * (RFC 7390 §2.6), OSCORE and Group OSCORE as layers around the client and server with their key
 * files, and the resource directory (RFC 9176) with the node side of it. The building blocks
 * (codecs, transports, the message layer, the OSCORE primitives, the directory's internals) are
 * behind subpaths: coap-group/codec, coap-group/transport, coap-group/oscore, coap-group/rd.
 */

export * from './entry/client.js';
export * from './entry/server.js';
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
export type { Membership as GroupMembership } from './group-json/types.js';
export * from './http-gateway/index.js';
export * from './oscore/endpoint/index.js';
export { OscoreError, type OscoreErrorCode } from './oscore/errors.js';
export {
  MemorySequenceStorage,
  PersistentSequence,
  type PersistentSequenceOptions,
  type SequenceSource,
  type SequenceStorage,
} from './oscore/sequence.js';
export * from './proxy/index.js';
export {
  ALL_RDS_IPV4,
  ALL_RDS_IPV6_LINK,
  ALL_RDS_IPV6_SITE,
  attachResourceDirectory,
  FileRdStore,
  type FindRdOptions,
  findRdInterfaces,
  MemoryRdStore,
  RdClientError,
  type RdClientErrorCode,
  type RdGroup,
  type RdGroupEvent,
  RdGroupMembership,
  type RdGroupOptions,
  type RdInterfaces,
  RdRegistration,
  type RdRegistrationEvent,
  type RdRegistrationOptions,
  RdStateError,
  type RdStateErrorCode,
  type RdStats,
  type RdStore,
  ResourceDirectory,
  type ResourceDirectoryOptions,
  VolatileRdStore,
} from './rd/index.js';
export type { Runtime, TimerHandle } from './runtime.js';
export { systemRuntime } from './runtime.js';
export {
  type LinkConditions,
  MemoryNetwork,
  MemoryTransport,
  type NetworkStats,
} from './transport/memory.js';
