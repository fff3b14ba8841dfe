/**
 * @module proxy/group-job
 * What one forwarded group request is made of (groupcomm-proxy §5.2.1): the client and its
 * token, the group, the request as it goes to the group, T', and whether its responses are
 * stored (§7).
 */
import type { MessageParts } from '../client/exchanger.js';
import type { Address } from '../transport/types.js';
import type { GroupCache, GroupRequestKey } from './group-cache.js';

/** What a forwarding is made of. */
export interface GroupJob {
  /** Forwarding key (client endpoint and token). */
  readonly key: string;
  readonly client: Address;
  /** The group (`groupKey`), for the turns and limits. */
  readonly group: string;
  readonly dest: Address;
  /** The request as it goes to the group. */
  readonly parts: MessageParts;
  /** T' in seconds, clamped to the cap. */
  readonly timeout: number;
  /** When the client's request arrived, ms. */
  readonly received: number;
  readonly observe: boolean;
  /** Protected end to end (a Group OSCORE request the proxy cannot read). */
  readonly protected: boolean;
  /** Set when the members' responses are stored (groupcomm-proxy §7). */
  readonly cacheKey: GroupRequestKey | undefined;
  readonly groupCache: GroupCache;
}
