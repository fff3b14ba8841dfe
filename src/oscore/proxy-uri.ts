/**
 * @module oscore/proxy-uri
 * The Proxy-Uri split of RFC 8613 §4.1.3.3: the client decomposes Proxy-Uri as in RFC 7252 §6.4,
 * protects Uri-Path and Uri-Query as Inner options, and sends an Outer Proxy-Uri composed only of
 * scheme, host and port (RFC 7252 §6.5), so the proxy still learns where to forward to.
 */
import { InvalidArgumentError } from '../errors.js';
import type { CoapOption } from '../message/types.js';
import { Opt } from '../options/registry.js';

/** Default ports of schemes a CoAP proxy may forward to (RFC 7252 §6.1-6.2, RFC 8323 §8, RFC 9110 §4.2). */
const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  coap: 5683,
  coaps: 5684,
  'coap+tcp': 5683,
  'coaps+tcp': 5684,
  'coap+ws': 80,
  'coaps+ws': 443,
  http: 80,
  https: 443,
};

const URI = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(#.*)?$/;

function percentDecode(s: string, what: string): Buffer {
  // RFC 7252 §6.4 steps 8-9 decode to bytes, not to text: a segment may hold any bytes.
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex))
        throw new InvalidArgumentError(`bad percent-encoding in the ${what} of Proxy-Uri`);
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (c > 0x7e || c < 0x21) {
      throw new InvalidArgumentError(`Proxy-Uri must be an ASCII URI; the ${what} has character ${c}`);
    } else out.push(c);
  }
  return Buffer.from(out);
}

/** The result of decomposing a Proxy-Uri for OSCORE. */
export interface DecomposedProxyUri {
  /** The Outer Proxy-Uri: `scheme://host[:port]`. */
  readonly outer: CoapOption;
  /** The Inner Uri-Path and Uri-Query options, in order. */
  readonly inner: CoapOption[];
}

/**
 * Splits a Proxy-Uri value per RFC 8613 §4.1.3.3.
 * @example decomposeProxyUri('coap://example.com/resource?q=1')
 *   // outer Proxy-Uri "coap://example.com"; inner Uri-Path "resource", Uri-Query "q=1"
 * @throws InvalidArgumentError for a relative URI, a fragment, userinfo or bad percent-encoding.
 */
export function decomposeProxyUri(value: string): DecomposedProxyUri {
  const m = URI.exec(value);
  if (m === null) throw new InvalidArgumentError(`Proxy-Uri ${JSON.stringify(value)} is not an absolute URI`);
  const [, schemeRaw, authority, path, query, fragment] = m;
  if (fragment !== undefined)
    throw new InvalidArgumentError('Proxy-Uri must not have a fragment (RFC 7252 §6.4 step 4)');
  if (authority!.includes('@'))
    throw new InvalidArgumentError('Proxy-Uri must not have userinfo (RFC 8613 §4.1.3.3)');
  const scheme = schemeRaw!.toLowerCase();
  const hp = /^(\[[^\]]+\]|[^:]*)(?::(\d*))?$/.exec(authority!);
  if (hp === null || hp[1] === '')
    throw new InvalidArgumentError(`Proxy-Uri ${JSON.stringify(value)} has no valid host`);
  const host = hp[1]!.toLowerCase();
  const port = hp[2] === undefined || hp[2] === '' ? undefined : Number(hp[2]);
  if (port !== undefined && port > 65535)
    throw new InvalidArgumentError(`Proxy-Uri port ${port} is out of range`);
  // RFC 7252 §6.5 step 5: the port is written only when it is not the scheme's default.
  const showPort = port !== undefined && port !== DEFAULT_PORTS[scheme];
  const outer: CoapOption = {
    number: Opt.ProxyUri,
    value: Buffer.from(`${scheme}://${host}${showPort ? `:${port}` : ''}`, 'ascii'),
  };
  const inner: CoapOption[] = [];
  // RFC 7252 §6.4 step 8: an empty path or "/" gives no Uri-Path.
  if (path !== '' && path !== '/') {
    for (const seg of path!.slice(1).split('/'))
      inner.push({ number: Opt.UriPath, value: percentDecode(seg, 'path') });
  }
  if (query !== undefined) {
    for (const arg of query.split('&'))
      inner.push({ number: Opt.UriQuery, value: percentDecode(arg, 'query') });
  }
  return { outer, inner };
}
