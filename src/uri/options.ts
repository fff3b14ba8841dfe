/**
 * @module uri/options
 * Between a `CoapUri` and the Uri-Host, Uri-Port, Uri-Path and Uri-Query options of a request:
 * decomposition (RFC 7252 §6.4 steps 5-9) on the client and composition (§6.5) on the server.
 * Option value lengths (§5.10) are checked by the encoder, not here.
 */
import { InvalidUriError } from '../errors.js';
import type { CoapOption } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { encodeUint, findOption, findOptions, uintOption } from '../options/values.js';
import { canonicalIPv6, ipFamily, splitZone } from '../util/ip.js';
import { parseIpLiteral } from './parse.js';
import { REG_NAME } from './percent.js';
import type { CoapScheme, CoapUri } from './types.js';
import { asciiLower, defaultPort, hostFromAddress } from './types.js';

/** A UDP destination or source: an IP address and a port. */
export interface SocketAddress {
  address: string;
  port: number;
}

/**
 * The options that carry `uri` to `destination` (RFC 7252 §6.4 steps 5-9), in option-number order:
 * Uri-Host unless the host is an IP literal equal to the destination address (zones ignored),
 * Uri-Port unless the port equals the destination port, a Uri-Path per segment (none for `/`) and
 * a Uri-Query per argument. Without `destination`, the URI's own host and port are the destination,
 * so only a name gives Uri-Host and Uri-Port is never sent.
 *
 * @example
 * ```ts
 * uriToOptions(parseUri('coap://224.0.1.187/.well-known/core?rt=core.rd'));
 * // Uri-Path '.well-known', Uri-Path 'core', Uri-Query 'rt=core.rd'
 * ```
 */
export function uriToOptions(uri: CoapUri, destination?: SocketAddress): CoapOption[] {
  const out: CoapOption[] = [];
  if (uri.hostKind === 'name') {
    out.push({ number: Opt.UriHost, value: Buffer.from(asciiLower(uri.host), 'utf8') });
  } else if (destination !== undefined && !sameAddress(uri, destination.address)) {
    // An IP literal in Uri-Host keeps its brackets (it is the <host> component) but never a
    // zone, which only means something on the sending host (RFC 6874 §4).
    const bare = splitZone(uri.host).address;
    out.push({
      number: Opt.UriHost,
      value: Buffer.from(uri.hostKind === 'ipv6' ? `[${bare}]` : bare, 'utf8'),
    });
  }
  if (destination !== undefined && uri.port !== destination.port) {
    out.push({ number: Opt.UriPort, value: encodeUint(uri.port) });
  }
  const path = uri.path;
  // §6.4 step 8: the path "/" gives no Uri-Path; [''] formats as "/", so it gives none either.
  if (!(path.length === 1 && path[0] === '')) {
    for (let i = 0; i < path.length; i++)
      out.push({ number: Opt.UriPath, value: Buffer.from(path[i]!, 'utf8') });
  }
  const query = uri.query;
  for (let i = 0; i < query.length; i++)
    out.push({ number: Opt.UriQuery, value: Buffer.from(query[i]!, 'utf8') });
  return out;
}

const MAPPED_PREFIX = '::ffff:';

/** Whether the URI's IP literal denotes `address`; the cheap exact match is tried first. */
function sameAddress(uri: CoapUri, address: string): boolean {
  if (uri.host === address) return true;
  if (uri.hostKind === 'ipv4') {
    // A dual-stack socket names an IPv4 destination as ::ffff:a.b.c.d.
    return (
      address.length === uri.host.length + MAPPED_PREFIX.length &&
      address.endsWith(uri.host) &&
      address.slice(0, MAPPED_PREFIX.length).toLowerCase() === MAPPED_PREFIX
    );
  }
  if (ipFamily(address) !== 6) return false;
  return canonicalIPv6(splitZone(address).address) === canonicalIPv6(splitZone(uri.host).address);
}

/** Where and how a request arrived: what §6.5 uses when Uri-Host or Uri-Port is absent. */
export interface RequestDestination extends SocketAddress {
  /** `coaps` when the request came over DTLS (§6.5 step 1); default `coap`. */
  scheme?: CoapScheme;
}

/**
 * Rebuilds the request URI from its options, as a server does (RFC 7252 §6.5): the host from
 * Uri-Host or else the local `address` the request was sent to, the port from Uri-Port or else
 * `port`. Repeated Uri-Host or Uri-Port options are left to the caller (§5.4.5): the first counts.
 *
 * @throws InvalidUriError when Uri-Host is not a reg-name, IP-literal or IPv4address (§6.5 step 2)
 * or the port is not 1-65535.
 */
export function optionsToUri(options: readonly CoapOption[], destination: RequestDestination): CoapUri {
  const scheme = destination.scheme ?? 'coap';
  const hostOption = findOption(options, Opt.UriHost);
  const host =
    hostOption === undefined
      ? hostFromAddress(destination.address)
      : hostFromUriHost(hostOption.value.toString('utf8'), scheme);
  const port = uintOption(options, Opt.UriPort) ?? destination.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidUriError(`${scheme}://${host.host}`, `bad port ${port}: a UDP port is 1-65535`);
  }
  return {
    scheme,
    ...host,
    port,
    explicitPort: port !== defaultPort(scheme),
    path: pathOf(options),
    query: queryOf(options),
  };
}

/**
 * A Uri-Host value as a URI host. The value is what §6.4 step 5 produced, already decoded, so
 * `%` is not read as an escape; §6.5 step 2 then requires a reg-name, IP-literal or IPv4address.
 */
function hostFromUriHost(value: string, scheme: CoapScheme): Pick<CoapUri, 'host' | 'hostKind'> {
  const uri = `${scheme}://${value}`;
  if (value.startsWith('[') && value.endsWith(']')) {
    return { host: parseIpLiteral(value.slice(1, -1), uri), hostKind: 'ipv6' };
  }
  if (ipFamily(value) === 4) return { host: value, hostKind: 'ipv4' };
  let valid = value !== '' && !/^[0-9.]+$/.test(value);
  for (let i = 0; valid && i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80 && REG_NAME[c] !== 1) valid = false;
  }
  if (!valid) {
    throw new InvalidUriError(
      uri,
      `Uri-Host ${JSON.stringify(value)} is not a reg-name, IP-literal or IPv4address (RFC 7252 §6.5 step 2)`,
    );
  }
  return { host: asciiLower(value), hostKind: 'name' };
}

/**
 * The Uri-Path values of a request, in order. One empty Uri-Path gives `[]`: it composes to the
 * same URI as none (RFC 7252 §6.5 steps 6-7).
 */
export function pathOf(options: readonly CoapOption[]): string[] {
  return segmentsOf(options, Opt.UriPath);
}

/** The Uri-Query values of a request, in order (RFC 7252 §5.10.1). */
export function queryOf(options: readonly CoapOption[]): string[] {
  return valuesOf(options, Opt.UriQuery);
}

/** String values of every option `number` (options sorted by number, as decoded). */
export function valuesOf(options: readonly CoapOption[], number: number): string[] {
  const found = findOptions(options, number);
  const out = new Array<string>(found.length);
  for (let i = 0; i < found.length; i++) out[i] = found[i]!.value.toString('utf8');
  return out;
}

/** Like `valuesOf`, with a lone empty segment read as the path `/`, i.e. `[]`. */
export function segmentsOf(options: readonly CoapOption[], number: number): string[] {
  const out = valuesOf(options, number);
  return out.length === 1 && out[0] === '' ? [] : out;
}
