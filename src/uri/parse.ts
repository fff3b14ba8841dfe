/**
 * @module uri/parse
 * Text to `CoapUri`: the checks of RFC 7252 §6.1, §6.2 and §6.4 steps 1-4 (absolute, `coap` or
 * `coaps`, no fragment, non-empty host), RFC 3986 §3 component syntax, §5.2.4 dot-segment removal,
 * and IPv6 zones written either as RFC 6874 `%25` or as the unescaped `%` people type.
 */
import { InvalidUriError } from '../errors.js';
import { canonicalIPv6, ipFamily } from '../util/ip.js';
import { checkComponent, PATH, percentDecode, QUERY, REG_NAME, UNRESERVED } from './percent.js';
import type { CoapScheme, CoapUri } from './types.js';
import { asciiLower, defaultPort, removeDotSegments } from './types.js';

/** RFC 3986 §3.1. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
/** Only digits and dots: RFC 3696 §2 rules such a name out as a DNS name, so it must be IPv4. */
const DIGITS_AND_DOTS = /^[0-9.]+$/;

/**
 * Parses a `coap` or `coaps` URI (RFC 7252 §6). The result is fully decoded: host lower-cased,
 * IPv6 in RFC 5952 form, `.`/`..` segments resolved (RFC 3986 §5.2.4), percent-encodings
 * turned into characters. Non-ASCII characters are accepted as in an IRI (RFC 3987 §3.1).
 *
 * @example
 * ```ts
 * parseUri('coap://EXAMPLE.com/%7Esensors/temp.xml').path; // ['~sensors', 'temp.xml']
 * ```
 * @throws InvalidUriError (`ERR_COAP_INVALID_URI`) whose message names the rule broken.
 */
export function parseUri(text: string): CoapUri {
  const m = SCHEME.exec(text);
  if (m === null) {
    throw new InvalidUriError(text, 'not an absolute URI: there is no scheme (RFC 7252 §6.4 step 1)');
  }
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'coap' && scheme !== 'coaps') {
    throw new InvalidUriError(
      text,
      `unsupported scheme "${m[1]}": only "coap" and "coaps" are allowed (RFC 7252 §6.4 step 3)`,
    );
  }
  if (text.includes('#')) {
    throw new InvalidUriError(text, 'a fragment ("#...") is not allowed (RFC 7252 §6.4 step 4)');
  }
  let start = m[0].length;
  if (!text.startsWith('//', start)) {
    throw new InvalidUriError(text, 'missing authority: "//host" must follow the scheme (RFC 7252 §6.1)');
  }
  start += 2;
  let end = start;
  while (end < text.length && text[end] !== '/' && text[end] !== '?') end++;
  const authority = parseAuthority(text.slice(start, end), scheme, text);

  const q = text.indexOf('?', end);
  const rawPath = q < 0 ? text.slice(end) : text.slice(end, q);
  checkComponent(rawPath, PATH, 'path', text);
  // §6.4 step 2 resolves the reference (removing literal dot segments) before step 8 decodes.
  const rawSegments = rawPath === '' ? [] : removeDotSegments(rawPath.slice(1).split('/'));
  const path = rawSegments.map((s) => percentDecode(s, 'path', text));

  let query: string[] = [];
  if (q >= 0) {
    const rawQuery = text.slice(q + 1);
    checkComponent(rawQuery, QUERY, 'query', text);
    // Split before decoding, so that an encoded "%26" stays inside its argument.
    query = rawQuery.split('&').map((a) => percentDecode(a, 'query', text));
  }
  return { scheme, ...authority, path, query };
}

function parseAuthority(
  auth: string,
  scheme: CoapScheme,
  uri: string,
): Pick<CoapUri, 'host' | 'hostKind' | 'port' | 'explicitPort'> {
  if (auth.includes('@')) {
    throw new InvalidUriError(uri, 'user information ("user@") is not allowed in a CoAP URI (RFC 7252 §6.1)');
  }
  let hostPart: string;
  let portPart: string | undefined;
  if (auth.startsWith('[')) {
    const close = auth.indexOf(']');
    if (close < 0) throw new InvalidUriError(uri, 'unterminated IP literal: "]" is missing');
    hostPart = auth.slice(0, close + 1);
    const rest = auth.slice(close + 1);
    if (rest !== '') {
      if (rest[0] !== ':') {
        throw new InvalidUriError(uri, `unexpected ${JSON.stringify(rest)} after the IP literal`);
      }
      portPart = rest.slice(1);
    }
  } else {
    const colon = auth.indexOf(':');
    if (colon >= 0 && auth.includes(':', colon + 1)) {
      throw new InvalidUriError(uri, 'an IPv6 address must be enclosed in "[" and "]" (RFC 3986 §3.2.2)');
    }
    hostPart = colon < 0 ? auth : auth.slice(0, colon);
    portPart = colon < 0 ? undefined : auth.slice(colon + 1);
  }
  if (hostPart === '') throw new InvalidUriError(uri, 'the host is empty (RFC 7252 §6.1)');
  const host = parseHost(hostPart, uri);

  if (portPart === undefined || portPart === '') {
    // §6.1: "If it is empty or not given, then the default port ... is assumed."
    return { ...host, port: defaultPort(scheme), explicitPort: false };
  }
  if (!/^[0-9]+$/.test(portPart)) {
    throw new InvalidUriError(uri, `bad port ${JSON.stringify(portPart)}: only decimal digits are allowed`);
  }
  const port = Number(portPart);
  if (port < 1 || port > 65535) {
    throw new InvalidUriError(uri, `bad port ${portPart}: a UDP port is 1-65535`);
  }
  return { ...host, port, explicitPort: true };
}

/** The host of URI text: `[IP-literal]`, IPv4address or reg-name (RFC 3986 §3.2.2). */
function parseHost(hostPart: string, uri: string): Pick<CoapUri, 'host' | 'hostKind'> {
  if (hostPart.startsWith('[')) {
    return { host: parseIpLiteral(hostPart.slice(1, -1), uri), hostKind: 'ipv6' };
  }
  if (DIGITS_AND_DOTS.test(hostPart)) {
    // Rejecting "999.1.1.1" or "010.0.0.1" beats sending it to DNS as a name.
    if (ipFamily(hostPart) !== 4) throw new InvalidUriError(uri, `invalid IPv4 address "${hostPart}"`);
    return { host: hostPart, hostKind: 'ipv4' };
  }
  checkComponent(hostPart, REG_NAME, 'host', uri);
  // §6.4 step 5: ASCII lower-case first, then decode.
  return { host: percentDecode(asciiLower(hostPart), 'host', uri), hostKind: 'name' };
}

/**
 * The inside of `[...]`: an IPv6 address, optionally with a zone. `%25` followed by at least one
 * character is the RFC 6874 §2 form (its ZoneID percent-decoded); any other `%` starts an
 * unescaped zone, the form `ping` and `ip` print. Returns RFC 5952 text with `%zone`.
 * @throws InvalidUriError for IPvFuture, a bad address or a bad zone.
 */
export function parseIpLiteral(inside: string, uri: string): string {
  if (inside === '') throw new InvalidUriError(uri, 'the IP literal "[]" is empty');
  if (inside[0] === 'v' || inside[0] === 'V') {
    throw new InvalidUriError(uri, `IPvFuture literal "[${inside}]" is not supported (RFC 3986 §3.2.2)`);
  }
  const pct = inside.indexOf('%');
  const address = pct < 0 ? inside : inside.slice(0, pct);
  if (ipFamily(address) !== 6) throw new InvalidUriError(uri, `invalid IPv6 address "${address}"`);
  if (pct < 0) return canonicalIPv6(address);
  let zone = inside.slice(pct + 1);
  if (zone.length > 2 && zone.startsWith('25')) {
    zone = zone.slice(2);
    checkComponent(zone, UNRESERVED, 'IPv6 zone', uri);
    zone = percentDecode(zone, 'IPv6 zone', uri);
  } else {
    checkComponent(zone, UNRESERVED, 'IPv6 zone', uri);
  }
  if (zone === '') throw new InvalidUriError(uri, 'the IPv6 zone after "%" is empty (RFC 6874 §2)');
  return `${canonicalIPv6(address)}%${zone}`;
}
