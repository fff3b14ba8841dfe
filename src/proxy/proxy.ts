/**
 * @module proxy/proxy
 * The public forms of the proxy: `CoapProxy`, a forward and reverse proxy with its own server
 * (RFC 7252 §5.7; RFC 7390 §2.9; draft-ietf-core-groupcomm-proxy), and `attachProxy`, which
 * installs the same proxy on a server the application already has (a site layer, server/site).
 * Clients reach the proxy on the server's sockets; the proxy's own requests leave from sockets
 * of their own (proxy/outward), on the configured interface with the configured hop limit.
 */
import type { TransmissionParameters } from '../constants.js';
import { InvalidArgumentError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { CoapServer, type ListenInfo } from '../server/server.js';
import type { SiteLayer } from '../server/site.js';
import type { LocalSocket, Transport } from '../transport/types.js';
import type { ProxySettings } from './config.js';
import { ProxyLayer, type ProxyStats } from './layer.js';
import { Outward, type OutwardOptions } from './outward.js';

/** Where the proxy's own requests leave from, besides interface and hop limit. */
export type OutwardEndpoint = Pick<OutwardOptions, 'transport' | 'bind' | 'resolver'>;

/** Options of a `CoapProxy`. */
export interface ProxyOptions extends ProxySettings {
  /** Addresses clients reach the proxy on; default `127.0.0.1`. Never a wildcard. */
  readonly bind?: readonly string[];
  /** UDP port clients reach the proxy on; default 5683. */
  readonly port?: number;
  /**
   * Interface (name or address) forwarded group requests go out on (groupcomm-proxy §5.2.1
   * step 5). Needed when `groups` is set: multicast is never sent without one.
   */
  readonly iface?: string;
  /** IPv4 TTL / IPv6 hop limit of forwarded group requests; default 1 (RFC 7390 §5.4.2). */
  readonly hops?: number;
  /** Security between clients and the proxy (hop by hop), e.g. an `OscoreServerSecurity`. */
  readonly security?: SiteLayer;
  /** Use this transport for the client side instead of UDP sockets (e.g. a `MemoryTransport`). */
  readonly transport?: Transport;
  /** The proxy's own requests: a transport, or addresses (default: `bind`, ephemeral ports). */
  readonly outward?: OutwardEndpoint;
  readonly runtime?: Runtime;
  readonly transmission?: Partial<TransmissionParameters>;
}

/** Options of `attachProxy`. */
export interface AttachProxyOptions extends ProxySettings {
  readonly iface?: string;
  readonly hops?: number;
  readonly outward?: OutwardEndpoint;
  readonly runtime?: Runtime;
  readonly transmission?: Partial<TransmissionParameters>;
}

/** A proxy installed on an application's server. */
export interface AttachedProxy {
  /** Sizes and counters. */
  stats(): ProxyStats;
  /** Where the proxy's own requests leave from. */
  readonly outwardEndpoints: readonly LocalSocket[];
  /** Ends every forwarding and closes the proxy's own sockets (the server stays). */
  close(): Promise<void>;
}

function checkGroups(o: { groups?: unknown; iface?: string; outward?: OutwardEndpoint }): void {
  if (o.groups !== undefined && o.iface === undefined && o.outward?.transport === undefined)
    throw new InvalidArgumentError(
      'group forwarding needs iface: the interface forwarded group requests go out on (multicast is never sent without one)',
    );
}

function outwardOptions(o: AttachProxyOptions, bind: readonly string[] | undefined): OutwardOptions {
  return {
    ...o.outward,
    ...(o.outward?.bind === undefined && bind !== undefined ? { bind } : {}),
    ...(o.iface !== undefined ? { iface: o.iface } : {}),
    ...(o.hops !== undefined ? { hops: o.hops } : {}),
    ...(o.runtime !== undefined ? { runtime: o.runtime } : {}),
    ...(o.transmission !== undefined ? { transmission: o.transmission } : {}),
  };
}

/**
 * A CoAP forward and reverse proxy for unicast targets and groups.
 *
 * @example
 * const proxy = new CoapProxy({
 *   bind: ['127.0.0.1'],
 *   port: 5684,
 *   iface: 'lo',
 *   groups: { allow: [{ from: '127.0.0.0/8' }], reverse: [{ path: '/room3', group: 'coap://239.255.0.3' }] },
 * });
 * await proxy.listen();
 */
export class CoapProxy {
  /** The server clients reach; add resources to it like to any server. */
  readonly server: CoapServer;
  readonly #layer: ProxyLayer;
  readonly #options: ProxyOptions;
  #outward: Outward | undefined;

  /** @throws InvalidArgumentError for bad options (nothing is bound). */
  constructor(options: ProxyOptions = {}) {
    checkGroups(options);
    this.#options = options;
    this.server = new CoapServer({
      ...(options.bind !== undefined ? { bind: options.bind } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.transport !== undefined ? { transport: options.transport } : {}),
      ...(options.runtime !== undefined ? { runtime: options.runtime } : {}),
      ...(options.transmission !== undefined ? { transmission: options.transmission } : {}),
      ...(options.security !== undefined ? { security: options.security } : {}),
      // The proxy is no group member (groupcomm-proxy §5.2.1: it sends to the group).
      joinAllCoapNodes: false,
    });
    this.#layer = new ProxyLayer(options, () => this.server.endpoints);
    this.server.use(this.#layer);
  }

  /** Binds the proxy's own sockets, then the server's; resolves once requests are taken. */
  async listen(): Promise<ListenInfo> {
    const outward = await Outward.create(outwardOptions(this.#options, this.#options.bind ?? ['127.0.0.1']));
    this.#outward = outward;
    this.#layer.start(outward);
    try {
      return await this.server.listen();
    } catch (err) {
      await outward.close();
      throw err;
    }
  }

  /** Where the proxy's own requests leave from. */
  get outwardEndpoints(): readonly LocalSocket[] {
    return this.#outward?.messenger.transport.sockets ?? [];
  }

  /** Sizes of the proxy's tables and its counters. */
  stats(): ProxyStats {
    return this.#layer.stats();
  }

  /** Ends every forwarding, then closes the server and the proxy's own sockets. */
  async close(): Promise<void> {
    this.#layer.stop();
    await this.server.close();
    await this.#outward?.close();
  }
}

/**
 * Installs a proxy on `server` (before or after it listens): requests with Proxy-Uri or
 * Proxy-Scheme, and those on its reverse routes, are forwarded; every other request reaches the
 * server's resources as before.
 *
 * @example
 * const server = new CoapServer({ bind: ['127.0.0.1'] });
 * const proxy = await attachProxy(server, { iface: 'lo', groups: { allow: [{ from: '127.0.0.1' }] } });
 * await server.listen();
 */
export async function attachProxy(
  server: CoapServer,
  options: AttachProxyOptions = {},
): Promise<AttachedProxy> {
  checkGroups(options);
  const layer = new ProxyLayer(options, () => server.endpoints);
  const outward = await Outward.create(outwardOptions(options, undefined));
  layer.start(outward);
  server.use(layer);
  return {
    stats: () => layer.stats(),
    get outwardEndpoints() {
      return outward.messenger.transport.sockets;
    },
    async close() {
      layer.stop();
      await outward.close();
    },
  };
}
