/**
 * @module oscore/endpoint/server-site
 * OSCORE around a server's site (the layer `OscoreServerSecurity.wrap` returns). A request
 * without an OSCORE option passes on untouched. A protected one is joined from its Outer Block
 * fragments (oscore/endpoint/server-outer-block), opened (RFC 8613 §8.2; Group OSCORE draft §7.2),
 * and the site inside gets the verified original with its identity (`security`) and a responder
 * that protects every response and notification (RFC 8613 §8.3, §4.1.3.5; draft §7.3), slicing
 * it into Outer Block2 fragments when asked. The No-Response that counts is the Inner one
 * (RFC 8613 §4.1.3.6), and a verified group request's responses wait for the Leisure of secured
 * groups (groupcomm-bis §3.1.5). A request that is not verified, or not known fresh, is answered
 * here: an unprotected error for unicast, silence for multicast, or an Echo challenge (RFC 9175
 * §2.4, draft §10) sent only where the site would take the request (RFC 7390 §2.7).
 */
import { Code } from '../../message/codes.js';
import type { ResponseParts } from '../../messenger/server-exchange.js';
import { Opt } from '../../options/registry.js';
import { uintOption } from '../../options/values.js';
import type { Responder, ResponderStage } from '../../server/responder.js';
import type { InboundRequest, Site, SiteHost } from '../../server/site.js';
import { isSuppressed, NOTHING_SUPPRESSED } from '../../server/suppression.js';
import { isOscoreMessage } from '../unprotect.js';
import { hasOuterBlock } from './parts.js';
import { type OuterBlocks, receiveOuter, sliceOuter } from './server-outer-block.js';
import type { OpenedRequest, SecurityVerdict } from './server-verdict.js';

/** What the site needs of the layer: its verification step and its default Leisure. */
export interface Opener {
  open(
    request: InboundRequest['message'],
    origin: Pick<InboundRequest, 'remote' | 'multicast' | 'group'>,
  ): SecurityVerdict;
  readonly defaultLeisure: number | undefined;
}

/** The per-request state of a verified request's responder: how to seal, and what to slice. */
class Sealing implements ResponderStage {
  readonly request: OpenedRequest['request'];
  readonly defaultLeisure: number | undefined;
  readonly #opened: OpenedRequest;
  readonly #outer: OuterBlocks | undefined;
  readonly #host: SiteHost;
  /** Responses sealed so far: only the first may use the request's nonce. */
  #sealed = 0;

  constructor(
    opened: OpenedRequest,
    outer: OuterBlocks | undefined,
    host: SiteHost,
    leisure: number | undefined,
  ) {
    this.request = opened.request;
    this.defaultLeisure = leisure;
    this.#opened = opened;
    this.#outer = outer;
    this.#host = host;
  }

  encode(parts: ResponseParts, notification: boolean): ResponseParts {
    // RFC 8613 §8.3: every response to a verified request is protected, errors included.
    const sealed = this.#opened.seal(parts, this.#sealed++ > 0);
    // Outer Block2 fragments the response to the request that asked; notifications go whole.
    return this.#outer === undefined || notification ? sealed : sliceOuter(this.#host, this.#outer, sealed);
  }
}

/** The site inside, wrapped. */
export class OscoreSite implements Site {
  readonly #layer: Opener;
  readonly #inner: Site;
  readonly #host: SiteHost;

  constructor(layer: Opener, inner: Site, host: SiteHost) {
    this.#layer = layer;
    this.#inner = inner;
    this.#host = host;
  }

  acceptsMulticast(req: InboundRequest): boolean {
    return this.#inner.acceptsMulticast?.(req) ?? true;
  }

  handle(req: InboundRequest, res: Responder): void {
    if (!isOscoreMessage(req.message)) return this.#inner.handle(req, res);
    let message = req.message;
    let outer: OuterBlocks | undefined;
    if (hasOuterBlock(message)) {
      const joined = receiveOuter(this.#host, req, res);
      if (joined === undefined) return;
      message = joined.message;
      outer = joined.outer;
    }
    const v = this.#layer.open(message, req);
    switch (v.kind) {
      case 'plain':
        return this.#inner.handle(req, res);
      case 'opened': {
        const sealing = new Sealing(v.opened, outer, this.#host, this.#layer.defaultLeisure);
        const opened = { ...req, message: v.opened.request, security: v.opened.security };
        return this.#inner.handle(opened, res.through(sealing));
      }
      case 'challenge':
        return this.#challenge(req, res, v);
      case 'reply':
        // OSCORE errors go unprotected to unicast requests only (RFC 8613 §8.2, §8.3); never to
        // groups. An Outer No-Response is ignored (RFC 8613 §4.1.3.6), and there is no Inner one.
        if (req.multicast) return res.finish();
        return res.respond(v.parts, { suppressible: false });
      case 'drop':
        return res.finish();
    }
  }

  /**
   * A verified request that needs an Echo challenge first (RFC 9175 §2.4, Group OSCORE draft §10).
   * Not sent when the request disclaimed 4.xx (RFC 7967 §2.1: nobody would answer it). By unicast
   * at once; for a multicast request like any response to it (Leisure), and only where the request
   * would have been taken (RFC 7390 §2.7: other resources stay silent).
   */
  #challenge(req: InboundRequest, res: Responder, v: Extract<SecurityVerdict, { kind: 'challenge' }>): void {
    // Judged here, by its own code and the Inner No-Response (its sealed code says 2.04): a
    // challenge is no error report (RFC 7390 §2.7 suppression), and the Outer copy is ignored.
    const noResponse = uintOption(v.request.options, Opt.NoResponse);
    if (isSuppressed(Code.Unauthorized, 0, req.multicast, NOTHING_SUPPRESSED, noResponse))
      return res.finish();
    if (req.multicast && !this.acceptsMulticast({ ...req, message: v.request })) return res.finish();
    const challenged = res.through({ defaultLeisure: this.#layer.defaultLeisure });
    challenged.respond(v.parts, { suppressible: false, ...(v.sent ? { onSend: v.sent } : {}) });
  }
}
