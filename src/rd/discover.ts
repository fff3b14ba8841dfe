/**
 * @module rd/discover
 * How a node finds a resource directory and its interfaces: by a multicast GET of
 * `/.well-known/core?rt=core.rd*` to All CoAP Nodes (RFC 7390 §3.3, RFC 9176 §4.1) on the
 * node's own interface, or at a given address; then the registration and lookup URIs from the
 * links it answers (RFC 9176 §4.3), resolved against the responder. A given URI with a path is
 * the registration resource itself, for directories that do not list their lookups (or any).
 */
import type { CoapClient } from '../client/client.js';
import { ALL_COAP_NODES_IPV4, ALL_COAP_NODES_IPV6_SITE } from '../constants.js';
import { type Link, linkAttribute, parseLinks } from '../link-format/index.js';
import { type CoapUri, formatHost, formatUri, parseUri } from '../uri/index.js';
import { isMulticast } from '../util/ip.js';
import { RdClientError } from './errors.js';
import { baseFromAddress, resolveReference } from './uri-ref.js';

/** Where a resource directory's interfaces are (absolute URIs). */
export interface RdInterfaces {
  /** `coap://host:port` of the directory. */
  readonly origin: string;
  /** The registration interface (`rt=core.rd`). */
  readonly registration: string | undefined;
  /** Endpoint lookup (`rt=core.rd-lookup-ep`). */
  readonly lookupEp: string | undefined;
  /** Resource lookup (`rt=core.rd-lookup-res`). */
  readonly lookupRes: string | undefined;
}

export interface FindRdOptions {
  /** `auto` discovery: the UDP port to ask on (default 5683, RFC 7252 §12.6). */
  readonly port?: number;
  /**
   * `auto` discovery: ask over IPv6, on site-local All CoAP Nodes (ff05::fd, which a server on a
   * named interface joins), instead of IPv4 (224.0.1.187).
   */
  readonly ipv6?: boolean;
  /** `auto` discovery: how long to collect answers, ms (the directory's Leisure and more); default 6000. */
  readonly windowMs?: number;
  /** Unicast discovery: give up after this long, ms; default 10000. */
  readonly timeoutMs?: number;
}

/** The first link with resource type `rt` (one of its space-separated values), resolved. */
function find(links: readonly Link[], rt: string, base: string): string | undefined {
  for (const l of links) {
    const v = linkAttribute(l, 'rt');
    if (typeof v === 'string' && v.split(' ').includes(rt)) return resolveReference(l.href, base);
  }
  return undefined;
}

function interfacesFrom(origin: string, links: readonly Link[]): RdInterfaces {
  return {
    origin,
    registration: find(links, 'core.rd', origin),
    lookupEp: find(links, 'core.rd-lookup-ep', origin),
    lookupRes: find(links, 'core.rd-lookup-res', origin),
  };
}

/**
 * Multicast discovery (RFC 7390 §3.3) on `group` (a URI's host and port) or on All CoAP Nodes:
 * the first directory that answers.
 */
async function discover(client: CoapClient, o: FindRdOptions, group?: CoapUri): Promise<RdInterfaces> {
  const port = group?.port ?? o.port ?? 5683;
  const host =
    group !== undefined
      ? formatHost(group)
      : o.ipv6 === true
        ? `[${ALL_COAP_NODES_IPV6_SITE}]`
        : ALL_COAP_NODES_IPV4;
  const uri = `coap://${host}:${port}/.well-known/core?rt=core.rd*`;
  const responses = client.group({ uri, window: o.windowMs ?? 6000, accept: 40 });
  for await (const r of responses) {
    if (r.code !== 0x45) continue;
    let links: Link[];
    try {
      links = parseLinks(r.text());
    } catch {
      continue; // not link format: not a directory we can use
    }
    const found = interfacesFrom(baseFromAddress(r.source.address, r.source.port), links);
    // Leaving the loop ends the group request (its token is released).
    if (found.registration !== undefined) return found;
  }
  throw new RdClientError(
    'ERR_COAP_RD_NOT_FOUND',
    `no resource directory answered ${uri} (RFC 7390 §3.3); give its address with --rd coap://HOST`,
  );
}

/**
 * Finds a directory's interfaces: `rd` is `auto` (multicast discovery on All CoAP Nodes), a
 * `coap://` URI with a multicast host (discovery on that group and port), or the directory's
 * URI. A URI without a path is asked for `/.well-known/core?rt=core.rd*`; a URI with one names
 * the registration interface (lookups are still looked for, and may be missing).
 * @throws RdClientError `ERR_COAP_RD_NOT_FOUND`; InvalidUriError for a bad URI.
 */
export async function findRdInterfaces(
  client: CoapClient,
  rd: string,
  o: FindRdOptions = {},
): Promise<RdInterfaces> {
  if (rd === 'auto') return discover(client, o);
  const uri: CoapUri = parseUri(rd);
  if (uri.hostKind !== 'name' && isMulticast(uri.host)) return discover(client, o, uri);
  const origin = formatUri({ ...uri, path: [], query: [] }).replace(/\/$/, '');
  const given = uri.path.length > 0 ? formatUri({ ...uri, query: [] }) : undefined;
  let links: Link[] = [];
  let problem: string | undefined;
  try {
    const res = await client.request({
      uri: `${origin}/.well-known/core?rt=core.rd*`,
      accept: 40,
      timeout: o.timeoutMs ?? 10_000,
    });
    if (res.code === 0x45) links = parseLinks(res.text());
    else problem = `it answered ${res.codeString}`;
  } catch (err) {
    problem = (err as Error).message;
  }
  const found = interfacesFrom(origin, links);
  const registration = given ?? found.registration;
  if (registration === undefined) {
    throw new RdClientError(
      'ERR_COAP_RD_NOT_FOUND',
      `${origin} lists no registration interface (rt=core.rd) in /.well-known/core${problem ? `: ${problem}` : ''}; give its path, e.g. ${origin}/rd`,
    );
  }
  return { ...found, registration };
}
