/**
 * @module oscore/endpoint/config-shared
 * What both kinds of entry of the key-material file share (docs/security.md): the options of
 * loading, the fields every context may have, the AEAD algorithm field (RFC 9053 §4), and the
 * Sender Sequence Number source of a context (RFC 8613 Appendix B.1.1).
 */
import { isAbsolute, join } from 'node:path';
import { CoapError } from '../../errors.js';
import { type AeadAlgorithm, aeadParameters } from '../algorithms.js';
import { CounterSequence, PersistentSequence, type SequenceSource } from '../sequence.js';
import { fieldPath, type Obj, optionalString } from './config-fields.js';
import { OscoreConfigError } from './errors.js';
import { FileSequenceStorage } from './sequence-file.js';

/** Options of `parseOscoreConfig` and `loadOscoreConfig`. */
export interface OscoreConfigOptions {
  /**
   * The Sender Sequence Number source of each context, by key (`oscore-0`, `group-1`, ...).
   * Default with `loadOscoreConfig`: a file `<config>.<key>.seq` beside the config (or the
   * context's `sequenceFile`); with `parseOscoreConfig` and no file: a counter from 0, which is
   * only safe for contexts used once (RFC 8613 Appendix B.1.1).
   */
  readonly sequence?: (key: string, file: string | undefined) => SequenceSource;
  /** K of RFC 8613 Appendix B.1.1 for file-backed sequences; default 100. */
  readonly reserve?: number;
  /** Refuse a file group or others may access (mode & 0o077), as ssh does; default true. */
  readonly checkMode?: boolean;
}

/** Fields of every context entry. */
export const COMMON = ['replayWindow', 'sequenceFile'];

/** A COSE AEAD algorithm number this implementation supports (RFC 9053 §4), if given. */
export function aeadField(o: Obj, key: string): AeadAlgorithm | undefined {
  const v = o.value[key];
  if (v === undefined) return undefined;
  try {
    if (typeof v !== 'number') throw new Error();
    return aeadParameters(v).alg;
  } catch {
    throw new OscoreConfigError(
      fieldPath(o.path, key),
      'must be a COSE AEAD algorithm: 10, 11, 30, 1, 3 or 24',
    );
  }
}

/** Turns the primitives' argument errors (IDs too long, equal IDs) into errors naming the entry. */
export function derive<T>(path: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof OscoreConfigError) throw err;
    const why = err instanceof CoapError ? err.message : 'cannot derive the context';
    throw new OscoreConfigError(path, why);
  }
}

/** The Sender Sequence Number source of the entry `o` (its `sequenceFile`, relative to `baseDir`). */
export function sequenceFor(
  o: Obj,
  key: string,
  baseDir: string | undefined,
  opts: OscoreConfigOptions,
): SequenceSource {
  const given = optionalString(o, 'sequenceFile');
  const file =
    given === undefined
      ? undefined
      : isAbsolute(given) || baseDir === undefined
        ? given
        : join(baseDir, given);
  if (opts.sequence !== undefined) return opts.sequence(key, file);
  if (file === undefined) return new CounterSequence();
  return derive(fieldPath(o.path, 'sequenceFile'), () => {
    return new PersistentSequence(new FileSequenceStorage(file), { reserve: opts.reserve ?? 100 });
  });
}
