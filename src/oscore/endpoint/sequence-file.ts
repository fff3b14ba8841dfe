/**
 * @module oscore/endpoint/sequence-file
 * A Sender Sequence Number bound kept in a file (RFC 8613 Appendix B.1.1, §7.5): a nonce must
 * never repeat under one key, so the bound is written durably (temporary file, fsync, rename)
 * before any number below it is used. The file holds one decimal number and has mode 0600.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { MAX_SEQUENCE_NUMBER, type SequenceStorage } from '../sequence.js';
import { OscoreConfigError } from './errors.js';

/**
 * `SequenceStorage` in a file. A missing file means first boot; a file that does not hold a
 * number is refused, since guessing could reuse a nonce.
 *
 * @example
 * ```ts
 * const seq = new PersistentSequence(new FileSequenceStorage('/var/lib/coap/ctx.seq'));
 * ```
 */
export class FileSequenceStorage implements SequenceStorage {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** @throws OscoreConfigError when the file exists but cannot be read or holds no number. */
  load(): number | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new OscoreConfigError('', `cannot read the sequence file ${this.path}`, { cause: err });
    }
    const n = Number(text.trim());
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n > MAX_SEQUENCE_NUMBER + 1) {
      throw new OscoreConfigError('', `the sequence file ${this.path} does not hold a sequence number`);
    }
    return n;
  }

  /** Writes durably: nothing below `bound` is used before this returns. */
  save(bound: number): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${bound}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
