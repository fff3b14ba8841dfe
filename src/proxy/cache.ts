/**
 * @module proxy/cache
 * The proxy's response cache (RFC 7252 §5.6; groupcomm-proxy §7 stores each member's response
 * to a group request here too, under the member's own URI). The Cache-Key is the method, the
 * normalised target URI (§6.3) and every other request option except the NoCacheKey ones
 * (§5.4.6), those the cache interprets (ETag, §5.10.6; Group-ETag, groupcomm-proxy §7.3), and
 * the hop-by-hop ones (Observe, RFC 7641 §2; Hop-Limit; Multicast-Timeout); FETCH adds its
 * payload (RFC 8132 §2). Freshness comes from Max-Age, 60 s by default (§5.6.1), and a response
 * served from the cache carries what is left of it, never more. Bounded in entries and bytes,
 * least recently used first out.
 */
import { createHash } from 'node:crypto';
import { Code } from '../message/codes.js';
import type { CoapOption } from '../message/types.js';
import type { ProxyOptionNumbers } from '../options/proxy-numbers.js';
import { isNoCacheKey, isUnsafe, Opt } from '../options/registry.js';
import { findOption, uintOption } from '../options/values.js';
import type { Runtime } from '../runtime.js';
import { type CoapUri, formatUri } from '../uri/index.js';

/** RFC 7252 §5.10.5: Max-Age when the response has none. */
export const DEFAULT_MAX_AGE = 60;

/** One stored response. */
export interface CacheEntry {
  readonly key: string;
  /** The normalised URI of the resource, for invalidation. */
  readonly uri: string;
  readonly code: number;
  /** The response's options, Max-Age left out (it is computed when served). */
  options: CoapOption[];
  readonly payload: Buffer;
  /** When it was stored or last validated, ms. */
  storedAt: number;
  /** Max-Age at `storedAt`, seconds. */
  maxAge: number;
  readonly etag: Buffer | undefined;
  readonly bytes: number;
}

/** A response as it came, to store. */
export interface StoredParts {
  readonly code: number;
  readonly options: readonly CoapOption[];
  readonly payload: Buffer;
}

function excluded(n: number, numbers: ProxyOptionNumbers): boolean {
  return (
    isNoCacheKey(n) ||
    n === Opt.ETag ||
    n === Opt.Observe ||
    n === Opt.HopLimit ||
    n === Opt.Oscore ||
    n === numbers.multicastTimeout ||
    n === numbers.groupETag
  );
}

/**
 * The Cache-Key of a request (module comment). `others` are its options without Proxy-* and
 * Uri-*, which `uri` stands for.
 */
export function cacheKey(
  method: number,
  uri: CoapUri,
  others: readonly CoapOption[],
  payload: Buffer,
  numbers: ProxyOptionNumbers,
): string {
  let key = `${method} ${formatUri(uri)}`;
  for (const o of others) if (!excluded(o.number, numbers)) key += ` ${o.number}=${o.value.toString('hex')}`;
  // RFC 8132 §2: a FETCH's body is part of what it asks for.
  if (method === 5) key += ` #${createHash('sha256').update(payload).digest('hex')}`;
  return key;
}

/** RFC 7252 §5.9, §5.6: which response codes a cache stores (2.05, and errors, which cannot be validated). */
export function isCacheable(code: number): boolean {
  return code === Code.Content || code >> 5 === 4 || code >> 5 === 5;
}

/** The bounded cache. */
export class ResponseCache {
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #runtime: Runtime;
  /** In least-recently-used order (a hit re-inserts). */
  readonly #entries = new Map<string, CacheEntry>();
  /** Keys by resource URI, for invalidation (RFC 7252 §5.9.1.1, §5.9.1.2, §5.9.1.4). */
  readonly #byUri = new Map<string, Set<string>>();
  #bytes = 0;

  constructor(limits: { entries: number; bytes: number }, runtime: Runtime) {
    this.#maxEntries = limits.entries;
    this.#maxBytes = limits.bytes;
    this.#runtime = runtime;
  }

  get enabled(): boolean {
    return this.#maxEntries > 0 && this.#maxBytes > 0;
  }

  /** The entry under `key`, fresh or not; a hit makes it the most recently used. */
  get(key: string): CacheEntry | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, e);
    return e;
  }

  /** Seconds of freshness left (RFC 7252 §5.6.1: "MUST NOT extend the max-age"), rounded down. */
  remaining(e: CacheEntry): number {
    const age = (this.#runtime.now() - e.storedAt) / 1000;
    return Math.max(0, Math.floor(e.maxAge - age));
  }

  fresh(e: CacheEntry): boolean {
    return (this.#runtime.now() - e.storedAt) / 1000 < e.maxAge;
  }

  /** Stores a response under `key` (replacing what was there, RFC 7252 §5.6); false when it cannot be. */
  put(key: string, uri: string, r: StoredParts): CacheEntry | undefined {
    if (!this.enabled) return undefined;
    const options = r.options.filter((o) => o.number !== Opt.MaxAge);
    let bytes = key.length + r.payload.length + 64;
    for (const o of options) bytes += o.value.length + 8;
    this.delete(key);
    if (bytes > this.#maxBytes) return undefined;
    while (this.#entries.size >= this.#maxEntries || this.#bytes + bytes > this.#maxBytes) {
      const oldest = this.#entries.keys().next().value as string | undefined;
      if (oldest === undefined) break;
      this.delete(oldest);
    }
    const e: CacheEntry = {
      key,
      uri,
      code: r.code,
      options,
      // A copy: the response's payload is a view of a datagram buffer (zero-copy decoding).
      payload: Buffer.from(r.payload),
      storedAt: this.#runtime.now(),
      maxAge: uintOption(r.options, Opt.MaxAge) ?? DEFAULT_MAX_AGE,
      etag: findOption(r.options, Opt.ETag)?.value,
      bytes,
    };
    this.#entries.set(key, e);
    let keys = this.#byUri.get(uri);
    if (keys === undefined) this.#byUri.set(uri, (keys = new Set()));
    keys.add(key);
    this.#bytes += bytes;
    return e;
  }

  /**
   * A 2.03 validated `e` (RFC 7252 §5.9.1.3): its Max-Age (explicit or the default) starts
   * again, and each Safe-to-Forward option type in the 2.03 replaces that type in the entry.
   */
  validated(e: CacheEntry, valid: readonly CoapOption[]): void {
    e.storedAt = this.#runtime.now();
    e.maxAge = uintOption(valid, Opt.MaxAge) ?? DEFAULT_MAX_AGE;
    const replaced = new Set(
      valid
        .filter((o) => !isUnsafe(o.number) && o.number !== Opt.MaxAge && o.number !== Opt.ETag)
        .map((o) => o.number),
    );
    if (replaced.size === 0) return;
    e.options = [
      ...e.options.filter((o) => !replaced.has(o.number)),
      ...valid.filter((o) => replaced.has(o.number)),
    ].sort((a, b) => a.number - b.number);
  }

  /** Marks every response stored for `uri` not fresh (RFC 7252 §5.9.1.1-§5.9.1.4: a change to it). */
  invalidate(uri: string): void {
    for (const key of this.#byUri.get(uri) ?? []) {
      const e = this.#entries.get(key);
      if (e !== undefined) e.maxAge = 0;
    }
  }

  delete(key: string): void {
    const e = this.#entries.get(key);
    if (e === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= e.bytes;
    const keys = this.#byUri.get(e.uri);
    keys?.delete(key);
    if (keys?.size === 0) this.#byUri.delete(e.uri);
  }

  clear(): void {
    this.#entries.clear();
    this.#byUri.clear();
    this.#bytes = 0;
  }

  stats(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }
}
