/**
 * @module util/atomic-file
 * A crash-safe state file: written atomically and durably (a temporary file, fsync, rename over
 * the state file, fsync of the directory), so a crash or a power loss at any step leaves the old
 * content or the new one, never a mix. What the bytes mean is the caller's: the `/coap-group`
 * store (RFC 7390 §2.6.2) and the resource directory snapshot (RFC 9176) both write through it.
 */
import { basename, dirname, resolve } from 'node:path';
import { CoapError, InvalidArgumentError } from '../errors.js';
import { nodeStoreFs, type StoreFile, type StoreFs } from './store-fs.js';

/** The step of an {@link AtomicFile} operation that failed. */
export type AtomicFileStep = 'mkdir' | 'read' | 'write';

/**
 * A state file could not be read or written. Code `ERR_COAP_STATE_IO`. The stores that use an
 * {@link AtomicFile} turn it into their own error, naming their file; `reason` is the errno code
 * (`EACCES`, `ENOSPC`) or the message of what failed.
 */
export class AtomicFileError extends CoapError {
  readonly step: AtomicFileStep;
  readonly path: string;
  readonly reason: string;
  constructor(step: AtomicFileStep, path: string, cause: unknown) {
    const reason = reasonOf(cause);
    super('ERR_COAP_STATE_IO', `cannot ${step === 'mkdir' ? 'create' : step} ${path}: ${reason}`, { cause });
    this.step = step;
    this.path = path;
    this.reason = reason;
  }
}

/** The `code` of an errno-style error, or its message: for one-line reasons. */
export function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  if (e && typeof e.code === 'string' && e.code !== '' && !e.code.startsWith('ERR_COAP')) return e.code;
  return e instanceof Error ? e.message : String(err);
}

/**
 * One state file, replaced as a whole. One writer per file: the temporary name is fixed, so a
 * crash leaves at most that one file behind, and the next `read()` removes it.
 *
 * @example
 * ```ts
 * const f = new AtomicFile('/var/lib/coap-group/rd.json');
 * const old = await f.read();                  // undefined the first time
 * const warning = await f.write(Buffer.from('{}\n'));
 * ```
 */
export class AtomicFile {
  readonly dir: string;
  readonly file: string;
  readonly tmp: string;
  private readonly fs: StoreFs;

  constructor(file: string, fs: StoreFs = nodeStoreFs) {
    if (typeof file !== 'string' || file === '' || basename(file) === '') {
      throw new InvalidArgumentError('a state file needs a non-empty path');
    }
    this.file = resolve(file);
    this.dir = dirname(this.file);
    this.tmp = `${this.file}.tmp`;
    this.fs = fs;
  }

  /**
   * The committed bytes, or undefined when the file was never written. Creates the directory,
   * and removes a temporary file a crash left (it never holds the committed content).
   * @throws AtomicFileError (`mkdir` or `read`).
   */
  async read(): Promise<Buffer | undefined> {
    try {
      await this.fs.mkdir(this.dir);
    } catch (err) {
      throw new AtomicFileError('mkdir', this.dir, err);
    }
    await this.fs.unlink(this.tmp).catch(() => {});
    try {
      return await this.fs.readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new AtomicFileError('read', this.file, err);
    }
  }

  /**
   * Replaces the content. When it throws, the file still holds the previous content. When it
   * resolves, the new content is in place; a string is a warning (in place, but maybe not
   * durable: the directory could not be flushed).
   * @throws AtomicFileError (`write`).
   */
  async write(data: Buffer): Promise<string | undefined> {
    let f: StoreFile | undefined;
    try {
      f = await this.fs.open(this.tmp);
      await f.write(data);
      await f.sync(); // the data is on disk before the name points at it
      const closing = f;
      f = undefined;
      await closing.close();
      await this.fs.rename(this.tmp, this.file); // the switch from old to new, atomic
    } catch (err) {
      if (f !== undefined) await f.close().catch(() => {});
      await this.fs.unlink(this.tmp).catch(() => {});
      throw new AtomicFileError('write', this.file, err);
    }
    try {
      await this.fs.syncDir(this.dir); // the rename itself survives a power loss
    } catch (err) {
      // The new content is in place and is what a restart reads unless power fails first;
      // failing now would have the caller report "not changed" about what is on disk.
      return `saved ${this.file}, but could not flush its directory (${reasonOf(err)}); a power loss may undo the last change`;
    }
    return undefined;
  }

  /** Moves a file that does not load out of the way (for "start empty"); where it went. */
  async quarantine(): Promise<string | undefined> {
    const to = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      await this.fs.rename(this.file, to);
      await this.fs.syncDir(this.dir).catch(() => {});
      return to;
    } catch {
      return undefined;
    }
  }
}
