/**
 * @module rd
 * A resource directory (RFC 9176) that knows groups (its Appendix A, RFC 7390 §2.6.1, §3.3,
 * §3.6): the directory attached to a server, its store, and the node side: registering with a
 * directory and joining the groups it lists.
 */
export {
  ALL_RDS_IPV4,
  ALL_RDS_IPV6_LINK,
  ALL_RDS_IPV6_SITE,
  attachResourceDirectory,
  type ResourceDirectoryOptions,
} from './attach.js';
export {
  DEFAULT_RD_LIMITS,
  RD_LOOKUP_EP_PATH,
  RD_LOOKUP_RES_PATH,
  RD_PATH,
  RD_SIMPLE_PATH,
  type RdLimits,
} from './context.js';
export { type FindRdOptions, findRdInterfaces, type RdInterfaces } from './discover.js';
export { RdRegistration, type RdRegistrationEvent, type RdRegistrationOptions } from './endpoint.js';
export { RdClientError, type RdClientErrorCode, RdStateError, type RdStateErrorCode } from './errors.js';
export {
  type RdGroup,
  type RdGroupEvent,
  RdGroupMembership,
  type RdGroupOptions,
  wantedGroups,
} from './group-joiner.js';
export { type JournalFile, type JournalFs, nodeJournalFs } from './journal.js';
export { DEFAULT_LIFETIME } from './params.js';
export { LOOPBACK_TOOLS, parseToolSpec, type ToolSpec } from './policy.js';
export { ENDPOINT_RT, GROUP_ET, type Registration } from './registration.js';
export { type RdStats, ResourceDirectory } from './resource-directory.js';
export type { RdEvent } from './service.js';
export type { RdChange, RdState, StoredRegistration } from './state.js';
export { MemoryRdStore, type RdStore, VolatileRdStore } from './store.js';
export { DEFAULT_COMPACT_BYTES, FileRdStore, RD_JOURNAL_FILE, RD_SNAPSHOT_FILE } from './store-file.js';
