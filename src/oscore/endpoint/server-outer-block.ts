/**
 * @module oscore/endpoint/server-outer-block
 * Outer block-wise transfer of protected messages at the server (RFC 8613 §4.1.3.4.2): an
 * intermediary may fragment an OSCORE message with Outer Block options, which the verification
 * never sees.
 * - Outer Block1: the fragments of a protected request are reassembled before it is opened
 *   (RFC 7959 §2.5), each answered with an unprotected 2.31 Continue, since nothing can be
 *   verified before the whole message is there.
 * - Outer Block2: the sealed response is sent in fragments of the size asked for, and kept in
 *   the server's representation cache, so later fragments are served from it: opening the same
 *   protected request twice would be a replay (RFC 8613 §7.4).
 * A multicast request gets none of this (RFC 7390 §2.8: one datagram per request, first block
 * at most): it is dropped.
 */
import { type BlockValue, encodeBlock } from '../../block/index.js';
import { Code } from '../../message/codes.js';
import { type CoapMessage, EMPTY } from '../../message/types.js';
import type { ResponseParts } from '../../messenger/server-exchange.js';
import { Opt } from '../../options/registry.js';
import { findOption, withOption } from '../../options/values.js';
import { blockOption } from '../../server/block-option.js';
import { block1Reply } from '../../server/block1.js';
import { sliceBlock } from '../../server/block2.js';
import type { Responder } from '../../server/responder.js';
import type { InboundRequest, SiteHost } from '../../server/site.js';
import { peerKey } from '../../util/peer-key.js';

/** Block1 bodies of protected requests are keyed apart from any path (RFC 9175 §3.3). */
const OUTER_PATH = '\u0000oscore';

/** The Outer Block options of a protected exchange. */
export interface OuterBlocks {
  /** The last fragment of the request, echoed in the response (RFC 7959 §2.3). */
  readonly block1: BlockValue | undefined;
  /** The fragment size the response is asked for. */
  readonly block2: BlockValue | undefined;
  /** Where the sealed response is cached for its later fragments. */
  readonly key: string;
}

function cacheKey(req: InboundRequest, oscore: Buffer): string {
  // The OSCORE option names the request: its Partial IV is never used twice by one sender.
  return `oscore|${peerKey(req.remote)}|${oscore.toString('hex')}`;
}

/**
 * Handles the Outer Block options of a protected request. Returns the whole protected request,
 * without them, and what its response must carry; or undefined when the request was answered
 * here (a fragment acknowledged, an error, or a later fragment of a response already sent).
 */
export function receiveOuter(
  host: SiteHost,
  req: InboundRequest,
  res: Responder,
): { readonly message: CoapMessage; readonly outer: OuterBlocks } | undefined {
  if (req.multicast) {
    res.finish();
    return undefined;
  }
  const msg = req.message;
  const block1 = blockOption(msg, Opt.Block1);
  const block2 = blockOption(msg, Opt.Block2);
  if (block1 === null || block2 === null) {
    res.respond({ code: Code.BadRequest, options: [], payload: Buffer.from('invalid Block option') });
    return undefined;
  }
  const key = cacheKey(req, findOption(msg.options, Opt.Oscore)!.value);
  if (block2 !== undefined && block2.num > 0) {
    const cached = host.representations.get(key);
    if (cached !== undefined) {
      // No Outer ETag: the key names one request, whose response cannot change.
      res.respond(sliceBlock(cached.parts, block2, undefined));
      return undefined;
    }
    // Gone from the cache: opening the request again finds it a replay, and says so.
  }
  let whole = msg;
  if (block1 !== undefined) {
    const r = host.block1.receive(msg, req.remote, block1, OUTER_PATH);
    // Unprotected: nothing of the request is verified yet.
    if (r.kind !== 'complete') {
      res.respond(block1Reply(r));
      return undefined;
    }
    whole = { ...msg, payload: r.payload };
  }
  const message = {
    ...whole,
    options: whole.options.filter(
      (o) => o.number !== Opt.Block1 && o.number !== Opt.Block2 && o.number !== Opt.Size1,
    ),
  };
  const last = block1 === undefined ? undefined : { num: block1.num, more: false, szx: block1.szx };
  return { message, outer: { block1: last, block2, key } };
}

/**
 * The sealed response as it goes out: its first fragment when the request asked for Outer
 * Block2, with Outer Block1 when the request came in fragments.
 */
export function sliceOuter(host: SiteHost, outer: OuterBlocks, sealed: ResponseParts): ResponseParts {
  let out = sealed;
  if (outer.block2 !== undefined) {
    const szx = Math.min(outer.block2.szx, host.maxSzx);
    if (sealed.payload.length > 16 << szx) host.representations.put(outer.key, sealed, EMPTY);
    out = sliceBlock(sealed, { num: 0, more: false, szx }, undefined);
  }
  if (outer.block1 !== undefined)
    out = { ...out, options: withOption(out.options, Opt.Block1, encodeBlock(outer.block1)) };
  return sealed.confirmable === undefined ? out : { ...out, confirmable: sealed.confirmable };
}
