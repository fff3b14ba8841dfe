/**
 * @module rd/group-joiner
 * A node that finds its groups in a resource directory and joins them (RFC 9176 Appendix A and
 * §10.1, RFC 7390 §3.6): it observes the resource lookup of the groups of its sector
 * (`et=core.rd-group`, `d=SECTOR`), whose links are resolved against each group's multicast
 * base; every group with a link to a resource the node serves is joined, and a group that
 * disappears from the result (removed, expired, no longer naming those resources) is left. When
 * the observation ends (the directory restarted, the network failed) it is made again, with a
 * growing pause; memberships stay as they are meanwhile.
 */
import type { CoapClient } from '../client/client.js';
import type { Observation } from '../client/observe.js';
import { InvalidArgumentError } from '../errors.js';
import { parseLinks } from '../link-format/index.js';
import type { Runtime, TimerHandle } from '../runtime.js';
import type { CoapServer } from '../server/server.js';
import { formatUri, parseUri } from '../uri/index.js';
import { isMulticast } from '../util/ip.js';
import { findRdInterfaces, type RdInterfaces } from './discover.js';
import { RdClientError } from './errors.js';

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 60_000;

/** A group this node is in because of the directory. */
export interface RdGroup {
  readonly address: string;
  readonly port: number;
  /** The node's resources the group's links name. */
  readonly paths: readonly string[];
}

/** What changed, for logs. */
export type RdGroupEvent =
  | { readonly kind: 'joined' | 'left'; readonly group: RdGroup }
  | { readonly kind: 'failed'; readonly error: Error; readonly retryInMs: number };

/** Options of {@link RdGroupMembership.start}. */
export interface RdGroupOptions {
  /** A client on the server's sockets (`CoapClient.create({ messenger: server.messenger })`). */
  readonly client: CoapClient;
  /** The directory: its interfaces, a `coap://` URI or `auto`. */
  readonly rd: RdInterfaces | string;
  /** Only the groups of this sector (`d`). */
  readonly sector?: string;
  /** The resources this node serves to groups (multicast-enabled paths, e.g. `/light`). */
  readonly paths: readonly string[];
  readonly onEvent?: (e: RdGroupEvent) => void;
}

const keyOf = (g: { address: string; port: number }) => `${g.address}|${g.port}`;

/** The groups a lookup result asks this node to be in. */
export function wantedGroups(payload: string, paths: ReadonlySet<string>): Map<string, RdGroup> {
  const out = new Map<string, { address: string; port: number; paths: string[] }>();
  for (const link of parseLinks(payload)) {
    let uri: ReturnType<typeof parseUri>;
    try {
      uri = parseUri(link.href);
    } catch {
      continue; // not a coap:// URI: not a group this node can join
    }
    if (uri.hostKind === 'name' || !isMulticast(uri.host)) continue;
    const path = `/${uri.path.join('/')}`;
    if (!paths.has(path)) continue;
    const g = { address: uri.host, port: uri.port };
    const entry = out.get(keyOf(g)) ?? { ...g, paths: [] };
    if (!entry.paths.includes(path)) entry.paths.push(path);
    out.set(keyOf(g), entry);
  }
  return out;
}

/**
 * Keeps a node in the groups the directory lists for it.
 *
 * @example
 * ```ts
 * const client = await CoapClient.create({ messenger: server.messenger });
 * const groups = await RdGroupMembership.start(server, { client, rd: 'coap://rd.example', sector: 'R2-4-015', paths: ['/light'] });
 * console.log(groups.groups()); // [{ address: 'ff05::1', port: 5683, paths: ['/light'] }]
 * await groups.close(); // leaves them
 * ```
 */
export class RdGroupMembership {
  private readonly server: CoapServer;
  private readonly o: RdGroupOptions;
  private readonly paths: ReadonlySet<string>;
  private readonly runtime: Runtime;
  private readonly joined = new Map<string, RdGroup>();
  private interfaces: RdInterfaces | undefined;
  private observation: Observation | undefined;
  private timer: TimerHandle | undefined;
  private failures = 0;
  private closed = false;
  private applying: Promise<void> = Promise.resolve();

  private constructor(server: CoapServer, o: RdGroupOptions) {
    this.server = server;
    this.o = o;
    this.paths = new Set(o.paths);
    this.runtime = o.client.messenger.runtime;
  }

  /**
   * Starts observing; resolves once the first result has been applied (its groups joined).
   * @throws RdClientError `ERR_COAP_RD_NOT_FOUND` when the directory has no resource lookup, or
   *   `ERR_COAP_RD_REFUSED` when it refuses the lookup; InvalidArgumentError for bad options.
   */
  static async start(server: CoapServer, o: RdGroupOptions): Promise<RdGroupMembership> {
    if (!Array.isArray(o.paths) || o.paths.some((p) => typeof p !== 'string' || !p.startsWith('/'))) {
      throw new InvalidArgumentError('paths must be resource paths such as /light');
    }
    const m = new RdGroupMembership(server, o);
    m.interfaces = typeof o.rd === 'string' ? await findRdInterfaces(o.client, o.rd) : o.rd;
    if (m.interfaces.lookupRes === undefined) {
      throw new RdClientError(
        'ERR_COAP_RD_NOT_FOUND',
        `${m.interfaces.origin} offers no resource lookup (rt=core.rd-lookup-res, RFC 9176 §6.1)`,
      );
    }
    await m.observe(true);
    return m;
  }

  /** The groups joined now. */
  groups(): RdGroup[] {
    return [...this.joined.values()];
  }

  private lookupUri(): string {
    const uri = parseUri(this.interfaces!.lookupRes!);
    const query = ['et=core.rd-group', ...(this.o.sector !== undefined ? [`d=${this.o.sector}`] : [])];
    return formatUri({ ...uri, query });
  }

  /** Observes the lookup; with `first`, resolves after the first result (and throws its failure). */
  private observe(first: boolean): Promise<void> {
    const obs = this.o.client.observe({ uri: this.lookupUri(), accept: 40 });
    this.observation = obs;
    let resolveFirst: () => void = () => {};
    let rejectFirst: (e: Error) => void = () => {};
    const firstResult = new Promise<void>((resolve, reject) => {
      resolveFirst = resolve;
      rejectFirst = reject;
    });
    void (async () => {
      let error: Error | undefined;
      try {
        for await (const res of obs) {
          if (res.code !== 0x45) {
            throw new RdClientError(
              'ERR_COAP_RD_REFUSED',
              `the group lookup answered ${res.codeString}`,
              res.codeString,
            );
          }
          this.failures = 0;
          await this.apply(res.text());
          resolveFirst();
        }
      } catch (err) {
        error = err as Error;
      }
      if (this.closed) return resolveFirst();
      if (first && error !== undefined) return rejectFirst(error);
      resolveFirst();
      this.retry(error ?? new RdClientError('ERR_COAP_RD_REFUSED', 'the directory ended the observation'));
    })();
    return firstResult;
  }

  private retry(error: Error): void {
    const wait = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.failures++);
    this.o.onEvent?.({ kind: 'failed', error, retryInMs: wait });
    this.timer = this.runtime.setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) void this.observe(false);
    }, wait);
  }

  /** Joins what is wanted and not joined, leaves what is joined and no longer wanted. */
  private apply(payload: string): Promise<void> {
    let wanted: Map<string, RdGroup>;
    try {
      wanted = wantedGroups(payload, this.paths);
    } catch (err) {
      return Promise.reject(err);
    }
    this.applying = this.applying.then(async () => {
      for (const [k, g] of this.joined) {
        if (wanted.has(k) || this.closed) continue;
        this.joined.delete(k);
        await this.server.leave({ group: g.address, port: g.port });
        this.o.onEvent?.({ kind: 'left', group: g });
      }
      for (const [k, g] of wanted) {
        if (this.closed) continue;
        if (this.joined.has(k)) {
          this.joined.set(k, g); // the same group, maybe naming other resources now
          continue;
        }
        try {
          await this.server.join({ group: g.address, port: g.port });
        } catch (err) {
          this.o.onEvent?.({ kind: 'failed', error: err as Error, retryInMs: 0 });
          continue;
        }
        this.joined.set(k, g);
        this.o.onEvent?.({ kind: 'joined', group: g });
      }
    });
    return this.applying;
  }

  /** Stops observing and leaves every group it joined. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.runtime.clearTimeout(this.timer);
    await this.observation?.cancel();
    await this.applying.catch(() => {});
    for (const g of this.joined.values())
      await this.server.leave({ group: g.address, port: g.port }).catch(() => {});
    this.joined.clear();
  }
}
