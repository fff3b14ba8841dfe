/**
 * @module util/store-fs
 * The few file-system steps a crash-safe state file needs (see util/atomic-file), behind an
 * interface, so tests can stop a save between any two steps, or replay a power loss on a model
 * of what is durable, and check that the state on disk is always the old one or the new one.
 * Used by the `/coap-group` store (RFC 7390 §2.6.2) and the resource directory (RFC 9176).
 */
import { promises as fsp } from 'node:fs';

/** An open file being written. */
export interface StoreFile {
  /** Writes all of `data` at the current position. */
  write(data: Buffer): Promise<void>;
  /** fsync: the file's data reaches the disk. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** What the store does to the file system, step by step. Errors carry an errno `code`. */
export interface StoreFs {
  readFile(path: string): Promise<Buffer>;
  /** Creates a directory and its parents; no error if it exists. */
  mkdir(path: string): Promise<void>;
  /** Creates or truncates a file for writing, readable by the owner only. */
  open(path: string): Promise<StoreFile>;
  /** Atomic replacement of `to` by `from` (POSIX rename(2)). */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** fsync of a directory, so that a rename in it survives a power loss. */
  syncDir(path: string): Promise<void>;
}

/** The real file system through `node:fs/promises`. */
export const nodeStoreFs: StoreFs = Object.freeze({
  readFile: (path: string) => fsp.readFile(path),
  mkdir: async (path: string) => {
    await fsp.mkdir(path, { recursive: true, mode: 0o700 });
  },
  open: async (path: string): Promise<StoreFile> => {
    const fh = await fsp.open(path, 'w', 0o600);
    return {
      write: (data: Buffer) => fh.writeFile(data),
      sync: () => fh.sync(),
      close: () => fh.close(),
    };
  },
  rename: (from: string, to: string) => fsp.rename(from, to),
  unlink: (path: string) => fsp.unlink(path),
  syncDir: async (path: string) => {
    // Windows cannot open a directory for fsync, and NTFS journals renames itself.
    if (process.platform === 'win32') return;
    const fh = await fsp.open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
});
