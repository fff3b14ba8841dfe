/**
 * @module group-config/store
 * Where the Group Configuration resource (RFC 7390 §2.6.2) keeps its state between runs, so a
 * restarted node rejoins exactly its groups (RFC 7390 §2.6.2.1: after any change the node
 * joins or leaves). The file store writes atomically and durably: a temporary file, fsync,
 * rename over the state file, fsync of the directory. A crash at any step leaves the old state
 * or the new one, never a mix; a state that does not read back is reported, never guessed at.
 */
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { GroupStateError, reasonOf } from './errors.js';
import { decodeState, encodeState, type GroupConfigState } from './state-file.js';
import { nodeStoreFs, type StoreFile, type StoreFs } from './store-fs.js';

/** Keeps the group configuration state. */
export interface GroupConfigStore {
  /** Where the state lives, for messages. */
  readonly location: string;
  /**
   * The saved state, or undefined when none was ever saved.
   * @throws GroupStateError `ERR_COAP_GROUP_STATE_CORRUPT` or `ERR_COAP_GROUP_STATE_IO`.
   */
  load(): Promise<GroupConfigState | undefined>;
  /**
   * Replaces the saved state. When it throws, the saved state is still the previous one. When it
   * resolves, the new state is in place; a string is a warning (saved, but maybe not durable).
   * @throws GroupStateError `ERR_COAP_GROUP_STATE_IO`.
   */
  save(state: GroupConfigState): Promise<string | undefined>;
  /** Moves a state that does not load out of the way (for "start empty"); where it went. */
  quarantine?(): Promise<string | undefined>;
}

/**
 * A store in memory: the state lives as long as the object. It keeps the encoded bytes, so what
 * comes back has been through the same codec as a file.
 */
export class MemoryGroupConfigStore implements GroupConfigStore {
  readonly location = 'memory';
  private bytes: Buffer | undefined;

  async load(): Promise<GroupConfigState | undefined> {
    return this.bytes === undefined ? undefined : decodeState(this.bytes, this.location);
  }

  async save(state: GroupConfigState): Promise<undefined> {
    this.bytes = encodeState(state);
    return undefined;
  }
}

/** The name of the state file in the state directory. */
export const STATE_FILE_NAME = 'coap-group.json';

/**
 * The state in `DIR/coap-group.json`, written atomically and durably.
 *
 * @example
 * ```ts
 * const store = new FileGroupConfigStore('/var/lib/coap-group');
 * const config = await attachGroupConfig(server, { store });
 * ```
 */
export class FileGroupConfigStore implements GroupConfigStore {
  readonly dir: string;
  readonly file: string;
  private readonly tmp: string;
  private readonly fs: StoreFs;

  constructor(dir: string, options: { fs?: StoreFs } = {}) {
    if (typeof dir !== 'string' || dir === '') {
      throw new InvalidArgumentError('the state directory must be a non-empty path');
    }
    this.dir = resolve(dir);
    this.file = join(this.dir, STATE_FILE_NAME);
    // One fixed name: one writer per directory, and a crash leaves at most this one file behind.
    this.tmp = `${this.file}.tmp`;
    this.fs = options.fs ?? nodeStoreFs;
  }

  get location(): string {
    return this.file;
  }

  async load(): Promise<GroupConfigState | undefined> {
    try {
      await this.fs.mkdir(this.dir);
    } catch (err) {
      throw this.io(this.dir, `cannot create the state directory ${this.dir}: ${reasonOf(err)}`, err);
    }
    // A temporary file is what a crash before the rename leaves; it never holds the committed state.
    await this.fs.unlink(this.tmp).catch(() => {});
    let bytes: Buffer;
    try {
      bytes = await this.fs.readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.io(
        this.file,
        `cannot read the group configuration state ${this.file}: ${reasonOf(err)}`,
        err,
      );
    }
    return decodeState(bytes, this.file);
  }

  async save(state: GroupConfigState): Promise<string | undefined> {
    const data = encodeState(state);
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
      throw this.io(
        this.file,
        `cannot save the group configuration state ${this.file}: ${reasonOf(err)}`,
        err,
      );
    }
    try {
      await this.fs.syncDir(this.dir); // the rename itself survives a power loss
    } catch (err) {
      // The new state is in place and is what a restart reads unless power fails first; failing
      // the change now would leave the node saying "not changed" about a state on disk.
      return `saved ${this.file}, but could not flush its directory (${reasonOf(err)}); a power loss may undo the last change`;
    }
    return undefined;
  }

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

  private io(path: string, message: string, cause: unknown): GroupStateError {
    return new GroupStateError('ERR_COAP_GROUP_STATE_IO', path, message, { cause });
  }
}
