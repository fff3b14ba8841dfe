/**
 * @module block/error
 * The one error class of the Block option codec (RFC 7959 §2.2).
 */
import { CoapError } from '../errors.js';

/**
 * A Block1/Block2 value that cannot be encoded or decoded (RFC 7959 §2.2): more than 3 bytes,
 * the reserved SZX 7, a NUM outside 0..2**20-1, or a size that is not a block size. A server
 * answers a request carrying one with 4.00 Bad Request (RFC 7959 §2.2). Code `ERR_COAP_BLOCK_OPTION`.
 *
 * @example
 * ```ts
 * try { decodeBlock(Buffer.from([0x07])); }
 * catch (e) { if (e instanceof BlockOptionError) console.log(e.code); } // ERR_COAP_BLOCK_OPTION
 * ```
 */
export class BlockOptionError extends CoapError {
  constructor(message: string) {
    super('ERR_COAP_BLOCK_OPTION', message);
  }
}
