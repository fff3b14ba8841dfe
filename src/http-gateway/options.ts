/**
 * @module http-gateway/options
 * The options of an `HttpGateway`, checked eagerly at construction with a typed
 * `InvalidArgumentError`, and their defaults: loopback only (the HTTP side listens on 127.0.0.1,
 * and unicast targets are loopback plus the subnets of the multicast interface, the link the
 * gateway sits on), group requests from loopback clients, and the limits of http-gateway/limits.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { networkInterfaces } from 'node:os';
import type { CoapClient } from '../client/client.js';
import type { Resolver } from '../client/resolve.js';
import { InvalidArgumentError } from '../errors.js';
import { resolveInterface } from '../transport/interfaces.js';
import type { Address } from '../transport/types.js';
import {
  type CheckedConsoleOptions,
  checkConsoleOptions,
  type GatewayConsoleOptions,
} from './console-options.js';
import { DEFAULT_GATEWAY_LIMITS, type GatewayLimits, type GatewayRate } from './limits.js';
import type { GatewayGroupAccess } from './policy.js';

/** Options of `new HttpGateway()` and `startHttpGateway()`. */
export interface HttpGatewayOptions {
  /**
   * The CoAP client requests are sent with; the gateway does not close it. Without it the
   * gateway creates one from `iface`, `hops` and `coapBind`, and closes it with itself.
   */
  client?: CoapClient;
  /**
   * The multicast interface (name or address) group requests leave on: the link the gateway
   * sits on. Without it (and without a `client` that has one) group requests are refused (403).
   * It also gives the default unicast targets.
   */
  iface?: string;
  /** Multicast TTL / hop limit of group requests; default 1 (RFC 7390 §5.4.2). Never from a request. */
  hops?: number;
  /** Local addresses of the client the gateway creates; default ephemeral ports on every address. */
  coapBind?: readonly Address[];
  /** Address the HTTP server listens on; default `127.0.0.1`. */
  host?: string;
  /** HTTP port; default 8080, 0 for any free port. */
  port?: number;
  /** Host names the gateway answers to besides IP literals and `localhost` (DNS rebinding). */
  hostnames?: readonly string[];
  /** The HC Proxy URI path (RFC 8075 §5.1); default `/hc/`. */
  path?: string;
  /**
   * Unicast targets allowed (RFC 8075 §10.4): CIDR prefixes, or `'any'`. Default: loopback and
   * the subnets of `iface`.
   */
  targets?: readonly string[] | 'any';
  /** HTTP clients allowed to address groups (RFC 8075 §10.1); default: loopback, any group. */
  groupClients?: readonly GatewayGroupAccess[];
  /** Limits; each one given replaces its default. */
  limits?: Partial<GatewayLimits>;
  /** Forward `application/coap-payload; cf=N` bodies and Accept (RFC 8075 §6.2); default false. */
  coapPayload?: boolean;
  /** Answers requests outside `/.well-known/core` and `path` (e.g. a console's files); default 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Host-name resolver for targets; default `getaddrinfo`. */
  resolver?: Resolver;
  /**
   * Serve the commissioning console at `/console/` (docs/console.md): `true`, or what it starts
   * with. Default false.
   */
  console?: boolean | GatewayConsoleOptions;
}

/** @internal The checked options. */
export interface CheckedGatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly targets: readonly string[] | 'any';
  readonly groupClients: readonly GatewayGroupAccess[];
  readonly hostnames: readonly string[];
  readonly limits: GatewayLimits;
  readonly coapPayload: boolean;
  /** The console's settings, or undefined when it is not served. */
  readonly console: CheckedConsoleOptions | undefined;
}

/** Loopback prefixes: this host. */
const LOOPBACK: readonly string[] = ['127.0.0.0/8', '::1/128'];

/** The prefixes of the interface `iface` (the link the gateway sits on). */
function linkPrefixes(iface: string | undefined): string[] {
  if (iface === undefined) return [];
  const name = resolveInterface(iface).name;
  const addrs = name === undefined ? [] : (networkInterfaces()[name] ?? []);
  // Link-local addresses need a zone to be reached, which a target URI may carry; fe80::/10 covers them.
  return addrs.map((a) => (a.cidr ?? `${a.address}/${a.family === 'IPv4' ? 32 : 128}`).replace(/%.*$/, ''));
}

function positive(name: string, v: unknown, integer: boolean): void {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v)))
    throw new InvalidArgumentError(
      `limits.${name} must be a ${integer ? 'positive integer' : 'number above 0'}`,
    );
}

function checkRate(name: string, r: GatewayRate): void {
  if (typeof r !== 'object' || r === null)
    throw new InvalidArgumentError(`limits.${name} must be { rate, burst }`);
  positive(`${name}.rate`, r.rate, false);
  positive(`${name}.burst`, r.burst, true);
}

/** Checks the options; throws InvalidArgumentError naming the bad one. */
export function checkGatewayOptions(o: HttpGatewayOptions): CheckedGatewayOptions {
  const port = o.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(`port ${String(o.port)} must be an integer from 0 to 65535`);
  const path = o.path ?? '/hc/';
  if (!/^\/([A-Za-z0-9._~!$&'()*+,;=:@-]+\/)*$/.test(path) || path === '/')
    throw new InvalidArgumentError(
      `path ${JSON.stringify(path)} must be an absolute path ending in /, e.g. /hc/`,
    );
  if (o.hops !== undefined && (!Number.isInteger(o.hops) || o.hops < 1 || o.hops > 255))
    throw new InvalidArgumentError(`hops ${o.hops} must be an integer from 1 to 255`);
  const limits: GatewayLimits = { ...DEFAULT_GATEWAY_LIMITS, ...o.limits };
  for (const [k, v] of Object.entries(limits)) {
    if (k === 'clientRate' || k === 'groupRate') checkRate(k, v as GatewayRate);
    else positive(k, v, k !== 'maxTimeout' && k !== 'unicastTimeout');
  }
  const targets = o.targets ?? [...LOOPBACK, ...linkPrefixes(o.iface)];
  return {
    host: o.host ?? '127.0.0.1',
    port,
    path,
    targets,
    groupClients: o.groupClients ?? LOOPBACK.map((from) => ({ from })),
    hostnames: o.hostnames ?? [],
    limits,
    coapPayload: o.coapPayload ?? false,
    console: checkConsoleOptions(o.console, o.iface),
  };
}
