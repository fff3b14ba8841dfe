/**
 * @module group-json
 * The pure codec for `application/coap-group+json`, Content-Format 256 (RFC 7390 §2.6.2.1,
 * §6.2): membership objects and collections, their "n" and "a" values, and group indexes
 * (RFC 7390 §2.6.2.2). No I/O; joining and leaving groups is the caller's part.
 */
export { parseGroupAddress, parseGroupName } from './address.js';
export { GroupJsonError } from './error.js';
export {
  INDEX_SPACE_SIZE,
  indexOrdinal,
  isValidIndex,
  nextFreeIndex,
  normaliseIndex,
} from './group-index.js';
export {
  formatCollection,
  formatMembership,
  membershipPort,
  parseCollection,
  parseMembership,
} from './membership.js';
export { MAX_GROUP_JSON_BYTES } from './strict-json.js';
export type { GroupAddress, GroupName, Membership, MembershipCollection } from './types.js';
