/**
 * @module proxy/group-cache
 * Group responses in the cache (groupcomm-proxy §7, §7.1, §7.3). Each member's response to a
 * group GET or FETCH is stored under the member's own URI, "obtained by replacing the authority
 * component of the group URI … with the transport-layer source address and port number of the
 * response", with its Reply-From included "before caching". The set J of a group request is the
 * members' fresh entries; it is "complete" when every known member has one (proxy/membership).
 * Its entity-tag, the Group-ETag, is the first 8 bytes of SHA-256 over the members' entries,
 * sorted: address and port, code, Content-Format, ETag (else the payload's hash) and Location-*.
 * So the tag changes exactly when some member's representation changes, and stays the same on a
 * refresh that changed nothing (one reading of §7.3 "MUST update the current entity-tag value
 * … when one of its cache entry is updated"; docs/proxy.md).
 */
import { createHash } from 'node:crypto';
import type { CoapOption } from '../message/types.js';
import type { ProxyOptionNumbers } from '../options/proxy-numbers.js';
import { Opt } from '../options/registry.js';
import type { Address } from '../transport/types.js';
import { type CoapUri, formatUri } from '../uri/index.js';
import { hostFromAddress } from '../uri/types.js';
import { type CacheEntry, cacheKey, type ResponseCache, type StoredParts } from './cache.js';

/** The set J of one group request (groupcomm-proxy §7.3). */
export interface GroupSet {
  /** Every known member has a fresh entry. */
  readonly complete: boolean;
  /** The fresh entries, by member (`peerKey`). */
  readonly entries: ReadonlyMap<string, CacheEntry>;
  /** The Group-ETag of a complete set. */
  readonly tag: Buffer | undefined;
  /** Seconds the whole set stays fresh: the least left of its entries. */
  readonly maxAge: number;
}

/** The URI of `member`'s own resource behind a group URI. */
export function memberUri(group: CoapUri, member: Address): CoapUri {
  return { ...group, ...hostFromAddress(member.address), port: member.port, explicitPort: true };
}

/** What identifies a group request in the cache. */
export interface GroupRequestKey {
  readonly method: number;
  readonly uri: CoapUri;
  readonly others: readonly CoapOption[];
  readonly payload: Buffer;
}

const LOCATION = new Set<number>([Opt.LocationPath, Opt.LocationQuery, Opt.ContentFormat, Opt.ETag]);

/** The group side of the response cache. */
export class GroupCache {
  readonly #cache: ResponseCache;
  readonly #numbers: ProxyOptionNumbers;

  constructor(cache: ResponseCache, numbers: ProxyOptionNumbers) {
    this.#cache = cache;
    this.#numbers = numbers;
  }

  #key(r: GroupRequestKey, member: Address): { key: string; uri: string } {
    const uri = memberUri(r.uri, member);
    return { key: cacheKey(r.method, uri, r.others, r.payload, this.#numbers), uri: formatUri(uri) };
  }

  /** Stores `member`'s response (Reply-From already in it), replacing the one before. */
  store(r: GroupRequestKey, member: Address, parts: StoredParts): void {
    const { key, uri } = this.#key(r, member);
    this.#cache.put(key, uri, parts);
  }

  /** J for `members` (`peerKey`s of the known members), or undefined when the membership is unknown. */
  set(r: GroupRequestKey, members: ReadonlySet<string> | undefined): GroupSet | undefined {
    if (members === undefined || members.size === 0) return undefined;
    const entries = new Map<string, CacheEntry>();
    let maxAge = Number.POSITIVE_INFINITY;
    for (const m of members) {
      const sep = m.lastIndexOf('|');
      const member = { address: m.slice(0, sep), port: Number(m.slice(sep + 1)) };
      const e = this.#cache.get(this.#key(r, member).key);
      if (e === undefined || !this.#cache.fresh(e)) continue;
      entries.set(m, e);
      maxAge = Math.min(maxAge, this.#cache.remaining(e));
    }
    const complete = entries.size === members.size;
    return {
      complete,
      entries,
      tag: complete ? tagOf(entries) : undefined,
      maxAge: entries.size === 0 ? 0 : maxAge,
    };
  }
}

/** The Group-ETag of a complete set (module comment). */
export function tagOf(entries: ReadonlyMap<string, CacheEntry>): Buffer {
  const h = createHash('sha256');
  for (const m of [...entries.keys()].sort()) {
    const e = entries.get(m)!;
    h.update(`${m}\n${e.code}\n`);
    const etag = e.options.find((o) => o.number === Opt.ETag)?.value;
    h.update(etag === undefined ? createHash('sha256').update(e.payload).digest() : etag);
    for (const o of e.options)
      if (LOCATION.has(o.number)) h.update(`\n${o.number}=${o.value.toString('hex')}`);
    h.update('\n\n');
  }
  return h.digest().subarray(0, 8);
}
