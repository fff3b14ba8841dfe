/**
 * @module server/outer-block
 * Outer block-wise transfer of protected messages (RFC 8613 §4.1.3.4.2): an intermediary may
 * fragment an OSCORE message with Outer Block options, which the security hook never sees.
 * - Outer Block1: the fragments of a protected request are reassembled before it is opened
 *   (RFC 7959 §2.5), each answered with an unprotected 2.31 Continue, since nothing can be
 *   verified before the whole message is there.
 * - Outer Block2: the sealed response is sent in fragments of the size asked for, and kept in
 *   the representation cache, so later fragments are served from it: opening the same
 *   protected request twice would be a replay (RFC 8613 §7.4).
 * A multicast request gets none of this (RFC 7390 §2.8: one datagram per request, first block
 * at most): it is dropped.
 */
import { type BlockValue, encodeBlock } from '../block/index.js';
import { Code } from '../message/codes.js';
import { type CoapMessage, EMPTY } from '../message/types.js';
import type { ResponseParts, ServerExchange } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { findOption, withOption } from '../options/values.js';
import { block1Reply } from './block1.js';
import { sliceBlock } from './block2.js';
import type { ServerContext } from './context.js';
import { blockOption, requesterOf } from './exchange-info.js';
import { simple } from './respond.js';

/** Block1 bodies of protected requests are keyed apart from any path (RFC 9175 §3.3). */
const OUTER_PATH = '\u0000oscore';

/** True for a protected request that carries Outer Block options. */
export function hasOuterBlock(msg: CoapMessage): boolean {
  if (findOption(msg.options, Opt.Oscore) === undefined) return false;
  return msg.options.some((o) => o.number === Opt.Block1 || o.number === Opt.Block2);
}

function cacheKey(ex: ServerExchange, oscore: Buffer): string {
  // The OSCORE option names the request: its Partial IV is never used twice by one sender.
  return `oscore|${requesterOf(ex)}|${oscore.toString('hex')}`;
}

/**
 * Handles the Outer Block options of a protected request. Returns the whole protected request,
 * without them, for the security hook; or undefined when the exchange was answered here (a
 * fragment acknowledged, an error, or a later fragment of a response already sent).
 */
export function receiveOuter(ctx: ServerContext, ex: ServerExchange): CoapMessage | undefined {
  if (ex.multicast) {
    ex.finish();
    return undefined;
  }
  const msg = ex.request;
  const block1 = blockOption(msg, Opt.Block1);
  const block2 = blockOption(msg, Opt.Block2);
  if (block1 === null || block2 === null) {
    ex.respond(simple(Code.BadRequest, 'invalid Block option'));
    return undefined;
  }
  const oscore = findOption(msg.options, Opt.Oscore)!.value;
  if (block2 !== undefined && block2.num > 0) {
    const cached = ctx.representations.get(cacheKey(ex, oscore));
    if (cached !== undefined) {
      // No Outer ETag: the key names one request, whose response cannot change.
      ex.respond(sliceBlock(cached.parts, block2, undefined));
      return undefined;
    }
    // Gone from the cache: opening the request again finds it a replay, and says so.
  }
  let whole = msg;
  if (block1 !== undefined) {
    const r = ctx.block1.receive(msg, ex.remote, block1, OUTER_PATH);
    // Unprotected: nothing of the request is verified yet.
    if (r.kind !== 'complete') {
      ex.respond(block1Reply(r));
      return undefined;
    }
    whole = { ...msg, payload: r.payload };
  }
  ctx.outer.set(ex, {
    block1: block1 === undefined ? undefined : r1(block1),
    block2,
    key: cacheKey(ex, oscore),
  });
  return {
    ...whole,
    options: whole.options.filter(
      (o) => o.number !== Opt.Block1 && o.number !== Opt.Block2 && o.number !== Opt.Size1,
    ),
  };
}

/** The Outer Block options of a protected exchange. */
export interface OuterBlocks {
  /** The last fragment of the request, echoed in the response (RFC 7959 §2.3). */
  readonly block1: BlockValue | undefined;
  /** The fragment size the response is asked for. */
  readonly block2: BlockValue | undefined;
  readonly key: string;
}

/** The last request fragment, as echoed: its number and size, no more to come. */
function r1(b: BlockValue): BlockValue {
  return { num: b.num, more: false, szx: b.szx };
}

/**
 * The sealed response as it goes out: its first fragment when the request asked for Outer
 * Block2, with Outer Block1 when the request came in fragments.
 */
export function sliceOuter(ctx: ServerContext, ex: ServerExchange, sealed: ResponseParts): ResponseParts {
  const outer = ctx.outer.get(ex);
  if (outer === undefined) return sealed;
  let out = sealed;
  if (outer.block2 !== undefined) {
    const szx = Math.min(outer.block2.szx, ctx.maxSzx);
    if (sealed.payload.length > 16 << szx) ctx.representations.put(outer.key, sealed, EMPTY);
    out = sliceBlock(sealed, { num: 0, more: false, szx }, undefined);
  }
  if (outer.block1 !== undefined)
    out = { ...out, options: withOption(out.options, Opt.Block1, encodeBlock(outer.block1)) };
  return sealed.confirmable === undefined ? out : { ...out, confirmable: sealed.confirmable };
}
