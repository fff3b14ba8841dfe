/**
 * @module server/respond
 * The last steps of a handler's response before the responder sends it: Accept (RFC 7252
 * §5.10.4: 4.06), Observe registration (RFC 7641 §3.1-3.2, §3.6), block-wise slicing (RFC 7959
 * §2.4; the first block only for multicast, RFC 7390 §2.8) and the Block1 option of a reassembled
 * body, repeated in its response (RFC 7959 §2.3). Suppression, No-Response and Leisure are the responder's.
 */
import { type BlockValue, encodeBlock } from '../block/index.js';
import { Code } from '../message/codes.js';
import { EMPTY } from '../message/types.js';
import type { ResponseParts } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { encodeUint, findOption, uintOption } from '../options/values.js';
import { contentEtag, sliceBlock } from './block2.js';
import type { ServerContext } from './context.js';
import type { Resource } from './resource.js';
import type { Responder, RespondOptions } from './responder.js';
import type { InboundRequest } from './site.js';

/** What the router learned about the request that shapes its response. */
export interface ResponseContext {
  readonly resource: Resource | undefined;
  /** How the response is sent (the resource's suppression policy). */
  readonly how: RespondOptions | undefined;
  /** Block2 the client asked for, if any. */
  readonly block2: BlockValue | undefined;
  /** Block1 of the final block of a reassembled body, echoed in the response (RFC 7959 §2.3). */
  readonly block1: BlockValue | undefined;
  /** Key of the representation for later blocks (computed on demand). */
  representationKey(): string;
  /** 0 to register, 1 to deregister (RFC 7641 §2), undefined otherwise. */
  readonly observe: number | undefined;
}

/** A response with a code and an optional diagnostic payload (RFC 7252 §5.5.2). */
export function simple(code: number, diagnostic = ''): ResponseParts {
  return { code, options: [], payload: diagnostic ? Buffer.from(diagnostic) : EMPTY };
}

/** RFC 7252 §5.10.4: a 2.xx in another format than the Accept asked for becomes 4.06. */
export function withAccept(parts: ResponseParts, accept: number | undefined): ResponseParts {
  if (accept === undefined || parts.code >> 5 !== 2 || parts.payload.length === 0) return parts;
  const f = uintOption(parts.options, Opt.ContentFormat);
  return f === accept ? parts : simple(Code.NotAcceptable, `cannot produce Content-Format ${accept}`);
}

/** Adds the Observe option when the request registers and the resource is observable. */
function observe(
  ctx: ServerContext,
  req: InboundRequest,
  res: Responder,
  rc: ResponseContext,
  parts: ResponseParts,
): ResponseParts {
  const r = rc.resource;
  if (rc.observe === 1) ctx.observers.deregister(res.remote, res.token);
  if (rc.observe !== 0 || r === undefined || !r.meta.obs || parts.code >> 5 !== 2) return parts;
  // RFC 7390 §2.10: no Observe on groups in strict mode; groupcomm-bis §3.7 allows it.
  if (res.multicast && !ctx.groupcommBis) return parts;
  // The request as the site saw it is replayed for notifications, which go through this
  // responder: a layer that changed this response changes them too.
  const ok = ctx.observers.register({
    responder: res,
    request: req.message,
    resource: r,
    security: req.security,
  });
  if (!ok) return parts;
  const options = [
    ...parts.options,
    { number: Opt.Observe, value: encodeUint(ctx.observers.nextSequence()) },
  ];
  options.sort((a, b) => a.number - b.number);
  return { ...parts, options };
}

/** Slices a large or block-requested 2.xx response (RFC 7959 §2.4; first block only for multicast). */
export function blockwise(
  ctx: ServerContext,
  parts: ResponseParts,
  want: BlockValue | undefined,
  multicast: boolean,
  key: { representationKey(): string },
): ResponseParts {
  const limit = 16 << ctx.maxSzx;
  if (parts.code >> 5 !== 2 || (want === undefined && parts.payload.length <= limit)) return parts;
  const szx = Math.min(want?.szx ?? ctx.maxSzx, ctx.maxSzx);
  const num = multicast ? 0 : (want?.num ?? 0);
  const blockSize = 16 << szx;
  let etag = findOption(parts.options, Opt.ETag)?.value;
  if (parts.payload.length > blockSize) {
    etag ??= contentEtag(parts.payload);
    // Cached for multicast too: every responder's later blocks are asked for by unicast.
    ctx.representations.put(key.representationKey(), parts, etag);
  }
  return sliceBlock(parts, { num, more: false, szx }, etag);
}

/** Finishes a handler's response and hands it to the responder. */
export function finishResponse(
  ctx: ServerContext,
  req: InboundRequest,
  res: Responder,
  rc: ResponseContext,
  parts: ResponseParts,
): void {
  let p = observe(ctx, req, res, rc, parts);
  p = blockwise(ctx, p, rc.block2, res.multicast, rc);
  if (rc.block1 !== undefined && p.code >> 5 === 2) {
    const options = [...p.options, { number: Opt.Block1, value: encodeBlock(rc.block1) }];
    options.sort((a, b) => a.number - b.number);
    p = { ...p, options };
  }
  res.respond(p, rc.how);
}
