/**
 * @module http-gateway/discovery
 * Discovery of the HC Proxy URI and its URI mapping templates (RFC 8075 §5.5) in the CoRE Link
 * Format: on the HTTP side, `GET /.well-known/core?rt=core.hc` lists the default mapping (no
 * `hct`, so `{+tu}` is assumed) and the Simple Form (`hct="?target_uri={+tu}"`); its context is
 * the gateway's own origin, so it needs no anchor. A CoAP server that publishes the gateway
 * needs the link with an explicit anchor, which `coreHcLink` gives.
 */
import { filterLinks, formatLinks, type Link } from '../link-format/index.js';
import { SIMPLE_FORM_VARIABLE } from './target.js';

/** The links of the HC Proxy at `path` (RFC 8075 §5.5), anchored at `anchor` when given. */
export function hcLinks(path: string, anchor?: string): Link[] {
  const base: Array<[string, string | true]> = anchor === undefined ? [] : [['anchor', anchor]];
  return [
    { href: path, attributes: [...base, ['rt', 'core.hc']] },
    { href: path, attributes: [...base, ['rt', 'core.hc'], ['hct', `?${SIMPLE_FORM_VARIABLE}={+tu}`]] },
  ];
}

/**
 * The link-format document of the HTTP side's `/.well-known/core`, filtered by the raw `query`
 * (RFC 6690 §4.1).
 */
export function discoveryDocument(path: string, query: string): string {
  const args = query === '' ? [] : query.split('&').map((a) => safeDecode(a.replace(/\+/g, ' ')));
  const links = hcLinks(path);
  return formatLinks(args.length > 0 ? filterLinks(links, args) : links);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The link a CoAP server publishes for this gateway (RFC 8075 §5.5: on the CoAP side "the link
 * … always needs an explicit anchor"), e.g. `</hc/>;anchor="http://192.0.2.1:8080";rt="core.hc"`.
 */
export function coreHcLink(origin: string, path = '/hc/'): string {
  return formatLinks(hcLinks(path, origin).slice(0, 1));
}
