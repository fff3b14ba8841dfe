/**
 * @module http-gateway/console-options
 * The options of the commissioning console a gateway may serve (docs/console.md): the group it
 * discovers first, the resource directory it reads (RFC 9176), and where its compiled scripts
 * are. Checked eagerly, with a typed `InvalidArgumentError`, like every gateway option.
 */
import { fileURLToPath } from 'node:url';
import { ALL_COAP_NODES_IPV4 } from '../constants.js';
import { InvalidArgumentError } from '../errors.js';
import { parseUri } from '../uri/index.js';
import { isMulticast } from '../util/ip.js';

/** What the console starts with. */
export interface GatewayConsoleOptions {
  /** The group discovered first, e.g. `coap://224.0.1.187`; default All CoAP Nodes. */
  readonly group?: string;
  /** A resource directory to read nodes and groups from, e.g. `coap://127.0.0.7`. */
  readonly rd?: string;
  /** Seconds a discovery collects answers (the Multicast-Timeout); default 3. */
  readonly wait?: number;
  /** The directory of the console's compiled scripts; default the package's `dist/console/`. */
  readonly scripts?: string;
}

/** @internal The checked console options, and what the page is told (`/console/config.json`). */
export interface CheckedConsoleOptions {
  readonly group: string;
  readonly rd: string | undefined;
  readonly wait: number;
  readonly scripts: string;
  /** The gateway's multicast interface, for the command lines the console shows. */
  readonly iface: string | undefined;
}

/** The package's `dist/console/`, from `src/http-gateway` and from `dist/http-gateway` alike. */
export function defaultScripts(): string {
  return fileURLToPath(new URL('../../dist/console/', import.meta.url));
}

function coapUri(name: string, text: unknown, group: boolean): string {
  let ok = typeof text === 'string';
  if (ok) {
    try {
      const u = parseUri(text as string);
      ok = u.scheme === 'coap' && (!group || (u.hostKind !== 'name' && isMulticast(u.host)));
    } catch {
      ok = false;
    }
  }
  if (!ok)
    throw new InvalidArgumentError(
      `console.${name} ${JSON.stringify(text)} is not a coap:// URI${group ? ' with a multicast address, e.g. coap://224.0.1.187' : ', e.g. coap://127.0.0.7'}`,
    );
  return (text as string).replace(/\/+$/, '');
}

/** Checks the console options; undefined when the console is not served. */
export function checkConsoleOptions(
  o: boolean | GatewayConsoleOptions | undefined,
  iface: string | undefined,
): CheckedConsoleOptions | undefined {
  if (o === undefined || o === false) return undefined;
  const c: GatewayConsoleOptions = o === true ? {} : o;
  if (typeof c !== 'object' || c === null)
    throw new InvalidArgumentError('console must be true or { group?, rd?, wait?, scripts? }');
  const wait = c.wait ?? 3;
  if (!Number.isInteger(wait) || wait < 1 || wait > 60)
    throw new InvalidArgumentError(`console.wait ${String(c.wait)} must be whole seconds from 1 to 60`);
  return {
    group: coapUri('group', c.group ?? `coap://${ALL_COAP_NODES_IPV4}`, true),
    rd: c.rd === undefined ? undefined : coapUri('rd', c.rd, false),
    wait,
    scripts: c.scripts ?? defaultScripts(),
    iface,
  };
}
