/**
 * @module block/slice
 * Cutting a body into the block that a Block2 (or Block1) option names (RFC 7959 §2.2: block NUM
 * holds the `size` bytes from `NUM << (SZX + 4)`; M says whether bytes follow).
 */
import { checkNum, checkSzx } from './option.js';

/**
 * The bytes of block `num` of size `2 ** (szx + 4)` in `body`, and whether more follow. `data`
 * is a view into `body`, not a copy. Block 0 of an empty body is empty with `more` false, so an
 * empty representation can still be served block-wise; any other block past the end is
 * undefined, and the caller picks the error response (RFC 7959 names none for that case).
 *
 * @throws BlockOptionError for NUM outside 0..2**20-1 or SZX outside 0..6.
 * @example
 * ```ts
 * blockSlice(Buffer.alloc(100), 3, 1); // { data: <4 bytes>, more: false }
 * ```
 */
export function blockSlice(
  body: Buffer,
  num: number,
  szx: number,
): { data: Buffer; more: boolean } | undefined {
  checkNum(num);
  checkSzx(szx);
  const size = 16 << szx;
  const start = num * size;
  if (start >= body.length && !(num === 0 && body.length === 0)) return undefined;
  const end = Math.min(start + size, body.length);
  return { data: body.subarray(start, end), more: end < body.length };
}
