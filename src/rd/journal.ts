/**
 * @module rd/journal
 * The append-only journal of a resource directory's store: each registration change is
 * appended and flushed (fdatasync) before the RD answers it, so an acknowledged registration
 * survives a crash (RFC 9176 §5: the RD keeps registrations for their lifetime). Changes that
 * arrive while a flush runs go out together in the next one (group commit), so the cost of a
 * flush is shared. File steps go through an interface, so tests can fail any of them.
 */
import { promises as fsp } from 'node:fs';

/** An open journal file (append mode). */
export interface JournalFile {
  append(data: Buffer): Promise<void>;
  /** fdatasync: what was appended reaches the disk. */
  sync(): Promise<void>;
  /** Empties the file (after a snapshot took its content over). */
  truncate(): Promise<void>;
  close(): Promise<void>;
}

/** The file steps of a journal. Errors carry an errno `code`. */
export interface JournalFs {
  /** The file's bytes, or undefined when it does not exist. */
  read(path: string): Promise<Buffer | undefined>;
  /** Opens (creating, owner-only) for appending. */
  open(path: string): Promise<JournalFile>;
}

/** The real file system. */
export const nodeJournalFs: JournalFs = Object.freeze({
  read: async (path: string) => {
    try {
      return await fsp.readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  open: async (path: string): Promise<JournalFile> => {
    const fh = await fsp.open(path, 'a', 0o600);
    return {
      // writeFile loops until every byte is written (a single write may write fewer); the
      // append flag puts each write at the end.
      append: (data: Buffer) => fh.writeFile(data),
      sync: () => fh.datasync(),
      truncate: async () => {
        await fh.truncate(0);
        await fh.sync();
      },
      close: () => fh.close(),
    };
  },
});

interface Waiter {
  readonly data: string;
  readonly durable: (() => void) | undefined;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Appends text durably, batching concurrent appends into one write and one flush. After a
 * failed flush every append waiting behind it fails too (their changes were made on top of the
 * failed one) and `failed` stays set until `reset()` succeeds.
 */
export class Journal {
  private waiting: Waiter[] = [];
  private running: Promise<void> | undefined;
  private readonly file: JournalFile;
  /** Bytes appended since the last reset. */
  bytes = 0;
  /** The error that broke the journal, until a reset. */
  failed: unknown;
  /** Runs after each successful flush, before its appends resolve (e.g. to compact). */
  afterFlush: (() => Promise<void>) | undefined;

  constructor(file: JournalFile) {
    this.file = file;
  }

  /**
   * Resolves once `data` is on disk; `durable` runs at that moment, in append order, before
   * `afterFlush`.
   */
  append(data: string, durable?: () => void): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting.push({ data, durable, resolve, reject });
      this.running ??= this.run().finally(() => {
        this.running = undefined;
      });
    });
  }

  private async run(): Promise<void> {
    // Bounded: each pass takes every waiting append; new ones only come from new requests.
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      try {
        const data = Buffer.from(batch.map((w) => w.data).join(''));
        await this.file.append(data);
        await this.file.sync();
        this.bytes += data.length;
      } catch (err) {
        this.failed = err;
        const all = [...batch, ...this.waiting];
        this.waiting = [];
        for (const w of all) w.reject(err);
        return;
      }
      for (const w of batch) w.durable?.();
      // A compaction that fails leaves the journal as it is: still complete, only longer.
      await this.afterFlush?.().catch(() => {});
      for (const w of batch) w.resolve();
    }
  }

  /** Waits for every pending append. */
  async drain(): Promise<void> {
    while (this.running !== undefined) await this.running.catch(() => {});
  }

  /** Empties the file; clears `failed`. */
  async reset(): Promise<void> {
    await this.file.truncate();
    this.bytes = 0;
    this.failed = undefined;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
