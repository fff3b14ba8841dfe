/**
 * @module client/unicast-target
 * Where a unicast request, a send or an observation goes, and the options that name its target:
 * straight to the origin server (RFC 7252 §6.4), or through a forward proxy with the whole URI in
 * Proxy-Uri (§5.7.2, §5.10.2). Through a proxy the origin's name is the proxy's to resolve; the
 * client resolves it only to tell a group from a server and to choose a protection by address,
 * and keeps the name when it cannot.
 */
import { GroupRequestError, ResolveError } from '../errors.js';
import type { CoapOption } from '../message/types.js';
import type { Address } from '../transport/types.js';
import { type CoapUri, uriToOptions } from '../uri/index.js';
import { isMulticast } from '../util/ip.js';
import { peerKey } from '../util/peer-key.js';
import type { ClientCore } from './core.js';
import { checkNotBroadcast } from './group-policy.js';
import { proxyEndpoint } from './group-proxy.js';
import { parseProxyUri, proxyUriOption } from './proxy-route.js';
import { literalAddress, resolveHost } from './resolve.js';
import type { CachedTarget } from './target-cache.js';

/** A unicast target: the origin (`dest`), the proxy in between if any, and the target's options. */
export interface UnicastTarget {
  readonly dest: Address;
  readonly proxy: Address | undefined;
  readonly options: readonly CoapOption[];
}

/** The proxy of a request: its own (`false`: none), else the client's default. */
export function proxyChoice(
  core: ClientCore,
  proxy: string | CoapUri | false | undefined,
): CoapUri | undefined {
  if (proxy === false) return undefined;
  return proxy === undefined ? core.proxy : parseProxyUri(proxy);
}

/** True when a request with this `proxy` goes straight to the origin server. */
export function goesDirect(core: ClientCore, proxy: string | CoapUri | false | undefined): boolean {
  return proxy === false || (proxy === undefined && core.proxy === undefined);
}

/**
 * The target of a direct request (`goesDirect`) to an IP literal, worked out without waiting,
 * and kept in `core.targets` under `text` when the URI was given as text; undefined when the
 * host is a name. The same checks as `unicastTarget`, in the same order, with the same errors.
 */
export function literalTarget(
  core: ClientCore,
  text: string | CoapUri,
  uri: CoapUri,
  groupHint: (address: string) => string,
): CachedTarget | undefined {
  if (uri.hostKind === 'name') return undefined;
  const address = literalAddress(uri.host);
  if (address === undefined) return undefined;
  checkNotBroadcast(address, core.broadcasts);
  if (isMulticast(address)) throw new GroupRequestError('ERR_COAP_GROUP_USE_GROUP', groupHint(address));
  const dest: Address = { address, port: uri.port };
  const target = { dest, proxy: undefined, options: uriToOptions(uri, dest), key: peerKey(dest) };
  if (typeof text === 'string') core.targets.set(text, target);
  return target;
}

/**
 * Resolves the target of a unicast request.
 * @throws GroupRequestError `ERR_COAP_GROUP_USE_GROUP` (with `groupHint`) for a multicast
 *   target, `ERR_COAP_GROUP_BROADCAST` for a broadcast one; ResolveError when the origin's name
 *   does not resolve and no proxy would resolve it instead.
 */
export async function unicastTarget(
  core: ClientCore,
  uri: CoapUri,
  proxy: string | CoapUri | false | undefined,
  groupHint: (address: string) => string,
): Promise<UnicastTarget> {
  const via = proxyChoice(core, proxy);
  let address: string;
  try {
    address = await resolveHost(uri.host, core.resolver);
  } catch (err) {
    if (via === undefined || !(err instanceof ResolveError)) throw err;
    address = uri.host;
  }
  if (via === undefined) checkNotBroadcast(address, core.broadcasts);
  if (isMulticast(address)) throw new GroupRequestError('ERR_COAP_GROUP_USE_GROUP', groupHint(address));
  const dest: Address = { address, port: uri.port };
  if (via === undefined) return { dest, proxy: undefined, options: uriToOptions(uri, dest) };
  return { dest, proxy: await proxyEndpoint(core, via), options: [proxyUriOption(uri)] };
}
