/**
 * @module server/block2
 * Block-wise responses (RFC 7959 §2.4): a representation larger than the block size, or any
 * response to a request that carries Block2, is sent one block at a time with Size2 and an ETag.
 * The representation is kept in a small bounded cache so later blocks come from the same
 * version without running the handler again; when it has expired the handler runs again and a
 * changed ETag tells the client to start over (RFC 7959 §2.4). A multicast request is answered
 * with the first block at most, so one request never draws more than one datagram per node
 * (RFC 7390 §2.8, RFC 7252 §11.3).
 */
import { createHash } from 'node:crypto';
import { type BlockValue, blockSlice, encodeBlock } from '../block/index.js';
import { Code } from '../message/codes.js';
import type { CoapMessage, CoapOption } from '../message/types.js';
import { EMPTY } from '../message/types.js';
import type { ResponseParts } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { encodeUint, findOption, uintOption } from '../options/values.js';
import type { Runtime, TimerHandle } from '../runtime.js';
import { pathOf, queryOf } from '../uri/index.js';

/** A cached representation. */
interface Representation {
  readonly parts: ResponseParts;
  readonly etag: Buffer;
  expires: number;
}

/** Bounded FIFO cache of representations being transferred block-wise. */
export class RepresentationCache {
  private readonly entries = new Map<string, Representation>();
  private bytes = 0;
  private sweepTimer: TimerHandle | undefined;
  private readonly runtime: Runtime;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly ttlMs: number;

  constructor(runtime: Runtime, maxEntries = 64, maxBytes = 32 * 1024 * 1024, ttlMs = 60_000) {
    this.runtime = runtime;
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
    this.ttlMs = ttlMs;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): Representation | undefined {
    const r = this.entries.get(key);
    if (r === undefined) return undefined;
    const now = this.runtime.now();
    if (r.expires <= now) {
      this.delete(key, r);
      return undefined;
    }
    // Kept while in use: each access extends its life (a slow transfer must not lose it).
    r.expires = now + this.ttlMs;
    return r;
  }

  put(key: string, parts: ResponseParts, etag: Buffer): void {
    const old = this.entries.get(key);
    if (old) this.delete(key, old);
    if (parts.payload.length > this.maxBytes) return;
    while (this.entries.size >= this.maxEntries || this.bytes + parts.payload.length > this.maxBytes) {
      const first = this.entries.entries().next();
      if (first.done) break;
      this.delete(first.value[0], first.value[1]);
    }
    this.entries.set(key, { parts, etag, expires: this.runtime.now() + this.ttlMs });
    this.bytes += parts.payload.length;
    this.armSweep();
  }

  /** Drops expired entries once per TTL while any are cached, so an idle server frees them. */
  private armSweep(): void {
    if (this.sweepTimer !== undefined || this.entries.size === 0) return;
    this.sweepTimer = this.runtime.setTimeout(() => {
      this.sweepTimer = undefined;
      const now = this.runtime.now();
      for (const [k, r] of this.entries) if (r.expires <= now) this.delete(k, r);
      this.armSweep();
    }, this.ttlMs);
  }

  /** Forgets everything and stops the sweep. */
  clear(): void {
    if (this.sweepTimer !== undefined) this.runtime.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.entries.clear();
    this.bytes = 0;
  }

  private delete(key: string, r: Representation): void {
    this.entries.delete(key);
    this.bytes -= r.parts.payload.length;
  }
}

/**
 * The cache key of the representation a request asks for: who asks (so a later block never
 * reaches a requester the handler would have refused), method, path, Accept, query and a FETCH
 * body's digest.
 */
export function representationKey(msg: CoapMessage, requester: string): string {
  // FETCH repeats its body in every block request (RFC 8132 §2.3.2); POST continuations do not.
  const body =
    msg.code === 5 && msg.payload.length > 0 ? createHash('sha256').update(msg.payload).digest('base64') : '';
  return `${requester}|${msg.code}|${pathOf(msg.options).join('/')}|${uintOption(msg.options, Opt.Accept) ?? ''}|${queryOf(msg.options).join('&')}|${body}`;
}

/**
 * An ETag for a representation that has none: a digest of its bytes, so the same content keeps
 * the same ETag across handler runs and clients, and only a real change makes a client restart.
 */
export function contentEtag(payload: Buffer): Buffer {
  return createHash('sha256').update(payload).digest().subarray(0, 8);
}

/** The block of `parts` the request asked for, with Block2, Size2 and ETag options. */
export function sliceBlock(parts: ResponseParts, want: BlockValue, etag: Buffer | undefined): ResponseParts {
  const slice = blockSlice(parts.payload, want.num, want.szx);
  if (slice === undefined) {
    return { code: Code.BadOption, options: [], payload: Buffer.from(`block ${want.num} is beyond the end`) };
  }
  const options: CoapOption[] = parts.options.filter(
    (o) => o.number !== Opt.Block2 && o.number !== Opt.Size2,
  );
  if (etag !== undefined && findOption(options, Opt.ETag) === undefined)
    options.push({ number: Opt.ETag, value: etag });
  options.push({
    number: Opt.Block2,
    value: encodeBlock({ num: want.num, more: slice.more, szx: want.szx }),
  });
  options.push({ number: Opt.Size2, value: encodeUint(parts.payload.length) });
  options.sort((a, b) => a.number - b.number);
  return { code: parts.code, options, payload: slice.data.length === 0 ? EMPTY : slice.data };
}
