/**
 * @module rd/attach
 * Puts a resource directory (RFC 9176) on a listening CoAP server, from outside and through its
 * public API: loads the saved registrations, declares the registration, lookup and simple
 * registration resources (discoverable with `rt=core.rd*` in `/.well-known/core`, §4.3, which
 * the server also answers on All CoAP Nodes, RFC 7390 §3.3), and joins All CoRE Resource
 * Directories (224.0.1.190, ff02::fe, ff05::fe; RFC 9176 §9.5).
 */
import { CoapClient } from '../client/client.js';
import { InvalidArgumentError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { CoapServer } from '../server/server.js';
import {
  DEFAULT_RD_LIMITS,
  RD_LOOKUP_EP_PATH,
  RD_LOOKUP_RES_PATH,
  RD_PATH,
  RD_SIMPLE_PATH,
  type RdLimits,
} from './context.js';
import { RdStateError } from './errors.js';
import { lookup } from './lookup-resource.js';
import { LINK_FORMAT } from './payload.js';
import { LOOPBACK_TOOLS, RdPolicy, type ToolSpec } from './policy.js';
import { read, register, remove, update } from './registration-resource.js';
import { ResourceDirectory } from './resource-directory.js';
import { RdService } from './service.js';
import { DiscoveryCache, simpleRegister } from './simple.js';
import type { RdState } from './state.js';
import { type RdStore, VolatileRdStore } from './store.js';
import { FileRdStore } from './store-file.js';

/** "All CoRE Resource Directories" (RFC 9176 §9.5). */
export const ALL_RDS_IPV4 = '224.0.1.190';
export const ALL_RDS_IPV6_LINK = 'ff02::fe';
export const ALL_RDS_IPV6_SITE = 'ff05::fe';

/** Options of {@link attachResourceDirectory}. Checked before anything is done. */
export interface ResourceDirectoryOptions {
  /** A store, or a directory for a `FileRdStore`. Default: none (nothing survives a restart). */
  store?: RdStore | string;
  /** When the saved state is corrupt, move it aside and start empty. */
  startEmpty?: boolean;
  /**
   * The commissioning tools (RFC 9176 §5.2, Appendix A): address prefixes or OSCORE identities
   * (`'192.0.2.0/24'`, `'01'`, `'01@abcd'`). They may register groups and for other addresses,
   * and manage any registration. Default: this host (127.0.0.0/8, ::1).
   */
  commissioningTools?: readonly (string | ToolSpec)[];
  limits?: Partial<RdLimits>;
  /** Serve simple registration (RFC 9176 §5.1); default true. */
  simpleRegistration?: boolean;
  /** How long an endpoint has to answer the simple registration's GET, ms; default 10000. */
  simpleTimeoutMs?: number;
  /**
   * The client for simple registration's GETs. Default: one sharing the server's sockets, so the
   * GET comes from the RD's address. A server's sockets serve one client: pass yours if you
   * already made one on `server.messenger`.
   */
  client?: CoapClient;
  /** Join All CoRE Resource Directories (RFC 9176 §9.5); default true. */
  joinAllRds?: boolean;
  /** Clock for lifetimes; default the server's. */
  runtime?: Runtime;
  /** Wall-clock ms for deadlines saved across restarts; default `Date.now`. */
  wallClock?: () => number;
}

function checkLimits(l: Partial<RdLimits> | undefined): RdLimits {
  const out = { ...DEFAULT_RD_LIMITS, ...(l ?? {}) };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isInteger(v) || v < 1 || v > 1e9) {
      throw new InvalidArgumentError(`limits.${k} must be an integer from 1 to 1e9, not ${String(v)}`);
    }
  }
  return out;
}

async function loadState(
  store: RdStore,
  startEmpty: boolean,
  warnings: string[],
): Promise<RdState | undefined> {
  try {
    return await store.load();
  } catch (err) {
    if (!(err instanceof RdStateError) || err.code !== 'ERR_COAP_RD_STATE_CORRUPT' || !startEmpty) {
      if (err instanceof RdStateError && err.code === 'ERR_COAP_RD_STATE_CORRUPT') {
        throw new RdStateError(
          err.code,
          err.path,
          `${err.message}; the directory does not start without its registrations: repair or remove the file, or start empty (option startEmpty, rd --start-empty)`,
          { cause: err },
        );
      }
      throw err;
    }
    const moved = await store.quarantine?.();
    warnings.push(`started empty: ${err.message}${moved ? `; the old state was moved to ${moved}` : ''}`);
    return undefined;
  }
}

/**
 * Serves an RFC 9176 resource directory on a listening `server`. Call after `server.listen()`.
 *
 * @example
 * ```ts
 * const server = new CoapServer({ bind: ['127.0.0.1'] });
 * await server.listen();
 * const rd = await attachResourceDirectory(server, { store: './rd-state' });
 * // ... POST coap://127.0.0.1/rd?ep=node1 with links, GET /rd-lookup/res?rt=light ...
 * await rd.close();
 * await server.close();
 * ```
 * @throws CoapError `ERR_COAP_NOT_LISTENING` before `listen()`; InvalidArgumentError for a bad
 *   option or a path already served; RdStateError when the saved state cannot be used.
 */
export async function attachResourceDirectory(
  server: CoapServer,
  options: ResourceDirectoryOptions = {},
): Promise<ResourceDirectory> {
  const limits = checkLimits(options.limits);
  const policy = new RdPolicy(options.commissioningTools ?? LOOPBACK_TOOLS);
  const simpleTimeoutMs = options.simpleTimeoutMs ?? 10_000;
  if (!Number.isFinite(simpleTimeoutMs) || simpleTimeoutMs < 1) {
    throw new InvalidArgumentError(`simpleTimeoutMs must be a positive number of ms, not ${simpleTimeoutMs}`);
  }
  const messenger = server.messenger; // throws ERR_COAP_NOT_LISTENING
  const runtime = options.runtime ?? messenger.runtime;
  const store =
    typeof options.store === 'string'
      ? new FileRdStore(options.store)
      : (options.store ?? new VolatileRdStore());
  const warnings: string[] = [];
  const rd = new ResourceDirectory(store, warnings);
  const service = new RdService({
    store,
    runtime,
    wallClock: options.wallClock ?? Date.now,
    prefix: RD_PATH,
    maxObservedQueries: limits.maxObservedQueries,
    maxLookupsInFlight: limits.maxLookupsInFlight,
    notify: (kind) => server.notify(kind === 'ep' ? RD_LOOKUP_EP_PATH : RD_LOOKUP_RES_PATH),
    warn: (m) => rd.warn(m),
  });
  rd.service = service;
  const saved = await loadState(store, options.startEmpty === true, warnings);
  try {
    const w = await service.load(saved);
    if (w !== undefined) warnings.push(w);
  } catch (err) {
    service.close();
    await store.close();
    throw err;
  }
  const ctx = { service, policy, limits };
  const paths = [RD_PATH, `${RD_PATH}/:id`, RD_LOOKUP_EP_PATH, RD_LOOKUP_RES_PATH];
  server.resource(RD_PATH, { rt: 'core.rd', ct: LINK_FORMAT }).post((req) => register(ctx, req));
  server
    .resource(`${RD_PATH}/:id`, { ct: LINK_FORMAT })
    .post((req) => update(ctx, req))
    .delete((req) => remove(ctx, req))
    .get((req) => read(ctx, req));
  server
    .resource(RD_LOOKUP_EP_PATH, { rt: 'core.rd-lookup-ep', ct: LINK_FORMAT, obs: true })
    .get((req) => lookup(ctx, 'ep', req));
  server
    .resource(RD_LOOKUP_RES_PATH, { rt: 'core.rd-lookup-res', ct: LINK_FORMAT, obs: true })
    .get((req) => lookup(ctx, 'res', req));
  if (options.simpleRegistration !== false) {
    const client = options.client ?? (await CoapClient.create({ messenger }));
    if (options.client === undefined) rd.owned.push(() => client.close());
    const cache = new DiscoveryCache();
    server
      .resource(RD_SIMPLE_PATH, { hidden: true })
      .post((req) => simpleRegister({ ...ctx, client, fetchTimeoutMs: simpleTimeoutMs }, cache, req));
    paths.push(RD_SIMPLE_PATH);
  }
  rd.owned.push(() => {
    for (const p of paths) server.removeResource(p);
  });
  if (options.joinAllRds !== false) await joinAllRds(server, rd);
  return rd;
}

async function joinAllRds(server: CoapServer, rd: ResourceDirectory): Promise<void> {
  const families = new Set(server.endpoints.map((e) => e.family));
  const groups = [
    ...(families.has(4) ? [ALL_RDS_IPV4] : []),
    ...(families.has(6) ? [ALL_RDS_IPV6_LINK, ALL_RDS_IPV6_SITE] : []),
  ];
  const port = server.endpoints[0]?.port;
  for (const group of groups) {
    try {
      await server.join({ group, ...(port !== undefined ? { port } : {}) });
      rd.owned.push(() => server.leave({ group, ...(port !== undefined ? { port } : {}) }));
    } catch (err) {
      rd.warn(`not joined ${group}: ${(err as Error).message}`);
    }
  }
}
