/**
 * @module server/respond
 * The last steps of a response: Accept (RFC 7252 §5.10.4: 4.06), Observe registration
 * (RFC 7641 §3.1-3.2), block-wise slicing (RFC 7959 §2.4), then suppression and No-Response
 * (RFC 7390 §2.7, RFC 7967) and Leisure for multicast (RFC 7252 §8.2); a response to a verified
 * request is sealed by the security hook just before it is sent (RFC 8613 §8.3).
 */
import { type BlockValue, encodeBlock } from '../block/index.js';
import { Code } from '../message/codes.js';
import { EMPTY } from '../message/types.js';
import type { ResponseParts, ServerExchange } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { encodeUint, findOption, uintOption } from '../options/values.js';
import { contentEtag, sliceBlock } from './block2.js';
import type { ServerContext } from './context.js';
import { sliceOuter } from './outer-block.js';
import type { Resource } from './resource.js';
import { isSuppressed, type SuppressionPolicy } from './suppression.js';

/** What the pipeline learned about the request that shapes its response. */
export interface ResponseContext {
  readonly resource: Resource | undefined;
  readonly policy: SuppressionPolicy;
  /** Block2 the client asked for, if any. */
  readonly block2: BlockValue | undefined;
  /** Block1 of the final block of a reassembled body, echoed in the response (RFC 7959 §2.3). */
  readonly block1: BlockValue | undefined;
  /** Key of the representation for later blocks (computed on demand). */
  readonly representationKey: () => string;
  /** 0 to register, 1 to deregister (RFC 7641 §2), undefined otherwise. */
  readonly observe: number | undefined;
}

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
  ex: ServerExchange,
  rc: ResponseContext,
  parts: ResponseParts,
): ResponseParts {
  const r = rc.resource;
  const secured = ctx.secured?.get(ex);
  if (rc.observe === 1) ctx.observers.deregister(ex.remote, ex.request.token);
  if (rc.observe !== 0 || r === undefined || !r.meta.obs || parts.code >> 5 !== 2) return parts;
  // RFC 7390 §2.10: no Observe on groups in strict mode; groupcomm-bis §3.7 allows it.
  if (ex.multicast && !ctx.groupcommBis) return parts;
  const ok = ctx.observers.register({
    remote: ex.remote,
    local: ex.local,
    token: ex.request.token,
    // The original request, replayed for notifications, which are sealed like this response.
    request: secured?.request ?? ex.request,
    resource: r,
    multicast: ex.multicast,
    group: ex.group,
    ...(secured !== undefined ? { secured } : {}),
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
  key: () => string,
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
    ctx.representations.put(key(), parts, etag);
  }
  return sliceBlock(parts, { num, more: false, szx }, etag);
}

/** Finishes a response and sends it, or not, as the rules say. */
export function finishResponse(
  ctx: ServerContext,
  ex: ServerExchange,
  rc: ResponseContext,
  parts: ResponseParts,
): void {
  let p = observe(ctx, ex, rc, parts);
  p = blockwise(ctx, p, rc.block2, ex.multicast, rc.representationKey);
  if (rc.block1 !== undefined && p.code >> 5 === 2) {
    const options = [...p.options, { number: Opt.Block1, value: encodeBlock(rc.block1) }];
    options.sort((a, b) => a.number - b.number);
    p = { ...p, options };
  }
  deliver(ctx, ex, p, rc.policy);
}

/** How `deliver` treats a response beyond its suppression policy. */
export interface DeliverOptions {
  /** Called when the response goes out (after Leisure for multicast). */
  readonly onSend?: () => void;
  /**
   * The request was verified though not opened here (a freshness challenge, already
   * protected): its Leisure is the one of protected requests.
   */
  readonly verified?: boolean;
}

/**
 * Suppression, No-Response and Leisure. The Leisure follows the request received: a verified
 * one gets the protected default (groupcomm-bis §3.1.5), an unprotected one DEFAULT_LEISURE.
 */
export function deliver(
  ctx: ServerContext,
  ex: ServerExchange,
  parts: ResponseParts,
  policy: SuppressionPolicy,
  opts: DeliverOptions = {},
): void {
  const secured = ctx.secured?.get(ex);
  // RFC 8613 §4.1.3.6: No-Response is Inner; the original request's counts.
  const request = secured?.request ?? ex.request;
  const noResponse = uintOption(request.options, Opt.NoResponse);
  if (isSuppressed(parts.code, parts.payload.length, ex.multicast, policy, noResponse)) {
    ex.finish();
    return;
  }
  const send = () => {
    opts.onSend?.();
    if (secured === undefined) return ex.respond(parts);
    // RFC 8613 §8.3: every response to a verified request is protected, errors included.
    let sealed: ResponseParts;
    try {
      sealed = secured.seal(parts);
    } catch {
      return ex.finish();
    }
    ex.respond(sliceOuter(ctx, ex, sealed));
  };
  if (!ex.multicast) return send();
  const group = ex.group ?? '';
  const delay = ctx.leisure.delay(
    group,
    ctx.leisureMs(group, secured !== undefined || opts.verified === true),
  );
  // A full Leisure backlog (a flood of multicast requests) drops the response.
  if (delay < 0) return ex.finish();
  if (delay === 0) send();
  else ctx.messenger.timers.schedule(delay, send);
}
