/**
 * @module rd/endpoint
 * A node's registration with a resource directory (RFC 9176 §5, §5.3): it registers its links
 * (by default what its own `/.well-known/core` lists), renews before the lifetime ends (an
 * update, §5.3.1), registers again when the update fails (§5.3.1: "SHOULD attempt registration
 * again"), waits as long as a 5.03's Max-Age says (§4), and removes the registration when it
 * closes (§5.3.2). Requests leave from the node's own sockets, so the RD's implicit base is the
 * node's address and port.
 */
import type { CoapClient } from '../client/client.js';
import type { CoapResponse } from '../client/response.js';
import { InvalidArgumentError } from '../errors.js';
import { Opt } from '../options/registry.js';
import { findOptions } from '../options/values.js';
import type { Runtime, TimerHandle } from '../runtime.js';
import type { CoapServer } from '../server/server.js';
import { formatUri, parseUri } from '../uri/index.js';
import { type FindRdOptions, findRdInterfaces, type RdInterfaces } from './discover.js';
import { RdClientError } from './errors.js';
import { DEFAULT_LIFETIME, hasControl, MAX_LIFETIME, MAX_NAME_BYTES } from './params.js';
import { baseFromAddress, resolveReference } from './uri-ref.js';

/** Renew when this share of the lifetime has passed. */
const RENEW_AT = 0.8;
/** Longest single wait for a runtime timer, ms (platform timers hold 2^31 - 1). */
const MAX_TIMER_MS = 24 * 3600 * 1000;
/** Retry delays after a failed attempt: doubling from 1 s up to 60 s. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 60_000;

/** What happened, for logs. */
export type RdRegistrationEvent =
  | { readonly kind: 'registered'; readonly location: string }
  | { readonly kind: 'renewed'; readonly location: string }
  | { readonly kind: 'failed'; readonly error: Error; readonly retryInMs: number }
  | { readonly kind: 'removed'; readonly location: string };

/** Options of {@link RdRegistration.start}. */
export interface RdRegistrationOptions extends FindRdOptions {
  /** The directory: a `coap://` URI, `auto` for multicast discovery (RFC 7390 §3.3), or its interfaces. */
  readonly rd: string | RdInterfaces;
  /** A client on the server's sockets (`CoapClient.create({ messenger: server.messenger })`). */
  readonly client: CoapClient;
  /** Endpoint name (RFC 9176 §5: unique in its sector, at most 63 bytes). */
  readonly ep: string;
  /** Sector (`d`). */
  readonly sector?: string;
  /** Lifetime in seconds; default 90000 (RFC 9176 §5). */
  readonly lifetime?: number;
  /** Further registration parameters, e.g. `[['et', 'tag:example.com,2020:lamp']]`. */
  readonly attributes?: readonly (readonly [string, string])[];
  /** The links to register (link format); default: the node's own `/.well-known/core`. */
  readonly links?: () => string | Promise<string>;
  /** Each request's time limit, ms; default 10000. */
  readonly requestTimeoutMs?: number;
  readonly onEvent?: (e: RdRegistrationEvent) => void;
}

function checkName(what: string, v: string | undefined): void {
  if (v === undefined) return;
  if (typeof v !== 'string' || v === '' || Buffer.byteLength(v) > MAX_NAME_BYTES || hasControl(v)) {
    throw new InvalidArgumentError(
      `${what} must be 1 to ${MAX_NAME_BYTES} bytes of UTF-8 without control characters`,
    );
  }
}

/**
 * A node registered with a resource directory, kept registered until `close()`.
 *
 * @example
 * ```ts
 * const client = await CoapClient.create({ messenger: server.messenger });
 * const reg = await RdRegistration.start(server, { rd: 'coap://[2001:db8::ff]', client, ep: 'lamp-7', sector: 'room-3' });
 * // ... serve ...
 * await reg.close(); // removes the registration (RFC 9176 §5.3.2)
 * ```
 */
export class RdRegistration {
  readonly interfaces: RdInterfaces;
  private readonly o: RdRegistrationOptions;
  private readonly server: CoapServer;
  private readonly runtime: Runtime;
  private readonly lifetime: number;
  private locationUri: string | undefined;
  private timer: TimerHandle | undefined;
  private failures = 0;
  private closed = false;
  private running: Promise<void> | undefined;

  private constructor(server: CoapServer, o: RdRegistrationOptions, interfaces: RdInterfaces) {
    this.server = server;
    this.o = o;
    this.interfaces = interfaces;
    this.runtime = o.client.messenger.runtime;
    this.lifetime = o.lifetime ?? DEFAULT_LIFETIME;
  }

  /**
   * Finds the directory and registers. Resolves once registered.
   * @throws RdClientError `ERR_COAP_RD_NOT_FOUND` or `ERR_COAP_RD_REFUSED`; CoapTimeoutError;
   *   InvalidArgumentError for a bad option.
   */
  static async start(server: CoapServer, o: RdRegistrationOptions): Promise<RdRegistration> {
    checkName('ep', o.ep);
    checkName('sector', o.sector);
    const lt = o.lifetime ?? DEFAULT_LIFETIME;
    if (!Number.isInteger(lt) || lt < 1 || lt > MAX_LIFETIME) {
      throw new InvalidArgumentError(`lifetime must be a whole number of seconds from 1 to ${MAX_LIFETIME}`);
    }
    const interfaces = typeof o.rd === 'string' ? await findRdInterfaces(o.client, o.rd, o) : o.rd;
    if (interfaces.registration === undefined) {
      throw new RdClientError(
        'ERR_COAP_RD_NOT_FOUND',
        `${interfaces.origin} offers no registration interface (rt=core.rd)`,
      );
    }
    const reg = new RdRegistration(server, o, interfaces);
    await reg.register();
    reg.schedule(lt * 1000 * RENEW_AT);
    return reg;
  }

  /** The registration resource (absolute URI), while registered. */
  get location(): string | undefined {
    return this.locationUri;
  }

  private async links(): Promise<string> {
    if (this.o.links !== undefined) return this.o.links();
    const at = this.server.endpoints[0];
    if (at === undefined) throw new RdClientError('ERR_COAP_RD_REFUSED', 'the server is not listening');
    const res = await this.o.client.request({
      uri: `${baseFromAddress(at.address, at.port)}/.well-known/core`,
      accept: 40,
      timeout: this.o.requestTimeoutMs ?? 10_000,
    });
    return res.code === 0x45 ? res.text() : '';
  }

  private query(): string[] {
    return [
      `ep=${this.o.ep}`,
      ...(this.o.sector !== undefined ? [`d=${this.o.sector}`] : []),
      `lt=${this.lifetime}`,
      ...(this.o.attributes ?? []).map(([k, v]) => `${k}=${v}`),
    ];
  }

  private send(uri: string, method: 'POST' | 'DELETE', payload?: string): Promise<CoapResponse> {
    // Parameters go only with the registration; an update changes nothing (RFC 9176 §5.3.1).
    const query = method === 'POST' && payload !== undefined ? this.query() : [];
    return this.o.client.request({
      uri: formatUri({ ...parseUri(uri), query }),
      method,
      ...(payload !== undefined ? { payload: Buffer.from(payload), format: 40 } : {}),
      timeout: this.o.requestTimeoutMs ?? 10_000,
    });
  }

  /** POST to the registration interface (RFC 9176 §5). */
  private async register(): Promise<void> {
    const res = await this.send(this.interfaces.registration!, 'POST', await this.links());
    if (res.code !== 0x41) throw refused('registration', res);
    const path = findOptions(res.options, Opt.LocationPath).map((o) => o.value.toString());
    this.locationUri = resolveReference(`/${path.join('/')}`, this.interfaces.origin);
    this.o.onEvent?.({ kind: 'registered', location: this.locationUri });
  }

  /** POST to the registration resource (RFC 9176 §5.3.1); registers again if that fails. */
  private async renew(): Promise<void> {
    const at = this.locationUri;
    if (at !== undefined) {
      const res = await this.send(at, 'POST');
      if (res.code === 0x44) {
        this.o.onEvent?.({ kind: 'renewed', location: at });
        return;
      }
      if (res.codeString === '5.03') throw refused('update', res);
      this.locationUri = undefined; // 4.04 (expired, removed) or refused: start over
    }
    await this.register();
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    const wait = Math.min(ms, MAX_TIMER_MS);
    this.timer = this.runtime.setTimeout(() => {
      this.timer = undefined;
      if (wait < ms) return this.schedule(ms - wait);
      this.running = this.renew().then(
        () => {
          this.failures = 0;
          this.schedule(this.lifetime * 1000 * RENEW_AT);
        },
        (err: Error) => {
          const retry =
            err instanceof RdClientError && err.retryAfter !== undefined
              ? err.retryAfter * 1000
              : Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.failures++);
          if (!this.closed) this.o.onEvent?.({ kind: 'failed', error: err, retryInMs: retry });
          this.schedule(retry);
        },
      );
    }, wait);
  }

  /** Stops renewing and removes the registration (RFC 9176 §5.3.2); never throws. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.runtime.clearTimeout(this.timer);
    await this.running?.catch(() => {});
    const at = this.locationUri;
    this.locationUri = undefined;
    if (at === undefined || this.o.client.isClosed) return;
    try {
      await this.send(at, 'DELETE');
      this.o.onEvent?.({ kind: 'removed', location: at });
    } catch {
      // The directory is gone or slow: the registration expires with its lifetime anyway.
    }
  }
}

function refused(what: string, res: CoapResponse): RdClientError {
  const text = res.payload.length > 0 ? `: ${res.text()}` : '';
  return new RdClientError(
    'ERR_COAP_RD_REFUSED',
    `the resource directory refused the ${what} with ${res.codeString} ${res.reason}${text}`,
    res.codeString,
    res.codeString === '5.03' ? res.maxAge : undefined,
  );
}
