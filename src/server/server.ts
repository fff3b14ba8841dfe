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
} from '../constants.js';
import { CoapClosedError, CoapError, InvalidArgumentError } from '../errors.js';
import type { MethodName } from '../message/codes.js';
import { Messenger } from '../messenger/messenger.js';
import type { Runtime } from '../runtime.js';
import { systemRuntime } from '../runtime.js';
import { type ResolvedInterface, resolveInterface } from '../transport/interfaces.js';
import type { Address, LocalSocket, Membership, Transport } from '../transport/types.js';
import { UdpTransport } from '../transport/udp.js';
import { ipFamily, isLoopback, isMulticast, splitZone } from '../util/ip.js';
import { discoveryDocument } from './discovery.js';
import { LeisureScheduler, type LeisureSetting, leisureSeconds } from './leisure.js';
import { handleExchange, type PipelineContext } from './pipeline.js';
import { type Handler, Resource, type ResourceOptions } from './resource.js';
import { Router } from './router.js';

/** A group to join: `224.0.1.187`, `[ff02::fd%eth0]:5683`, or an object. */
export type GroupSpec = string | { group: string; port?: number; iface?: string };

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
  /** Interface for group joins and multicast: a name (`lo`) or address. Default: the interface of the first bind address. */
  iface?: string;
  /** Join All CoAP Nodes (224.0.1.187; ff02::fd and ff05::fd with IPv6); default true (RFC 7390 §2.2). */
  joinAllCoapNodes?: boolean;
  /** More groups to join. */
  groups?: readonly GroupSpec[];
  /** Leisure for multicast responses, seconds or S*G/R; default DEFAULT_LEISURE (5 s). */
  leisure?: LeisureSetting;
  /** Serve /.well-known/core; default true. */
  discovery?: boolean;
  /** ms a handler may take before a CON gets an empty ACK; default 1000. */
  ackDelayMs?: number;
}

/** What `listen()` did. */
export interface ListenInfo {
  readonly endpoints: readonly LocalSocket[];
  readonly groups: readonly Membership[];
  /** Default groups that could not be joined, with the reason. */
  readonly warnings: readonly string[];
}

/** Parses a group spec into address, port and optional zone-derived interface. */
export function parseGroupSpec(
  spec: GroupSpec,
  defaultPort = COAP_PORT,
): { group: string; port: number; iface?: string } {
  if (typeof spec !== 'string') {
    if (!isMulticast(spec.group)) throw new InvalidArgumentError(`${spec.group} is not a multicast address`);
    return {
      group: spec.group,
      port: spec.port ?? defaultPort,
      ...(spec.iface ? { iface: spec.iface } : {}),
    };
  }
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec) ??
    /^([^:]+)(?::(\d+))?$/.exec(spec) ?? [spec, spec, undefined];
  const group = (m[1] ?? '').replace('%25', '%');
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (ipFamily(group) === 0 || !isMulticast(group)) {
    throw new InvalidArgumentError(
      `${spec} is not a multicast address: give e.g. 224.0.1.187, 239.1.2.3:5683 or [ff05::fd]`,
    );
  }
  if (!(port >= 1 && port <= 65535))
    throw new InvalidArgumentError(`port ${port} of ${spec} is outside 1-65535`);
  return { group, port };
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
  private leisureMs: number;
  private leisure: LeisureScheduler | undefined;
  /** Joins held on behalf of the application, by key, so leave() only drops its own. */
  private readonly appJoins = new Map<string, number>();

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
    this.leisureMs = leisureSeconds(options.leisure ?? options.transmission?.defaultLeisure ?? 5) * 1000;
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

  /** Declares (or extends) a resource and returns a builder for its methods. */
  resource(path: string, options: ResourceOptions = {}): ResourceBuilder {
    let r = this.router.get(path);
    if (r === undefined) {
      r = new Resource(path);
      this.router.add(path, r);
    }
    r.configure(options);
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
    const iface =
      o.iface !== undefined ? resolveInterface(o.iface) : o.transport ? undefined : defaultInterface(bind[0]!);
    this.ifaceRef = iface;
    const transport =
      o.transport ??
      (await UdpTransport.create({
        bind: bind.map((address) => ({ address, port })),
        ipv4Interface: iface?.ipv4,
        ipv6Interface: iface?.ipv6,
        hops: 1,
      }));
    const runtime = o.runtime ?? systemRuntime;
    const messenger = new Messenger({
      transport,
      runtime,
      ...(o.transmission ? { transmission: o.transmission } : {}),
      ...(o.ackDelayMs !== undefined ? { ackDelayMs: o.ackDelayMs } : {}),
    });
    this.messengerRef = messenger;
    this.leisure = new LeisureScheduler(runtime);
    const ctx: PipelineContext = {
      router: this.router,
      timers: messenger.timers,
      leisure: this.leisure,
      leisureMs: () => this.leisureMs,
    };
    messenger.onRequest = (ex) => handleExchange(ctx, ex);
    const warnings: string[] = [];
    try {
      if (o.joinAllCoapNodes !== false) await this.joinDefaults(transport, port, iface, warnings);
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
  async join(spec: GroupSpec): Promise<Membership> {
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
  }

  /** The interface argument for joining `group`. */
  ifaceFor(group: string): string | undefined {
    const zone = splitZone(group).zone;
    if (zone) return `::%${zone}`;
    return ipFamily(group) === 4 ? this.ifaceRef?.ipv4 : this.ifaceRef?.ipv6;
  }

  /** Group memberships held now. */
  memberships(): Membership[] {
    return this.messengerRef?.transport.memberships() ?? [];
  }

  /** Where the server listens. */
  get endpoints(): readonly LocalSocket[] {
    return this.messengerRef?.transport.sockets ?? [];
  }

  /** Changes Leisure at run time. */
  setLeisure(setting: LeisureSetting): void {
    this.leisureMs = leisureSeconds(setting) * 1000;
  }

  /** Stops serving and closes every socket. Pending Leisure-delayed responses are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.messengerRef?.close();
  }
}

/** Adds method handlers to one resource. */
export class ResourceBuilder {
  private readonly r: Resource;
  constructor(r: Resource) {
    this.r = r;
  }
  on(method: MethodName, handler: Handler): this {
    this.r.handlers.set(method, handler);
    return this;
  }
  get(h: Handler): this {
    return this.on('GET', h);
  }
  put(h: Handler): this {
    return this.on('PUT', h);
  }
  post(h: Handler): this {
    return this.on('POST', h);
  }
  delete(h: Handler): this {
    return this.on('DELETE', h);
  }
  fetch(h: Handler): this {
    return this.on('FETCH', h);
  }
  patch(h: Handler): this {
    return this.on('PATCH', h);
  }
  ipatch(h: Handler): this {
    return this.on('iPATCH', h);
  }
}

/** The interface owning `address`; loopback addresses (127/8) map to the loopback interface. */
function defaultInterface(address: string): ResolvedInterface | undefined {
  try {
    return resolveInterface(isLoopback(address) ? (ipFamily(address) === 4 ? '127.0.0.1' : 'lo') : address);
  } catch {
    return undefined;
  }
}

export type { Address };
