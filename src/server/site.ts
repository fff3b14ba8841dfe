/**
 * @module server/site
 * The seam between the message layer and whatever answers requests. A site takes each request
 * together with a responder (server/responder). The router pipeline is the server's default site;
 * a request with Proxy-Uri or Proxy-Scheme goes to a proxy handler when one is installed
 * (RFC 7252 §5.7.2; otherwise the router answers 5.05). A layer wraps a site (design.md: security
 * as a layer that wraps messages): it sees every request first, and may hand the site inside
 * another request (one it opened) and a responder of its own (`responder.through()`).
 */
import type { CoapMessage } from '../message/types.js';
import { Opt } from '../options/registry.js';
import type { Runtime } from '../runtime.js';
import type { Address, LocalSocket } from '../transport/types.js';
import type { TimerQueue } from '../util/timer-queue.js';
import type { Block1Assembler } from './block1.js';
import type { RepresentationCache } from './block2.js';
import type { Responder } from './responder.js';

/**
 * Who sent a request, as a layer below the site verified it (a security layer). Read-only; an
 * access policy may authorize on it (e.g. the `/coap-group` write policy, RFC 7390 §6.2).
 */
export interface RequestSecurity {
  /** The mechanism that verified the request, as the layer names it. */
  readonly kind: string;
  /** The sender's key identifier, lowercase hex; may be `''` (the empty identifier). */
  readonly kid: string;
  /** The identifier of the key context (for a group, the group's), lowercase hex, when it has one. */
  readonly idContext?: string;
}

/** A request as a site receives it. */
export interface InboundRequest {
  /** The request as this site sees it: a layer below may have opened it. */
  readonly message: CoapMessage;
  readonly remote: Address;
  /** The socket it arrived on. */
  readonly local: LocalSocket;
  /** True when it was sent to a group (RFC 7390 §2.7). */
  readonly multicast: boolean;
  /** The group it was sent to, for a multicast request. */
  readonly group: string | undefined;
  /** Who a layer verified as its sender; undefined when no layer did. */
  readonly security: RequestSecurity | undefined;
}

/**
 * What answers requests: the router, a proxy handler, or a layer around one of them.
 *
 * @example
 * // A proxy handler that relays two answers on the request's token, then ends the exchange.
 * server.setProxyHandler({
 *   handle(req, res) {
 *     res.respond({ code: 0x45, options: [], payload: Buffer.from('first') }, { more: true });
 *     res.respond({ code: 0x45, options: [], payload: Buffer.from('second') });
 *   },
 * });
 */
export interface Site {
  /** Takes one request; answers it, now or later, through `responder`. */
  handle(request: InboundRequest, responder: Responder): void;
  /**
   * Whether this site would take a multicast request (RFC 7390 §2.7: a resource that did not opt
   * in stays silent). A layer that answers in the site's stead (a freshness challenge) asks
   * first. Absent: every request is taken.
   */
  acceptsMulticast?(request: InboundRequest): boolean;
}

/** What a layer may use of the server it is installed on: its clock and its block-wise stores. */
export interface SiteHost {
  readonly runtime: Runtime;
  readonly timers: TimerQueue;
  /** The server's Block1 reassembly buffer (RFC 7959 §2.5), bounded; layers key their bodies apart. */
  readonly block1: Pick<Block1Assembler, 'receive'>;
  /** The server's representation cache for later blocks (RFC 7959 §2.4). */
  readonly representations: Pick<RepresentationCache, 'get' | 'put'>;
  /** Largest block size exponent the server sends (RFC 7959 §2.2). */
  readonly maxSzx: number;
}

/**
 * A layer around a site: given the site inside, returns the site the server calls. Installed with
 * `new CoapServer({ security })` (outermost) or `server.use(layer)`; `wrap` is called when the
 * server starts listening.
 *
 * @example
 * // Upper-cases every text payload on its way out, notifications included.
 * server.use({
 *   wrap: (inner) => ({
 *     handle: (req, res) =>
 *       inner.handle(req, res.through({ encode: (p) => ({ ...p, payload: Buffer.from(p.payload.toString().toUpperCase()) }) })),
 *   }),
 * });
 */
export interface SiteLayer {
  /** Critical options this layer processes in requests (RFC 7252 §5.4.1); the messenger passes them up. */
  readonly criticalOptions?: readonly number[];
  wrap(inner: Site, host: SiteHost): Site;
}

/** A message-protection layer: a site layer that verifies requests and protects what answers them. */
export type ServerSecurity = SiteLayer;

/** True when the request is for a proxy (RFC 7252 §5.7.2: Proxy-Uri or Proxy-Scheme). */
export function isProxyRequest(message: CoapMessage): boolean {
  return message.options.some((o) => o.number === Opt.ProxyUri || o.number === Opt.ProxyScheme);
}
