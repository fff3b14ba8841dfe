/**
 * @module group-config/config
 * The Group Configuration resource's state machine (RFC 7390 §2.6.2): the memberships by index,
 * changed one request at a time. A change is computed, saved, and only then made visible, after
 * which the node's multicast memberships are brought in line before the request is answered
 * (RFC 7390 §2.6.2.1, §2.6.2.6). A change that fails (bad value, full, store error) leaves the
 * state, the saved state and the memberships as they were.
 */
import type { Resolver } from '../client/resolve.js';
import { CoapClosedError, InvalidArgumentError } from '../errors.js';
import {
  formatCollection,
  formatMembership,
  INDEX_SPACE_SIZE,
  indexOrdinal,
  isValidIndex,
  membershipPort,
  nextFreeIndex,
  normaliseIndex,
  parseCollection,
  parseMembership,
} from '../group-json/index.js';
import type { Membership, MembershipCollection } from '../group-json/types.js';
import type { Runtime } from '../runtime.js';
import { GroupConfigFullError } from './errors.js';
import { type GroupTarget, type MembershipSync, targetKey } from './membership-sync.js';
import { addressTarget, type Resolution, resolveMembership } from './names.js';
import { type GroupConfigState, sameState } from './state-file.js';
import type { GroupConfigStore } from './store.js';

/** Whether an entry's group is joined, and why not. */
export type EntryState = 'joined' | 'unresolved' | 'join-failed';

/** One entry as the node sees it. */
export interface EntryStatus {
  readonly index: string;
  readonly membership: Membership;
  /** The group used: "a", else "n" resolved; undefined when "n" did not resolve. */
  readonly group: string | undefined;
  readonly port: number;
  readonly state: EntryState;
  /** Why the group is not joined (resolution or join error); undefined when joined. */
  readonly reason: string | undefined;
}

/** What `GroupConfig.status()` reports. */
export interface GroupConfigStatus {
  readonly entries: readonly EntryStatus[];
  /** Groups no entry wants any more, left when the grace period ends. */
  readonly leaving: readonly GroupTarget[];
  /** Where the state is kept. */
  readonly store: string;
  /** Recent problems that did not fail a request: started empty, a leave or a directory flush failed. */
  readonly warnings: readonly string[];
}

/** @internal What a GroupConfig works with; `attachGroupConfig` builds it. */
export interface GroupConfigParts {
  readonly path: string;
  readonly store: GroupConfigStore;
  readonly sync: MembershipSync;
  readonly resolver: Resolver;
  readonly runtime: Runtime;
  readonly resolveTimeoutMs: number;
  readonly maxEntries: number;
}

const MAX_WARNINGS = 20;

function nameKey(m: Membership): string {
  return `${m.n?.host ?? ''}|${membershipPort(m)}`;
}

/**
 * A node's group configuration: what `/coap-group` shows and changes. Obtain one with
 * `attachGroupConfig`. The change methods are the node's own authority: they bypass the access
 * policy and the rate limit, which guard the network interface.
 *
 * @example
 * ```ts
 * const config = await attachGroupConfig(server, { store: './state' });
 * const index = await config.add(parseMembership('{"a":"239.1.2.3"}'));
 * console.log(config.status().entries);
 * ```
 */
export class GroupConfig {
  readonly path: string;
  private state: GroupConfigState;
  private readonly parts: GroupConfigParts;
  /** Name lookups by host|port, reused until the entry changes or `refresh()` is called. */
  private names = new Map<string, Resolution>();
  private resolutions = new Map<string, Resolution>();
  private readonly warningList: string[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** @internal set by attachGroupConfig: unregisters the resource. */
  onClose: (() => void) | undefined;

  /** @internal use `attachGroupConfig` */
  constructor(parts: GroupConfigParts, initial: GroupConfigState) {
    this.parts = parts;
    this.path = parts.path;
    this.state = initial;
  }

  /** @internal Resolves names and joins the groups of the initial state. */
  start(): Promise<void> {
    return this.exclusive(() => this.syncMemberships(new Set()));
  }

  /** Records a problem for `status()`. */
  warn(message: string): void {
    this.warningList.push(message);
    if (this.warningList.length > MAX_WARNINGS) this.warningList.shift();
  }

  /** A copy of the memberships, index to membership, in creation order. */
  entries(): MembershipCollection {
    return new Map([...this.state.groups].map(([i, m]) => [i, structuredClone(m)]));
  }

  /** The resource's representation, `application/coap-group+json` (RFC 7390 §2.6.2.4). */
  document(): string {
    return formatCollection(this.state.groups);
  }

  /** One membership by index (case-insensitive), or undefined. */
  get(index: string): Membership | undefined {
    if (!isValidIndex(index)) return undefined;
    const m = this.state.groups.get(normaliseIndex(index));
    return m === undefined ? undefined : structuredClone(m);
  }

  /** Each entry with its group and whether it is joined; pending leaves; warnings. */
  status(): GroupConfigStatus {
    const entries = [...this.state.groups].map(([index, m]): EntryStatus => {
      const base = { index, membership: structuredClone(m), port: membershipPort(m) };
      const r = this.resolutions.get(index);
      if (r === undefined || !r.ok) {
        const reason = r === undefined ? 'not resolved yet' : r.reason;
        return { ...base, group: undefined, state: 'unresolved', reason };
      }
      const s = this.parts.sync.state(r.target);
      const group = r.target.group;
      if (s.state === 'joined') return { ...base, group, state: 'joined', reason: undefined };
      const reason = s.state === 'failed' ? s.reason : 'not joined';
      return { ...base, group, state: 'join-failed', reason };
    });
    return {
      entries,
      leaving: this.parts.sync.pendingLeaves(),
      store: this.parts.store.location,
      warnings: [...this.warningList],
    };
  }

  /** Creates a membership under a fresh index (RFC 7390 §2.6.2.2) and returns the index. */
  async add(m: Membership): Promise<string> {
    const clean = parseMembership(formatMembership(m));
    return await this.change((cur) => {
      const limit = this.parts.maxEntries;
      if (cur.groups.size >= limit) throw full(limit);
      // R47: the search skips every index present, including those a PUT supplied.
      const index = nextFreeIndex(new Set(cur.groups.keys()), cur.next);
      if (index === undefined) throw full(limit);
      const groups = new Map(cur.groups).set(index, clean);
      return { next: { groups, next: (indexOrdinal(index) + 1) % INDEX_SPACE_SIZE }, result: index };
    });
  }

  /** Creates or replaces the membership at `index` (RFC 7390 §2.6.2.7); true when it was created. */
  async set(index: string, m: Membership): Promise<boolean> {
    const key = checkIndex(index);
    const clean = parseMembership(formatMembership(m));
    return await this.change((cur) => {
      const created = !cur.groups.has(key);
      if (created && cur.groups.size >= this.parts.maxEntries) throw full(this.parts.maxEntries);
      // Map.set keeps an existing key where it is, so GET keeps its order.
      return { next: { groups: new Map(cur.groups).set(key, clean), next: cur.next }, result: created };
    });
  }

  /** Removes the membership at `index` (RFC 7390 §2.6.2.3); true when there was one. */
  async remove(index: string): Promise<boolean> {
    const key = checkIndex(index);
    return await this.change((cur) => {
      const groups = new Map(cur.groups);
      const existed = groups.delete(key);
      return { next: { groups, next: cur.next }, result: existed };
    });
  }

  /** Replaces every membership (RFC 7390 §2.6.2.6). */
  async replace(collection: MembershipCollection): Promise<void> {
    const groups = parseCollection(formatCollection(collection));
    const limit = this.parts.maxEntries;
    if (groups.size > limit) {
      throw new GroupConfigFullError(
        limit,
        `${groups.size} memberships, but this node keeps at most ${limit}`,
      );
    }
    await this.change((cur) => ({ next: { groups, next: cur.next }, result: undefined }));
  }

  /** Resolves every name again and retries failed joins; for when DNS or an interface came back. */
  refresh(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) throw new CoapClosedError('the group configuration is closed');
      this.names.clear();
      await this.syncMemberships(new Set());
    });
  }

  /** Unregisters the resource and leaves every group it joined, at once. Idempotent. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) return;
      this.closed = true;
      this.onClose?.();
      await this.parts.sync.close();
    });
  }

  /** One change at a time, in arrival order, so save order equals commit order. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => {});
    return run;
  }

  private change<T>(compute: (cur: GroupConfigState) => { next: GroupConfigState; result: T }): Promise<T> {
    return this.exclusive(async () => {
      if (this.closed) throw new CoapClosedError('the group configuration is closed');
      const cur = this.state;
      const { next, result } = compute(cur);
      if (sameState(next, cur)) return result; // nothing to save or to join
      const warning = await this.parts.store.save(next); // throws: nothing changed
      if (warning !== undefined) this.warn(warning);
      this.state = next;
      // A new or changed name-only entry is looked up afresh; the others keep their lookup.
      const fresh = new Set<string>();
      for (const [i, m] of next.groups) {
        const old = cur.groups.get(i);
        if (m.a === undefined && (old === undefined || formatMembership(old) !== formatMembership(m))) {
          fresh.add(nameKey(m));
        }
      }
      await this.syncMemberships(fresh);
      return result;
    });
  }

  private async syncMemberships(fresh: ReadonlySet<string>): Promise<void> {
    const { resolver, resolveTimeoutMs, runtime } = this.parts;
    const names = new Map<string, Resolution>();
    const lookups = new Map<string, Promise<Resolution>>();
    for (const m of this.state.groups.values()) {
      if (m.a !== undefined) continue;
      const key = nameKey(m);
      const known = fresh.has(key) ? undefined : this.names.get(key);
      if (known !== undefined) names.set(key, known);
      else if (!lookups.has(key)) lookups.set(key, resolveMembership(m, resolver, resolveTimeoutMs, runtime));
    }
    for (const [key, p] of lookups) names.set(key, await p);
    const byIndex = new Map<string, Resolution>();
    const wanted = new Map<string, GroupTarget>();
    for (const [index, m] of this.state.groups) {
      const direct = addressTarget(m);
      const r: Resolution = direct !== undefined ? { ok: true, target: direct } : names.get(nameKey(m))!;
      byIndex.set(index, r);
      if (r.ok) wanted.set(targetKey(r.target), r.target);
    }
    this.names = names;
    this.resolutions = byIndex;
    await this.parts.sync.reconcile(wanted);
  }
}

function checkIndex(index: string): string {
  if (!isValidIndex(index)) {
    throw new InvalidArgumentError(
      `index ${JSON.stringify(index)} is not 1 or 2 ASCII letters or digits (RFC 7390 §2.6.2.2)`,
    );
  }
  return normaliseIndex(index);
}

function full(limit: number): GroupConfigFullError {
  return new GroupConfigFullError(
    limit,
    `this node keeps at most ${limit} group memberships; delete one first (RFC 7390 §2.6.2.3)`,
  );
}
