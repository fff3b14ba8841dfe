/**
 * @module proxy/layer
 * The proxy as a site layer (server/site `SiteLayer`), installed on a server with `use()`: it
 * owns the proxy's state (cache, limits, turns, forwardings) once `start` gives it its client
 * side (proxy/outward), and wraps the server's site in a proxy/site. It declares the OSCORE
 * option as one it processes (RFC 7252 §5.4.1), so that an end-to-end protected request it
 * cannot read reaches it to be forwarded (groupcomm-bis §5.3) instead of drawing a 4.02 from
 * the message layer; a protected request to the proxy's own resources that no security layer
 * opened still gets 4.02. Before `start`, proxy requests get 5.03.
 */
import { Opt } from '../options/registry.js';
import type { Responder } from '../server/responder.js';
import { type InboundRequest, isProxyRequest, type Site, type SiteLayer } from '../server/site.js';
import type { LocalSocket } from '../transport/types.js';
import { canonicalIPv6, ipFamily } from '../util/ip.js';
import { ResponseCache } from './cache.js';
import { type ProxyConfig, type ProxySettings, resolveProxyConfig } from './config.js';
import { answer, type ProxyCounters, type ProxyState, unavailable } from './context.js';
import { GroupCache } from './group-cache.js';
import { GroupTurns } from './group-turns.js';
import { Limiter } from './limits.js';
import { Members } from './membership.js';
import type { Outward } from './outward.js';
import { ProxySite } from './site.js';

/** Sizes of the proxy's tables and its counters, for monitoring, leak tests and the bench. */
export interface ProxyStats {
  readonly forwardings: number;
  readonly waiting: number;
  readonly busyGroups: number;
  readonly cache: { entries: number; bytes: number };
  readonly limits: ReturnType<Limiter['stats']>;
  readonly counters: Readonly<ProxyCounters>;
  readonly outward:
    | { tokens: number; messenger: { pending: number; dedup: number; timers: number } }
    | undefined;
}

function sameHost(a: string, b: string): boolean {
  if (a === b) return true;
  const fa = ipFamily(a);
  const fb = ipFamily(b);
  const strip = (x: string) => x.replace(/^::ffff:/i, '');
  if (fa === 6 && fb === 6) return canonicalIPv6(a) === canonicalIPv6(b);
  return strip(a) === strip(b);
}

/** The proxy layer; see the module comment. */
export class ProxyLayer implements SiteLayer {
  readonly criticalOptions: readonly number[] = [Opt.Oscore];
  readonly config: ProxyConfig;
  readonly #endpoints: () => readonly LocalSocket[];
  #state: ProxyState | undefined;
  #groupCache: GroupCache | undefined;

  /**
   * @param endpoints where the server listens, to recognise requests for the proxy itself (RFC 7252 §5.7.2).
   * @throws InvalidArgumentError for bad settings.
   */
  constructor(settings: ProxySettings, endpoints: () => readonly LocalSocket[]) {
    this.config = resolveProxyConfig(settings);
    this.#endpoints = endpoints;
  }

  /** Gives the layer its client side; requests are forwarded from then on. */
  start(outward: Outward): void {
    const c = this.config;
    const runtime = outward.core.runtime;
    const cache = new ResponseCache(c.cache, runtime);
    const membership = c.groups?.membership;
    this.#state = {
      config: c,
      outward,
      runtime,
      timers: outward.messenger.timers,
      cache,
      limiter: new Limiter(c.limits, runtime),
      turns: new GroupTurns(c.limits.queuePerGroup),
      members: membership === undefined ? undefined : new Members(membership),
      forwardings: new Map(),
      ended: new Map(),
      counters: { unicastForwarded: 0, cacheHits: 0, groupForwarded: 0, relayed: 0, refused: 0 },
    };
    this.#groupCache = new GroupCache(cache, c.numbers);
  }

  /** True when `host` and `port` name this proxy. */
  isSelf(host: string, port: number): boolean {
    const eps = this.#endpoints();
    if (this.config.names.has(host.toLowerCase())) return eps.some((e) => e.port === port);
    return eps.some((e) => e.port === port && sameHost(e.address, host));
  }

  wrap(inner: Site): Site {
    let site: ProxySite | undefined;
    let of: ProxyState | undefined;
    // The site of the current state: none before start and after stop.
    const get = (): ProxySite | undefined => {
      const state = this.#state;
      if (state === undefined) return undefined;
      if (of !== state) {
        of = state;
        site = new ProxySite(
          { state, groupCache: this.#groupCache!, isSelf: (h, p) => this.isSelf(h, p) },
          inner,
        );
      }
      return site;
    };
    return {
      handle: (req: InboundRequest, res: Responder) => {
        const s = get();
        if (s !== undefined) return s.handle(req, res);
        if (isProxyRequest(req.message)) return answer(res, unavailable(1, 'the proxy is not running'));
        inner.handle(req, res);
      },
      acceptsMulticast: (req: InboundRequest) =>
        isProxyRequest(req.message) ? false : (inner.acceptsMulticast?.(req) ?? true),
    };
  }

  stats(): ProxyStats {
    const s = this.#state;
    const out = s?.outward;
    return {
      forwardings: s?.forwardings.size ?? 0,
      waiting: s?.turns.waiting ?? 0,
      busyGroups: s?.turns.busy ?? 0,
      cache: s?.cache.stats() ?? { entries: 0, bytes: 0 },
      limits: s?.limiter.stats() ?? { running: 0, clients: 0, buffered: 0, tracked: 0 },
      counters: {
        ...(s?.counters ?? { unicastForwarded: 0, cacheHits: 0, groupForwarded: 0, relayed: 0, refused: 0 }),
      },
      outward:
        out === undefined || out.closed
          ? undefined
          : { tokens: out.core.tokens.size, messenger: out.messenger.stats() },
    };
  }

  /** Ends every forwarding and empties the cache. */
  stop(): void {
    const s = this.#state;
    if (s === undefined) return;
    this.#state = undefined;
    for (const f of [...s.forwardings.values()]) f.cancel();
    s.cache.clear();
  }
}
