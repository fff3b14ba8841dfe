/**
 * @module server/pipeline
 * From a received request to its response: routing (4.04, 4.05), multicast acceptance
 * (RFC 7390 §2.7: resources opt in; others ignore multicast silently), Content-Format checks
 * (4.15, 4.06; RFC 7252 §5.10.3-4), proxy options (5.05; RFC 7252 §5.7.2), the handler, then
 * suppression and No-Response (RFC 7967), and Leisure for multicast (RFC 7252 §8.2).
 */
import diagnostics from 'node:diagnostics_channel';
import { CoapResponseError } from '../errors.js';
import { Code, methodName } from '../message/codes.js';
import { EMPTY } from '../message/types.js';
import type { ResponseParts, ServerExchange } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { findOption, uintOption } from '../options/values.js';
import { pathOf, queryOf } from '../uri/index.js';
import type { TimerQueue } from '../util/timer-queue.js';
import type { LeisureScheduler } from './leisure.js';
import { IncomingRequest } from './request.js';
import type { Resource } from './resource.js';
import { errorParts, toResponseParts } from './response.js';
import type { Router } from './router.js';
import { DEFAULT_SUPPRESSION, isSuppressed, type SuppressionPolicy } from './suppression.js';

const errorChannel = diagnostics.channel('coap:server:error');

/** What the pipeline needs from its server. */
export interface PipelineContext {
  readonly router: Router<Resource>;
  readonly timers: TimerQueue;
  readonly leisure: LeisureScheduler;
  /** Leisure in ms for a group. */
  leisureMs(group: string): number;
}

function simple(code: number, diagnostic = ''): ResponseParts {
  return { code, options: [], payload: diagnostic ? Buffer.from(diagnostic) : EMPTY };
}

/** Handles one exchange end to end. */
export function handleExchange(ctx: PipelineContext, ex: ServerExchange): void {
  const msg = ex.request;
  const method = methodName(msg.code);
  const segments = pathOf(msg.options);
  const match = ctx.router.match(segments, segments.join('/'));
  const resource = match?.value;
  if (ex.multicast && (resource === undefined || !resource.multicast)) {
    // RFC 7390 §2.7 (R54): a resource that did not opt in does not accept multicast requests;
    // nothing is processed and nothing is sent, not even a 4.04 (RFC 7252 §8.2).
    ex.finish();
    return;
  }
  const policy = resource?.suppression ?? DEFAULT_SUPPRESSION;
  const send = (parts: ResponseParts) => deliver(ctx, ex, parts, policy);
  if (method === undefined) return send(simple(Code.MethodNotAllowed, 'unknown method'));
  if (findOption(msg.options, Opt.ProxyUri) || findOption(msg.options, Opt.ProxyScheme)) {
    return send(simple(Code.ProxyingNotSupported, 'this endpoint is not a proxy'));
  }
  if (resource === undefined) return send(simple(Code.NotFound));
  const handler = resource.handlers.get(method);
  if (handler === undefined) return send(simple(Code.MethodNotAllowed));
  if (resource.accepts !== undefined && msg.payload.length > 0) {
    const f = uintOption(msg.options, Opt.ContentFormat);
    if (f === undefined || !resource.accepts.includes(f)) {
      return send(
        simple(Code.UnsupportedContentFormat, `use Content-Format ${resource.accepts.join(' or ')}`),
      );
    }
  }
  const req = new IncomingRequest(msg, segments, queryOf(msg.options), ex.remote, ex.multicast, ex.group);
  req.params = match!.params;
  const accept = uintOption(msg.options, Opt.Accept);
  const finish = (result: ReturnType<typeof handler>) =>
    send(withAccept(toResponseParts(method, result as never), accept));
  let result: ReturnType<typeof handler>;
  try {
    result = handler(req);
  } catch (err) {
    return send(failure(err));
  }
  if (result instanceof Promise) {
    ex.armAck();
    result.then(finish, (err: unknown) => send(failure(err)));
  } else {
    try {
      finish(result);
    } catch (err) {
      send(failure(err));
    }
  }
}

/** RFC 7252 §5.10.4: a 2.xx in another format than the Accept asked for becomes 4.06. */
function withAccept(parts: ResponseParts, accept: number | undefined): ResponseParts {
  if (accept === undefined || parts.code >> 5 !== 2 || parts.payload.length === 0) return parts;
  const f = uintOption(parts.options, Opt.ContentFormat);
  return f === accept ? parts : simple(Code.NotAcceptable, `cannot produce Content-Format ${accept}`);
}

function failure(err: unknown): ResponseParts {
  if (err instanceof CoapResponseError) return errorParts(err);
  if (errorChannel.hasSubscribers) errorChannel.publish({ error: err });
  // The details stay in the diagnostics channel: a diagnostic payload must not leak internals.
  return simple(Code.InternalServerError);
}

function deliver(
  ctx: PipelineContext,
  ex: ServerExchange,
  parts: ResponseParts,
  policy: SuppressionPolicy,
): void {
  const nr = findOption(ex.request.options, Opt.NoResponse);
  const noResponse = nr === undefined ? undefined : uintOption(ex.request.options, Opt.NoResponse);
  if (isSuppressed(parts.code, parts.payload.length, ex.multicast, policy, noResponse)) {
    ex.finish();
    return;
  }
  if (!ex.multicast) {
    ex.respond(parts);
    return;
  }
  const group = ex.group ?? '';
  const delay = ctx.leisure.delay(group, ctx.leisureMs(group));
  if (delay <= 0) ex.respond(parts);
  else ctx.timers.schedule(delay, () => ex.respond(parts));
}
