/**
 * @module server/server
 * The CoAP server: resources and routes, /.well-known/core, group membership (All CoAP Nodes by
 * default, RFC 7390 §2.2, R4) and the site that takes its requests. Each request reaches the
 * outermost layer (`security`, then `use()` layers), then a proxy handler when it carries
 * Proxy-Uri/Proxy-Scheme and one is installed (RFC 7252 §5.7.2), else the router, with a
 * responder that owns suppression, No-Response and Leisure (server/responder). Listening binds
 * explicit unicast addresses only (design.md §Multicast on Node) and joins groups on an explicit
 * interface.
 */
import { CoapClosedError, CoapError, InvalidArgumentError } from '../errors.js';
import type { MethodName } from '../message/codes.js';
import type { Messenger } from '../messenger/messenger.js';
import type { Address, JoinedGroup, LocalSocket } from '../transport/types.js';
import { ResourceBuilder } from './builder.js';
import { discoveryDocument } from './discovery.js';
import { type GroupSpec, parseGroupSpec } from './groups.js';
import { type LeisureSetting, leisureSeconds } from './leisure.js';
import { ifaceFor } from './memberships.js';
import { notifyObservers } from './notify.js';
import { type Handler, Resource, type ResourceOptions, type SecureResourceOptions } from './resource.js';
import { Router } from './router.js';
import { checkServerOptions, type ServerOptions } from './server-options.js';
import { type Running, startServing } from './serving.js';
import type { Site, SiteHost, SiteLayer } from './site.js';

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
 *   .put((req) => {
 *     light = req.text();
 *     return {};
 *   });
 * await server.listen();
 */
export class CoapServer {
  readonly #router = new Router<Resource>();
  readonly #options: ServerOptions;
  readonly #port: number;
  readonly #maxSzx: number;
  /** Leisure set by the application (`leisure`, `setLeisure()`), ms; undefined: by request. */
  #leisureMs: number | undefined;
  /** DEFAULT_LEISURE for requests no layer gives another default, ms (RFC 7252 §8.2). */
  readonly #plainLeisureMs: number;
  /** Layers around the site, outermost first. */
  readonly #layers: SiteLayer[] = [];
  /** Critical options the layers process (RFC 7252 §5.4.1). */
  readonly #critical = new Set<number>();
  #proxy: Site | undefined;
  #run: Running | undefined;
  /** The outermost site, rebuilt when a layer is added. */
  #site: Site | undefined;
  #closed = false;

  constructor(options: ServerOptions = {}) {
    const checked = checkServerOptions(options);
    this.#options = { ...options };
    this.#port = checked.port;
    this.#maxSzx = checked.maxSzx;
    this.#leisureMs = checked.leisureMs;
    this.#plainLeisureMs = checked.plainLeisureMs;
    this.#proxy = options.proxy;
    if (options.security !== undefined) this.#addLayer(options.security);
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
    return this.#running().messenger;
  }

  #running(): Running {
    if (!this.#run)
      throw new CoapError('ERR_COAP_NOT_LISTENING', 'the server is not listening; call listen() first');
    return this.#run;
  }

  /**
   * Declares (or extends) a resource and returns a builder for its methods. `protected: true`
   * refuses requests no security layer verified (see `SecureResourceOptions`).
   */
  resource(path: string, options: ResourceOptions & SecureResourceOptions = {}): ResourceBuilder {
    let r = this.#router.get(path);
    if (r === undefined) {
      r = new Resource(path);
      this.#router.add(path, r);
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
    return this.#router.remove(path);
  }

  /** @internal every resource, for discovery */
  resources(): Resource[] {
    return this.#router.all().map((p) => p.value);
  }

  /**
   * Adds a layer around the site, inside those added before (the `security` option is the
   * outermost): it sees each request before the proxy handler and the router.
   *
   * @example
   * server.use({ wrap: (inner) => ({ handle: (req, res) => inner.handle(req, res) }) });
   */
  use(layer: SiteLayer): this {
    if (typeof layer?.wrap !== 'function')
      throw new InvalidArgumentError('a layer needs wrap(site, host), returning the site around site');
    this.#addLayer(layer);
    if (this.#run !== undefined) this.#site = this.#wrap(this.#run.inner, this.#run.host);
    return this;
  }

  #addLayer(layer: SiteLayer): void {
    this.#layers.push(layer);
    for (const n of layer.criticalOptions ?? []) this.#critical.add(n);
  }

  /**
   * Installs (or, with undefined, removes) the site that takes requests with Proxy-Uri or
   * Proxy-Scheme (RFC 7252 §5.7.2); without one they get 5.05 Proxying Not Supported. The
   * handler gets each request as the layers hand it on, Block1 options included (nothing is
   * reassembled for it), and may answer with several responses (`respond(parts, { more: true })`).
   */
  setProxyHandler(site: Site | undefined): this {
    if (site !== undefined && typeof site?.handle !== 'function')
      throw new InvalidArgumentError(
        'a proxy handler must be a site: an object with handle(request, responder)',
      );
    this.#proxy = site;
    return this;
  }

  /** `inner` inside every layer, the first one outermost. */
  #wrap(inner: Site, host: SiteHost): Site {
    let site = inner;
    for (let i = this.#layers.length - 1; i >= 0; i--) site = this.#layers[i]!.wrap(site, host);
    return site;
  }

  /** Binds sockets, joins the default and configured groups, and starts serving. */
  async listen(): Promise<ListenInfo> {
    if (this.#closed) throw new CoapClosedError('the server is closed');
    if (this.#run) throw new CoapError('ERR_COAP_ALREADY_LISTENING', 'the server is already listening');
    const o = this.#options;
    const run = await startServing(o, {
      router: this.#router,
      port: this.#port,
      maxSzx: this.#maxSzx,
      critical: this.#critical,
      site: () => this.#site!,
      compose: (inner, host) => {
        this.#site = this.#wrap(inner, host);
      },
      proxy: () => this.#proxy,
      leisureMs: (requestDefault) => this.#leisureMs ?? requestDefault ?? this.#plainLeisureMs,
    });
    this.#run = run;
    const warnings: string[] = [];
    try {
      if (o.joinAllCoapNodes !== false) await run.memberships.joinDefaults(warnings);
      for (const g of o.groups ?? []) await this.join(g);
    } catch (err) {
      await this.close();
      throw err;
    }
    const transport = run.messenger.transport;
    return { endpoints: transport.sockets, groups: transport.memberships(), warnings };
  }

  /** Joins a group for the application (reference-counted with every other join). */
  join(spec: GroupSpec): Promise<JoinedGroup> {
    return this.#running().memberships.join(spec);
  }

  /** Leaves a group joined with `join()`; a group it did not join is left alone. */
  async leave(spec: GroupSpec): Promise<void> {
    const run = this.#running();
    const gone = await run.memberships.leave(spec);
    if (gone !== undefined) run.leisure.forget(gone);
  }

  /** The interface argument for joining `group`. */
  ifaceFor(group: string): string | undefined {
    return ifaceFor(group, this.#run?.iface);
  }

  /** Group memberships held now. */
  memberships(): JoinedGroup[] {
    return this.#run?.messenger.transport.memberships() ?? [];
  }

  /** Where the server listens. */
  get endpoints(): readonly LocalSocket[] {
    return this.#run?.messenger.transport.sockets ?? [];
  }

  /**
   * Tells the observers of `path` that its state changed (RFC 7641 §4.2): each gets a
   * notification made by the resource's handler. Returns how many observers there were.
   */
  notify(path: string): number {
    const r = this.#router.get(path);
    if (r === undefined || this.#run === undefined) return 0;
    return notifyObservers(this.#run.ctx, r);
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
    const run = this.#run;
    if (run === undefined) return undefined;
    return {
      observers: run.ctx.observers.size,
      block1: run.ctx.block1.stats(),
      representations: run.ctx.representations.size,
      messenger: run.messenger.stats(),
    };
  }

  /** Changes Leisure at run time, for every multicast request from now on. */
  setLeisure(setting: LeisureSetting): void {
    this.#leisureMs = leisureSeconds(setting) * 1000;
  }

  /** Stops serving and closes every socket. Pending Leisure-delayed responses are dropped. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const run = this.#run;
    if (run === undefined) return;
    run.ctx.observers.clear();
    run.ctx.block1.clear();
    run.ctx.representations.clear();
    run.release();
    await run.messenger.close();
  }
}

export type { Address };
export { type GroupSpec, parseGroupSpec, ResourceBuilder, type ServerOptions };
