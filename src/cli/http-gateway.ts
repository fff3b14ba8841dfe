/**
 * @module cli/http-gateway
 * `--http-port N [--http-bind ADDR] [--http-allow-target CIDR]... [--http-host-name NAME]... [--console]`:
 * the HTTP-to-CoAP gateway (RFC 8075, groupcomm-proxy §9) that `coap-group proxy` runs beside
 * its CoAP side, as one of the command's extensions: its options join the command's table, its
 * values are checked before anything is bound, and once the proxy listens it starts with the
 * proxy's interface and hop limit, adds its HC Proxy URI to the `ready` line, and stops with the
 * proxy. Group requests over HTTP follow the proxy's `--allow-groups-from CIDR[=GROUP-URI]`
 * (entries that name an OSCORE identity match no HTTP client); without group forwarding on the
 * proxy, groups are refused over HTTP too (403). `--console` serves the commissioning console
 * at `/console/` (docs/console.md).
 */
import {
  type GatewayGroupAccess,
  HttpGateway,
  type HttpGatewayOptions,
  InvalidArgumentError,
} from '../index.js';
import { integer, UsageError } from './usage.js';

/** The options the gateway adds to a command. */
export const HTTP_GATEWAY_OPTIONS = {
  'http-port': { type: 'string' },
  'http-bind': { type: 'string' },
  'http-allow-target': { type: 'string', multiple: true },
  'http-host-name': { type: 'string', multiple: true },
  console: { type: 'boolean' },
} as const;

/** A command line's values, as `parseArgs` gives them. */
export type ArgValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

/** What the gateway takes from the command it runs beside. */
export interface GatewayHost {
  /** The interface and hop limit group requests leave with; no interface: groups are refused. */
  readonly options: { readonly iface?: string | undefined; readonly hops?: number | undefined };
}

function text(v: ArgValues, name: string): string | undefined {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
}

function texts(v: ArgValues, name: string): string[] | undefined {
  const x = v[name];
  return Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : undefined;
}

/** `CIDR[=GROUP-URI]` entries as the gateway's group clients; `kid:` entries match no HTTP client. */
function groupClients(entries: readonly string[]): GatewayGroupAccess[] {
  return entries
    .filter((e) => !e.startsWith('kid:'))
    .map((e) => {
      const eq = e.indexOf('=');
      return eq < 0 ? { from: e } : { from: e.slice(0, eq), groups: [e.slice(eq + 1)] };
    });
}

/** Option names in a message of the library, as the command line spells them. */
function cliWording(message: string): string {
  return message
    .replace(/^targets: /, '--http-allow-target: ')
    .replace(/^groupClients\[\]\.from: /, '--allow-groups-from: ')
    .replace(/^group /, '--allow-groups-from: group ');
}

/**
 * The gateway's options for the command line, or undefined without `--http-port`.
 * @throws UsageError saying what is wrong and how to mend it.
 */
export function httpGatewayOptions(v: ArgValues, host: GatewayHost): HttpGatewayOptions | undefined {
  const port = integer('http-port', text(v, 'http-port'), 0, 65535);
  if (port === undefined) {
    for (const k of ['http-bind', 'http-allow-target', 'http-host-name', 'console'])
      if (v[k] !== undefined) throw new UsageError(`--${k} needs --http-port N`, 'e.g. --http-port 8080');
    return undefined;
  }
  const targets = texts(v, 'http-allow-target');
  const hostnames = texts(v, 'http-host-name');
  const { iface, hops } = host.options;
  return {
    port,
    host: text(v, 'http-bind') ?? '127.0.0.1',
    // Without group forwarding on the proxy, no HTTP client may address a group either.
    groupClients: groupClients(texts(v, 'allow-groups-from') ?? []),
    ...(iface !== undefined ? { iface } : {}),
    ...(hops !== undefined ? { hops } : {}),
    ...(targets !== undefined ? { targets } : {}),
    ...(hostnames !== undefined ? { hostnames } : {}),
    // The commissioning console at /console/ (docs/console.md), behind the same allow-lists.
    ...(v.console === true ? { console: true } : {}),
  };
}

/** A gateway, not yet listening: its construction checks every option. */
function construct(options: HttpGatewayOptions): HttpGateway {
  try {
    return new HttpGateway(options);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    throw new UsageError(cliWording(err.message), 'see coap-group proxy --help');
  }
}

/** A started gateway, as the command keeps it. */
export interface StartedGateway {
  /** For the `ready` line: the HC Proxy URI, e.g. `http://127.0.0.1:8080/hc/`. */
  readonly ready: string;
  readonly gateway: HttpGateway;
  close(): Promise<void>;
}

/**
 * The gateway as an extension of `coap-group proxy`: `options` for its table, `check` before
 * anything is bound, `start` once the proxy listens (undefined without `--http-port`).
 */
export const HTTP_GATEWAY_EXTENSION = {
  options: HTTP_GATEWAY_OPTIONS,
  check(values: ArgValues): void {
    // The interface is the proxy's to check; everything else is checked here.
    const options = httpGatewayOptions(values, { options: {} });
    if (options !== undefined) construct(options);
  },
  async start(values: ArgValues, host: GatewayHost): Promise<StartedGateway | undefined> {
    const options = httpGatewayOptions(values, host);
    if (options === undefined) return undefined;
    const gateway = construct(options);
    const { url } = await gateway.listen();
    return { ready: url, gateway, close: () => gateway.close() };
  },
};
