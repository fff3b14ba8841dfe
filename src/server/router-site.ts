/**
 * @module server/router-site
 * The server's default site: from a received request to its response. Routing (4.04, 4.05),
 * multicast acceptance (RFC 7390 §2.7: resources opt in; others ignore multicast silently),
 * protected resources (4.01 unicast, silence multicast, for a request no layer verified), proxy
 * options when no proxy handler took them (5.05; RFC 7252 §5.7.2), Content-Format (4.15;
 * §5.10.3), Block1 reassembly and Block2 continuation (RFC 7959), then the handler; server/respond
 * finishes the response and the responder sends it.
 */
import type { BlockValue } from '../block/index.js';
import { Code, methodName } from '../message/codes.js';
import type { ResponseParts } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { findOption, uintOption } from '../options/values.js';
import { queryOf } from '../uri/index.js';
import { peerKey } from '../util/peer-key.js';
import { blockOption } from './block-option.js';
import { block1Reply } from './block1.js';
import { representationKey, sliceBlock } from './block2.js';
import type { ServerContext } from './context.js';
import { type HandlerSink, runHandler } from './handler.js';
import { IncomingRequest } from './request.js';
import type { Resource } from './resource.js';
import { finishResponse, type ResponseContext, simple } from './respond.js';
import type { Responder, RespondOptions } from './responder.js';
import type { InboundRequest, Site } from './site.js';

/** The router pipeline as a site. */
export function routerSite(ctx: ServerContext): Site {
  return {
    handle: (req, responder) => handleRequest(ctx, req, responder),
    acceptsMulticast: (req) => resourceOf(ctx, req)?.multicast === true,
  };
}

function resourceOf(ctx: ServerContext, req: InboundRequest): Resource | undefined {
  const path = ctx.paths.of(req.message.options);
  return ctx.router.match(path.segments, path.joined)?.value;
}

/** No Uri-Query: shared, as the request's `query` is read-only. */
const NO_QUERY: readonly string[] = Object.freeze([]);

/**
 * One routed request on its way to a response: what shapes the response (`ResponseContext`),
 * and where the handler's answer goes (`HandlerSink`). One object per request, not closures.
 */
class RoutedRequest implements ResponseContext, HandlerSink {
  readonly ctx: ServerContext;
  readonly req: InboundRequest;
  readonly res: Responder;
  readonly resource: Resource;
  readonly how: RespondOptions | undefined;
  readonly block2: BlockValue | undefined;
  readonly block1: BlockValue | undefined;
  readonly observe: number | undefined;

  constructor(
    ctx: ServerContext,
    req: InboundRequest,
    res: Responder,
    resource: Resource,
    block2: BlockValue | undefined,
    block1: BlockValue | undefined,
    observe: number | undefined,
  ) {
    this.ctx = ctx;
    this.req = req;
    this.res = res;
    this.resource = resource;
    this.how = resource.respondOptions;
    this.block2 = block2;
    this.block1 = block1;
    this.observe = observe;
  }

  representationKey(): string {
    return representationKey(this.req.message, peerKey(this.req.remote));
  }

  done(parts: ResponseParts): void {
    finishResponse(this.ctx, this.req, this.res, this, parts);
  }

  pending(): void {
    this.res.armAck();
  }
}

/** Handles one request end to end. */
function handleRequest(ctx: ServerContext, req: InboundRequest, res: Responder): void {
  const msg = req.message;
  const options = msg.options;
  const method = methodName(msg.code);
  const path = ctx.paths.of(options);
  const match = ctx.router.match(path.segments, path.joined);
  const resource = match?.value;
  if (req.multicast && (resource === undefined || !resource.multicast)) {
    // RFC 7390 §2.7 (R54): a resource that did not opt in does not accept multicast requests;
    // nothing is processed and nothing is sent, not even a 4.04 (RFC 7252 §8.2).
    res.finish();
    return;
  }
  const how = resource?.respondOptions;
  if (req.security === undefined && resource !== undefined && ctx.isProtected(resource)) {
    // Protection required: 4.01 for unicast (RFC 7252 §5.9.2.2), silence for a group.
    if (req.multicast) return res.finish();
    return res.respond(simple(Code.Unauthorized, 'this resource takes protected requests only'), how);
  }
  if (method === undefined) return res.respond(simple(Code.MethodNotAllowed, 'unknown method'), how);
  if (findOption(options, Opt.ProxyUri) || findOption(options, Opt.ProxyScheme)) {
    return res.respond(simple(Code.ProxyingNotSupported, 'this endpoint is not a proxy'), how);
  }
  if (resource === undefined) return res.respond(simple(Code.NotFound), how);
  const handler = resource.handlers.get(method);
  if (handler === undefined) return res.respond(simple(Code.MethodNotAllowed), how);
  const block1 = blockOption(msg, Opt.Block1);
  const block2 = blockOption(msg, Opt.Block2);
  if (block1 === null || block2 === null)
    return res.respond(simple(Code.BadRequest, 'invalid Block option'), how);
  if (resource.accepts !== undefined && msg.payload.length > 0) {
    const f = uintOption(options, Opt.ContentFormat);
    if (f === undefined || !resource.accepts.includes(f)) {
      return res.respond(
        simple(Code.UnsupportedContentFormat, `use Content-Format ${resource.accepts.join(' or ')}`),
        how,
      );
    }
  }
  const accept = uintOption(options, Opt.Accept);
  let request = msg;
  let finalBlock1: BlockValue | undefined;
  if (block1 !== undefined) {
    const r = ctx.block1.receive(msg, req.remote, block1, path.joined);
    if (r.kind !== 'complete') return res.respond(block1Reply(r), how);
    finalBlock1 = r.block;
    request = {
      ...msg,
      payload: r.payload,
      options: options.filter((o) => o.number !== Opt.Block1 && o.number !== Opt.Size1),
    };
  }
  const observeValue = method === 'GET' || method === 'FETCH' ? uintOption(options, Opt.Observe) : undefined;
  const routed = new RoutedRequest(ctx, req, res, resource, block2, finalBlock1, observeValue);
  // RFC 7959 §2.4: later blocks of a representation come from the cached version.
  if (block2 !== undefined && block2.num > 0 && !req.multicast && observeValue === undefined) {
    const cached = ctx.representations.get(routed.representationKey());
    if (cached !== undefined)
      return res.respond(
        sliceBlock(cached.parts, { ...block2, szx: Math.min(block2.szx, ctx.maxSzx) }, cached.etag),
        how,
      );
  }
  const query = findOption(options, Opt.UriQuery) === undefined ? NO_QUERY : queryOf(options);
  const incoming = new IncomingRequest(
    request,
    path.segments,
    query,
    req.remote,
    req.multicast,
    req.group,
    req.security,
    match!.params,
  );
  runHandler(handler, incoming, method, accept, routed, resource.textMemo);
}
