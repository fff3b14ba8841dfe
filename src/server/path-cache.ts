/**
 * @module server/path-cache
 * The decoded Uri-Path of recent requests (RFC 7252 §6.5 steps 6-7), remembered by the bytes of
 * their Uri-Path options. A server sees the same few paths again and again, and decoding them
 * (a Buffer view and a UTF-8 string per segment, the array, the joined route key) cost more
 * than routing them. A request's options are read where they lie in the datagram: hashed, then
 * compared with the remembered bytes; only a path not seen recently is decoded. The table is
 * small and direct-mapped, so it stays bounded whatever paths arrive.
 */
import { DecodedOption } from '../message/decode.js';
import type { CoapOption } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { pathOf } from '../uri/index.js';

/** A request's path: its segments (frozen, shared by every request with this path) and them joined by `/`. */
export interface RequestPath {
  readonly segments: readonly string[];
  readonly joined: string;
}

/** Paths remembered; a power of two. */
const SLOTS = 64;

/** Recently seen paths of one server. */
export class PathCache {
  /** Per slot: each segment's length byte then its bytes. */
  readonly #keys: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS).fill(undefined);
  readonly #paths: (RequestPath | undefined)[] = new Array<RequestPath | undefined>(SLOTS).fill(undefined);

  /** The path of a request with these options (sorted by number, as decoded). */
  of(options: readonly CoapOption[]): RequestPath {
    // FNV-1a over each segment's length and bytes.
    let h = 0x811c9dc5;
    let size = 0;
    let longest = 0;
    for (let i = 0; i < options.length; i++) {
      const o = options[i]!;
      if (o.number !== Opt.UriPath) {
        if (o.number > Opt.UriPath) break;
        continue;
      }
      const src = o instanceof DecodedOption ? o.source : o.value;
      const start = o instanceof DecodedOption ? o.start : 0;
      const end = o instanceof DecodedOption ? o.end : src.length;
      h = Math.imul(h ^ (end - start), 0x01000193);
      for (let j = start; j < end; j++) h = Math.imul(h ^ src[j]!, 0x01000193);
      size += 1 + end - start;
      if (end - start > longest) longest = end - start;
    }
    const slot = (h ^ (h >>> 16)) & (SLOTS - 1);
    const key = this.#keys[slot];
    if (key !== undefined && key.length === size && matches(options, key)) return this.#paths[slot]!;
    const segments = Object.freeze(pathOf(options));
    const path: RequestPath = { segments, joined: segments.join('/') };
    // A long path is decoded each time rather than remembered; a key holds lengths up to 255.
    if (size <= 512 && longest <= 255) {
      this.#keys[slot] = keyOf(options, size);
      this.#paths[slot] = path;
    }
    return path;
  }
}

/** True when the Uri-Path options have exactly the bytes of `key`. */
function matches(options: readonly CoapOption[], key: Uint8Array): boolean {
  let k = 0;
  for (let i = 0; i < options.length; i++) {
    const o = options[i]!;
    if (o.number !== Opt.UriPath) {
      if (o.number > Opt.UriPath) break;
      continue;
    }
    const src = o instanceof DecodedOption ? o.source : o.value;
    const start = o instanceof DecodedOption ? o.start : 0;
    const end = o instanceof DecodedOption ? o.end : src.length;
    if (key[k++] !== end - start) return false;
    for (let j = start; j < end; j++) if (key[k++] !== src[j]) return false;
  }
  return k === key.length;
}

function keyOf(options: readonly CoapOption[], size: number): Uint8Array {
  const key = new Uint8Array(size);
  let k = 0;
  for (const o of options) {
    if (o.number !== Opt.UriPath) continue;
    key[k++] = o.value.length;
    key.set(o.value, k);
    k += o.value.length;
  }
  return key;
}
