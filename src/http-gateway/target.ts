/**
 * @module http-gateway/target
 * The Target CoAP URI inside a Hosting HTTP URI (RFC 8075 §5): the default mapping, where the
 * target follows the HC Proxy URI as it is (`/hc/coap://224.0.1.187/light`, §5.3, the template
 * `{+tu}`), and the Simple Form `?target_uri={+tu}` (§5.4.1, example 1). IPv6 brackets may come
 * percent-encoded (§5.3.2) or raw (WHATWG URL, as `fetch` sends them); only `%5B`/`%5D` in the
 * authority are decoded here, every other escape belongs to the CoAP URI. A target without a
 * scheme is a client error (§5.3.1).
 */

import { parseRequestUri } from '../client/scheme.js';
import { InvalidUriError, UnsupportedSchemeError } from '../errors.js';
import type { CoapUri } from '../uri/index.js';
import { refuse } from './refusal.js';

/** The Simple Form's query variable (RFC 8075 §5.4.1.1 example 1). */
export const SIMPLE_FORM_VARIABLE = 'target_uri';

/** Where a request-target points. */
export type Route =
  | { readonly kind: 'target'; readonly text: string }
  | { readonly kind: 'discovery'; readonly query: string }
  | { readonly kind: 'other' };

/** `/path?query` of an origin-form or absolute-form request-target (RFC 9112 §3.2). */
function originForm(raw: string): string {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*/.exec(raw);
  if (m === null) return raw;
  const rest = raw.slice(m[0].length);
  return rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
}

/**
 * Routes a raw request-target: discovery (`/.well-known/core`), a target under `prefix` (which
 * ends in `/`), or something else.
 */
export function route(rawUrl: string, prefix: string): Route {
  const url = originForm(rawUrl);
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  if (path === '/.well-known/core') return { kind: 'discovery', query };
  if (path === prefix || path === prefix.slice(0, -1)) {
    if (query.startsWith(`${SIMPLE_FORM_VARIABLE}=`)) {
      // {+tu} is reserved expansion: the rest of the request-target, `&` and `?` included.
      return { kind: 'target', text: query.slice(SIMPLE_FORM_VARIABLE.length + 1) };
    }
    return { kind: 'target', text: '' };
  }
  if (path.startsWith(prefix)) return { kind: 'target', text: url.slice(prefix.length) };
  return { kind: 'other' };
}

/** Decodes `%5B` and `%5D` in the authority only (RFC 8075 §5.3.2). */
function unwrapBrackets(text: string): string {
  const start = text.indexOf('//');
  if (start < 0) return text;
  const from = start + 2;
  const rest = text.slice(from);
  const end = rest.search(/[/?]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const decoded = authority.replace(/%5B/gi, '[').replace(/%5D/gi, ']');
  return text.slice(0, from) + decoded + (end < 0 ? '' : rest.slice(end));
}

/** The target as text and parsed. */
export interface Target {
  /** The Target CoAP URI as given, brackets decoded. */
  readonly text: string;
  readonly uri: CoapUri;
}

/**
 * Parses the text of a target.
 * @throws Refusal 400 for no target, no scheme or a malformed URI; 501 for a scheme this
 *   gateway has no transport for (`coaps` has no security policy mapping, RFC 8075 §10.3).
 */
export function parseTarget(raw: string, prefix: string): Target {
  if (raw === '') {
    throw refuse(
      400,
      `no target CoAP URI: write ${prefix}coap://HOST/PATH or ${prefix}?${SIMPLE_FORM_VARIABLE}=coap://HOST/PATH (RFC 8075 §5)`,
    );
  }
  const text = unwrapBrackets(raw);
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) {
    throw refuse(
      400,
      `the target ${JSON.stringify(text)} has no scheme: write ${prefix}coap://${text} (RFC 8075 §5.3.1)`,
    );
  }
  try {
    return { text, uri: parseRequestUri(text) };
  } catch (err) {
    if (err instanceof UnsupportedSchemeError) {
      throw refuse(
        501,
        `${err.scheme}:// is not forwarded: this gateway sends plain coap:// only (no security policy maps HTTP to ${err.scheme}, RFC 8075 §10.3)`,
      );
    }
    if (err instanceof InvalidUriError) throw refuse(400, `${err.message}`);
    throw err;
  }
}
