/**
 * @module client/client
 * The client: unicast requests as promises (RFC 7252 §5) and group requests as async iterables
 * (RFC 7390 §2.5, see `client/group`). Responses are matched by token; for unicast the source
 * must also be the endpoint the request went to (RFC 7252 §5.3.2), for groups only the token
 * counts (RFC 7252 §8.2). NSTART applies per server (RFC 7252 §4.7).
 */
import type { TransmissionParameters } from '../constants.js';
import { abortError, CoapClosedError, GroupRequestError } from '../errors.js';
import type { CoapMessage } from '../message/types.js';
import { Messenger } from '../messenger/messenger.js';
import { ConcurrencyLimiter } from '../messenger/nstart.js';
import type { Runtime } from '../runtime.js';
import { systemRuntime } from '../runtime.js';
import { resolveInterface } from '../transport/interfaces.js';
import type { Address, LocalSocket, Transport } from '../transport/types.js';
import { UdpTransport } from '../transport/udp.js';
import { uriToOptions } from '../uri/index.js';
import { isMulticast } from '../util/ip.js';
import { transfer } from './blockwise.js';
import { bodyAndOptions, methodCode, type RequestOptions, toUri } from './build.js';
import { DEREGISTER_WAIT_MS, within } from './deregister.js';
import { sendOnly } from './exchange.js';
import { type GroupRequestOptions, type GroupResponses, startGroupRequest } from './group.js';
import { checkNotBroadcast, localBroadcasts } from './group-policy.js';
import { type Observation, type ObserveRequestOptions, startObservation } from './observe.js';
import { type Resolver, resolveHost, systemResolver } from './resolve.js';
import type { CoapResponse } from './response.js';
import { type ClientSecurity, recognizedWith, type SecuredRequest } from './security.js';
import { TokenTable } from './tokens.js';

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
  /** Message protection (e.g. `OscoreClientSecurity`): requests to destinations it knows are protected. */
  security?: ClientSecurity;
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
   * @internal Protection chosen by the caller instead of the security hook's choice by
   * destination (a group responder's follow-ups, bound to its verified identity).
   */
  protectWith?: (parts: Pick<CoapMessage, 'code' | 'payload' | 'options'>) => SecuredRequest;
}

/** @internal What the token table holds for each outstanding request. */
export interface TokenOwner {
  deliver(message: CoapMessage, remote: Address, local: LocalSocket): boolean;
  /**
   * Ends the request with `err` (the client is closing). An observation deregisters and
   * returns a promise that settles once its deregistration has left.
   */
  abort(err: Error): void | Promise<void>;
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
  readonly messenger: Messenger;
  /** @internal */
  readonly tokens: TokenTable<TokenOwner>;
  /** @internal */
  readonly peers: ConcurrencyLimiter;
  /** @internal */
  readonly resolver: Resolver;
  /** @internal The multicast TTL / hop limit of this client's transport (for the scope check). */
  hops = 1;
  /** @internal Aborted when the client closes, to wake anything waiting on a timer. */
  readonly closing = new AbortController();
  /** @internal Groups that answered nothing: key -> earliest next request time (PROBING_RATE). Bounded. */
  readonly silentGroups = new Map<string, number>();
  /** @internal This host's IPv4 broadcast addresses, refused as destinations (group-policy). */
  readonly broadcasts: ReadonlySet<string> = localBroadcasts();
  /** The message-protection hook (RFC 8613, Group OSCORE), if any. */
  security: ClientSecurity | undefined;
  private readonly ownsMessenger: boolean;
  private closed = false;
  /** Stops this client's listening on the messenger (which may be shared). */
  private readonly unlisten: () => void;

  private constructor(messenger: Messenger, owns: boolean, resolver: Resolver) {
    this.messenger = messenger;
    this.ownsMessenger = owns;
    this.resolver = resolver;
    const t = messenger.times;
    // RFC 7390 §2.5: reuse only after NON_LIFETIME + MAX_LATENCY + MSRD (250 s when unknown).
    this.tokens = new TokenTable(
      messenger.runtime,
      (t.nonLifetime + messenger.params.maxLatency + 250) * 1000,
    );
    this.peers = new ConcurrencyLimiter(messenger.params.nstart);
    this.unlisten = messenger.addResponseListener(
      (msg, remote, local) => this.tokens.get(msg.token)?.deliver(msg, remote, local) ?? false,
    );
  }

  /** Creates a client; binds UDP sockets unless a transport or messenger is given. */
  static async create(options: ClientOptions = {}): Promise<CoapClient> {
    if (options.messenger) {
      const shared = new CoapClient(options.messenger, false, options.resolver ?? systemResolver);
      shared.hops = options.hops ?? 1;
      shared.security = options.security;
      return shared;
    }
    let transport = options.transport;
    if (transport === undefined) {
      const iface = options.iface === undefined ? undefined : resolveInterface(options.iface);
      transport = await createClientTransport(options.bind, iface?.ipv4, iface?.ipv6, options.hops);
    }
    const messenger = new Messenger({
      transport,
      runtime: options.runtime ?? systemRuntime,
      ...(options.transmission ? { transmission: options.transmission } : {}),
      ...(options.security
        ? { isRecognizedOption: recognizedWith(options.security.criticalOptions ?? []) }
        : {}),
    });
    const client = new CoapClient(messenger, true, options.resolver ?? systemResolver);
    client.hops = options.hops ?? 1;
    client.security = options.security;
    return client;
  }

  /** Outstanding requests and tables, for monitoring and leak tests. */
  stats(): {
    tokens: number;
    retiredTokens: number;
    peers: number;
    messenger: ReturnType<Messenger['stats']>;
  } {
    return {
      tokens: this.tokens.size,
      retiredTokens: this.tokens.retiredSize,
      peers: this.peers.size,
      messenger: this.messenger.stats(),
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
    if (this.closed) throw new CoapClosedError();
    if (o.signal?.aborted) throw abortError(o.signal);
    const uri = toUri(o.uri);
    const code = methodCode(o.method);
    const { payload, options } = bodyAndOptions(o);
    const address = await resolveHost(uri.host, this.resolver);
    checkNotBroadcast(address, this.broadcasts);
    if (isMulticast(address)) {
      throw new GroupRequestError(
        'ERR_COAP_GROUP_USE_GROUP',
        `${address} is a multicast address: send group requests with group() (they are NON and collect many responses)`,
      );
    }
    const dest: Address = { address, port: uri.port };
    options.push(...uriToOptions(uri, dest));
    const key = `${address}|${uri.port}`;
    await this.peers.acquire(key, o.signal);
    try {
      return await transfer(this, o, dest, { code, payload, options });
    } finally {
      this.peers.release(key);
    }
  }

  /**
   * Sends a unicast request that wants no response (No-Response 26, RFC 7967): NON by default,
   * resolving once sent; with `confirmable: true`, resolving once acknowledged.
   */
  async send(target: string | UnicastRequestOptions): Promise<void> {
    const o: UnicastRequestOptions = typeof target === 'string' ? { uri: target } : target;
    if (this.closed) throw new CoapClosedError();
    if (o.signal?.aborted) throw abortError(o.signal);
    const uri = toUri(o.uri);
    const code = methodCode(o.method);
    const { payload, options } = bodyAndOptions({ ...o, noResponse: 26 });
    const address = await resolveHost(uri.host, this.resolver);
    checkNotBroadcast(address, this.broadcasts);
    if (isMulticast(address)) {
      throw new GroupRequestError(
        'ERR_COAP_GROUP_USE_GROUP',
        `${address} is a group: use group() with noResponse`,
      );
    }
    const dest: Address = { address, port: uri.port };
    options.push(...uriToOptions(uri, dest));
    return sendOnly(this, o, dest, { code, payload, options });
  }

  /**
   * Sends one NON request to a group and yields every response as it arrives (RFC 7390 §2.5).
   * See `GroupRequestOptions` for the window, limit and No-Response.
   */
  group(target: string | GroupRequestOptions): GroupResponses {
    const o: GroupRequestOptions = typeof target === 'string' ? { uri: target } : target;
    if (this.closed) throw new CoapClosedError();
    return startGroupRequest(this, o);
  }

  /**
   * Observes a resource (RFC 7641): iterate for the first response and every fresh notification.
   * Leaving the loop, `cancel()` or the signal deregisters.
   */
  observe(target: string | ObserveRequestOptions): Observation {
    const o: ObserveRequestOptions = typeof target === 'string' ? { uri: target } : target;
    if (this.closed) throw new CoapClosedError();
    return startObservation(this, o);
  }

  /** Sends a CoAP ping (empty CON, RFC 7252 §4.3); true if the peer answered. */
  async ping(uri: string): Promise<boolean> {
    const u = toUri(uri);
    const address = await resolveHost(u.host, this.resolver);
    return this.messenger.ping({ address, port: u.port });
  }

  /**
   * Rejects outstanding requests, deregisters every observation (unicast and group, RFC 7641
   * §3.6: a GET with Observe 1 to each server) and, if the client owns them, closes its sockets
   * once those deregistrations have left (waiting at most 1 s).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    this.peers.rejectAll(new CoapClosedError());
    const leaving = [...this.tokens.values()].map((owner) => owner.abort(new CoapClosedError()) ?? undefined);
    await within(this.messenger, leaving, DEREGISTER_WAIT_MS);
    this.unlisten();
    if (this.ownsMessenger) await this.messenger.close();
  }

  get isClosed(): boolean {
    return this.closed;
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
