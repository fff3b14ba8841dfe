/**
 * @module group-config
 * The Group Configuration resource of RFC 7390 §2.6.2 (rt="core.gp", Content-Format 256, §6):
 * the resource and its handlers, the membership synchronisation, the durable store, the access
 * policy and the change limit (RFC 7390 §6.2).
 */

export { nodeStoreFs, type StoreFile, type StoreFs } from '../util/store-fs.js';
export {
  attachGroupConfig,
  DEFAULT_GROUP_CONFIG_PATH,
  DEFAULT_LEAVE_GRACE_MS,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_RESOLVE_TIMEOUT_MS,
  type GroupConfigOptions,
} from './attach.js';
export { type EntryState, type EntryStatus, GroupConfig, type GroupConfigStatus } from './config.js';
export { GroupConfigFullError, GroupStateError, type GroupStateErrorCode } from './errors.js';
export {
  type Controller,
  IdentityAccessPolicy,
  type IdentityPolicyOptions,
  parseController,
} from './identity-policy.js';
export type { GroupTarget } from './membership-sync.js';
export {
  type AccessDecision,
  type AccessPolicy,
  CidrAccessPolicy,
  type CidrPolicyOptions,
  LOOPBACK_PREFIXES,
} from './policy.js';
export { DEFAULT_RATE_LIMIT, type RateLimitOptions, TokenBucket } from './rate-limit.js';
export { emptyState, type GroupConfigState } from './state-file.js';
export {
  FileGroupConfigStore,
  type GroupConfigStore,
  MemoryGroupConfigStore,
  STATE_FILE_NAME,
} from './store.js';
