/**
 * @module group-config/store
 * Where the Group Configuration resource (RFC 7390 §2.6.2) keeps its state between runs, so a
 * restarted node rejoins exactly its groups (RFC 7390 §2.6.2.1: after any change the node
 * joins or leaves). The file store writes through the shared crash-safe writer (util/atomic-file):
 * a crash at any step leaves the old state or the new one, never a mix; a state that does not
 * read back is reported, never guessed at.
 */
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { AtomicFile, type AtomicFileError } from '../util/atomic-file.js';
import { nodeStoreFs, type StoreFs } from '../util/store-fs.js';
import { GroupStateError } from './errors.js';
import { decodeState, encodeState, type GroupConfigState } from './state-file.js';

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
 *
 * @example
 * const store = new MemoryGroupConfigStore();
 * const config = await attachGroupConfig(server, { store });
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
 * The state in `DIR/coap-group.json`, written atomically and durably (util/atomic-file).
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
  private readonly atomic: AtomicFile;

  constructor(dir: string, options: { fs?: StoreFs } = {}) {
    if (typeof dir !== 'string' || dir === '') {
      throw new InvalidArgumentError('the state directory must be a non-empty path');
    }
    this.dir = resolve(dir);
    this.file = join(this.dir, STATE_FILE_NAME);
    this.atomic = new AtomicFile(this.file, options.fs ?? nodeStoreFs);
  }

  get location(): string {
    return this.file;
  }

  async load(): Promise<GroupConfigState | undefined> {
    let bytes: Buffer | undefined;
    try {
      bytes = await this.atomic.read();
    } catch (err) {
      const e = err as AtomicFileError;
      throw e.step === 'mkdir'
        ? this.io(this.dir, `cannot create the state directory ${this.dir}: ${e.reason}`, e.cause)
        : this.io(this.file, `cannot read the group configuration state ${this.file}: ${e.reason}`, e.cause);
    }
    return bytes === undefined ? undefined : decodeState(bytes, this.file);
  }

  async save(state: GroupConfigState): Promise<string | undefined> {
    try {
      return await this.atomic.write(encodeState(state));
    } catch (err) {
      const e = err as AtomicFileError;
      throw this.io(
        this.file,
        `cannot save the group configuration state ${this.file}: ${e.reason}`,
        e.cause,
      );
    }
  }

  quarantine(): Promise<string | undefined> {
    return this.atomic.quarantine();
  }

  private io(path: string, message: string, cause: unknown): GroupStateError {
    return new GroupStateError('ERR_COAP_GROUP_STATE_IO', path, message, { cause });
  }
}
