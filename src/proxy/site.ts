/**
 * @module proxy/site
 * The proxy as a layer around a server's site (server/site): it sees every request before the
 * router. First the running forwardings, keyed by the client's endpoint and token: an Early
 * Stop Request (groupcomm-proxy §5.1.3, §5.2.3: GET, the same token, Multicast-Timeout 0, no
 * Proxy-Uri or Proxy-Scheme, whatever Uri-* options it has) cancels one; a GET with Observe 1
 * deregisters an observation (RFC 7641 §3.6); any other request on that token stops it and gets
 * 4.00 (groupcomm-bis §3.5.2: "immediate Token re-use is not possible"). Then the target
 * (proxy/target): a group (a multicast literal, or a name that resolves to one) goes to
 * proxy/group, anything else to proxy/unicast or proxy/unicast-observe; a request that is not
 * for the proxy goes to the site inside. Requests that arrived by multicast are never proxied.
 */
import { resolveHost } from '../client/resolve.js';
import { Code, Method } from '../message/codes.js';
import { Opt } from '../options/registry.js';
import { decodeUint, findOption, uintOption } from '../options/values.js';
import type { Responder } from '../server/responder.js';
import { type InboundRequest, isProxyRequest, type Site } from '../server/site.js';
import { isMulticast } from '../util/ip.js';
import { answer, endedLately, type Forwarding, forwardingKey, own, type ProxyState } from './context.js';
import { deregistrationOf, forwardGroup } from './group.js';
import type { GroupCache } from './group-cache.js';
import { asLocal, type Target, targetOf } from './target.js';
import { forwardUnicast } from './unicast.js';
import { observeUnicast } from './unicast-observe.js';

/** What the site needs besides the proxy's state. */
export interface SiteParts {
  readonly state: ProxyState;
  readonly groupCache: GroupCache;
  /** True when `host` (an IP literal or a name) and `port` are this proxy. */
  isSelf(host: string, port: number): boolean;
}

type Remote = Extract<Target, { kind: 'remote' }>;

/** An Early Stop Request (groupcomm-proxy §5.1.3). */
function isEarlyStop(state: ProxyState, req: InboundRequest): boolean {
  const m = req.message;
  if (m.code !== Method.GET || isProxyRequest(m)) return false;
  const mt = findOption(m.options, state.config.numbers.multicastTimeout);
  return mt !== undefined && mt.value.length <= 4 && decodeUint(mt.value) === 0;
}

/** The proxy's site around `inner`. */
export class ProxySite implements Site {
  readonly #p: SiteParts;
  readonly #inner: Site;

  constructor(parts: SiteParts, inner: Site) {
    this.#p = parts;
    this.#inner = inner;
  }

  acceptsMulticast(req: InboundRequest): boolean {
    if (isProxyRequest(req.message)) return false;
    return this.#inner.acceptsMulticast?.(req) ?? true;
  }

  handle(req: InboundRequest, res: Responder): void {
    if (req.multicast) return this.#inner.handle(req, res);
    const state = this.#p.state;
    const msg = req.message;
    const active =
      msg.token.length > 0 ? state.forwardings.get(forwardingKey(req.remote, msg.token)) : undefined;
    if (msg.token.length > 0 && isEarlyStop(state, req)) {
      const key = forwardingKey(req.remote, msg.token);
      // The draft defines no response to it; a CON gets its empty ACK. One that comes after its
      // forwarding ended (T' passed first) is no error either.
      if (active !== undefined || endedLately(state, key)) {
        active?.cancel();
        return res.finish();
      }
    }
    const target = targetOf(msg, req.local, {
      reverse: state.config.groups?.reverse,
      opened: req.security !== undefined,
      isSelf: (h, p) => this.#p.isSelf(h, p),
    });
    switch (target.kind) {
      case 'refuse':
        return answer(res, own(target.code, target.diagnostic), state);
      case 'local':
        return this.#local({ ...req, message: target.message }, res, active);
      case 'none':
        return this.#local(req, res, active);
      case 'remote':
        if (target.uri.hostKind !== 'name') return this.#remote(req, res, target, target.uri.host, active);
        void this.#resolve(req, res, target, active);
    }
  }

  /** A request for the proxy's own resources. */
  #local(req: InboundRequest, res: Responder, active: Forwarding | undefined): void {
    if (active !== undefined) return this.#reuse(res, active);
    // The layer lets OSCORE through for forwarding (criticalOptions); no layer opened this one.
    if (req.security === undefined && findOption(req.message.options, Opt.Oscore) !== undefined)
      return answer(res, own(Code.BadOption, 'this proxy has no security context for the OSCORE option'));
    this.#inner.handle(req, res);
  }

  #reuse(res: Responder, active: Forwarding): void {
    active.cancel();
    answer(
      res,
      own(
        Code.BadRequest,
        'a request on this token is still being forwarded: immediate Token re-use is not possible',
      ),
      this.#p.state,
    );
  }

  async #resolve(
    req: InboundRequest,
    res: Responder,
    t: Remote,
    active: Forwarding | undefined,
  ): Promise<void> {
    let address: string;
    try {
      address = await resolveHost(t.uri.host, this.#p.state.outward.core.resolver);
    } catch (err) {
      return answer(res, own(Code.BadGateway, (err as Error).message), this.#p.state);
    }
    this.#remote(req, res, t, address, active);
  }

  #remote(
    req: InboundRequest,
    res: Responder,
    t: Remote,
    address: string,
    active: Forwarding | undefined,
  ): void {
    const state = this.#p.state;
    const msg = req.message;
    if (this.#p.isSelf(address, t.uri.port)) {
      return this.#local({ ...req, message: asLocal(msg, t.options, t.uri) }, res, active);
    }
    const dest = { address, port: t.uri.port };
    const group = isMulticast(address);
    const observe = uintOption(msg.options, Opt.Observe);
    if (active !== undefined) {
      if (!(active.observe && observe === 1 && active.deregister !== undefined))
        return this.#reuse(res, active);
      const d = deregistrationOf(state, req, { uri: t.uri, dest, others: t.options });
      res.finish();
      if (d === undefined) return active.cancel();
      return active.deregister(d.parts, d.timeout);
    }
    if (group)
      return forwardGroup(state, req, res, { uri: t.uri, dest, others: t.options }, this.#p.groupCache);
    const target = { uri: t.uri, dest, others: t.options };
    if (observe === 0 && (msg.code === Method.GET || msg.code === Method.FETCH))
      return observeUnicast(state, req, res, target);
    void forwardUnicast(state, req, res, target);
  }
}
