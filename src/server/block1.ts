/**
 * @module server/block1
 * Reassembly of request bodies sent with Block1 (RFC 7959 §2.5), told apart by Request-Tag
 * (RFC 9175 §3) so one client can send several bodies at once. Memory is bounded: a limit on
 * concurrent bodies, on one body's size and on all buffered bytes, and an idle timeout. Blocks
 * must arrive in order; a gap answers 4.08 (RFC 7959 §2.9.2), a body too large 4.13 with Size1
 * (§2.9.3), and no room for another body 5.03.
 */
import { type BlockValue, encodeBlock, szxToSize } from '../block/index.js';
import { Code } from '../message/codes.js';
import { type CoapMessage, EMPTY } from '../message/types.js';
import type { ResponseParts } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { encodeUint, findOption, uintOption } from '../options/values.js';
import type { Address } from '../transport/types.js';
import { peerKey } from '../util/peer-key.js';
import type { Scheduled, TimerQueue } from '../util/timer-queue.js';

/** Limits of the reassembly buffer. */
export interface Block1Limits {
  /** Bodies being received at once; default 64. */
  readonly maxBodies: number;
  /** Largest body, bytes; default 8 MiB. */
  readonly maxBodySize: number;
  /** All buffered bytes together; default 64 MiB. */
  readonly maxTotalBytes: number;
  /** A body with no block for this long is dropped; default 60 s. */
  readonly idleMs: number;
}

export const DEFAULT_BLOCK1_LIMITS: Block1Limits = Object.freeze({
  maxBodies: 64,
  maxBodySize: 8 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  idleMs: 60_000,
});

interface Body {
  readonly key: string;
  readonly parts: Buffer[];
  size: number;
  nextOffset: number;
  idle: Scheduled | undefined;
}

/** The outcome of one Block1 request. */
export type Block1Result =
  | { kind: 'continue'; block: BlockValue }
  | { kind: 'complete'; payload: Buffer; block: BlockValue }
  | { kind: 'error'; code: number; diagnostic: string; size1?: number };

/**
 * The answer to a block that does not complete a body: 2.31 Continue acknowledging it (RFC 7959
 * §2.3; a smaller SZX here would ask the client to switch to smaller blocks, and we accept the
 * client's size), or the error, with Size1 for a body too large (§2.9.3).
 */
export function block1Reply(r: Exclude<Block1Result, { kind: 'complete' }>): ResponseParts {
  if (r.kind === 'continue')
    return {
      code: Code.Continue,
      options: [{ number: Opt.Block1, value: encodeBlock(r.block) }],
      payload: EMPTY,
    };
  const options = r.size1 === undefined ? [] : [{ number: Opt.Size1, value: encodeUint(r.size1) }];
  return { code: r.code, options, payload: r.diagnostic ? Buffer.from(r.diagnostic) : EMPTY };
}

export class Block1Assembler {
  private readonly bodies = new Map<string, Body>();
  private total = 0;
  private readonly limits: Block1Limits;
  private readonly timers: TimerQueue;

  constructor(timers: TimerQueue, limits: Partial<Block1Limits> = {}) {
    this.timers = timers;
    this.limits = { ...DEFAULT_BLOCK1_LIMITS, ...limits };
  }

  /** Bodies being received, and their bytes: for monitoring and leak tests. */
  stats(): { bodies: number; bytes: number } {
    return { bodies: this.bodies.size, bytes: this.total };
  }

  /** Takes one block of a request body. */
  receive(msg: CoapMessage, source: Address, block: BlockValue, path: string): Block1Result {
    const tag = findOption(msg.options, Opt.RequestTag)?.value.toString('hex') ?? '';
    // RFC 9175 §3.3: the body is identified by endpoint, Request-Tag and the request's target.
    const key = `${peerKey(source)}|${tag}|${msg.code}|${path}`;
    const size = szxToSize(block.szx);
    const offset = block.num * size;
    const size1 = uintOption(msg.options, Opt.Size1);
    if (size1 !== undefined && size1 > this.limits.maxBodySize) return this.tooLarge(key);
    let body = this.bodies.get(key);
    if (offset === 0) {
      if (body) this.drop(body);
      if (this.bodies.size >= this.limits.maxBodies) {
        return {
          kind: 'error',
          code: Code.ServiceUnavailable,
          diagnostic: 'too many block-wise bodies in progress',
        };
      }
      body = { key, parts: [], size: 0, nextOffset: 0, idle: undefined };
      this.bodies.set(key, body);
    }
    if (body === undefined || offset !== body.nextOffset) {
      if (body) this.drop(body);
      return {
        kind: 'error',
        code: Code.RequestEntityIncomplete,
        diagnostic: `block ${block.num} out of order`,
      };
    }
    const data = msg.payload;
    // RFC 7959 §2.2: every block but the last has exactly the block size.
    if ((block.more && data.length !== size) || data.length > size) {
      this.drop(body);
      return {
        kind: 'error',
        code: Code.BadRequest,
        diagnostic: `block ${block.num} has ${data.length} bytes, not ${size}`,
      };
    }
    if (body.size + data.length > this.limits.maxBodySize) return this.tooLarge(key);
    if (this.total + data.length > this.limits.maxTotalBytes) {
      this.drop(body);
      return { kind: 'error', code: Code.ServiceUnavailable, diagnostic: 'block-wise buffer full' };
    }
    body.parts.push(Buffer.from(data));
    body.size += data.length;
    body.nextOffset += data.length;
    this.total += data.length;
    this.timers.cancel(body.idle);
    if (block.more) {
      body.idle = this.timers.schedule(this.limits.idleMs, () => this.drop(body));
      return { kind: 'continue', block: { num: block.num, more: true, szx: block.szx } };
    }
    this.drop(body);
    return {
      kind: 'complete',
      payload: Buffer.concat(body.parts, body.size),
      block: { num: block.num, more: false, szx: block.szx },
    };
  }

  private tooLarge(key: string): Block1Result {
    const body = this.bodies.get(key);
    if (body) this.drop(body);
    return {
      kind: 'error',
      code: Code.RequestEntityTooLarge,
      diagnostic: 'body too large',
      size1: this.limits.maxBodySize,
    };
  }

  private drop(body: Body): void {
    if (this.bodies.get(body.key) !== body) return;
    this.bodies.delete(body.key);
    this.timers.cancel(body.idle);
    this.total -= body.size;
  }

  /** Drops every body. */
  clear(): void {
    for (const b of [...this.bodies.values()]) this.drop(b);
  }
}
