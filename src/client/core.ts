/**
 * @module client/core
 * The narrow record the client's stages take (as the server's helpers take `ServerContext`):
 * the messenger, the token table (RFC 7252 §5.3.1, RFC 7390 §2.5), NSTART per peer (RFC 7252
 * §4.7), the resolver, the multicast scope (RFC 7390 §5.4.2), the PROBING_RATE budget of silent
 * groups (RFC 7252 §4.7), and the exchanger the stages send through: the plain one, wrapped by
 * the client's layer if it has one (client/exchanger). `CoapClient` is only its public front.
 * For a group proxy (draft-ietf-core-groupcomm-proxy): the default proxy, the numbers of its
 * options, how much longer than Multicast-Timeout the client listens, and the stored sets of
 * Group-ETag revalidation.
 */

import type { Messenger } from '../messenger/messenger.js';
import { ConcurrencyLimiter } from '../messenger/nstart.js';
import { DEFAULT_PROXY_OPTION_NUMBERS, type ProxyOptionNumbers } from '../options/proxy-numbers.js';
import type { Runtime } from '../runtime.js';
import type { CoapUri } from '../uri/index.js';
import type { Exchanger, ExchangerLayer } from './exchanger.js';
import { localBroadcasts } from './group-policy.js';
import { GroupSets } from './group-sets.js';
import { PlainExchanger } from './plain-exchanger.js';
import type { Resolver } from './resolve.js';
import { TargetCache } from './target-cache.js';
import { type TokenOwner, TokenTable } from './tokens.js';

/** Silent groups remembered at most (oldest dropped first). */
const MAX_SILENT_GROUPS = 1024;

/**
 * When each group that answered nothing may be asked again (RFC 7252 §4.7: PROBING_RATE), by
 * `group|address|port`; bounded.
 */
export class ProbingBudget {
  readonly #until = new Map<string, number>();

  /** Notes a silent window: `bytes` sent at `sentAt` (ms) at `rate` bytes/s. */
  note(key: string, sentAt: number, bytes: number, rate: number): void {
    const map = this.#until;
    if (map.size >= MAX_SILENT_GROUPS) map.delete(map.keys().next().value as string);
    map.set(key, sentAt + (bytes / rate) * 1000);
  }

  /** The time from which `key` may be asked again, forgotten once read; undefined: at once. */
  take(key: string): number | undefined {
    const until = this.#until.get(key);
    this.#until.delete(key);
    return until;
  }
}

/** What the client's stages take. */
export interface ClientCore {
  readonly messenger: Messenger;
  readonly runtime: Runtime;
  readonly tokens: TokenTable<TokenOwner>;
  /** NSTART per server, and per group (`group|address|port`). */
  readonly peers: ConcurrencyLimiter;
  readonly resolver: Resolver;
  /** The multicast TTL / hop limit of this client's transport (for the scope check). */
  readonly hops: number;
  /** Aborted when the client closes, to wake anything waiting on a timer. */
  readonly closing: AbortSignal;
  readonly silentGroups: ProbingBudget;
  /** This host's IPv4 broadcast addresses, refused as destinations (client/group-policy). */
  readonly broadcasts: ReadonlySet<string>;
  /** The exchanger the stages send through. */
  readonly exchanger: Exchanger;
  /** The proxy requests go through unless they say otherwise (`ClientOptions.proxy`). */
  readonly proxy: CoapUri | undefined;
  /** The numbers of Multicast-Timeout, Reply-From and Group-ETag. */
  readonly proxyOptions: ProxyOptionNumbers;
  /** How much longer than Multicast-Timeout a proxied group request listens, ms (groupcomm-proxy §5.1.1 step 3). */
  readonly proxyMargin: number;
  /** The sets of responses kept for Group-ETag revalidation (groupcomm-proxy §7.3). */
  readonly groupSets: GroupSets;
  /** Direct targets of IP-literal URI texts, worked out once (client/target-cache). */
  readonly targets: TargetCache;
  isClosed(): boolean;
}

/** What `createCore` needs besides the messenger. */
export interface CoreOptions {
  readonly resolver: Resolver;
  readonly hops: number;
  readonly layer: ExchangerLayer | undefined;
  readonly closing: AbortSignal;
  readonly isClosed: () => boolean;
  /** Default: none. */
  readonly proxy?: CoapUri | undefined;
  /** Default: `DEFAULT_PROXY_OPTION_NUMBERS`. */
  readonly proxyOptions?: ProxyOptionNumbers;
  /** Default: `DEFAULT_PROXY_MARGIN_MS`. */
  readonly proxyMargin?: number;
}

/**
 * How much longer than Multicast-Timeout a proxied group request listens by default, ms:
 * groupcomm-proxy §5.1.1 step 3 asks for at least the worst-case round trip to the proxy.
 */
export const DEFAULT_PROXY_MARGIN_MS = 2000;

/**
 * Offers every response the messenger receives to the core's token table (RFC 7252 §5.3.2: the
 * token matches a response to its request). Returns the function that stops it.
 */
export function listen(core: ClientCore): () => void {
  const tokens = core.tokens;
  return core.messenger.addResponseListener(
    (msg, remote, local) => tokens.get(msg.token)?.deliver(msg, remote, local) ?? false,
  );
}

/** The core of a client over `messenger`; it hears responses once `listen` is called. */
export function createCore(messenger: Messenger, o: CoreOptions): ClientCore {
  const t = messenger.times;
  // RFC 7390 §2.5: reuse only after NON_LIFETIME + MAX_LATENCY + MSRD (250 s when unknown).
  const tokens = new TokenTable<TokenOwner>(
    messenger.runtime,
    (t.nonLifetime + messenger.params.maxLatency + 250) * 1000,
  );
  const proxyOptions = o.proxyOptions ?? DEFAULT_PROXY_OPTION_NUMBERS;
  const plain = new PlainExchanger(messenger, tokens, proxyOptions);
  const context = { params: messenger.params, proxyOptions };
  return {
    messenger,
    runtime: messenger.runtime,
    tokens,
    peers: new ConcurrencyLimiter(messenger.params.nstart),
    resolver: o.resolver,
    hops: o.hops,
    closing: o.closing,
    silentGroups: new ProbingBudget(),
    broadcasts: localBroadcasts(),
    exchanger: o.layer === undefined ? plain : o.layer.wrap(plain, context),
    proxy: o.proxy,
    proxyOptions,
    proxyMargin: o.proxyMargin ?? DEFAULT_PROXY_MARGIN_MS,
    groupSets: new GroupSets(),
    targets: new TargetCache(),
    isClosed: o.isClosed,
  };
}
