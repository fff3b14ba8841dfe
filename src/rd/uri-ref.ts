/**
 * @module rd/uri-ref
 * URI references in a resource directory: resolving link targets and anchors against a
 * registration's base URI (RFC 3986 §5.2, as RFC 9176 §5 and Appendix B.1.1 ask), the implicit
 * base built from the requester's address (RFC 9176 §5, RFC 7252 §6.5), and the checks a base
 * must pass (RFC 9176 §5: no zone identifier, usable as a base). Link-format text carries no
 * percent-encoding (RFC 9176 Appendix B.4), so references are handled as plain strings.
 */
import { COAP_PORT } from '../constants.js';
import { formatHost } from '../uri/index.js';
import { hostFromAddress } from '../uri/types.js';
import { ipFamily, isMulticast } from '../util/ip.js';

/** The five components of a URI reference (RFC 3986 §3, Appendix B); undefined when absent. */
interface Parts {
  scheme: string | undefined;
  authority: string | undefined;
  path: string;
  query: string | undefined;
  fragment: string | undefined;
}

/** RFC 3986 Appendix B: splits any string into the components of a URI reference. */
const SPLIT = /^(?:([^:/?#]+):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/s;
/** RFC 3986 §3.1. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

function split(ref: string): Parts {
  const m = SPLIT.exec(ref)!;
  return { scheme: m[1], authority: m[2], path: m[3] ?? '', query: m[4], fragment: m[5] };
}

function join(p: Parts): string {
  // One array join makes one flat string; `+=` would keep a chain of pieces per stored link.
  const out: string[] = [];
  if (p.scheme !== undefined) out.push(p.scheme, ':');
  if (p.authority !== undefined) out.push('//', p.authority);
  out.push(p.path);
  if (p.query !== undefined) out.push('?', p.query);
  if (p.fragment !== undefined) out.push('#', p.fragment);
  return out.join('');
}

/** RFC 3986 §5.2.4 remove_dot_segments. */
export function removeDots(path: string): string {
  if (!path.includes('.')) return path;
  let input = path;
  const out: string[] = [];
  // Bounded: every step removes at least one character from the input.
  while (input.length > 0) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../')) {
      input = input.slice(3);
      out.pop();
    } else if (input === '/..') {
      input = '/';
      out.pop();
    } else if (input === '.' || input === '..') input = '';
    else {
      const next = input.indexOf('/', input.startsWith('/') ? 1 : 0);
      const end = next < 0 ? input.length : next;
      out.push(input.slice(0, end));
      input = input.slice(end);
    }
  }
  return out.join('');
}

/** RFC 3986 §5.2.3 merge. */
function merge(base: Parts, ref: string): string {
  if (base.authority !== undefined && base.path === '') return `/${ref}`;
  const slash = base.path.lastIndexOf('/');
  return slash < 0 ? ref : base.path.slice(0, slash + 1) + ref;
}

/**
 * Resolves `ref` against the absolute URI `base` (RFC 3986 §5.2.2, strict: a reference with a
 * scheme is taken as it is). A reference that is already a URI comes back unchanged apart from
 * dot segments, as RFC 9176 §6.1 wants for targets and anchors submitted as URIs.
 *
 * @example
 * ```ts
 * resolveReference('/sensors/temp', 'coap://[2001:db8:4::1]'); // 'coap://[2001:db8:4::1]/sensors/temp'
 * ```
 */
export function resolveReference(ref: string, base: string): string {
  const r = split(ref);
  if (r.scheme !== undefined) return join({ ...r, path: removeDots(r.path) });
  const b = split(base);
  const t: Parts = {
    scheme: b.scheme,
    authority: b.authority,
    path: '',
    query: r.query,
    fragment: r.fragment,
  };
  if (r.authority !== undefined) {
    t.authority = r.authority;
    t.path = removeDots(r.path);
  } else if (r.path === '') {
    t.path = b.path;
    t.query = r.query ?? b.query;
  } else {
    t.path = removeDots(r.path.startsWith('/') ? r.path : merge(b, r.path));
  }
  return join(t);
}

/** True when `ref` is a URI (has a scheme), not a relative reference (RFC 3986 §4.1). */
export function isAbsoluteUri(ref: string): boolean {
  return split(ref).scheme !== undefined;
}

/** The path of a URI or reference (for matching `href` queries in path-absolute form). */
export function pathOfReference(ref: string): string {
  return split(ref).path;
}

/**
 * The implicit base URI of a registration (RFC 9176 §5): `coap://`, the requester's address as
 * a literal, and `:port` unless it is 5683. Never a zone identifier (RFC 9176 §3.4).
 */
export function baseFromAddress(address: string, port: number): string {
  const host = formatHost(hostFromAddress(address.replace(/%.*$/, '')));
  return `coap://${host}${port === COAP_PORT ? '' : `:${port}`}`;
}

/** The host of a URI's authority: an IP literal without brackets, or a name; '' when none. */
export function hostOfUri(uri: string): string {
  const authority = split(uri).authority ?? '';
  const at = authority.lastIndexOf('@');
  const hostport = at < 0 ? authority : authority.slice(at + 1);
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    return close < 0 ? '' : hostport.slice(1, close);
  }
  const colon = hostport.lastIndexOf(':');
  return colon < 0 ? hostport : hostport.slice(0, colon);
}

/** The port of a `coap`/`coaps` URI's authority (the scheme's default when none is given). */
export function portOfUri(uri: string): number | undefined {
  const p = split(uri);
  const authority = p.authority ?? '';
  const m = /:(\d*)$/.exec(authority.replace(/^.*@/, '').replace(/^\[[^\]]*\]/, ''));
  if (m !== null && m[1] !== '') return Number(m[1]);
  const scheme = p.scheme?.toLowerCase();
  return scheme === 'coap' ? COAP_PORT : scheme === 'coaps' ? 5684 : undefined;
}

/**
 * Why `text` cannot be a registration's base URI, or undefined when it can (RFC 9176 §5: an
 * absolute URI usable as a base, usually `scheme://authority`; no zone identifier; we also
 * refuse a query or fragment, which any non-empty reference would drop).
 */
export function baseProblem(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x5c) {
      return `base ${JSON.stringify(text)} has a character a URI cannot carry`;
    }
  }
  const p = split(text);
  if (p.scheme === undefined || !SCHEME.test(p.scheme)) return `base ${text} is not an absolute URI`;
  if (p.authority === undefined || p.authority === '') return `base ${text} has no authority (scheme://host)`;
  if (p.query !== undefined || p.fragment !== undefined)
    return `base ${text} must not have a query or fragment`;
  const host = hostOfUri(text);
  if (host === '') return `base ${text} has no host`;
  if (p.authority.includes('[') && (host.includes('%') || ipFamily(host) !== 6)) {
    return host.includes('%')
      ? `base ${text} must not carry a zone identifier (RFC 9176 §3.4)`
      : `base ${text} has an invalid IPv6 literal`;
  }
  const port = portOfUri(text);
  if (port !== undefined && !(port >= 0 && port <= 65535)) return `base ${text} has a port outside 0-65535`;
  return undefined;
}

/** True when the base's host is a multicast IP literal (a group's base, RFC 9176 Appendix A). */
export function isMulticastBase(base: string): boolean {
  const host = hostOfUri(base);
  return ipFamily(host) !== 0 && isMulticast(host);
}

/** True when the base's host is an IPv6 link-local literal (RFC 9176 §6.1, §6.4). */
export function isLinkLocalBase(base: string): boolean {
  const host = hostOfUri(base).toLowerCase();
  return ipFamily(host) === 6 && /^fe[89ab]/.test(host);
}
