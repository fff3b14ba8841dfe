/**
 * @module client/block-transfer-error
 * A block-wise download that stopped after its first block (RFC 7959 §2.4): which block failed,
 * the bytes that arrived before it, and what the server answered to that block (an error code)
 * or why nothing usable came (a timeout, a Reset, a changed representation).
 */
import { CoapError } from '../errors.js';
import type { Address } from '../transport/types.js';
import type { CoapResponse } from './response.js';

/**
 * A block-wise body that did not arrive whole. `client.request()` rejects with it when the
 * server answers a later block with an error code; a group member's response carries it as
 * `incomplete`, whatever stopped the body.
 *
 * @example
 * try {
 *   await client.request('coap://192.0.2.1/big');
 * } catch (err) {
 *   if (err instanceof BlockTransferError) console.log(err.block, err.response?.codeString, err.received.length);
 * }
 */
export class BlockTransferError extends CoapError {
  /** The NUM of the block that was asked for and not received. */
  readonly block: number;
  /** The bytes received before it, from the start of the representation. */
  readonly received: Buffer;
  /**
   * The server's answer to that block, when it answered with an error code (e.g. 4.08);
   * undefined when no answer came, and `cause` then says why.
   */
  readonly response: CoapResponse | undefined;

  constructor(
    from: Address,
    block: number,
    received: Buffer,
    response: CoapResponse | undefined,
    cause?: unknown,
  ) {
    const what =
      response !== undefined
        ? `answered block ${block} with ${response.codeString}`
        : `did not deliver block ${block}: ${cause instanceof Error ? cause.message : String(cause)}`;
    super(
      'ERR_COAP_BLOCK_INCOMPLETE',
      `${from.address}:${from.port} ${what}; ${received.length} bytes of the body arrived`,
      cause === undefined ? undefined : { cause },
    );
    this.block = block;
    this.received = received;
    this.response = response;
  }
}
