/**
 * @module rd/store-file
 * A resource directory's registrations on disk (RFC 9176 §5: registrations live for their
 * lifetime, restarts included): a snapshot written by the shared crash-safe writer
 * (util/atomic-file) plus a journal of changes since (rd/journal), each flushed before the RD
 * answers. A crash at any moment leaves every acknowledged change on disk; a journal line torn
 * by a crash is recognised by its checksum and dropped (it was never acknowledged). At start the
 * state is rewritten as one snapshot and the journal emptied; later, the journal is folded into
 * a new snapshot once it outgrows the snapshot.
 */
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { AtomicFile, type AtomicFileError, reasonOf } from '../util/atomic-file.js';
import { nodeStoreFs, type StoreFs } from '../util/store-fs.js';
import { RdStateError } from './errors.js';
import { Journal, type JournalFs, nodeJournalFs } from './journal.js';
import {
  decodeJournalLine,
  decodeSnapshot,
  encodeJournalLine,
  encodeRegistration,
  type RdChange,
  type RdState,
  StateSyntaxError,
} from './state.js';
import { Lines, type RdStore } from './store.js';

/** The names of the files in the state directory. */
export const RD_SNAPSHOT_FILE = 'rd.json';
export const RD_JOURNAL_FILE = 'rd.journal';
/** The journal is folded into a snapshot once it is larger than this and than the snapshot. */
export const DEFAULT_COMPACT_BYTES = 1 << 20;

/**
 * The registrations in `DIR/rd.json` and `DIR/rd.journal`.
 *
 * @example
 * ```ts
 * const rd = await attachResourceDirectory(server, { store: new FileRdStore('/var/lib/coap-rd') });
 * ```
 */
export class FileRdStore implements RdStore {
  readonly dir: string;
  readonly snapshotFile: string;
  readonly journalFile: string;
  private readonly atomic: AtomicFile;
  private readonly journalFs: JournalFs;
  private readonly lines = new Lines();
  private journal: Journal | undefined;
  private snapshotBytes = 0;
  private recovering: Promise<void> | undefined;
  /** Characters of an unfinished journal write that the last `load()` dropped. */
  dropped = 0;

  private readonly compactBytes: number;

  constructor(dir: string, options: { fs?: StoreFs; journalFs?: JournalFs; compactBytes?: number } = {}) {
    if (typeof dir !== 'string' || dir === '') {
      throw new InvalidArgumentError('the state directory must be a non-empty path');
    }
    this.dir = resolve(dir);
    this.snapshotFile = join(this.dir, RD_SNAPSHOT_FILE);
    this.journalFile = join(this.dir, RD_JOURNAL_FILE);
    this.atomic = new AtomicFile(this.snapshotFile, options.fs ?? nodeStoreFs);
    this.journalFs = options.journalFs ?? nodeJournalFs;
    this.compactBytes = options.compactBytes ?? DEFAULT_COMPACT_BYTES;
  }

  get location(): string {
    return this.dir;
  }

  async load(): Promise<RdState | undefined> {
    let snap: Buffer | undefined;
    let journal: Buffer | undefined;
    try {
      snap = await this.atomic.read();
      journal = await this.journalFs.read(this.journalFile);
    } catch (err) {
      const e = err as AtomicFileError;
      const path = e.path ?? this.journalFile;
      throw this.io(
        path,
        `cannot read the resource directory state ${path}: ${e.reason ?? reasonOf(err)}`,
        err,
      );
    }
    if (snap === undefined && (journal === undefined || journal.length === 0)) return undefined;
    const byId = new Map<string, RdState['registrations'][number]>();
    let next = 1;
    let seq = 0;
    if (snap !== undefined) {
      const s = this.decode(this.snapshotFile, () => decodeSnapshot(snap));
      for (const r of s.registrations) byId.set(r.id, r);
      next = s.next;
      seq = s.seq;
    }
    const text = journal?.toString('utf8') ?? '';
    const lines = text.split('\n');
    // A journal ends with a newline, so the last piece is ''. Appends are flushed one batch
    // after the other, so only the last batch can be cut short by a crash, and none of its
    // changes was acknowledged: the first damaged line ends the replay.
    for (let i = 0; i < lines.length - 1; i++) {
      const line = lines[i]!;
      const entry = this.decode(this.journalFile, () => decodeJournalLine(line));
      if (entry === undefined) {
        this.dropped = text.length - lines.slice(0, i).join('\n').length;
        break;
      }
      if (entry.seq <= seq) continue;
      seq = entry.seq;
      const c = entry.change;
      if ('put' in c) {
        byId.set(c.put.id, c.put);
        next = Math.max(next, Number(c.put.id) + 1);
      } else byId.delete(c.del);
    }
    if (lines.length > 0 && lines[lines.length - 1] !== '' && this.dropped === 0) {
      this.dropped = lines[lines.length - 1]!.length;
    }
    this.lines.seq = seq;
    this.lines.durableSeq = seq;
    return { next, registrations: [...byId.values()].sort((a, b) => a.order - b.order) };
  }

  async start(state: RdState): Promise<string | undefined> {
    this.lines.set(state);
    const warning = await this.writeSnapshot();
    try {
      const file = await this.journalFs.open(this.journalFile);
      const journal = new Journal(file);
      try {
        await journal.reset();
      } catch (err) {
        await file.close().catch(() => {});
        throw err;
      }
      journal.afterFlush = () => this.compact();
      this.journal = journal;
    } catch (err) {
      throw this.io(this.journalFile, `cannot open ${this.journalFile}: ${reasonOf(err)}`, err);
    }
    return warning;
  }

  async commit(changes: readonly RdChange[], next: number): Promise<void> {
    const journal = this.journal;
    if (journal === undefined) throw this.io(this.journalFile, 'the store is not started', undefined);
    if (journal.failed !== undefined) {
      // One recovery for all the commits that find the journal broken.
      this.recovering ??= this.recover(journal).finally(() => {
        this.recovering = undefined;
      });
      await this.recovering;
    }
    const encoded = changes.map((c) => ('put' in c ? encodeRegistration(c.put) : undefined));
    let data = '';
    const first = this.lines.seq + 1;
    const last = this.lines.seq + changes.length;
    changes.forEach((c, i) => {
      data += encodeJournalLine(first + i, c, encoded[i]);
    });
    this.lines.seq += changes.length;
    try {
      await journal.append(data, () => this.lines.apply(changes, encoded, next, last));
    } catch (err) {
      throw this.io(this.journalFile, `cannot save to ${this.journalFile}: ${reasonOf(err)}`, err);
    }
  }

  quarantine(): Promise<string | undefined> {
    return this.atomic.quarantine();
  }

  async close(): Promise<void> {
    const journal = this.journal;
    this.journal = undefined;
    if (journal === undefined) return;
    await journal.drain();
    await journal.close().catch(() => {});
  }

  /** After a failed append: a snapshot of what is durable, and an empty journal. */
  private async recover(journal: Journal): Promise<void> {
    try {
      await this.writeSnapshot();
      await journal.reset();
    } catch (err) {
      throw this.io(this.journalFile, `cannot save to ${this.journalFile}: ${reasonOf(err)}`, err);
    }
  }

  private async compact(): Promise<void> {
    const journal = this.journal;
    if (journal === undefined || journal.bytes < Math.max(this.compactBytes, this.snapshotBytes)) return;
    // The snapshot holds every durable change up to lines.durableSeq; replay skips journal lines up to
    // it, so a crash between these two steps loses nothing and applies nothing twice.
    await this.writeSnapshot();
    await journal.reset();
  }

  private async writeSnapshot(): Promise<string | undefined> {
    const bytes = this.lines.snapshot();
    try {
      const warning = await this.atomic.write(bytes);
      this.snapshotBytes = bytes.length;
      return warning;
    } catch (err) {
      const e = err as AtomicFileError;
      throw this.io(e.path, `cannot save the resource directory state ${e.path}: ${e.reason}`, err);
    }
  }

  private decode<T>(path: string, f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (err instanceof StateSyntaxError) throw this.corrupt(path, err.message);
      throw err;
    }
  }

  private corrupt(path: string, what: string): RdStateError {
    return new RdStateError(
      'ERR_COAP_RD_STATE_CORRUPT',
      path,
      `the resource directory state ${path} is corrupt: ${what.replace(/\s*\n\s*/g, ' ')}`,
    );
  }

  private io(path: string, message: string, cause: unknown): RdStateError {
    return new RdStateError('ERR_COAP_RD_STATE_IO', path, message, { cause });
  }
}
