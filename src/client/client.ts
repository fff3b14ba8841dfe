/**
 * @module client/client
 * The client's public front: unicast requests as promises (RFC 7252 §5), group requests as
 * async iterables (RFC 7390 §2.5, client/group) and observations (RFC 7641, client/observe).
 * Responses are matched by token; for unicast the source must also be the endpoint the request
 * went to (RFC 7252 §5.3.2), for groups only the token counts (RFC 7252 §8.2). NSTART applies
 * per server (RFC 7252 §4.7). Its state is a `ClientCore` (client/core) in a private field;
 * the stages take the core, and nothing but the package's index imports this file.
 */
import type { TransmissionParameters } from '../constants.js';
import { abortError, CoapClosedError, GroupRequestError } from '../errors.js';
import { Messenger } from '../messenger/messenger.js';
import type { Runtime } from '../runtime.js';
import { systemRuntime } from '../runtime.js';
import { resolveInterface } from '../transport/interfaces.js';
import type { Address, Transport } from '../transport/types.js';
import { UdpTransport } from '../transport/udp.js';
import { uriToOptions } from '../uri/index.js';
import { isMulticast } from '../util/ip.js';
import { peerKey } from '../util/peer-key.js';
import { transfer } from './blockwise.js';
import { bodyAndOptions, methodCode, type RequestOptions, toUri } from './build.js';
import { type ClientCore, createCore, listen } from './core.js';
import { DEREGISTER_WAIT_MS, within } from './deregister.js';
import { type ExchangerLayer, recognizedWith } from './exchanger.js';
import { type GroupRequestOptions, type GroupResponses, startGroupRequest } from './group.js';
import { checkNotBroadcast } from './group-policy.js';
import { type Observation, type ObserveRequestOptions, startObservation } from './observe.js';
import { type Resolver, resolveHost, systemResolver } from './resolve.js';
import type { CoapResponse } from './response.js';

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

  private constructor(messenger: Messenger, owns: boolean, options: ClientOptions) {
    this.#ownsMessenger = owns;
    this.#core = createCore(messenger, {
      resolver: options.resolver ?? systemResolver,
      hops: options.hops ?? 1,
      layer: options.security,
      closing: this.#closing.signal,
      isClosed: () => this.#closed,
    });
    this.#unlisten = listen(this.#core);
  }

  /** Creates a client; binds UDP sockets unless a transport or messenger is given. */
  static async create(options: ClientOptions = {}): Promise<CoapClient> {
    if (options.messenger) return new CoapClient(options.messenger, false, options);
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
    return new CoapClient(messenger, true, options);
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
    const uri = toUri(o.uri);
    const code = methodCode(o.method);
    const { payload, options } = bodyAndOptions(o);
    const address = await resolveHost(uri.host, c.resolver);
    checkNotBroadcast(address, c.broadcasts);
    if (isMulticast(address)) {
      throw new GroupRequestError(
        'ERR_COAP_GROUP_USE_GROUP',
        `${address} is a multicast address: send group requests with group() (they are NON and collect many responses)`,
      );
    }
    const dest: Address = { address, port: uri.port };
    options.push(...uriToOptions(uri, dest));
    const key = peerKey(dest);
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
        },
        { code, payload, options },
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
    const address = await resolveHost(uri.host, c.resolver);
    checkNotBroadcast(address, c.broadcasts);
    if (isMulticast(address)) {
      throw new GroupRequestError(
        'ERR_COAP_GROUP_USE_GROUP',
        `${address} is a group: use group() with noResponse`,
      );
    }
    const dest: Address = { address, port: uri.port };
    options.push(...uriToOptions(uri, dest));
    return c.exchanger.send({
      dest,
      parts: { code, payload, options },
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

async function createClientTransport(
  bind: readonly Address[] | undefined,
  ipv4Interface: string | undefined,
  ipv6Interface: string | undefined,
  hops: number | undefined,
): Promise<Transport> {
  const common = { ipv4Interface, ipv6Interface, hops };
  if (bind) return UdpTransport.create({ bind, ...common });
  try {
    return await UdpTransport.create({
      bind: [
        { address: '0.0.0.0', port: 0 },
        { address: '::', port: 0 },
      ],
      ...common,
    });
  } catch {
    // A host without IPv6 still gets an IPv4 client.
    return UdpTransport.create({ bind: [{ address: '0.0.0.0', port: 0 }], ...common });
  }
}
