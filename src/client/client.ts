/**
 * @module client/client
 * The client's public front: unicast requests as promises (RFC 7252 §5), group requests as
 * async iterables (RFC 7390 §2.5, client/group) and observations (RFC 7641, client/observe).
 * Responses are matched by token; for unicast the source must also be the endpoint the request
 * went to (RFC 7252 §5.3.2), for groups only the token counts (RFC 7252 §8.2). NSTART applies
 * per server (RFC 7252 §4.7). Its state is a `ClientCore` (client/core) in a private field;
 * the stages take the core, and nothing but the package's index imports this file. Any request
 * may go through a forward proxy (RFC 7252 §5.7; for groups draft-ietf-core-groupcomm-proxy):
 * the request's `proxy`, else the client's default.
 */
import type { TransmissionParameters } from '../constants.js';
import { abortError, CoapClosedError } from '../errors.js';
import { Messenger } from '../messenger/messenger.js';
import type { ProxyOptionNumbers } from '../options/proxy-numbers.js';
import type { Runtime } from '../runtime.js';
import { systemRuntime } from '../runtime.js';
import { resolveInterface } from '../transport/interfaces.js';
import type { Address, Transport } from '../transport/types.js';
import type { CoapUri } from '../uri/index.js';
import { peerKey } from '../util/peer-key.js';
import { transfer } from './blockwise.js';
import { bodyAndOptions, methodCode, type RequestOptions, sortOptions, toUri } from './build.js';
import { type ClientCore, createCore, listen } from './core.js';
import { DEREGISTER_WAIT_MS, within } from './deregister.js';
import { type ExchangerLayer, recognizedWith } from './exchanger.js';
import { type GroupRequestOptions, type GroupResponses, startGroupRequest } from './group.js';
import { type Observation, type ObserveRequestOptions, startObservation } from './observe.js';
import { type ProxyConfig, proxyConfig } from './proxy-route.js';
import { type Resolver, resolveHost, systemResolver } from './resolve.js';
import type { CoapResponse } from './response.js';
import { createClientTransport } from './transport.js';
import { goesDirect, literalTarget, type UnicastTarget, unicastTarget } from './unicast-target.js';

const multicastHint = (address: string) =>
  `${address} is a multicast address: send group requests with group() (they are NON and collect many responses)`;

/** Options of `CoapClient.create`. */
export interface ClientOptions {
  /** Use this transport instead of binding UDP sockets (e.g. a `MemoryTransport`). */
  transport?: Transport;
  /** Share a messenger (and its sockets) with a server. */
  messenger?: Messenger;
  runtime?: Runtime;
  transmission?: Partial<TransmissionParameters>;
  /** Local addresses for the UDP sockets; default `0.0.0.0:0` and `[::]:0` (ephemeral ports). */
  bind?: readonly Address[];
  /** Multicast interface (name or address) for group requests. Without it, group requests fail. */
  iface?: string;
  /** Multicast TTL / hop limit; default 1 (RFC 7390 §5.4.2). */
  hops?: number;
  /** Host-name resolver; default `getaddrinfo`. */
  resolver?: Resolver;
  /**
   * Message protection, as a layer around the client's exchanger (docs/security.md shows the
   * one this package has): requests to destinations it knows are protected, and it never sends
   * in the clear what it cannot protect unless told to.
   */
  security?: ExchangerLayer;
  /**
   * Send every request through this forward proxy, `coap://host[:port]` (RFC 7252 §5.7), unless
   * the request names its own `proxy` (or `proxy: false`). Group requests then use the
   * groupcomm-proxy protocol (docs/proxy.md).
   */
  proxy?: string;
  /**
   * The numbers of the group proxy options Multicast-Timeout, Reply-From and Group-ETag
   * (default 65026, 65016, 65048; `'draft-suggested'`: 2, 248, 24, for interop experiments only).
   */
  proxyOptions?: Partial<ProxyOptionNumbers> | 'draft-suggested';
  /**
   * How much longer than the Multicast-Timeout a group request through a proxy listens, ms;
   * default 2000 (groupcomm-proxy §5.1.1 step 3: at least the round trip to the proxy).
   */
  proxyMargin?: number;
}

/** Per-request options beyond `RequestOptions`. */
export interface UnicastRequestOptions extends RequestOptions {
  /** CON (default) or NON. */
  confirmable?: boolean;
  /** Block size for Block1 uploads and Block2 early negotiation (16-1024); default 1024 (RFC 7959). */
  blockSize?: number;
  /** Largest response body reassembled from blocks, bytes; default 16 MiB. */
  maxBodySize?: number;
  /** Overall time limit in ms; default: the RFC 7252 §4.8.2 limits of the exchange. */
  timeout?: number;
  /**
   * Send it through this forward proxy, `coap://host[:port]`, with the URI in Proxy-Uri
   * (RFC 7252 §5.7.2); `false`: directly, even when the client has a default proxy.
   */
  proxy?: string | CoapUri | false;
}

/**
 * A CoAP client.
 *
 * @example
 * const client = await CoapClient.create();
 * const res = await client.request('coap://127.0.0.1/.well-known/core');
 * console.log(res.codeString, res.text());
 * await client.close();
 */
export class CoapClient {
  readonly #core: ClientCore;
  readonly #ownsMessenger: boolean;
  readonly #closing = new AbortController();
  #closed = false;
  /** Stops this client's listening on the messenger (which may be shared). */
  readonly #unlisten: () => void;

  private constructor(messenger: Messenger, owns: boolean, options: ClientOptions, proxy: ProxyConfig) {
    this.#ownsMessenger = owns;
    this.#core = createCore(messenger, {
      resolver: options.resolver ?? systemResolver,
      hops: options.hops ?? 1,
      layer: options.security,
      closing: this.#closing.signal,
      isClosed: () => this.#closed,
      ...proxy,
    });
    this.#unlisten = listen(this.#core);
  }

  /**
   * Creates a client; binds UDP sockets unless a transport or messenger is given.
   * @throws InvalidArgumentError for a `proxy`, `proxyOptions` or `proxyMargin` that is invalid.
   */
  static async create(options: ClientOptions = {}): Promise<CoapClient> {
    const proxy = proxyConfig(options);
    if (options.messenger) return new CoapClient(options.messenger, false, options, proxy);
    let transport = options.transport;
    if (transport === undefined) {
      const iface = options.iface === undefined ? undefined : resolveInterface(options.iface);
      transport = await createClientTransport(options.bind, iface?.ipv4, iface?.ipv6, options.hops);
    }
    const critical = options.security?.criticalOptions;
    const messenger = new Messenger({
      transport,
      runtime: options.runtime ?? systemRuntime,
      ...(options.transmission ? { transmission: options.transmission } : {}),
      ...(critical ? { isRecognizedOption: recognizedWith(critical) } : {}),
    });
    return new CoapClient(messenger, true, options, proxy);
  }

  /** The message layer this client sends through (shared with a server when given as `messenger`). */
  get messenger(): Messenger {
    return this.#core.messenger;
  }

  /** Outstanding requests and tables, for monitoring and leak tests. */
  stats(): {
    tokens: number;
    retiredTokens: number;
    peers: number;
    messenger: ReturnType<Messenger['stats']>;
  } {
    const c = this.#core;
    return {
      tokens: c.tokens.size,
      retiredTokens: c.tokens.retiredSize,
      peers: c.peers.size,
      messenger: c.messenger.stats(),
    };
  }

  /**
   * Sends a unicast request and resolves with its response.
   * @throws GroupRequestError `ERR_COAP_GROUP_USE_GROUP` for a multicast target: use `group()`.
   * @throws CoapTimeoutError, CoapResetError, InvalidUriError, ResolveError. When `signal` fires:
   * CoapAbortError (`name` 'AbortError'), or CoapTimeoutError for `AbortSignal.timeout()`, with
   * `cause` the signal's reason.
   */
  async request(target: string | UnicastRequestOptions): Promise<CoapResponse> {
    const o: UnicastRequestOptions = typeof target === 'string' ? { uri: target } : target;
    if (this.#closed) throw new CoapClosedError();
    if (o.signal?.aborted) throw abortError(o.signal);
    const c = this.#core;
    // A direct request to an IP literal needs no resolver: its target is worked out at once,
    // and once per URI text (client/target-cache).
    const direct = goesDirect(c, o.proxy);
    const kept = direct && typeof o.uri === 'string' ? c.targets.get(o.uri) : undefined;
    const uri = kept === undefined ? toUri(o.uri) : undefined;
    const code = methodCode(o.method);
    const { payload, options } = bodyAndOptions(o);
    const to: UnicastTarget & { readonly key?: string } =
      kept ??
      (direct ? literalTarget(c, o.uri, uri!, multicastHint) : undefined) ??
      (await unicastTarget(c, uri!, o.proxy, multicastHint));
    const { dest, proxy } = to;
    for (const opt of to.options) options.push(opt);
    // RFC 7252 §4.7: NSTART counts per next hop, the proxy when there is one.
    const key = to.key ?? peerKey(proxy ?? dest);
    await c.peers.acquire(key, o.signal);
    try {
      return await transfer(
        c.exchanger,
        c.runtime,
        {
          dest,
          kind: 'unicast',
          confirmable: o.confirmable ?? true,
          timeout: o.timeout,
          signal: o.signal,
          maxBodySize: o.maxBodySize,
          unprotected: o.unprotected,
          proxy,
        },
        { code, payload, options: sortOptions(options) },
        o.blockSize,
      );
    } finally {
      c.peers.release(key);
    }
  }

  /**
   * Sends a unicast request that wants no response (No-Response 26, RFC 7967): NON by default,
   * resolving once sent; with `confirmable: true`, resolving once acknowledged.
   */
  async send(target: string | UnicastRequestOptions): Promise<void> {
    const o: UnicastRequestOptions = typeof target === 'string' ? { uri: target } : target;
    if (this.#closed) throw new CoapClosedError();
    if (o.signal?.aborted) throw abortError(o.signal);
    const c = this.#core;
    const uri = toUri(o.uri);
    const code = methodCode(o.method);
    const { payload, options } = bodyAndOptions({ ...o, noResponse: 26 });
    const to = await unicastTarget(
      c,
      uri,
      o.proxy,
      (address) => `${address} is a group: use group() with noResponse`,
    );
    const { dest, proxy } = to;
    options.push(...to.options);
    return c.exchanger.send({
      dest,
      proxy,
      parts: { code, payload, options: sortOptions(options) },
      kind: 'unicast',
      confirmable: o.confirmable ?? false,
      signal: o.signal,
      unprotected: o.unprotected,
    });
  }

  /**
   * Sends one NON request to a group and yields every response as it arrives (RFC 7390 §2.5).
   * See `GroupRequestOptions` for the window, limit and No-Response.
   */
  group(target: string | GroupRequestOptions): GroupResponses {
    const o: GroupRequestOptions = typeof target === 'string' ? { uri: target } : target;
    if (this.#closed) throw new CoapClosedError();
    return startGroupRequest(this.#core, o);
  }

  /**
   * Observes a resource (RFC 7641): iterate for the first response and every fresh notification.
   * Leaving the loop, `cancel()` or the signal deregisters.
   */
  observe(target: string | ObserveRequestOptions): Observation {
    const o: ObserveRequestOptions = typeof target === 'string' ? { uri: target } : target;
    if (this.#closed) throw new CoapClosedError();
    return startObservation(this.#core, o);
  }

  /** Sends a CoAP ping (empty CON, RFC 7252 §4.3); true if the peer answered. */
  async ping(uri: string): Promise<boolean> {
    const u = toUri(uri);
    const address = await resolveHost(u.host, this.#core.resolver);
    return this.#core.messenger.ping({ address, port: u.port });
  }

  /**
   * Rejects outstanding requests, deregisters every observation (unicast and group, RFC 7641
   * §3.6: a GET with Observe 1 to each server) and, if the client owns them, closes its sockets
   * once those deregistrations have left (waiting at most 1 s).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const c = this.#core;
    this.#closing.abort();
    c.peers.rejectAll(new CoapClosedError());
    const leaving = [...c.tokens.values()].map((owner) => owner.abort(new CoapClosedError()) ?? undefined);
    await within(c.messenger, leaving, DEREGISTER_WAIT_MS);
    this.#unlisten();
    if (this.#ownsMessenger) await c.messenger.close();
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#closed;
  }
}
