/**
 * @module cli/http-gateway
 * `--http-port N [--http-bind ADDR] [--http-allow-target CIDR]... [--http-host-name NAME]...`:
 * the HTTP-to-CoAP gateway (RFC 8075, groupcomm-proxy §9) that `coap-group proxy` runs beside
 * its CoAP side. The command spreads `HTTP_GATEWAY_OPTIONS` into its option table, checks the
 * values with `checkHttpGateway` before anything is bound, starts the gateway with
 * `startCliHttpGateway` once its own sockets are bound (the gateway sends with the proxy's
 * client, so NSTART per group holds across both sides), puts `httpReady(gw)` into its `ready`
 * line, and closes the gateway on SIGTERM. Group requests over HTTP follow the proxy's
 * `--allow-groups-from CIDR[=GROUP-URI]`, or, without it, come from loopback clients only.
 */
import {
  type CoapClient,
  type GatewayGroupAccess,
  HttpGateway,
  type HttpGatewayOptions,
  InvalidArgumentError,
} from '../index.js';
import { integer, UsageError } from './usage.js';

/** The options a command takes for the gateway. */
export const HTTP_GATEWAY_OPTIONS = {
  'http-port': { type: 'string' },
  'http-bind': { type: 'string' },
  'http-allow-target': { type: 'string', multiple: true },
  'http-host-name': { type: 'string', multiple: true },
} as const;

/** The parsed values of those options (and of the proxy's that the gateway shares). */
export interface HttpGatewayValues {
  readonly 'http-port'?: string | undefined;
  readonly 'http-bind'?: string | undefined;
  readonly 'http-allow-target'?: string[] | undefined;
  readonly 'http-host-name'?: string[] | undefined;
  /** The proxy's multicast interface. */
  readonly iface?: string | undefined;
  /** The proxy's `--allow-groups-from CIDR[=GROUP-URI]` entries. */
  readonly 'allow-groups-from'?: string[] | undefined;
}

/** `CIDR[=GROUP-URI]` entries as the gateway's group clients. */
function groupClients(entries: readonly string[]): GatewayGroupAccess[] {
  return entries.map((e) => {
    const eq = e.indexOf('=');
    return eq < 0 ? { from: e } : { from: e.slice(0, eq), groups: [e.slice(eq + 1)] };
  });
}

/**
 * Checks the values before anything is bound: the gateway's options, or undefined without
 * `--http-port`. `client` is the command's CoAP client, if it shares one.
 * @throws UsageError saying what is wrong and how to mend it.
 */
export function checkHttpGateway(v: HttpGatewayValues, client?: CoapClient): HttpGatewayOptions | undefined {
  const port = integer('http-port', v['http-port'], 0, 65535);
  if (port === undefined) {
    for (const k of ['http-bind', 'http-allow-target', 'http-host-name'] as const)
      if (v[k] !== undefined) throw new UsageError(`--${k} needs --http-port N`, 'e.g. --http-port 8080');
    return undefined;
  }
  const options: HttpGatewayOptions = {
    port,
    host: v['http-bind'] ?? '127.0.0.1',
    ...(client !== undefined ? { client } : {}),
    ...(v.iface !== undefined ? { iface: v.iface } : {}),
    ...(v['http-allow-target'] !== undefined ? { targets: v['http-allow-target'] } : {}),
    ...(v['http-host-name'] !== undefined ? { hostnames: v['http-host-name'] } : {}),
    ...(v['allow-groups-from'] !== undefined ? { groupClients: groupClients(v['allow-groups-from']) } : {}),
  };
  construct(options);
  return options;
}

/** A gateway, not yet listening: the construction checks every option. */
function construct(options: HttpGatewayOptions): HttpGateway {
  try {
    return new HttpGateway(options);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    throw new UsageError(cliWording(err.message), 'see coap-group proxy --help');
  }
}

/** Option names in a message from the library, as the command line spells them. */
function cliWording(message: string): string {
  return message
    .replace(/^targets: /, '--http-allow-target: ')
    .replace(/^groupClients\[\]\.from: /, '--allow-groups-from: ')
    .replace(/^group /, '--allow-groups-from: group ');
}

/** Starts the gateway the values describe; undefined without `--http-port`. */
export async function startCliHttpGateway(
  v: HttpGatewayValues,
  client?: CoapClient,
): Promise<HttpGateway | undefined> {
  const options = checkHttpGateway(v, client);
  if (options === undefined) return undefined;
  const gw = construct(options);
  await gw.listen();
  return gw;
}

/** The words the `ready` line gets for a running gateway: `http http://127.0.0.1:8080/hc/`. */
export function httpReady(gw: HttpGateway | undefined): string {
  return gw?.address === undefined ? '' : ` http ${gw.address.url}`;
}
