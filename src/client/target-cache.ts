/**
 * @module client/target-cache
 * The work a unicast request repeats for the same URI text, done once: parsing (RFC 7252 §6.4
 * steps 1-4), the scheme check (client/scheme) and the decomposition into Uri-* options (§6.4
 * steps 5-9). Only direct requests to an IP literal are kept: for them the destination and the
 * options depend on nothing but the text (no resolver, whose answer may change, and no proxy).
 * Failures are never kept, so a bad URI is refused every time exactly as without the cache.
 */
import type { CoapOption } from '../message/types.js';
import type { Address } from '../transport/types.js';

/** URI texts remembered at most; the oldest is forgotten first. */
const MAX_TARGETS = 256;

/** What a URI text gives a direct request to an IP literal. */
export interface CachedTarget {
  /** Shared by every request to the URI: never to be changed. */
  readonly dest: Address;
  readonly proxy: undefined;
  /** The Uri-* options (RFC 7252 §6.4); shared, so never to be changed. */
  readonly options: readonly CoapOption[];
  /** `peerKey` of the destination, for NSTART (RFC 7252 §4.7). */
  readonly key: string;
}

/** A bounded map from URI text to its direct target. */
export class TargetCache {
  readonly #map = new Map<string, CachedTarget>();

  get(uri: string): CachedTarget | undefined {
    return this.#map.get(uri);
  }

  set(uri: string, target: CachedTarget): void {
    const map = this.#map;
    if (map.size >= MAX_TARGETS) map.delete(map.keys().next().value as string);
    map.set(uri, target);
  }
}
