/**
 * @module client/proxy-route
 * Addressing requests through a forward proxy (RFC 7252 §5.7.2, §6.4) and reading where a
 * proxied group response came from (draft-ietf-core-groupcomm-proxy §3, §5.1.1, §5.5.1): the
 * proxy's own URI, the Proxy-Uri a request carries, the Multicast-Timeout in whole seconds, the
 * member named by Reply-From, and the same request aimed at one member through the proxy.
 */
import { InvalidArgumentError } from '../errors.js';
import type { CoapOption } from '../message/types.js';
import { type ProxyOptionNumbers, proxyOptionNumbers } from '../options/proxy-numbers.js';
import { Opt } from '../options/registry.js';
import { findOption } from '../options/values.js';
import type { Address } from '../transport/types.js';
import {
  type CoapUri,
  decodeReplyFrom,
  formatHost,
  formatUri,
  parseUri,
  type ReplyFrom,
} from '../uri/index.js';
import type { MessageParts } from './exchanger.js';

/**
 * The proxy's URI: `coap://host[:port]`, nothing else (the target goes in Proxy-Uri).
 * @throws InvalidArgumentError for another scheme, a path, a query or an invalid URI.
 */
export function parseProxyUri(text: string | CoapUri): CoapUri {
  const shown = JSON.stringify(typeof text === 'string' ? text : formatUri(text));
  const scheme =
    typeof text === 'string' ? /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase() : text.scheme;
  if (scheme !== 'coap')
    throw new InvalidArgumentError(
      `proxy ${shown} is not a coap:// URI; give it as coap://HOST[:PORT] (no DTLS, so no coaps)`,
    );
  let uri: CoapUri;
  try {
    uri = typeof text === 'string' ? parseUri(text) : text;
  } catch (err) {
    throw new InvalidArgumentError(`proxy ${shown}: ${(err as Error).message}`);
  }
  if (uri.path.length > 0 || uri.query.length > 0)
    throw new InvalidArgumentError(
      `proxy ${shown}: give only the proxy's host and port, e.g. coap://192.0.2.1:5683`,
    );
  return uri;
}

/** RFC 7252 §5.10.2: the whole target as one Proxy-Uri option (no Uri-* options beside it). */
export function proxyUriOption(target: CoapUri): CoapOption {
  return { number: Opt.ProxyUri, value: Buffer.from(formatUri(target), 'utf8') };
}

/**
 * groupcomm-proxy §5.1.1 step 3: the option holds whole seconds, so a window is rounded up;
 * 0 stays 0 ("not interested in receiving responses").
 */
export function multicastTimeoutOf(windowMs: number): number {
  if (!Number.isFinite(windowMs) || windowMs < 0)
    throw new InvalidArgumentError(`window ${windowMs} ms cannot become a Multicast-Timeout`);
  return Math.ceil(windowMs / 1000);
}

/** The Multicast-Timeout when no window was given: the group's Leisure plus 1 s (RFC 7252 §8.2). */
export function defaultMulticastTimeout(leisureSeconds: number): number {
  return Math.ceil(leisureSeconds + 1);
}

/** The port a CRI means when it omits one (href §2.1 C7). */
function schemePort(scheme: string): number {
  return scheme === 'coaps' || scheme === 'coaps+tcp' ? 5684 : 5683;
}

/**
 * The member a relayed response names (groupcomm-proxy §5.5.1 step 3): the authority of the
 * CRI reference when a reverse proxy stands in for each member (§6), else the first CRI's; the
 * port is the scheme's default when the CRI omits it. `undefined` when the response has no
 * Reply-From (the proxy's own answer); `null` when the value is malformed or names no IP host.
 */
export function replyFromSource(
  options: readonly CoapOption[],
  replyFromNumber: number,
): { source: Address; value: ReplyFrom } | undefined | null {
  const o = findOption(options, replyFromNumber);
  if (o === undefined) return undefined;
  let value: ReplyFrom;
  try {
    value = decodeReplyFrom(o.value);
  } catch {
    return null;
  }
  const a = value.reference?.authority ?? value.origin;
  if (a.hostKind === 'name') return null;
  return { source: { address: a.host, port: a.port ?? schemePort(value.origin.scheme) }, value };
}

const URI_OPTIONS = new Set<number>([Opt.UriHost, Opt.UriPort, Opt.ProxyUri, Opt.ProxyScheme]);

/**
 * The same request aimed at one member through the proxy (groupcomm-proxy §5.5.1 step 3): its
 * Proxy-Uri gets the member's authority (the path and query, or an OSCORE Outer Proxy-Uri of
 * scheme and authority alone, RFC 8613 §4.1.3.3, stay as they are), and the options meant for
 * a group request to the proxy (Multicast-Timeout, Group-ETag) are dropped.
 * @throws InvalidArgumentError when the request has no Proxy-Uri to aim.
 */
export function aimAtMember(parts: MessageParts, member: Address, numbers: ProxyOptionNumbers): MessageParts {
  const proxyUri = findOption(parts.options, Opt.ProxyUri);
  if (proxyUri === undefined)
    throw new InvalidArgumentError('the request names no Proxy-Uri to aim at a member');
  const text = proxyUri.value.toString('utf8');
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*(.*)$/s.exec(text);
  if (m === null) throw new InvalidArgumentError(`Proxy-Uri ${JSON.stringify(text)} is not an absolute URI`);
  const host = formatHost({ host: member.address, hostKind: member.address.includes(':') ? 'ipv6' : 'ipv4' });
  const scheme = m[1]!.slice(0, -3).toLowerCase();
  const port = member.port === schemePort(scheme) ? '' : `:${member.port}`;
  const aimed: CoapOption = {
    number: Opt.ProxyUri,
    value: Buffer.from(`${m[1]}${host}${port}${m[2]}`, 'utf8'),
  };
  const options = parts.options.filter(
    (o) =>
      !URI_OPTIONS.has(o.number) && o.number !== numbers.multicastTimeout && o.number !== numbers.groupETag,
  );
  options.push(aimed);
  options.sort((a, b) => a.number - b.number);
  return { ...parts, options };
}

/** The group proxy settings of a client, checked. */
export type ProxyConfig = {
  readonly proxy: CoapUri | undefined;
  readonly proxyOptions: ProxyOptionNumbers;
  readonly proxyMargin: number | undefined;
};

export function proxyConfig(o: {
  readonly proxy?: string | undefined;
  readonly proxyOptions?: Partial<ProxyOptionNumbers> | 'draft-suggested' | undefined;
  readonly proxyMargin?: number | undefined;
}): ProxyConfig {
  const m = o.proxyMargin;
  if (m !== undefined && (!Number.isFinite(m) || m < 0))
    throw new InvalidArgumentError(`proxyMargin ${m} must be a number of ms, 0 or more`);
  return {
    proxy: o.proxy === undefined ? undefined : parseProxyUri(o.proxy),
    proxyOptions: proxyOptionNumbers(o.proxyOptions),
    proxyMargin: m,
  };
}
