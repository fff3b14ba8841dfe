/**
 * @module client/group-proxy
 * What a group request does differently through a proxy (draft-ietf-core-groupcomm-proxy): which
 * proxy (the request's, the client's default, or a reverse proxy named by the URI itself, §6.2),
 * how the target is named (Proxy-Uri, RFC 7252 §5.10.2; Uri-* options for a reverse proxy), how a
 * member is reached afterwards (through the proxy with its URI in Proxy-Uri, §5.5.1 step 3; a
 * reverse proxy's members directly), the Early Stop Request that ends the relaying before its
 * time (§5.1.3), and the revalidation of a stored set with Group-ETag (§7.3).
 */
import { GroupRequestError, InvalidArgumentError } from '../errors.js';
import { Code, Method } from '../message/codes.js';
import type { CoapMessage, CoapOption } from '../message/types.js';
import { EMPTY, MessageType } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { findOption } from '../options/values.js';
import type { Address } from '../transport/types.js';
import { type CoapUri, uriToOptions } from '../uri/index.js';
import { isMulticast } from '../util/ip.js';
import type { ClientCore } from './core.js';
import { sendOnce } from './deregister.js';
import type { FollowUpRoute } from './group-collect.js';
import { checkNotBroadcast, checkScope } from './group-policy.js';
import { refreshed, type StoredResponse, type StoredSet, setKey } from './group-sets.js';
import { ProxyAnswerError } from './proxy-answer-error.js';
import { parseProxyUri, proxyUriOption } from './proxy-route.js';
import { resolveHost } from './resolve.js';
import { CoapResponse } from './response.js';

/** How a group request reaches the group. */
export type GroupVia =
  /** Sent to the group itself (RFC 7390 §2.5). */
  | { readonly kind: 'direct' }
  /** Sent to a forward proxy that multicasts it (groupcomm-proxy §5.1.1). */
  | { readonly kind: 'forward'; readonly proxy: CoapUri }
  /** Sent to the URI's own host, a reverse proxy standing in for the group (groupcomm-proxy §6.2). */
  | { readonly kind: 'reverse' };

/** What a group request says about proxies. */
export interface GroupProxyChoice {
  readonly proxy?: string | CoapUri | false | undefined;
  readonly reverseProxy?: boolean | undefined;
}

/**
 * The route the request takes: `reverseProxy` first, then its own `proxy` (`false`: none),
 * then the client's default proxy.
 * @throws InvalidArgumentError for a proxy URI that is not `coap://host[:port]`, or both
 *   `reverseProxy` and `proxy`.
 */
export function groupVia(core: ClientCore, o: GroupProxyChoice): GroupVia {
  if (o.reverseProxy === true) {
    if (o.proxy !== undefined && o.proxy !== false)
      throw new InvalidArgumentError('reverseProxy sends to the URI itself: drop proxy, or reverseProxy');
    return { kind: 'reverse' };
  }
  if (o.proxy === false) return { kind: 'direct' };
  if (o.proxy !== undefined) return { kind: 'forward', proxy: parseProxyUri(o.proxy) };
  return core.proxy === undefined ? { kind: 'direct' } : { kind: 'forward', proxy: core.proxy };
}

/**
 * Where a group request goes: the group (`dest`), and the next hop when there is a proxy. A
 * direct request must pass the broadcast and scope checks (RFC 7390 §5.4.2); through a proxy the
 * scope is the proxy's to choose (its configuration, not the client's). A reverse proxy is
 * itself both.
 * @throws GroupRequestError `ERR_COAP_GROUP_NOT_MULTICAST` for a unicast group URI,
 *   InvalidArgumentError for a reverse proxy URI whose host is a group.
 */
export async function groupRoute(
  core: ClientCore,
  via: GroupVia,
  uri: CoapUri,
  allowWideScope: boolean,
): Promise<{ dest: Address; hop: Address | undefined }> {
  const address = await resolveHost(uri.host, core.resolver);
  const dest: Address = { address, port: uri.port };
  if (via.kind === 'reverse') {
    if (isMulticast(address))
      throw new InvalidArgumentError(`reverseProxy: ${uri.host} is a group, not the reverse proxy's address`);
    return { dest, hop: dest };
  }
  if (via.kind === 'direct') checkNotBroadcast(address, core.broadcasts);
  if (!isMulticast(address)) {
    throw new GroupRequestError(
      'ERR_COAP_GROUP_NOT_MULTICAST',
      `${uri.host} is not a multicast address; send unicast requests with request()`,
    );
  }
  if (via.kind === 'direct') {
    checkScope(address, core.hops, allowWideScope);
    return { dest, hop: undefined };
  }
  return { dest, hop: await proxyEndpoint(core, via.proxy) };
}

/** The proxy's endpoint: its URI's host resolved. */
export async function proxyEndpoint(core: ClientCore, proxy: CoapUri): Promise<Address> {
  return { address: await resolveHost(proxy.host, core.resolver), port: proxy.port };
}

/**
 * The options that name the target: Proxy-Uri for a forward proxy (no Uri-* beside it, RFC 7252
 * §5.10.2), the URI's own options for a reverse proxy or the group itself (§6.4).
 */
export function targetOptions(via: GroupVia, uri: CoapUri, dest: Address): CoapOption[] {
  return via.kind === 'forward' ? [proxyUriOption(uri)] : uriToOptions(uri, dest);
}

/**
 * How a responder is reached afterwards (block-wise continuations): through a forward proxy, with
 * the request's URI aimed at the member in Proxy-Uri (groupcomm-proxy §5.5.1 step 3); a reverse
 * proxy that stands in only for the group is bypassed, and the member asked directly (§6.2).
 */
export function followUpRoute(
  via: GroupVia,
  uri: CoapUri,
  hop: Address,
  numbers: ClientCore['proxyOptions'],
): FollowUpRoute {
  const memberUri = (remote: Address): CoapUri => ({
    ...uri,
    host: remote.address,
    hostKind: remote.address.includes(':') ? 'ipv6' : 'ipv4',
    port: remote.port,
    explicitPort: true,
  });
  const drop = new Set<number>([
    Opt.UriHost,
    Opt.UriPort,
    Opt.UriPath,
    Opt.UriQuery,
    Opt.ProxyUri,
    Opt.ProxyScheme,
    numbers.multicastTimeout,
    numbers.groupETag,
  ]);
  const rest = (base: readonly CoapOption[]) => base.filter((o) => !drop.has(o.number));
  const sorted = (options: CoapOption[]) => options.sort((a, b) => a.number - b.number);
  if (via.kind === 'forward')
    return {
      relay: hop,
      proxy: hop,
      options: (remote, base) => sorted([...rest(base), proxyUriOption(memberUri(remote))]),
    };
  return {
    relay: hop,
    proxy: undefined,
    options: (remote, base) => sorted([...rest(base), ...uriToOptions(memberUri(remote), remote)]),
  };
}

/**
 * groupcomm-proxy §5.1.3: the Early Stop Request, a GET on the request's token with an empty
 * Multicast-Timeout and no Proxy-* or Uri-* options, so the proxy stops relaying. It is for the
 * proxy, not the members: sent once, as it is, below every layer (it carries nothing to protect).
 */
export function earlyStop(core: ClientCore, token: Buffer, proxy: Address): Promise<void> {
  return sendOnce(
    core.messenger,
    {
      type: MessageType.NON,
      code: Method.GET,
      token,
      options: [{ number: core.proxyOptions.multicastTimeout, value: EMPTY }],
      payload: EMPTY,
    },
    proxy,
  );
}

/** The key of a request's stored set (client/group-sets), from what it sends to the proxy. */
export function storedSetKey(
  core: ClientCore,
  hop: Address,
  code: number,
  options: readonly CoapOption[],
  payload: Buffer,
): string {
  const n = core.proxyOptions;
  return setKey(hop, code, options, payload, [n.multicastTimeout, n.groupETag]);
}

/**
 * What an answer of the proxy itself (no Reply-From) means for the request (groupcomm-proxy
 * §5.5.1, §7.3): a 2.03 whose Group-ETag is the stored set's gives that set back, each response
 * refreshed (RFC 7252 §5.9.1.3); an error, or a 2.03 for another set, is a `ProxyAnswerError`;
 * anything else says nothing of a member and is dropped (`undefined`).
 */
export function judgeProxyAnswer(
  core: ClientCore,
  msg: CoapMessage,
  proxy: Address,
  stored: StoredSet | undefined,
): StoredResponse[] | ProxyAnswerError | undefined {
  const tag =
    msg.code === Code.Valid ? findOption(msg.options, core.proxyOptions.groupETag)?.value : undefined;
  if (tag !== undefined && stored !== undefined && tag.equals(stored.tag))
    return stored.responses.map((r) => ({ message: refreshed(r.message, msg), source: r.source }));
  if (tag === undefined && msg.code >> 5 < 4) return undefined;
  return new ProxyAnswerError(new CoapResponse(msg, proxy), proxy);
}
