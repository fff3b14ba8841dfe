/**
 * @module http-gateway/gateway
 * The HTTP-to-CoAP gateway (RFC 8075, groupcomm-proxy §9): an HTTP/1.1 server on Node's `http`
 * that routes `/.well-known/core` to discovery (§5.5) and every target under the HC Proxy URI
 * (§5.3, §5.4.1) to a unicast or a group request, which it sends itself with the library's
 * client; it sits on the link of the group. Everything else goes to a fallback (404 unless
 * given), or, with the `console` option, to the commissioning console (http-gateway/console).
 * Closing ends every request under way (group answers say `closed`) and every
 * connection.
 */
import diagnostics from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { debuglog } from 'node:util';
import { CoapClient } from '../client/client.js';
import { type Resolver, resolveHost, systemResolver } from '../client/resolve.js';
import { CoapError, TransportError } from '../errors.js';
import { isMulticast } from '../util/ip.js';
import { peerKey } from '../util/peer-key.js';
import { isConsolePath, serveConsole } from './console.js';
import { type GatewayContext, writeAnswer, writeRefusal } from './context.js';
import { discoveryDocument } from './discovery.js';
import { serveGroup } from './group.js';
import { Admission, ByteBudget } from './limits.js';
import { type CheckedGatewayOptions, checkGatewayOptions, type HttpGatewayOptions } from './options.js';
import { Policy } from './policy.js';
import { Refusal, refuse } from './refusal.js';
import { coapMethod } from './request.js';
import { httpReason } from './status.js';
import { parseTarget, route } from './target.js';
import { serveUnicast } from './unicast.js';

const debug = debuglog('coap');

/** Where a listening gateway is. */
export interface GatewayAddress {
  readonly address: string;
  readonly port: number;
  /** `http://127.0.0.1:8080`. */
  readonly origin: string;
  /** The HC Proxy URI, e.g. `http://127.0.0.1:8080/hc/`. */
  readonly url: string;
}

/**
 * An HTTP-to-CoAP gateway for unicast and group targets (docs/proxy.md, "HTTP gateway").
 *
 * @example
 * const gw = new HttpGateway({ iface: '127.0.0.1', port: 0 });
 * const { url } = await gw.listen();
 * const res = await fetch(`${url}coap://224.0.1.187/light`, {
 *   headers: { 'Multicast-Timeout': '2', Accept: 'application/json' },
 * });
 * console.log(await res.json());
 * await gw.close();
 */
export class HttpGateway {
  readonly #options: HttpGatewayOptions;
  readonly #checked: CheckedGatewayOptions;
  readonly #policy: Policy;
  readonly #resolver: Resolver;
  readonly #closing = new AbortController();
  readonly #pending = new Set<Promise<void>>();
  #server: Server | undefined;
  #ctx: GatewayContext | undefined;
  #ownsClient = false;
  #address: GatewayAddress | undefined;
  #onWait: ((message: unknown) => void) | undefined;

  /** @throws InvalidArgumentError for a bad option. */
  constructor(options: HttpGatewayOptions = {}) {
    this.#options = options;
    this.#checked = checkGatewayOptions(options);
    this.#policy = new Policy(this.#checked);
    this.#resolver = options.resolver ?? systemResolver;
  }

  /** Where the gateway listens, once it does. */
  get address(): GatewayAddress | undefined {
    return this.#address;
  }

  /**
   * Creates the CoAP client (unless one was given) and listens.
   * @throws TransportError `ERR_COAP_BIND` when the HTTP port cannot be bound.
   */
  async listen(): Promise<GatewayAddress> {
    if (this.#server !== undefined)
      throw new TransportError('ERR_COAP_ALREADY_LISTENING', 'the gateway is already listening');
    const o = this.#options;
    // Loaded here, so that the rest of the library needs no package of its own.
    const { serializeList } = await import('structured-headers');
    const client =
      o.client ??
      (await CoapClient.create({
        ...(o.iface !== undefined ? { iface: o.iface } : {}),
        ...(o.hops !== undefined ? { hops: o.hops } : {}),
        ...(o.coapBind !== undefined ? { bind: o.coapBind } : {}),
        ...(o.resolver !== undefined ? { resolver: o.resolver } : {}),
      }));
    this.#ownsClient = o.client === undefined;
    const checked = this.#checked;
    const ctx: GatewayContext = {
      client,
      options: checked,
      policy: this.#policy,
      admission: new Admission(checked.limits),
      budget: new ByteBudget(checked.limits.bufferedBytes),
      serializeList,
      groupsConfigured: o.client !== undefined || o.iface !== undefined,
      closing: this.#closing.signal,
      waiting: new Map(),
      now: () => performance.now(),
    };
    this.#ctx = ctx;
    // The client announces a wait for a silent group (RFC 7252 §4.7) on this channel.
    this.#onWait = (m) => {
      const { group, port, waitMs } = m as { group: string; port: number; waitMs: number };
      for (const tell of ctx.waiting.get(peerKey({ address: group, port })) ?? []) tell(waitMs);
    };
    diagnostics.subscribe('coap:group:wait', this.#onWait);
    const server = createServer({ requireHostHeader: true }, (req, res) => this.#track(req, res));
    server.maxConnections = checked.limits.connections;
    this.#server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(checked.port, checked.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await this.close();
      throw new TransportError(
        'ERR_COAP_BIND',
        `cannot listen on ${checked.host}:${checked.port} for HTTP: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { cause: err },
      );
    }
    const a = server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    const origin = `http://${host}:${a.port}`;
    this.#address = { address: a.address, port: a.port, origin, url: `${origin}${checked.path}` };
    return this.#address;
  }

  #track(req: IncomingMessage, res: ServerResponse): void {
    const p = this.#serve(req, res).finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const head = req.method === 'HEAD';
    const ctx = this.#ctx;
    try {
      if (ctx === undefined || this.#closing.signal.aborted) throw refuse(503, 'the gateway is not running');
      const o = ctx.options;
      ctx.policy.checkHost(req.headers.host, req.headers.origin);
      const r = route(req.url ?? '/', o.path);
      if (r.kind === 'other' && o.console !== undefined && isConsolePath(req.url ?? '/'))
        return await serveConsole(req, res, o.console, o.path, o.limits.maxTimeout);
      if (r.kind === 'other') {
        if (this.#options.fallback) return this.#options.fallback(req, res);
        throw refuse(
          404,
          `nothing here: CoAP targets are under ${o.path}, e.g. ${o.path}coap://127.0.0.1/.well-known/core`,
        );
      }
      if (r.kind === 'discovery') {
        if (req.method !== 'GET' && !head)
          throw refuse(405, 'discovery takes GET (RFC 8075 §5.5)', [['Allow', 'GET, HEAD']]);
        const body = Buffer.from(discoveryDocument(o.path, r.query));
        const headers: Array<[string, string]> = [['Content-Type', 'application/link-format']];
        return writeAnswer(res, { status: 200, reason: httpReason(200), headers, body }, head);
      }
      const method = coapMethod(req.method);
      const target = parseTarget(r.text, o.path);
      const address = await this.#resolve(target.uri.host);
      const client = (req.socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
      const f = { req, res, target, address, method, head, client };
      if (isMulticast(address)) await serveGroup(ctx, f);
      else await serveUnicast(ctx, f);
    } catch (err) {
      if (err instanceof Refusal) return writeRefusal(res, err, head);
      debug('http gateway: %s %s failed: %o', req.method, req.url, err);
      writeRefusal(res, refuse(500, 'the gateway failed to handle this request'), head);
    }
  }

  async #resolve(host: string): Promise<string> {
    try {
      return await resolveHost(host, this.#resolver);
    } catch (err) {
      if (err instanceof CoapError) throw refuse(502, err.message);
      throw err;
    }
  }

  /** Ends every request under way, closes every connection, and the client if the gateway made it. */
  async close(): Promise<void> {
    this.#closing.abort();
    if (this.#onWait !== undefined) diagnostics.unsubscribe('coap:group:wait', this.#onWait);
    this.#onWait = undefined;
    const server = this.#server;
    // Answers under way end first (a group answer says `closed`), then the connections; a
    // request still sending its body, or being resolved, is not waited for beyond a second.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#pending]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1000);
      }),
    ]);
    clearTimeout(timer);
    if (server?.listening) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    const ctx = this.#ctx;
    this.#ctx = undefined;
    if (ctx !== undefined && this.#ownsClient) await ctx.client.close();
  }
}

/**
 * Creates a gateway and listens.
 * @example
 * const gw = await startHttpGateway({ iface: 'eth0', port: 8080 });
 * console.log(`HC proxy at ${gw.address?.url}`);
 */
export async function startHttpGateway(options: HttpGatewayOptions = {}): Promise<HttpGateway> {
  const gw = new HttpGateway(options);
  await gw.listen();
  return gw;
}
