/**
 * @module server/pipeline
 * From a received request to its response: routing (4.04, 4.05), multicast acceptance
 * (RFC 7390 §2.7: resources opt in; others ignore multicast silently), proxy options (5.05;
 * RFC 7252 §5.7.2), Content-Format (4.15; §5.10.3), Block1 reassembly and Block2 continuation
 * (RFC 7959), then the handler; `respond` finishes the response. First of all the security hook
 * opens a protected request (RFC 8613 §8.2), and protected resources refuse unprotected ones.
 */
import diagnostics from 'node:diagnostics_channel';
import type { BlockValue } from '../block/index.js';
import { CoapResponseError } from '../errors.js';
import { Code, type MethodName, methodName } from '../message/codes.js';
import type { CoapMessage } from '../message/types.js';
import type { ResponseParts, ServerExchange } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { findOption, uintOption } from '../options/values.js';
import { pathOf, queryOf } from '../uri/index.js';
import { block1Reply } from './block1.js';
import { representationKey, sliceBlock } from './block2.js';
import type { ServerContext } from './context.js';
import { blockOption, requesterOf } from './exchange-info.js';
import { hasOuterBlock, receiveOuter } from './outer-block.js';
import { IncomingRequest } from './request.js';
import type { Handler } from './resource.js';
import { deliver, finishResponse, type ResponseContext, simple, withAccept } from './respond.js';
import { errorParts, toResponseParts } from './response.js';
import type { SecurityVerdict } from './security.js';
import { DEFAULT_SUPPRESSION, isSuppressed } from './suppression.js';

type ChallengeVerdict = Extract<SecurityVerdict, { kind: 'challenge' }>;

const errorChannel = diagnostics.channel('coap:server:error');

/**
 * Opens a protected request with the security hook (RFC 8613 §8.2). Returns the request to
 * route, or undefined when the exchange is already finished (not verified, or challenged).
 */
function openRequest(ctx: ServerContext, ex: ServerExchange): CoapMessage | undefined {
  const sec = ctx.security;
  if (sec === undefined) return ex.request;
  let protectedRequest = ex.request;
  if (hasOuterBlock(protectedRequest)) {
    const whole = receiveOuter(ctx, ex);
    if (whole === undefined) return undefined;
    protectedRequest = whole;
  }
  const v = sec.open(protectedRequest, { remote: ex.remote, multicast: ex.multicast, group: ex.group });
  if (v.kind === 'plain') return ex.request;
  if (v.kind === 'opened') {
    ctx.secured?.set(ex, v.opened);
    return v.opened.request;
  }
  if (v.kind === 'challenge') {
    challenge(ctx, ex, v);
    return undefined;
  }
  // OSCORE errors go unprotected to unicast requests only (RFC 8613 §8.2, §8.3); never to groups.
  if (v.kind === 'reply' && !ex.multicast) ex.respond(v.parts);
  else ex.finish();
  return undefined;
}

/** Every class may be sent: a challenge is not an error report (RFC 7390 §2.7 suppression). */
const NOTHING_SUPPRESSED = Object.freeze({
  success: false,
  clientError: false,
  serverError: false,
  emptyContent: false,
});

/**
 * A verified request that needs an Echo challenge first (RFC 9175 §2.4, Group OSCORE draft §10).
 * Not sent when the request disclaimed 4.xx (RFC 7967 §2.1: nobody would answer it). By unicast
 * at once; for a multicast request like any response to it (Leisure), and only where the request
 * would have been taken (RFC 7390 §2.7: other resources stay silent).
 */
function challenge(ctx: ServerContext, ex: ServerExchange, v: ChallengeVerdict): void {
  const noResponse = uintOption(v.request.options, Opt.NoResponse);
  if (isSuppressed(Code.Unauthorized, 0, ex.multicast, NOTHING_SUPPRESSED, noResponse)) return ex.finish();
  if (!ex.multicast) {
    ex.respond(v.parts);
    v.sent?.();
    return;
  }
  const segments = pathOf(v.request.options);
  const resource = ctx.router.match(segments, segments.join('/'))?.value;
  if (resource === undefined || !resource.multicast) return ex.finish();
  deliver(ctx, ex, v.parts, NOTHING_SUPPRESSED, { verified: true, ...(v.sent ? { onSend: v.sent } : {}) });
}

/** Handles one exchange end to end. */
export function handleExchange(ctx: ServerContext, ex: ServerExchange): void {
  const msg = openRequest(ctx, ex);
  if (msg === undefined) return;
  const security = ctx.secured?.get(ex)?.security;
  const method = methodName(msg.code);
  const segments = pathOf(msg.options);
  const joined = segments.join('/');
  const match = ctx.router.match(segments, joined);
  const resource = match?.value;
  if (ex.multicast && (resource === undefined || !resource.multicast)) {
    // RFC 7390 §2.7 (R54): a resource that did not opt in does not accept multicast requests;
    // nothing is processed and nothing is sent, not even a 4.04 (RFC 7252 §8.2).
    ex.finish();
    return;
  }
  const policy = resource?.suppression ?? DEFAULT_SUPPRESSION;
  const fail = (parts: ResponseParts) => deliver(ctx, ex, parts, policy);
  if (security === undefined && resource !== undefined && ctx.isProtected?.(resource)) {
    // Protection required: 4.01 for unicast (RFC 7252 §5.9.2.2), silence for a group.
    if (ex.multicast) return ex.finish();
    return fail(simple(Code.Unauthorized, 'protect the request with OSCORE'));
  }
  if (method === undefined) return fail(simple(Code.MethodNotAllowed, 'unknown method'));
  if (findOption(msg.options, Opt.ProxyUri) || findOption(msg.options, Opt.ProxyScheme)) {
    return fail(simple(Code.ProxyingNotSupported, 'this endpoint is not a proxy'));
  }
  if (resource === undefined) return fail(simple(Code.NotFound));
  const handler = resource.handlers.get(method);
  if (handler === undefined) return fail(simple(Code.MethodNotAllowed));
  const block1 = blockOption(msg, Opt.Block1);
  const block2 = blockOption(msg, Opt.Block2);
  if (block1 === null || block2 === null) return fail(simple(Code.BadRequest, 'invalid Block option'));
  if (resource.accepts !== undefined && msg.payload.length > 0) {
    const f = uintOption(msg.options, Opt.ContentFormat);
    if (f === undefined || !resource.accepts.includes(f)) {
      return fail(
        simple(Code.UnsupportedContentFormat, `use Content-Format ${resource.accepts.join(' or ')}`),
      );
    }
  }
  const accept = uintOption(msg.options, Opt.Accept);
  // Built only when block-wise needs it: most requests never do.
  const key = () => representationKey(msg, requesterOf(ex));
  let request = msg;
  let finalBlock1: BlockValue | undefined;
  if (block1 !== undefined) {
    const r = ctx.block1.receive(msg, ex.remote, block1, joined);
    if (r.kind !== 'complete') return deliver(ctx, ex, block1Reply(r), policy);
    finalBlock1 = r.block;
    request = {
      ...msg,
      payload: r.payload,
      options: msg.options.filter((o) => o.number !== Opt.Block1 && o.number !== Opt.Size1),
    };
  }
  const observeValue =
    method === 'GET' || method === 'FETCH' ? uintOption(msg.options, Opt.Observe) : undefined;
  // RFC 7959 §2.4: later blocks of a representation come from the cached version.
  if (block2 !== undefined && block2.num > 0 && !ex.multicast && observeValue === undefined) {
    const cached = ctx.representations.get(key());
    if (cached !== undefined)
      return deliver(
        ctx,
        ex,
        sliceBlock(cached.parts, { ...block2, szx: Math.min(block2.szx, ctx.maxSzx) }, cached.etag),
        policy,
      );
  }
  const rc: ResponseContext = {
    resource,
    policy,
    block2,
    block1: finalBlock1,
    representationKey: key,
    observe: observeValue,
  };
  const req = new IncomingRequest(
    request,
    segments,
    queryOf(msg.options),
    ex.remote,
    ex.multicast,
    ex.group,
    security,
  );
  req.params = match!.params;
  runHandler(
    handler,
    req,
    method,
    accept,
    (parts) => finishResponse(ctx, ex, rc, parts),
    () => ex.armAck(),
  );
}

/** Runs a handler, sync or async, and hands its response (or its error as a response) on. */
export function runHandler(
  handler: Handler,
  req: IncomingRequest,
  method: MethodName,
  accept: number | undefined,
  done: (parts: ResponseParts) => void,
  pending?: () => void,
): void {
  const finish = (result: Awaited<ReturnType<Handler>>) => {
    let parts: ResponseParts;
    try {
      parts = withAccept(toResponseParts(method, result), accept);
    } catch (err) {
      parts = failure(err);
    }
    done(parts);
  };
  let result: ReturnType<Handler>;
  try {
    result = handler(req);
  } catch (err) {
    return done(failure(err));
  }
  if (result instanceof Promise) {
    pending?.();
    result.then(finish, (err: unknown) => done(failure(err)));
  } else finish(result);
}

function failure(err: unknown): ResponseParts {
  if (err instanceof CoapResponseError) return errorParts(err);
  if (errorChannel.hasSubscribers) errorChannel.publish({ error: err });
  // The details stay in the diagnostics channel: a diagnostic payload must not leak internals.
  return simple(Code.InternalServerError);
}
