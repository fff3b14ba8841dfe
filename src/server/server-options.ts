/**
 * @module server/server-options
 * The options of a `CoapServer`, checked eagerly at construction with a typed
 * `InvalidArgumentError` (design.md: options checked at construction): the port, bind addresses
 * (never a wildcard where groups are joined, design.md §Multicast on Node), groups, block size
 * (RFC 7959 §2.2), group mode (RFC 7390 §2.10 or groupcomm-bis §3.7) and Leisure (RFC 7252 §8.2).
 */
import type { TransmissionParameters } from '../constants.js';
import { COAP_PORT, DEFAULT_TRANSMISSION } from '../constants.js';
import { InvalidArgumentError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Transport } from '../transport/types.js';
import { ipFamily } from '../util/ip.js';
import type { Block1Limits } from './block1.js';
import { type GroupSpec, parseGroupSpec } from './groups.js';
import { type LeisureSetting, leisureSeconds } from './leisure.js';
import type { ObserveOptions } from './observe.js';
import type { Site, SiteLayer } from './site.js';

/** Options of a server. Checked at construction. */
export interface ServerOptions {
  /** Use this transport (e.g. a `MemoryTransport`) instead of binding UDP sockets. */
  transport?: Transport;
  runtime?: Runtime;
  transmission?: Partial<TransmissionParameters>;
  /** Unicast addresses to bind; default `127.0.0.1`. Never a wildcard where groups are joined. */
  bind?: readonly string[];
  /** UDP port; default 5683. */
  port?: number;
  /**
   * Interface for group joins and multicast: a name (`lo`) or address. Several, for a node on
   * several links (RFC 7390 §4.1): groups are joined on each, multicast is sent on the first.
   * Default: the interface of the first bind address.
   */
  iface?: string | readonly string[];
  /** Join All CoAP Nodes (224.0.1.187; ff02::fd and ff05::fd with IPv6); default true (RFC 7390 §2.2). */
  joinAllCoapNodes?: boolean;
  /** More groups to join. */
  groups?: readonly GroupSpec[];
  /**
   * Leisure for multicast responses, seconds or S*G/R, whatever the request. Default: the
   * Leisure that fits the request received: DEFAULT_LEISURE (5 s, or `transmission.defaultLeisure`)
   * for an unprotected one, the security layer's default for a verified protected one.
   */
  leisure?: LeisureSetting;
  /** Serve /.well-known/core; default true. */
  discovery?: boolean;
  /** ms a handler may take before a CON gets an empty ACK; default 1000. */
  ackDelayMs?: number;
  /** Largest block this server sends, bytes (16-1024, a power of two); default 1024 (RFC 7959). */
  maxBlockSize?: number;
  /** Limits of the Block1 reassembly buffer. */
  block1?: Partial<Block1Limits>;
  /** Observer limits and the CON cadence of notifications (RFC 7641). */
  observe?: ObserveOptions;
  /** `'bis'` (default) allows Observe on multicast (groupcomm-bis §3.7); `'rfc7390'` treats it as a plain GET (RFC 7390 §2.10). */
  groupMode?: 'bis' | 'rfc7390';
  /**
   * Message protection: a security layer, the outermost around the site. Protected requests are
   * verified and what answers them protected. The default Leisure the layer gives a verified group
   * request (groupcomm-bis §3.1.5: larger responses, a longer Leisure) applies when `leisure` is
   * not given; unprotected group requests keep DEFAULT_LEISURE, since their responses carry no
   * security overhead.
   */
  security?: SiteLayer;
  /** Refuse requests no security layer verified, for every resource (4.01 unicast, silence multicast). Needs `security`. */
  requireProtection?: boolean;
  /** Takes requests with Proxy-Uri or Proxy-Scheme (RFC 7252 §5.7.2); without one they get 5.05. */
  proxy?: Site;
}

/** What the checks derive from the options. */
export interface CheckedOptions {
  readonly port: number;
  /** Largest block size exponent sent (RFC 7959 §2.2). */
  readonly maxSzx: number;
  /** Leisure the application set, ms; undefined: by request. */
  readonly leisureMs: number | undefined;
  /** DEFAULT_LEISURE for requests no layer gives another default, ms (RFC 7252 §8.2). */
  readonly plainLeisureMs: number;
}

/** Checks the options. @throws InvalidArgumentError naming what is wrong. */
export function checkServerOptions(options: ServerOptions): CheckedOptions {
  const port = options.port ?? COAP_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(`port ${port} is outside 0-65535`);
  for (const b of options.bind ?? []) {
    if (ipFamily(b) === 0) throw new InvalidArgumentError(`bind address ${b} is not an IP address`);
    if (b === '0.0.0.0' || b === '::') {
      throw new InvalidArgumentError(
        `bind address ${b} is a wildcard: it would also receive group traffic as unicast; bind each address instead`,
      );
    }
  }
  for (const g of options.groups ?? []) parseGroupSpec(g, port);
  if (options.security !== undefined && typeof options.security?.wrap !== 'function')
    throw new InvalidArgumentError('security must be a site layer: an object with wrap(site, host)');
  if (Array.isArray(options.iface) && options.iface.length === 0)
    throw new InvalidArgumentError('iface lists no interface; name one, or leave iface out');
  if (options.requireProtection && options.security === undefined)
    throw new InvalidArgumentError('requireProtection needs a security layer (the security option)');
  if (options.proxy !== undefined && typeof options.proxy?.handle !== 'function')
    throw new InvalidArgumentError('proxy must be a site: an object with handle(request, responder)');
  const leisureMs = options.leisure === undefined ? undefined : leisureSeconds(options.leisure) * 1000;
  // groupcomm-bis §3.1.5 sizes DEFAULT_LEISURE by the response: S grows by the security
  // overhead only when the response is protected, so a layer sets the default of what it verified.
  const plainLeisureMs =
    leisureSeconds(options.transmission?.defaultLeisure ?? DEFAULT_TRANSMISSION.defaultLeisure) * 1000;
  const block = options.maxBlockSize ?? 1024;
  const maxSzx = Math.log2(block) - 4;
  if (!Number.isInteger(maxSzx) || maxSzx < 0 || maxSzx > 6) {
    throw new InvalidArgumentError(`maxBlockSize ${block} must be a power of two from 16 to 1024`);
  }
  if (options.groupMode !== undefined && options.groupMode !== 'bis' && options.groupMode !== 'rfc7390') {
    throw new InvalidArgumentError(`groupMode must be 'bis' or 'rfc7390', got ${String(options.groupMode)}`);
  }
  return { port, maxSzx, leisureMs, plainLeisureMs };
}
