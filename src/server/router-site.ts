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
import { pathOf, queryOf } from '../uri/index.js';
import { peerKey } from '../util/peer-key.js';
import { blockOption } from './block-option.js';
import { block1Reply } from './block1.js';
import { representationKey, sliceBlock } from './block2.js';
import type { ServerContext } from './context.js';
import { runHandler } from './handler.js';
import { IncomingRequest } from './request.js';
import type { Resource } from './resource.js';
import { finishResponse, type ResponseContext, simple } from './respond.js';
import type { Responder } from './responder.js';
import type { InboundRequest, Site } from './site.js';

/** The router pipeline as a site. */
export function routerSite(ctx: ServerContext): Site {
  return {
    handle: (req, responder) => handleRequest(ctx, req, responder),
    acceptsMulticast: (req) => resourceOf(ctx, req)?.multicast === true,
  };
}

function resourceOf(ctx: ServerContext, req: InboundRequest): Resource | undefined {
  const segments = pathOf(req.message.options);
  return ctx.router.match(segments, segments.join('/'))?.value;
}

/** Handles one request end to end. */
function handleRequest(ctx: ServerContext, req: InboundRequest, res: Responder): void {
  const msg = req.message;
  const method = methodName(msg.code);
  const segments = pathOf(msg.options);
  const joined = segments.join('/');
  const match = ctx.router.match(segments, joined);
  const resource = match?.value;
  if (req.multicast && (resource === undefined || !resource.multicast)) {
    // RFC 7390 §2.7 (R54): a resource that did not opt in does not accept multicast requests;
    // nothing is processed and nothing is sent, not even a 4.04 (RFC 7252 §8.2).
    res.finish();
    return;
  }
  const how = resource?.respondOptions;
  const answer = (parts: ResponseParts) => res.respond(parts, how);
  if (req.security === undefined && resource !== undefined && ctx.isProtected(resource)) {
    // Protection required: 4.01 for unicast (RFC 7252 §5.9.2.2), silence for a group.
    if (req.multicast) return res.finish();
    return answer(simple(Code.Unauthorized, 'this resource takes protected requests only'));
  }
  if (method === undefined) return answer(simple(Code.MethodNotAllowed, 'unknown method'));
  if (findOption(msg.options, Opt.ProxyUri) || findOption(msg.options, Opt.ProxyScheme)) {
    return answer(simple(Code.ProxyingNotSupported, 'this endpoint is not a proxy'));
  }
  if (resource === undefined) return answer(simple(Code.NotFound));
  const handler = resource.handlers.get(method);
  if (handler === undefined) return answer(simple(Code.MethodNotAllowed));
  const block1 = blockOption(msg, Opt.Block1);
  const block2 = blockOption(msg, Opt.Block2);
  if (block1 === null || block2 === null) return answer(simple(Code.BadRequest, 'invalid Block option'));
  if (resource.accepts !== undefined && msg.payload.length > 0) {
    const f = uintOption(msg.options, Opt.ContentFormat);
    if (f === undefined || !resource.accepts.includes(f)) {
      return answer(
        simple(Code.UnsupportedContentFormat, `use Content-Format ${resource.accepts.join(' or ')}`),
      );
    }
  }
  const accept = uintOption(msg.options, Opt.Accept);
  // Built only when block-wise needs it: most requests never do.
  const key = () => representationKey(msg, peerKey(req.remote));
  let request = msg;
  let finalBlock1: BlockValue | undefined;
  if (block1 !== undefined) {
    const r = ctx.block1.receive(msg, req.remote, block1, joined);
    if (r.kind !== 'complete') return answer(block1Reply(r));
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
  if (block2 !== undefined && block2.num > 0 && !req.multicast && observeValue === undefined) {
    const cached = ctx.representations.get(key());
    if (cached !== undefined)
      return answer(
        sliceBlock(cached.parts, { ...block2, szx: Math.min(block2.szx, ctx.maxSzx) }, cached.etag),
      );
  }
  const rc: ResponseContext = {
    resource,
    how,
    block2,
    block1: finalBlock1,
    representationKey: key,
    observe: observeValue,
  };
  const incoming = new IncomingRequest(
    request,
    segments,
    queryOf(msg.options),
    req.remote,
    req.multicast,
    req.group,
    req.security,
  );
  incoming.params = match!.params;
  runHandler(
    handler,
    incoming,
    method,
    accept,
    (parts) => finishResponse(ctx, req, res, rc, parts),
    () => res.armAck(),
  );
}
