/**
 * @module proxy/target
 * The target of a request to the proxy (RFC 7252 §5.7.2, §5.10.2, §6.5): the absolute URI of
 * Proxy-Uri, or the URI composed from Proxy-Scheme and the Uri-* options (whose host and port
 * default to the request's destination, the proxy), or a reverse route (groupcomm-proxy §6).
 * Proxy-Uri "MUST take precedence" and the Uri-* options "MUST NOT be included" with it: a
 * request with both is a 4.00. A scheme other than `coap` is one this proxy is "unable or
 * unwilling to act as proxy for": 5.05 (there is no DTLS, TCP or HTTP side here). A URI whose
 * authority is the proxy itself is a local request (§5.7.2: a proxy "MUST be able to recognize
 * all of its server names"), handed to the site inside with the URI as Uri-Path and Uri-Query.
 */
import { Code } from '../message/codes.js';
import type { CoapMessage, CoapOption } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { findOption } from '../options/values.js';
import type { LocalSocket } from '../transport/types.js';
import { type CoapUri, optionsToUri, parseUri, pathOf, queryOf, uriToOptions } from '../uri/index.js';
import type { ReverseRoutes } from './reverse.js';

/** Where a request goes. */
export type Target =
  /** Not a request for the proxy: the site inside takes it as it is. */
  | { readonly kind: 'none' }
  /** Answer the client with this error. */
  | { readonly kind: 'refuse'; readonly code: number; readonly diagnostic: string }
  /** The URI names the proxy itself: the site inside takes this rewritten request. */
  | { readonly kind: 'local'; readonly message: CoapMessage }
  /** Forward to `uri`; `options` are the request's others (no Proxy-* or Uri-*). */
  | {
      readonly kind: 'remote';
      readonly uri: CoapUri;
      readonly options: CoapOption[];
      readonly reverse: boolean;
    };

/** What deciding the target needs besides the request. */
export interface TargetContext {
  readonly reverse: ReverseRoutes | undefined;
  /** A security layer opened the request: Proxy-Uri may be split (RFC 8613 §4.1.3.3). */
  readonly opened: boolean;
  /** True when `host` (an IP literal or a lower-case name) and `port` are the proxy itself. */
  isSelf(host: string, port: number): boolean;
}

const URI_OPTIONS = new Set<number>([
  Opt.ProxyUri,
  Opt.ProxyScheme,
  Opt.UriHost,
  Opt.UriPort,
  Opt.UriPath,
  Opt.UriQuery,
]);
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

const refuse = (code: number, diagnostic: string): Target => ({ kind: 'refuse', code, diagnostic });

function unsupported(scheme: string): Target {
  const why = scheme === 'coaps' ? 'this proxy has no DTLS' : `this proxy forwards only to coap:// URIs`;
  return refuse(Code.ProxyingNotSupported, `cannot proxy ${scheme}: ${why}`);
}

/** The other options of a request: what is left once the URI is taken out of it. */
export function otherOptions(options: readonly CoapOption[]): CoapOption[] {
  return options.filter((o) => !URI_OPTIONS.has(o.number));
}

/** Decides where `message`, received on `local`, goes. */
export function targetOf(message: CoapMessage, local: LocalSocket, ctx: TargetContext): Target {
  const options = message.options;
  const proxyUri = findOption(options, Opt.ProxyUri);
  const proxyScheme = findOption(options, Opt.ProxyScheme);
  if (proxyUri === undefined && proxyScheme === undefined) {
    const uri = ctx.reverse?.match(pathOf(options), queryOf(options));
    return uri === undefined
      ? { kind: 'none' }
      : { kind: 'remote', uri, options: otherOptions(options), reverse: true };
  }
  let uri: CoapUri;
  if (proxyUri !== undefined) {
    const text = proxyUri.value.toString('utf8');
    // RFC 8613 §4.1.3.3: opened by a security layer, the Outer Proxy-Uri has only scheme, host
    // and port, and the path and query come as the Inner Uri-Path and Uri-Query.
    const split = ctx.opened && !options.some((o) => o.number === Opt.UriHost || o.number === Opt.UriPort);
    const clash = options.some(
      (o) =>
        o.number === Opt.UriHost ||
        o.number === Opt.UriPort ||
        (!split && (o.number === Opt.UriPath || o.number === Opt.UriQuery)),
    );
    if (clash)
      return refuse(
        Code.BadRequest,
        'Proxy-Uri comes without Uri-Host, Uri-Port, Uri-Path and Uri-Query (RFC 7252 §5.10.2)',
      );
    const scheme = SCHEME.exec(text)?.[1]?.toLowerCase();
    if (scheme === undefined) return refuse(Code.BadRequest, 'Proxy-Uri must be an absolute URI');
    if (scheme !== 'coap') return unsupported(scheme);
    try {
      uri = parseUri(text);
    } catch (err) {
      return refuse(Code.BadRequest, `bad Proxy-Uri: ${(err as Error).message}`);
    }
    const inner = pathOf(options).length + queryOf(options).length > 0;
    if (split && inner) {
      if (uri.path.length > 0 || uri.query.length > 0)
        return refuse(
          Code.BadRequest,
          'a path both in the Outer Proxy-Uri and in Uri-Path (RFC 8613 §4.1.3.3)',
        );
      uri = { ...uri, path: pathOf(options), query: queryOf(options) };
    }
  } else {
    const scheme = proxyScheme!.value.toString('utf8').toLowerCase();
    if (scheme !== 'coap') return unsupported(scheme);
    try {
      uri = optionsToUri(options, { address: local.address, port: local.port });
    } catch (err) {
      return refuse(Code.BadRequest, `bad Uri-Host or Uri-Port: ${(err as Error).message}`);
    }
  }
  if (ctx.isSelf(uri.host, uri.port))
    return { kind: 'local', message: asLocal(message, otherOptions(options), uri) };
  return { kind: 'remote', uri, options: otherOptions(options), reverse: false };
}

/** A request for `uri` on the proxy itself, as the site inside expects it: the path and query as Uri-* options. */
export function asLocal(message: CoapMessage, others: readonly CoapOption[], uri: CoapUri): CoapMessage {
  const where = uriToOptions(uri).filter((o) => o.number === Opt.UriPath || o.number === Opt.UriQuery);
  return { ...message, options: [...others, ...where].sort((a, b) => a.number - b.number) };
}
