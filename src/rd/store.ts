/**
 * @module rd/store
 * Where a resource directory keeps its registrations between runs (RFC 9176 §5: registrations
 * live for their lifetime, restarts included): the store interface, no store at all, and a
 * store in memory. The durable one, on files, is rd/store-file.
 */
import { decodeSnapshot, encodeRegistration, encodeSnapshot, type RdChange, type RdState } from './state.js';

/** Keeps a resource directory's registrations. */
export interface RdStore {
  /** Where the state lives, for messages. */
  readonly location: string;
  /**
   * The saved state, or undefined when none was ever saved.
   * @throws RdStateError `ERR_COAP_RD_STATE_CORRUPT` or `ERR_COAP_RD_STATE_IO`.
   */
  load(): Promise<RdState | undefined>;
  /**
   * Replaces everything saved with `state` and gets ready for `commit`. Resolves with a warning
   * when it is in place but maybe not durable.
   * @throws RdStateError `ERR_COAP_RD_STATE_IO`.
   */
  start(state: RdState): Promise<string | undefined>;
  /**
   * Saves changes; resolves once they are durable. When it rejects, none of them is saved, nor
   * is any change committed after them (the caller undoes them all).
   * @throws RdStateError `ERR_COAP_RD_STATE_IO`.
   */
  commit(changes: readonly RdChange[], next: number): Promise<void>;
  /** Moves state that does not load out of the way (for "start empty"); where it went. */
  quarantine?(): Promise<string | undefined>;
  /** Waits for pending commits and releases files. */
  close(): Promise<void>;
}

/** The durable registrations as their encoded lines, by id (what a snapshot writes). */
export class Lines {
  readonly byId = new Map<string, string>();
  next = 1;
  /** The last change number handed out (to a change that may not be durable yet). */
  seq = 0;
  /** The last change number that is durable and in `byId`: what a snapshot covers. */
  durableSeq = 0;

  /** Records changes that are now durable; `lastSeq` is the number of the last of them. */
  apply(
    changes: readonly RdChange[],
    encoded: readonly (string | undefined)[],
    next: number,
    lastSeq = this.durableSeq,
  ): void {
    changes.forEach((c, i) => {
      if ('put' in c) this.byId.set(c.put.id, encoded[i] ?? encodeRegistration(c.put));
      else this.byId.delete(c.del);
    });
    this.next = Math.max(this.next, next);
    this.durableSeq = Math.max(this.durableSeq, lastSeq);
  }

  /**
   * A snapshot of what is durable. It names `durableSeq`, not `seq`: changes still waiting for
   * their flush are not in it, and their journal lines must not be skipped at the next start.
   */
  snapshot(): Buffer {
    return encodeSnapshot(this.next, this.durableSeq, this.byId.values());
  }

  set(state: RdState): void {
    this.byId.clear();
    for (const r of state.registrations) this.byId.set(r.id, encodeRegistration(r));
    this.next = state.next;
  }
}

/**
 * No store: nothing is kept beyond the directory's own memory, so a restart starts empty. The
 * default of `attachResourceDirectory`, which then holds no second copy of every registration.
 *
 * @example
 * const rd = await attachResourceDirectory(server, { store: new VolatileRdStore() });
 */
export class VolatileRdStore implements RdStore {
  readonly location = 'memory';
  async load(): Promise<undefined> {
    return undefined;
  }
  async start(): Promise<undefined> {
    return undefined;
  }
  async commit(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * A store in memory that outlives the directory: the state lives as long as the object, so a
 * directory attached again with it comes back with its registrations (through the same codec as
 * a file). For tests and for directories restarted within one process.
 *
 * @example
 * const store = new MemoryRdStore();
 * await attachResourceDirectory(server, { store });
 * // ...after a restart within the process, a new server gets the registrations back:
 * await attachResourceDirectory(restarted, { store });
 */
export class MemoryRdStore implements RdStore {
  readonly location = 'memory';
  private readonly lines = new Lines();
  private saved = false;

  async load(): Promise<RdState | undefined> {
    return this.saved ? decodeSnapshot(this.lines.snapshot()) : undefined;
  }

  async start(state: RdState): Promise<undefined> {
    this.lines.set(state);
    this.saved = true;
    return undefined;
  }

  async commit(changes: readonly RdChange[], next: number): Promise<void> {
    this.lines.apply(changes, [], next);
  }

  async close(): Promise<void> {}
}
