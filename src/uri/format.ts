/**
 * @module uri/format
 * `CoapUri` to text in the normal form of RFC 7252 §6.3, percent-encoding as §6.5 steps 2-9 do,
 * with IPv6 zones written the RFC 6874 §2 way (`%25`).
 */
import { canonicalIPv6, isMulticast, splitZone } from '../util/ip.js';
import { percentEncode, QUERY_ARG, REG_NAME, SEGMENT, UNRESERVED } from './percent.js';
import type { CoapUri } from './types.js';
import { asciiLower, defaultPort } from './types.js';

/**
 * The canonical text of a URI: lower-case scheme and host, RFC 5952 IPv6 in brackets with the
 * zone as `%25zone`, no port when it is the scheme's default (whatever `explicitPort` says),
 * `/` for an empty path, and upper-case percent-encoding of what §6.5 does not keep.
 *
 * @example
 * ```ts
 * formatUri(parseUri('coap://[FF02::FD%eth0]:5683/a%2fb')); // 'coap://[ff02::fd%25eth0]/a%2Fb'
 * ```
 */
export function formatUri(uri: CoapUri): string {
  let out = `${uri.scheme}://${formatHost(uri)}`;
  if (uri.port !== defaultPort(uri.scheme)) out += `:${uri.port}`;
  out += pathString(uri.path);
  if (uri.query.length > 0) out += `?${queryString(uri.query)}`;
  return out;
}

/** The authority's host as URI text (RFC 7252 §6.5 step 2, RFC 5952, RFC 6874). */
export function formatHost(uri: Pick<CoapUri, 'host' | 'hostKind'>): string {
  if (uri.hostKind === 'ipv4') return uri.host;
  if (uri.hostKind === 'ipv6') {
    const { address, zone } = splitZone(uri.host);
    const zoneText = zone === undefined ? '' : `%25${percentEncode(zone, UNRESERVED)}`;
    return `[${canonicalIPv6(address)}${zoneText}]`;
  }
  return percentEncode(asciiLower(uri.host), REG_NAME);
}

/**
 * The resource name of RFC 7252 §6.5 steps 6-7: `/` before each percent-encoded segment, `/`
 * alone for no segments (or one empty one, which composes to the same URI). A segment that is
 * `.` or `..` is written `%2E`/`%2E%2E`, so that re-parsing does not remove it (RFC 3986 §5.2.4).
 */
export function pathString(segments: readonly string[]): string {
  if (segments.length === 0 || (segments.length === 1 && segments[0] === '')) return '/';
  let out = '';
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    out += s === '.' ? '/%2E' : s === '..' ? '/%2E%2E' : `/${percentEncode(s, SEGMENT)}`;
  }
  return out;
}

/** The query of RFC 7252 §6.5 step 8, without the `?`: encoded arguments joined by `&`. */
export function queryString(args: readonly string[]): string {
  let out = '';
  for (let i = 0; i < args.length; i++) out += `${i === 0 ? '' : '&'}${percentEncode(args[i]!, QUERY_ARG)}`;
  return out;
}

/**
 * True when the host is a multicast IP literal (224.0.0.0/4, ff00::/8): a group URI (RFC 7390
 * §2.2). A name is not: whether it resolves to a group address is decided where it is resolved.
 */
export function isGroupUri(uri: Pick<CoapUri, 'host' | 'hostKind'>): boolean {
  return uri.hostKind !== 'name' && isMulticast(uri.host);
}
