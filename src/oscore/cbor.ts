/**
 * @module oscore/cbor
 * The CBOR codec (src/cbor) as OSCORE uses it: the same functions, but a failure is an
 * `OscoreError` with code `ERR_OSCORE_CBOR`, so that callers of the OSCORE layer (and a server's
 * error response, RFC 8613 §8.2) see one error family for a malformed COSE structure or credential.
 */

import * as codec from '../cbor/index.js';
import { CborError, CborSimple, type CborValue } from '../cbor/index.js';
import { OscoreError } from './errors.js';

export { CborSimple, type CborValue };

function asOscore<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof CborError) throw new OscoreError('ERR_OSCORE_CBOR', e.message, { cause: e });
    throw e;
  }
}

/**
 * Encodes a value in RFC 8949 §4.2.1 deterministic form (shortest heads, sorted map keys).
 * @throws OscoreError `ERR_OSCORE_CBOR` for a value outside the subset.
 */
export function encodeCbor(v: CborValue): Buffer {
  return asOscore(() => codec.encodeCbor(v));
}

/** A CBOR byte string holding the encoding of `v` (the CDDL `bstr .cbor`, RFC 8613 §5.4). */
export function encodeCborWrapped(v: CborValue): Buffer {
  return asOscore(() => codec.encodeCborWrapped(v));
}

/**
 * Decodes exactly one data item; byte strings are views into `buf`.
 * @throws OscoreError `ERR_OSCORE_CBOR` for anything outside the subset or trailing bytes.
 */
export function decodeCbor(buf: Buffer): CborValue {
  return asOscore(() => codec.decodeCbor(buf));
}

/** Decodes a sequence of concatenated data items (RFC 8742). */
export function decodeCborSequence(buf: Buffer): CborValue[] {
  return asOscore(() => codec.decodeCborSequence(buf));
}
