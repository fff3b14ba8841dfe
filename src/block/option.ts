/**
 * @module block/option
 * The Block1/Block2 option value (RFC 7959 §2.2): NUM, M and SZX packed in a 0-3 byte uint
 * (RFC 7252 §3.2), and the SZX <-> block size mapping.
 */
import { decodeUint, encodeUint } from '../options/values.js';
import { BlockOptionError } from './error.js';

/**
 * One Block option value (RFC 7959 §2.2). The block size is `2 ** (szx + 4)`: 16 to 1024 bytes
 * for SZX 0 to 6. SZX 7 is reserved here (BERT uses it over reliable transports, RFC 8323 §6).
 */
export interface BlockValue {
  /** Block number, 0..2**20-1; the block starts at byte `num * 2 ** (szx + 4)`. */
  num: number;
  /** M: more blocks follow (descriptive use), or atomicity in a Block1 response (RFC 7959 §2.3). */
  more: boolean;
  /** Size exponent, 0..6. */
  szx: number;
}

/** The largest NUM that fits the 20 bits of a 3-byte value (RFC 7959 §2.2, Figure 1). */
export const MAX_BLOCK_NUM = 0xfffff;

/** RFC 7959 §2.2: SZX 7 "MUST NOT be sent and MUST lead to a 4.00 Bad Request". */
const MAX_SZX = 6;

/**
 * Encodes a Block option value as a minimal uint: `num << 4 | m << 3 | szx`, zero bytes for the
 * all-zero value (RFC 7959 §2.2). Values below 256 share the cached buffers of `encodeUint`, so
 * callers must not write into the result.
 *
 * @throws BlockOptionError for NUM outside 0..2**20-1 or SZX outside 0..6.
 * @example
 * ```ts
 * encodeBlock({ num: 0, more: false, szx: 2 }); // <Buffer 02>
 * ```
 */
export function encodeBlock(b: BlockValue): Buffer {
  checkNum(b.num);
  checkSzx(b.szx);
  // Multiplication, not <<, keeps the arithmetic exact and non-negative up to 2**24.
  return encodeUint(b.num * 16 + (b.more ? 8 : 0) + b.szx);
}

/**
 * Decodes a Block option value (RFC 7959 §2.2). Leading zero bytes are accepted, as RFC 7252 §3.2
 * requires of a recipient.
 *
 * @throws BlockOptionError for more than 3 bytes or the reserved SZX 7.
 */
export function decodeBlock(value: Buffer): BlockValue {
  if (value.length > 3) {
    throw new BlockOptionError(`a Block option value has 0 to 3 bytes, not ${value.length}`);
  }
  const n = decodeUint(value);
  const szx = n & 7;
  if (szx > MAX_SZX) throw new BlockOptionError('SZX 7 is reserved (RFC 7959 §2.2)');
  return { num: n >>> 4, more: (n & 8) !== 0, szx };
}

/** The block size for `szx`: `2 ** (szx + 4)`, 16..1024. @throws BlockOptionError outside 0..6. */
export function szxToSize(szx: number): number {
  checkSzx(szx);
  return 16 << szx;
}

/** The SZX for a block size of exactly 16, 32, ..., 1024 bytes. @throws BlockOptionError otherwise. */
export function sizeToSzx(size: number): number {
  for (let szx = 0; szx <= MAX_SZX; szx++) if (16 << szx === size) return szx;
  throw new BlockOptionError(`${size} is not a block size (a power of two from 16 to 1024)`);
}

/** @internal Shared with block/slice. */
export function checkSzx(szx: number): void {
  if (!Number.isInteger(szx) || szx < 0 || szx > MAX_SZX) {
    throw new BlockOptionError(`SZX must be an integer from 0 to 6, not ${szx}`);
  }
}

/** @internal Shared with block/slice. */
export function checkNum(num: number): void {
  if (!Number.isInteger(num) || num < 0 || num > MAX_BLOCK_NUM) {
    throw new BlockOptionError(`block NUM must be an integer from 0 to ${MAX_BLOCK_NUM}, not ${num}`);
  }
}
