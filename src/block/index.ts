/**
 * @module block
 * The Block1/Block2 option codec and body slicing (RFC 7959 §2.2): pure functions, no I/O.
 */
export { BlockOptionError } from './error.js';
export type { BlockValue } from './option.js';
export { decodeBlock, encodeBlock, MAX_BLOCK_NUM, sizeToSzx, szxToSize } from './option.js';
export { blockSlice } from './slice.js';
