/**
 * @module group-config/attach
 * Puts the Group Configuration resource (RFC 7390 §2.6.2) on a server: loads the saved
 * memberships, registers `/coap-group` (rt="core.gp", ct=256, RFC 7390 §2.6.2.1, §6.1) and joins
 * the groups, so a restarted node is back in exactly its groups before it says ready. With
 * `beforeListen` the resource is registered before the server binds, so no request ever finds it
 * missing, and the groups are joined by `refresh()` once the server listens. Joins and leaves go
 * through the server's reference-counted `join()`/`leave()`.
 */
import type { Resolver } from '../client/resolve.js';
import { systemResolver } from '../client/resolve.js';
import { InvalidArgumentError } from '../errors.js';
import { INDEX_SPACE_SIZE } from '../group-json/index.js';
import type { Messenger } from '../messenger/messenger.js';
import { type Runtime, systemRuntime } from '../runtime.js';
import type { CoapServer } from '../server/server.js';
import { GroupConfig } from './config.js';
import { GroupStateError } from './errors.js';
import { MembershipSync } from './membership-sync.js';
import { type AccessPolicy, CidrAccessPolicy } from './policy.js';
import { type RateLimitOptions, TokenBucket } from './rate-limit.js';
import { registerGroupConfigResource } from './resource.js';
import { emptyState, type GroupConfigState } from './state-file.js';
import { FileGroupConfigStore, type GroupConfigStore, MemoryGroupConfigStore } from './store.js';

/** The `{+gp}` RFC 7390 §2.6.2.2 recommends. */
export const DEFAULT_GROUP_CONFIG_PATH = '/coap-group';
/** How long a group no entry wants stays joined, in case it is wanted again (RFC 7390 §6.2 churn). */
export const DEFAULT_LEAVE_GRACE_MS = 2000;
/** The most memberships a node keeps by default; each distinct group costs a socket. */
export const DEFAULT_MAX_ENTRIES = 256;
/** How long one name lookup may take before the entry is reported unresolved. */
export const DEFAULT_RESOLVE_TIMEOUT_MS = 3000;

/** Options of {@link attachGroupConfig}. Checked before anything is done. */
export interface GroupConfigOptions {
  /** A store, or a directory for a `FileGroupConfigStore`. Default: memory (nothing survives a restart). */
  store?: GroupConfigStore | string;
  /** When the saved state is corrupt or unreadable, move it aside and start with no memberships. */
  startEmpty?: boolean;
  /** Who may read and change; default `new CidrAccessPolicy()`: anyone reads, loopback changes. */
  policy?: AccessPolicy;
  /** Limit on changes; default burst 10, 1 per second. `false`: no limit. */
  rateLimit?: RateLimitOptions | false;
  /** Resolves "n" of name-only entries (RFC 7390 §2.6.2.2); default `getaddrinfo`. */
  resolver?: Resolver;
  resolveTimeoutMs?: number;
  /** The resource path `{+gp}`; default `/coap-group`. */
  path?: string;
  /** Leave delay for groups no longer wanted, ms; default 2000. 0 leaves at once. */
  graceMs?: number;
  /** Most memberships kept; default 256, at most 1332 (every two-character index). */
  maxEntries?: number;
  /** Clock for the rate limit, grace and lookups; default the server's (before `listen()`: the system clock). */
  runtime?: Runtime;
  /**
   * The server is not listening yet: load the state and register the resource now, and join the
   * groups when `config.refresh()` is called after `server.listen()`. Without it, attaching to a
   * server that is not listening throws `ERR_COAP_NOT_LISTENING`.
   */
  beforeListen?: boolean;
}

function checkPath(path: string): string {
  const segments = typeof path === 'string' && path.startsWith('/') ? path.slice(1).split('/') : [''];
  if (segments.some((s) => s === '' || s.startsWith(':') || s === '*')) {
    throw new InvalidArgumentError(
      `path ${JSON.stringify(path)} must be like /coap-group: "/"-separated, non-empty, literal segments`,
    );
  }
  return path;
}

function checkNumber(
  name: string,
  v: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}, not ${String(v)}`);
  }
  return v;
}

/** Loads the saved state; with `startEmpty`, a state that does not load is moved aside. */
async function loadState(
  store: GroupConfigStore,
  startEmpty: boolean,
  warnings: string[],
): Promise<GroupConfigState> {
  let loaded: GroupConfigState | undefined;
  try {
    loaded = await store.load();
  } catch (err) {
    if (!(err instanceof GroupStateError)) throw err;
    if (!startEmpty) {
      throw new GroupStateError(
        err.code,
        err.path,
        `${err.message}; the node does not start without its groups: repair or remove the file, or start empty (option startEmpty, serve --start-empty)`,
        { cause: err },
      );
    }
    const moved = await store.quarantine?.();
    warnings.push(`started empty: ${err.message}${moved ? `; the old state was moved to ${moved}` : ''}`);
  }
  if (loaded !== undefined) return loaded;
  // Saving at once makes an unwritable state directory fail now, not at the first change.
  const state = emptyState();
  const warning = await store.save(state);
  if (warning !== undefined) warnings.push(warning);
  return state;
}

/** The server's messenger, or undefined while it is not listening. */
function messengerOf(server: CoapServer): Messenger | undefined {
  try {
    return server.messenger;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_COAP_NOT_LISTENING') return undefined;
    throw err;
  }
}

/**
 * Serves the Group Configuration resource on a listening `server`: loads the saved state, joins
 * its groups, and registers `/coap-group` and `/coap-group/{index}` (unicast only). Call after
 * `server.listen()` and before announcing the node as ready, or before `listen()` with
 * `beforeListen: true` and then `await config.refresh()` after it, so that the resource answers
 * from the very first request.
 *
 * @example
 * ```ts
 * const server = new CoapServer({ bind: ['127.0.0.2'] });
 * await server.listen();
 * const config = await attachGroupConfig(server, {
 *   store: './state',
 *   policy: new CidrAccessPolicy({ writers: ['127.0.0.0/8', '192.0.2.0/24'] }),
 * });
 * // ...
 * await config.close();
 * await server.close();
 * ```
 * @throws CoapError `ERR_COAP_NOT_LISTENING` before `listen()` without `beforeListen`; InvalidArgumentError for a bad
 *   option or a path already served; GroupStateError when the saved state cannot be used.
 */
export async function attachGroupConfig(
  server: CoapServer,
  options: GroupConfigOptions = {},
): Promise<GroupConfig> {
  const path = checkPath(options.path ?? DEFAULT_GROUP_CONFIG_PATH);
  const graceMs = checkNumber('graceMs', options.graceMs, DEFAULT_LEAVE_GRACE_MS, 0, 3_600_000);
  const resolveTimeoutMs = checkNumber(
    'resolveTimeoutMs',
    options.resolveTimeoutMs,
    DEFAULT_RESOLVE_TIMEOUT_MS,
    1,
    600_000,
  );
  const maxEntries = checkNumber('maxEntries', options.maxEntries, DEFAULT_MAX_ENTRIES, 1, INDEX_SPACE_SIZE);
  if (!Number.isInteger(maxEntries)) throw new InvalidArgumentError('maxEntries must be an integer');
  const policy = options.policy ?? new CidrAccessPolicy();
  if (typeof policy.authorizeRead !== 'function' || typeof policy.authorizeWrite !== 'function') {
    throw new InvalidArgumentError('policy must have authorizeRead(req) and authorizeWrite(req)');
  }
  const messenger = options.beforeListen ? messengerOf(server) : server.messenger; // throws ERR_COAP_NOT_LISTENING
  const runtime = options.runtime ?? messenger?.runtime ?? systemRuntime;
  const limiter = options.rateLimit === false ? undefined : new TokenBucket(options.rateLimit ?? {}, runtime);
  const store =
    typeof options.store === 'string'
      ? new FileGroupConfigStore(options.store)
      : (options.store ?? new MemoryGroupConfigStore());
  const warnings: string[] = [];
  const initial = await loadState(store, options.startEmpty === true, warnings);

  let config: GroupConfig | undefined;
  // Through the server's counted joins, so its bookkeeping holds every membership; with
  // beforeListen the server only listens by the time the first join is made.
  const sync = new MembershipSync(
    {
      join: async (group, port) => {
        const joined = await server.join({ group, port });
        return joined.iface === '' ? undefined : joined.iface;
      },
      leave: (group, port, iface) => server.leave({ group, port, ...(iface !== undefined ? { iface } : {}) }),
    },
    runtime,
    graceMs,
    (message) => config?.warn(message),
  );
  config = new GroupConfig(
    {
      path,
      store,
      sync,
      resolver: options.resolver ?? systemResolver,
      runtime,
      resolveTimeoutMs,
      maxEntries,
    },
    initial,
  );
  for (const w of warnings) config.warn(w);
  config.onClose = registerGroupConfigResource(server, { config, policy, limiter });
  if (messenger === undefined) return config; // joined by refresh() after listen()
  try {
    await config.start();
  } catch (err) {
    await config.close();
    throw err;
  }
  return config;
}
