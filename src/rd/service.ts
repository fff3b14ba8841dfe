/**
 * @module rd/service
 * The state of a resource directory and every change to it (RFC 9176 §4: "all operations on
 * the contents of the RD MUST be atomic and idempotent"): a change is applied in memory, saved,
 * and only then answered; when saving fails it is undone, with every change made after it, so
 * a refused request changes nothing. Lifetimes are enforced on the injected clock (RFC 9176
 * §5) and survive restarts as wall-clock deadlines. Lookups (RFC 9176 §6) run here, in slices
 * when the directory is large, so one lookup does not hold the event loop and the number in
 * flight can be bounded.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { CoapResponseError } from '../errors.js';
import { formatLinks, type Link } from '../link-format/index.js';
import type { Runtime } from '../runtime.js';
import { compactLinks, Interner } from './compact.js';
import { Directory } from './directory.js';
import { ExpiryQueue } from './expiry.js';
import { contributes, type LookupKind, type LookupQuery, runLookup, type Viewer, visible } from './lookup.js';
import { ObservedQueries } from './observed.js';
import { makeRegistration, type Registration, type RegistrationInput } from './registration.js';
import type { RdChange, RdState, StoredRegistration } from './state.js';
import type { RdStore } from './store.js';

/** Registrations scanned per slice of a lookup before yielding to the event loop. */
const SLICE = 2000;

/** What happened to a registration, for listeners. */
export interface RdEvent {
  readonly kind: 'created' | 'updated' | 'removed' | 'expired';
  readonly registration: Registration;
}

export interface ServiceOptions {
  readonly store: RdStore;
  readonly runtime: Runtime;
  /** Wall-clock ms, for deadlines that outlive the process. */
  readonly wallClock: () => number;
  /** The registration resources' path prefix (`/rd`). */
  readonly prefix: string;
  readonly maxObservedQueries: number;
  readonly maxLookupsInFlight: number;
  /** Tells the server the results of a lookup kind may have changed (RFC 7641 §4.2). */
  readonly notify: (kind: LookupKind) => void;
  /** Problems worth an operator's attention (a failed save). */
  readonly warn?: (message: string) => void;
}

interface InFlight {
  readonly id: string;
  readonly prev: Registration | undefined;
  state: 'pending' | 'done' | 'undone';
}

export class RdService {
  readonly dir = new Directory();
  readonly observed: ObservedQueries;
  private readonly o: ServiceOptions;
  private readonly expiry: ExpiryQueue;
  private inflight: InFlight[] = [];
  private readonly interner = new Interner();
  private readonly compacted = new WeakSet<readonly Link[]>();
  private lookups = 0;
  private closed = false;
  /** Listeners of every change (after it is saved). */
  readonly listeners = new Set<(e: RdEvent) => void>();

  constructor(o: ServiceOptions) {
    this.o = o;
    this.observed = new ObservedQueries(o.maxObservedQueries);
    this.expiry = new ExpiryQueue(o.runtime, (id) => this.expire(id));
  }

  get runtime(): Runtime {
    return this.o.runtime;
  }

  /** Loads saved registrations, drops the expired ones, and starts the store on the rest. */
  async load(saved: RdState | undefined): Promise<string | undefined> {
    const now = this.o.runtime.now();
    const wall = this.o.wallClock();
    if (saved !== undefined) {
      this.dir.next = saved.next;
      for (const s of saved.registrations) {
        const left = s.exp - wall;
        if (left <= 0) continue; // RFC 9176 §5: the lifetime ran out while the RD was down
        const { exp: _, ...input } = s;
        this.dir.set(this.make({ ...input, expiresAt: now + left }));
        this.expiry.set(s.id, now + left);
      }
    }
    return this.o.store.start({
      next: this.dir.next,
      registrations: [...this.dir.all()].map((r) => this.stored(r)),
    });
  }

  /** The stored form of a registration: its deadline as wall-clock time. */
  stored(r: Registration): StoredRegistration {
    const { path: _p, resolved: _r, endpointLink: _e, isGroup: _g, linkLocal: _l, expiresAt, ...input } = r;
    return { ...input, exp: Math.round(this.o.wallClock() + (expiresAt - this.o.runtime.now())) };
  }

  /** Builds a record with derived fields; new links are compacted (rd/compact). */
  make(input: RegistrationInput): Registration {
    let links = input.links;
    if (!this.compacted.has(links)) {
      links = compactLinks(links, this.interner);
      this.compacted.add(links);
    }
    return makeRegistration({ ...input, links }, this.o.prefix);
  }

  /** Saves `next` as registration `id` (or removes `id`), then tells observers and listeners. */
  async put(next: Registration): Promise<void> {
    await this.change(next.id, next, this.dir.get(next.id) === undefined ? 'created' : 'updated');
  }

  async remove(id: string): Promise<Registration | undefined> {
    const prev = this.dir.get(id);
    if (prev === undefined) return undefined;
    await this.change(id, undefined, 'removed');
    return prev;
  }

  private async change(id: string, next: Registration | undefined, kind: RdEvent['kind']): Promise<void> {
    const prev = this.dir.get(id);
    this.restore(id, next);
    const entry: InFlight = { id, prev, state: 'pending' };
    this.inflight.push(entry);
    const change: RdChange = next !== undefined ? { put: this.stored(next) } : { del: id };
    try {
      await this.o.store.commit([change], this.dir.next);
      if (entry.state === 'pending') entry.state = 'done';
    } catch (err) {
      this.undoFrom(entry);
      this.o.warn?.(`a change was refused because it could not be saved: ${(err as Error).message}`);
      throw new CoapResponseError('5.00', 'the registration could not be saved; nothing changed');
    } finally {
      while (this.inflight.length > 0 && this.inflight[0]!.state !== 'pending') this.inflight.shift();
    }
    if (entry.state !== 'done') throw new CoapResponseError('5.00', 'the registration could not be saved');
    this.changed(prev, next, kind);
  }

  /** Undoes `entry` and every change after it, newest first (they were built on it). */
  private undoFrom(entry: InFlight): void {
    const i = this.inflight.indexOf(entry);
    if (i < 0) return;
    for (let j = this.inflight.length - 1; j >= i; j--) {
      const e = this.inflight[j]!;
      if (e.state !== 'pending') continue;
      e.state = 'undone';
      this.restore(e.id, e.prev);
    }
  }

  private restore(id: string, r: Registration | undefined): void {
    if (r === undefined) {
      this.dir.delete(id);
      this.expiry.delete(id);
    } else {
      this.dir.set(r);
      this.expiry.set(id, r.expiresAt);
    }
  }

  private expire(id: string): void {
    const prev = this.dir.delete(id);
    // Not journaled: a restart drops it by its saved deadline anyway.
    if (prev !== undefined) this.changed(prev, undefined, 'expired');
  }

  private changed(
    prev: Registration | undefined,
    next: Registration | undefined,
    kind: RdEvent['kind'],
  ): void {
    if (this.closed) return;
    const r = next ?? prev!;
    for (const l of this.listeners) l({ kind, registration: r });
    if (prev !== undefined && next !== undefined && sameContent(prev, next)) return;
    for (const k of this.observed.affected(prev, next)) this.o.notify(k);
  }

  /** Seconds until the earliest registration expires (for a 5.03's Max-Age), 1 to 60. */
  retryAfter(): number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const r of this.dir.all()) soonest = Math.min(soonest, r.expiresAt);
    const s = Math.ceil((soonest - this.o.runtime.now()) / 1000);
    return Math.min(60, Math.max(1, Number.isFinite(s) ? s : 60));
  }

  /**
   * Runs a lookup (RFC 9176 §6). A large directory is scanned in slices, yielding between them.
   * @throws CoapResponseError 5.03 with Max-Age 1 when too many lookups are in flight.
   */
  async lookup(kind: LookupKind, q: LookupQuery, viewer: Viewer): Promise<Link[]> {
    const candidates = this.dir.candidates(q.criteria);
    const list = Array.isArray(candidates) ? candidates : [...candidates];
    if (list.length <= SLICE) return runLookup(kind, list, q, viewer);
    if (this.lookups >= this.o.maxLookupsInFlight) {
      throw new CoapResponseError('5.03', 'too many lookups in flight; retry', { maxAge: 1 });
    }
    this.lookups++;
    try {
      const matched: Registration[] = [];
      for (let i = 0; i < list.length; i += SLICE) {
        if (i > 0) await yieldToLoop();
        const end = Math.min(list.length, i + SLICE);
        for (let j = i; j < end; j++) {
          const r = list[j]!;
          if (visible(r, viewer) && contributes(kind, r, q.criteria)) matched.push(r);
        }
      }
      return runLookup(kind, matched, q, viewer);
    } finally {
      this.lookups--;
    }
  }

  close(): void {
    this.closed = true;
    this.expiry.close();
  }
}

/** True when lookups cannot tell the two apart (a renewal: only the deadline moved). */
function sameContent(a: Registration, b: Registration): boolean {
  if (a.base !== b.base || a.ep !== b.ep || a.d !== b.d) return false;
  if (formatLinks([a.endpointLink]) !== formatLinks([b.endpointLink])) return false;
  return a.links === b.links || formatLinks(a.links) === formatLinks(b.links);
}
