/**
 * @module uri/types
 * The parsed form of a `coap`/`coaps` URI (RFC 7252 §6.1, §6.2), its default ports, and the
 * conversion of a socket address into a URI host (RFC 7252 §6.5 step 2, RFC 5952).
 */
import { COAP_PORT, COAPS_PORT } from '../constants.js';
import { canonicalIPv6, ipFamily } from '../util/ip.js';

/** The two schemes RFC 7252 §6 defines. */
export type CoapScheme = 'coap' | 'coaps';

/**
 * A `coap` or `coaps` URI, decomposed and fully percent-decoded (RFC 7252 §6.4).
 *
 * @example
 * ```ts
 * const uri = parseUri('coap://[ff02::fd%25eth0]/light?on');
 * // { scheme: 'coap', host: 'ff02::fd%eth0', hostKind: 'ipv6', port: 5683,
 * //   explicitPort: false, path: ['light'], query: ['on'] }
 * ```
 */
export interface CoapUri {
  scheme: CoapScheme;
  /**
   * An IPv4 literal, an IPv6 literal without brackets in RFC 5952 form (zone kept after `%`,
   * e.g. `ff02::fd%eth0`), or a registered name (ASCII lower-cased, percent-decoded).
   */
  host: string;
  hostKind: 'ipv4' | 'ipv6' | 'name';
  /** The UDP port: the explicit one, or 5683 for `coap` and 5684 for `coaps` (RFC 7252 §6.1, §6.2). */
  port: number;
  /** True when the text gave port digits (an empty port, `host:`, counts as not given). */
  explicitPort: boolean;
  /** Decoded path segments; the paths `''` and `'/'` give `[]` (RFC 7252 §6.4 step 8). */
  path: string[];
  /** Decoded query arguments, split on `&` (RFC 7252 §6.4 step 9). */
  query: string[];
}

/** RFC 7252 §6.1, §6.2: the port assumed when the URI gives none. */
export function defaultPort(scheme: CoapScheme): number {
  return scheme === 'coaps' ? COAPS_PORT : COAP_PORT;
}

const MAPPED_V4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/**
 * The URI host for a socket address, as §6.5 step 2 builds it when there is no Uri-Host.
 * IPv4-mapped IPv6 addresses (what a dual-stack socket reports for IPv4 peers) become IPv4, so
 * the same peer always gives the same URI. A non-IP address is kept as a lower-cased name.
 */
export function hostFromAddress(address: string): Pick<CoapUri, 'host' | 'hostKind'> {
  const family = ipFamily(address);
  if (family === 4) return { host: address, hostKind: 'ipv4' };
  if (family === 6) {
    const mapped = MAPPED_V4.exec(address);
    if (mapped !== null && ipFamily(mapped[1]!) === 4) return { host: mapped[1]!, hostKind: 'ipv4' };
    return { host: canonicalIPv6(address), hostKind: 'ipv6' };
  }
  return { host: asciiLower(address), hostKind: 'name' };
}

/** RFC 7252 §6.4 step 5 lower-cases ASCII only; non-ASCII letters of a name are left alone. */
export function asciiLower(text: string): string {
  return /[A-Z]/.test(text) ? text.replace(/[A-Z]+/g, (s) => s.toLowerCase()) : text;
}

/**
 * RFC 3986 §5.2.4 remove_dot_segments over already split segments of an absolute path. Only the
 * literal `.` and `..` count: `%2E` is decoded after resolution (RFC 7252 §6.4 steps 2 and 8).
 * A result of one empty segment (the path `/`) is returned as `[]`.
 */
export function removeDotSegments(segments: readonly string[]): string[] {
  const out: string[] = [];
  const last = segments.length - 1;
  for (let i = 0; i <= last; i++) {
    const s = segments[i]!;
    if (s === '.' || s === '..') {
      if (s === '..') out.pop();
      // "/a/." and "/a/.." keep their trailing slash, i.e. end in an empty segment.
      if (i === last) out.push('');
    } else {
      out.push(s);
    }
  }
  return out.length === 1 && out[0] === '' ? [] : out;
}

/** True when the segments contain `.` or `..` (cheap check before `removeDotSegments`). */
export function hasDotSegment(segments: readonly string[]): boolean {
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '.' || s === '..') return true;
  }
  return false;
}
