/**
 * @module server/server
 * The CoAP server: resources and routes, /.well-known/core, group membership (All CoAP Nodes by
 * default, RFC 7390 §2.2, R4) and the request pipeline. Listening binds explicit unicast
 * addresses only (design.md §Multicast on Node) and joins groups on an explicit interface.
 */
import type { TransmissionParameters } from '../constants.js';
import {
  ALL_COAP_NODES_IPV4,
  ALL_COAP_NODES_IPV6_LINK,
  ALL_COAP_NODES_IPV6_SITE,
  COAP_PORT,
  DEFAULT_TRANSMISSION,
} from '../constants.js';
import { CoapClosedError, CoapError, InvalidArgumentError } from '../errors.js';
import type { MethodName } from '../message/codes.js';
import { Messenger } from '../messenger/messenger.js';
import type { Runtime } from '../runtime.js';
import { systemRuntime } from '../runtime.js';
import { type ResolvedInterface, resolveInterface } from '../transport/interfaces.js';
import type { Address, JoinedGroup, LocalSocket, Transport } from '../transport/types.js';
import { UdpTransport } from '../transport/udp.js';
import { ipFamily, splitZone } from '../util/ip.js';
import { Block1Assembler, type Block1Limits } from './block1.js';
import { RepresentationCache } from './block2.js';
import { ResourceBuilder } from './builder.js';
import type { ServerContext } from './context.js';
import { discoveryDocument } from './discovery.js';
import { defaultInterface, type GroupSpec, parseGroupSpec } from './groups.js';
import { LeisureScheduler, type LeisureSetting, leisureSeconds } from './leisure.js';
import { notifyObservers } from './notify.js';
import { type ObserveOptions, ObserverRegistry } from './observe.js';
import { handleExchange } from './pipeline.js';
import { type Handler, Resource, type ResourceOptions } from './resource.js';
import { Router } from './router.js';
import { recognizedWith, type SecureResourceOptions, type ServerSecurity } from './security.js';

/** Options of a server. Checked at construction. */
export interface ServerOptions {
  /** Use this transport (e.g. a `MemoryTransport`) instead of binding UDP sockets. */
  transport?: Transport;
  runtime?: Runtime;
  transmission?: Partial<TransmissionParameters>;
  /** Unicast addresses to bind; default `127.0.0.1`. Never a wildcard where groups are joined. */
  bind?: readonly string[];
  /** UDP port; default 5683. */
  port?: number;
  /**
   * Interface for group joins and multicast: a name (`lo`) or address. Several, for a node on
   * several links (RFC 7390 §4.1): groups are joined on each, multicast is sent on the first.
   * Default: the interface of the first bind address.
   */
  iface?: string | readonly string[];
  /** Join All CoAP Nodes (224.0.1.187; ff02::fd and ff05::fd with IPv6); default true (RFC 7390 §2.2). */
  joinAllCoapNodes?: boolean;
  /** More groups to join. */
  groups?: readonly GroupSpec[];
  /**
   * Leisure for multicast responses, seconds or S*G/R, whatever the request. Default: the
   * Leisure that fits the request received: DEFAULT_LEISURE (5 s, or `transmission.defaultLeisure`)
   * for an unprotected one, the security layer's default for a verified protected one.
   */
  leisure?: LeisureSetting;
  /** Serve /.well-known/core; default true. */
  discovery?: boolean;
  /** ms a handler may take before a CON gets an empty ACK; default 1000. */
  ackDelayMs?: number;
  /** Largest block this server sends, bytes (16-1024, a power of two); default 1024 (RFC 7959). */
  maxBlockSize?: number;
  /** Limits of the Block1 reassembly buffer. */
  block1?: Partial<Block1Limits>;
  /** Observer limits and the CON cadence of notifications (RFC 7641). */
  observe?: ObserveOptions;
  /** `'bis'` (default) allows Observe on multicast (groupcomm-bis §3.7); `'rfc7390'` treats it as a plain GET (RFC 7390 §2.10). */
  groupMode?: 'bis' | 'rfc7390';
  /**
   * Message protection (e.g. `OscoreServerSecurity`): protected requests are verified and their
   * responses protected. Its default Leisure (20 s for Group OSCORE, groupcomm-bis §3.1.5) applies
   * to verified group requests when `leisure` is not given; unprotected group requests keep
   * DEFAULT_LEISURE, since their responses carry no security overhead.
   */
  security?: ServerSecurity;
  /** Refuse unprotected requests to every resource (4.01 unicast, silence multicast). Needs `security`. */
  requireProtection?: boolean;
}

/** What `listen()` did. */
export interface ListenInfo {
  readonly endpoints: readonly LocalSocket[];
  readonly groups: readonly JoinedGroup[];
  /** Default groups that could not be joined, with the reason. */
  readonly warnings: readonly string[];
}

/**
 * A CoAP server.
 *
 * @example
 * const server = new CoapServer({ bind: ['127.0.0.2'], iface: 'lo' });
 * let light = 'off';
 * server.resource('/light', { rt: 'light', multicast: true })
 *   .get(() => ({ payload: light }))
 *   .put((req) => { light = req.text(); });
 * await server.listen();
 */
export class CoapServer {
  private readonly router = new Router<Resource>();
  private readonly options: ServerOptions;
  private messengerRef: Messenger | undefined;
  private ifaceRef: ResolvedInterface | undefined;
  private closed = false;
  /** Leisure set by the application (`leisure`, `setLeisure()`), ms; undefined: by request. */
  private leisureMs: number | undefined;
  /** DEFAULT_LEISURE for unprotected group requests, ms (RFC 7252 §8.2). */
  private readonly plainLeisureMs: number;
  /** DEFAULT_LEISURE for verified group requests, ms (groupcomm-bis §3.1.5). */
  private readonly securedLeisureMs: number;
  private ctx: ServerContext | undefined;
  /** Gives up the messenger's requests on close. */
  private release: (() => void) | undefined;
  private readonly maxSzx: number;
  /** Joins held on behalf of the application, by key, so leave() only drops its own. */
  private readonly appJoins = new Map<string, number>();
  /** Resources declared with `protected: true`. */
  private readonly protectedResources = new WeakSet<Resource>();

  constructor(options: ServerOptions = {}) {
    this.options = { ...options };
    const port = options.port ?? COAP_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new InvalidArgumentError(`port ${port} is outside 0-65535`);
    for (const b of options.bind ?? []) {
      if (ipFamily(b) === 0) throw new InvalidArgumentError(`bind address ${b} is not an IP address`);
      if (b === '0.0.0.0' || b === '::') {
        throw new InvalidArgumentError(
          `bind address ${b} is a wildcard: it would also receive group traffic as unicast; bind each address instead`,
        );
      }
    }
    for (const g of options.groups ?? []) parseGroupSpec(g, port);
    if (Array.isArray(options.iface) && options.iface.length === 0)
      throw new InvalidArgumentError('iface lists no interface; name one, or leave iface out');
    if (options.requireProtection && options.security === undefined)
      throw new InvalidArgumentError('requireProtection needs a security layer (the security option)');
    this.leisureMs = options.leisure === undefined ? undefined : leisureSeconds(options.leisure) * 1000;
    // groupcomm-bis §3.1.5 sizes DEFAULT_LEISURE by the response: S grows by the security
    // overhead only when the response is protected, so each default follows the request received.
    this.plainLeisureMs =
      leisureSeconds(options.transmission?.defaultLeisure ?? DEFAULT_TRANSMISSION.defaultLeisure) * 1000;
    const secured = options.security?.defaultLeisure;
    this.securedLeisureMs = secured === undefined ? this.plainLeisureMs : leisureSeconds(secured) * 1000;
    const block = options.maxBlockSize ?? 1024;
    this.maxSzx = Math.log2(block) - 4;
    if (!Number.isInteger(this.maxSzx) || this.maxSzx < 0 || this.maxSzx > 6) {
      throw new InvalidArgumentError(`maxBlockSize ${block} must be a power of two from 16 to 1024`);
    }
    if (options.groupMode !== undefined && options.groupMode !== 'bis' && options.groupMode !== 'rfc7390') {
      throw new InvalidArgumentError(
        `groupMode must be 'bis' or 'rfc7390', got ${String(options.groupMode)}`,
      );
    }
    if (options.discovery !== false) {
      this.resource('/.well-known/core', {
        hidden: true,
        // RFC 7390 §2.7 discovery profile: suppress empty 2.05, 4.xx and 5.xx.
        multicast: true,
      }).get((req) => {
        const body = discoveryDocument(this.resources(), req.query);
        return { payload: body, format: 40 };
      });
    }
  }

  /** The messenger, once listening. */
  get messenger(): Messenger {
    if (!this.messengerRef)
      throw new CoapError('ERR_COAP_NOT_LISTENING', 'the server is not listening; call listen() first');
    return this.messengerRef;
  }

  /**
   * Declares (or extends) a resource and returns a builder for its methods. `protected: true`
   * refuses unprotected requests (see `SecureResourceOptions`).
   */
  resource(path: string, options: ResourceOptions & SecureResourceOptions = {}): ResourceBuilder {
    let r = this.router.get(path);
    if (r === undefined) {
      r = new Resource(path);
      this.router.add(path, r);
    }
    const { protected: prot, ...rest } = options;
    if (prot === true) this.protectedResources.add(r);
    else if (prot === false) this.protectedResources.delete(r);
    r.configure(rest);
    return new ResourceBuilder(r);
  }

  /** Adds a handler for one method on a path. */
  route(method: MethodName, path: string, handler: Handler, options?: ResourceOptions): this {
    this.resource(path, options).on(method, handler);
    return this;
  }

  get(path: string, handler: Handler, options?: ResourceOptions): this {
    return this.route('GET', path, handler, options);
  }
  put(path: string, handler: Handler, options?: ResourceOptions): this {
    return this.route('PUT', path, handler, options);
  }
  post(path: string, handler: Handler, options?: ResourceOptions): this {
    return this.route('POST', path, handler, options);
  }
  delete(path: string, handler: Handler, options?: ResourceOptions): this {
    return this.route('DELETE', path, handler, options);
  }
  fetch(path: string, handler: Handler, options?: ResourceOptions): this {
    return this.route('FETCH', path, handler, options);
  }
  patch(path: string, handler: Handler, options?: ResourceOptions): this {
    return this.route('PATCH', path, handler, options);
  }
  ipatch(path: string, handler: Handler, options?: ResourceOptions): this {
    return this.route('iPATCH', path, handler, options);
  }

  /** Removes a resource. */
  removeResource(path: string): boolean {
    return this.router.remove(path);
  }

  /** @internal every resource, for discovery */
  resources(): Resource[] {
    return this.router.all().map((p) => p.value);
  }

  /** Binds sockets, joins the default and configured groups, and starts serving. */
  async listen(): Promise<ListenInfo> {
    if (this.closed) throw new CoapClosedError('the server is closed');
    if (this.messengerRef)
      throw new CoapError('ERR_COAP_ALREADY_LISTENING', 'the server is already listening');
    const o = this.options;
    const port = o.port ?? COAP_PORT;
    const bind = o.bind ?? ['127.0.0.1'];
    // A given transport brings its own multicast interface unless one is named here.
    const named = (typeof o.iface === 'string' ? [o.iface] : (o.iface ?? [])).map(resolveInterface);
    const iface =
      named.length > 0
        ? {
            name: named[0]!.name,
            ipv4: named.find((i) => i.ipv4)?.ipv4,
            ipv6: named.find((i) => i.ipv6)?.ipv6,
          }
        : o.transport
          ? undefined
          : defaultInterface(bind[0]!);
    // On several links no one interface is the group's: the transport joins each of them.
    this.ifaceRef = named.length > 1 ? undefined : iface;
    const transport =
      o.transport ??
      (await UdpTransport.create({
        bind: bind.map((address) => ({ address, port })),
        ipv4Interface: iface?.ipv4,
        ipv6Interface: iface?.ipv6,
        ...(named.length > 1 ? { interfaces: named } : {}),
        hops: 1,
      }));
    const runtime = o.runtime ?? systemRuntime;
    const messenger = new Messenger({
      transport,
      runtime,
      ...(o.transmission ? { transmission: o.transmission } : {}),
      ...(o.ackDelayMs !== undefined ? { ackDelayMs: o.ackDelayMs } : {}),
      ...(o.security ? { isRecognizedOption: recognizedWith(o.security.criticalOptions ?? []) } : {}),
    });
    this.messengerRef = messenger;
    const ctx: ServerContext = {
      messenger,
      router: this.router,
      leisure: new LeisureScheduler(runtime),
      block1: new Block1Assembler(messenger.timers, o.block1),
      representations: new RepresentationCache(runtime),
      observers: new ObserverRegistry(messenger, o.observe),
      maxSzx: this.maxSzx,
      groupcommBis: o.groupMode !== 'rfc7390',
      leisureMs: (_group, verified) =>
        this.leisureMs ?? (verified ? this.securedLeisureMs : this.plainLeisureMs),
      security: o.security,
      secured: new WeakMap(),
      outer: new WeakMap(),
      isProtected: (r) => o.requireProtection === true || this.protectedResources.has(r),
    };
    this.ctx = ctx;
    this.release = messenger.setRequestHandler((ex) => handleExchange(ctx, ex));
    const warnings: string[] = [];
    try {
      if (o.joinAllCoapNodes !== false) await this.joinDefaults(transport, port, this.ifaceRef, warnings);
      for (const g of o.groups ?? []) await this.join(g);
    } catch (err) {
      await this.close();
      throw err;
    }
    return { endpoints: transport.sockets, groups: transport.memberships(), warnings };
  }

  private async joinDefaults(
    t: Transport,
    port: number,
    iface: ResolvedInterface | undefined,
    warnings: string[],
  ): Promise<void> {
    const families = new Set(t.sockets.map((s) => s.family));
    const wanted: Array<{ group: string; iface: string | undefined }> = [];
    if (families.has(4)) wanted.push({ group: ALL_COAP_NODES_IPV4, iface: iface?.ipv4 });
    if (families.has(6)) {
      wanted.push({ group: ALL_COAP_NODES_IPV6_LINK, iface: iface?.ipv6 });
      wanted.push({ group: ALL_COAP_NODES_IPV6_SITE, iface: iface?.ipv6 });
    }
    for (const w of wanted) {
      try {
        await t.join(w.group, port, w.iface);
      } catch (err) {
        warnings.push(`not joined ${w.group}: ${(err as Error).message}`);
      }
    }
  }

  /** Joins a group for the application (reference-counted with every other join). */
  async join(spec: GroupSpec): Promise<JoinedGroup> {
    const g = parseGroupSpec(spec, this.options.port ?? COAP_PORT);
    const iface = g.iface ?? this.ifaceFor(g.group);
    await this.messenger.transport.join(g.group, g.port, iface);
    const key = `${g.group}|${g.port}|${iface ?? ''}`;
    this.appJoins.set(key, (this.appJoins.get(key) ?? 0) + 1);
    return { group: g.group, port: g.port, iface: iface ?? '', refs: 1 };
  }

  /** Leaves a group joined with `join()`. */
  async leave(spec: GroupSpec): Promise<void> {
    const g = parseGroupSpec(spec, this.options.port ?? COAP_PORT);
    const iface = g.iface ?? this.ifaceFor(g.group);
    const key = `${g.group}|${g.port}|${iface ?? ''}`;
    const n = this.appJoins.get(key);
    if (n === undefined) return;
    if (n <= 1) this.appJoins.delete(key);
    else this.appJoins.set(key, n - 1);
    await this.messenger.transport.leave(g.group, g.port, iface);
    if (!this.memberships().some((m) => m.group === g.group)) this.ctx?.leisure.forget(g.group);
  }

  /** The interface argument for joining `group`. */
  ifaceFor(group: string): string | undefined {
    const zone = splitZone(group).zone;
    if (zone) return `::%${zone}`;
    return ipFamily(group) === 4 ? this.ifaceRef?.ipv4 : this.ifaceRef?.ipv6;
  }

  /** Group memberships held now. */
  memberships(): JoinedGroup[] {
    return this.messengerRef?.transport.memberships() ?? [];
  }

  /** Where the server listens. */
  get endpoints(): readonly LocalSocket[] {
    return this.messengerRef?.transport.sockets ?? [];
  }

  /**
   * Tells the observers of `path` that its state changed (RFC 7641 §4.2): each gets a
   * notification made by the resource's handler. Returns how many observers there were.
   */
  notify(path: string): number {
    const r = this.router.get(path);
    if (r === undefined || this.ctx === undefined) return 0;
    return notifyObservers(this.ctx, r);
  }

  /** Sizes of the server's bounded tables, for monitoring and leak tests. */
  stats():
    | {
        observers: number;
        block1: { bodies: number; bytes: number };
        representations: number;
        messenger: ReturnType<Messenger['stats']>;
      }
    | undefined {
    const c = this.ctx;
    if (c === undefined) return undefined;
    return {
      observers: c.observers.size,
      block1: c.block1.stats(),
      representations: c.representations.size,
      messenger: c.messenger.stats(),
    };
  }

  /** Changes Leisure at run time, for every multicast request from now on. */
  setLeisure(setting: LeisureSetting): void {
    this.leisureMs = leisureSeconds(setting) * 1000;
  }

  /** Stops serving and closes every socket. Pending Leisure-delayed responses are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ctx?.observers.clear();
    this.ctx?.block1.clear();
    this.ctx?.representations.clear();
    this.release?.();
    await this.messengerRef?.close();
  }
}

export type { Address };
export { type GroupSpec, parseGroupSpec, ResourceBuilder };
