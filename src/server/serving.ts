/**
 * @module server/serving
 * What a server sets up when it starts listening: the transport (explicit unicast addresses, never
 * a wildcard, and an explicit multicast interface: design.md §Multicast on Node), the messenger
 * whose requests it owns, the router's state, the responders' Leisure (RFC 7252 §8.2), and the
 * site in front of the router: a request with Proxy-Uri or Proxy-Scheme goes to the proxy
 * handler when one is installed (RFC 7252 §5.7.2), any other to the router.
 */
import { recognizedWith } from '../messenger/critical.js';
import { Messenger } from '../messenger/messenger.js';
import type { ServerExchange } from '../messenger/server-exchange.js';
import { systemRuntime } from '../runtime.js';
import { type ResolvedInterface, resolveInterface } from '../transport/interfaces.js';
import { UdpTransport } from '../transport/udp.js';
import { Block1Assembler } from './block1.js';
import { RepresentationCache } from './block2.js';
import type { ServerContext } from './context.js';
import { defaultInterface } from './groups.js';
import { LeisureScheduler } from './leisure.js';
import { Memberships } from './memberships.js';
import { ObserverRegistry } from './observe.js';
import { PathCache } from './path-cache.js';
import type { Resource } from './resource.js';
import { ExchangeResponder, type ResponderHost } from './responder.js';
import type { Router } from './router.js';
import { routerSite } from './router-site.js';
import type { ServerOptions } from './server-options.js';
import { type InboundRequest, isProxyRequest, type Site, type SiteHost } from './site.js';

/** What a server holds while it listens. */
export interface Running {
  readonly messenger: Messenger;
  readonly ctx: ServerContext;
  readonly leisure: LeisureScheduler;
  readonly memberships: Memberships;
  readonly iface: ResolvedInterface | undefined;
  /** What the layers around the site may use. */
  readonly host: SiteHost;
  /** The proxy dispatch in front of the router: the site the layers wrap. */
  readonly inner: Site;
  /** Gives up the messenger's requests. */
  readonly release: () => void;
}

/** What the server lends the running state. */
export interface ServingParts {
  readonly router: Router<Resource>;
  readonly port: number;
  readonly maxSzx: number;
  /** Critical options the layers process (RFC 7252 §5.4.1), read at each request. */
  readonly critical: ReadonlySet<number>;
  /** The outermost site now. */
  site(): Site;
  /** Wraps the layers around `inner`; called before the first request can arrive. */
  compose(inner: Site, host: SiteHost): void;
  /** The proxy handler now, if any. */
  proxy(): Site | undefined;
  /** Leisure in ms for a request whose layers give `requestDefault` (server/responder). */
  leisureMs(requestDefault: number | undefined): number;
}

/** The request as the outermost site receives it. */
function inboundOf(ex: ServerExchange): InboundRequest {
  return {
    message: ex.request,
    remote: ex.remote,
    local: ex.local,
    multicast: ex.multicast,
    group: ex.group,
    security: undefined,
  };
}

/** Binds the transport and takes the messenger's requests. */
export async function startServing(o: ServerOptions, parts: ServingParts): Promise<Running> {
  const bind = o.bind ?? ['127.0.0.1'];
  // A given transport brings its own multicast interface unless one is named here.
  const named = (typeof o.iface === 'string' ? [o.iface] : (o.iface ?? [])).map(resolveInterface);
  const pinned =
    named.length > 0
      ? {
          name: named[0]!.name,
          ipv4: named.find((i) => i.ipv4)?.ipv4,
          ipv6: named.find((i) => i.ipv6)?.ipv6,
        }
      : o.transport
        ? undefined
        : defaultInterface(bind[0]!);
  // On several links no one interface is the group's: the transport joins each of them.
  const iface = named.length > 1 ? undefined : pinned;
  const transport =
    o.transport ??
    (await UdpTransport.create({
      bind: bind.map((address) => ({ address, port: parts.port })),
      ipv4Interface: pinned?.ipv4,
      ipv6Interface: pinned?.ipv6,
      ...(named.length > 1 ? { interfaces: named } : {}),
      hops: 1,
    }));
  const runtime = o.runtime ?? systemRuntime;
  const messenger = new Messenger({
    transport,
    runtime,
    ...(o.transmission ? { transmission: o.transmission } : {}),
    ...(o.ackDelayMs !== undefined ? { ackDelayMs: o.ackDelayMs } : {}),
    isRecognizedOption: recognizedWith(parts.critical),
  });
  const ctx: ServerContext = {
    router: parts.router,
    block1: new Block1Assembler(messenger.timers, o.block1),
    representations: new RepresentationCache(runtime),
    observers: new ObserverRegistry(messenger, o.observe),
    paths: new PathCache(),
    maxSzx: parts.maxSzx,
    groupcommBis: o.groupMode !== 'rfc7390',
    isProtected: (r) => o.requireProtection === true || r.protected,
  };
  const leisure = new LeisureScheduler(runtime);
  const router = routerSite(ctx);
  const inner: Site = {
    handle: (req, res) => {
      const proxy = parts.proxy();
      if (proxy !== undefined && isProxyRequest(req.message)) proxy.handle(req, res);
      else router.handle(req, res);
    },
    acceptsMulticast: (req) => {
      const proxy = parts.proxy();
      if (proxy !== undefined && isProxyRequest(req.message)) return proxy.acceptsMulticast?.(req) ?? true;
      return router.acceptsMulticast?.(req) ?? true;
    },
  };
  const responders: ResponderHost = {
    leisure,
    timers: messenger.timers,
    send: (message, remote, via, callbacks) => messenger.send(message, remote, via, callbacks),
    leisureMs: parts.leisureMs,
  };
  const host: SiteHost = {
    runtime,
    timers: messenger.timers,
    block1: ctx.block1,
    representations: ctx.representations,
    maxSzx: parts.maxSzx,
  };
  parts.compose(inner, host);
  const release = messenger.setRequestHandler((ex) =>
    parts.site().handle(inboundOf(ex), new ExchangeResponder(ex, responders)),
  );
  const memberships = new Memberships(transport, iface, parts.port);
  return { messenger, ctx, leisure, memberships, iface, host, inner, release };
}
