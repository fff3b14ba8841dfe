/**
 * @module oscore/endpoint/client-outer-block
 * A protected response that an intermediary cut into Outer Block2 fragments (RFC 8613
 * §4.1.3.4.2): no fragment can be opened, so the rest is fetched first by repeating the same
 * protected request with Outer Block2 (RFC 7959 §2.4), and the whole is opened once joined
 * ("until all blocks of the message have been received"). The total is bounded by the
 * request's `maxBodySize`.
 */
import { type BlockValue, decodeBlock, encodeBlock } from '../../block/index.js';
import { DEFAULT_MAX_BODY } from '../../client/blockwise.js';
import type { MessageParts } from '../../client/exchanger.js';
import { CoapError } from '../../errors.js';
import { type CoapMessage, MessageType } from '../../message/types.js';
import { Opt } from '../../options/registry.js';
import { findOption, withOption } from '../../options/values.js';

/** The Outer Block2 of a protected message, else undefined. */
export function outerBlock2(msg: CoapMessage): BlockValue | undefined {
  if (findOption(msg.options, Opt.Oscore) === undefined) return undefined;
  const o = findOption(msg.options, Opt.Block2);
  if (o === undefined) return undefined;
  try {
    return decodeBlock(o.value);
  } catch {
    throw new CoapError('ERR_COAP_BLOCK_OPTION', 'a protected response carries an invalid Outer Block2');
  }
}

/**
 * Fetches the remaining fragments of `first` with `fetch` (one exchange below the protection
 * each) and returns the joined protected message, as an ACK so that a failed verification ends
 * the request. @throws CoapError `ERR_COAP_BLOCK_OPTION` for fragments out of order,
 * `ERR_COAP_BODY_TOO_LARGE` beyond `maxBodySize`.
 */
export async function joinOuter(
  wire: MessageParts,
  first: CoapMessage,
  block: BlockValue,
  maxBodySize: number | undefined,
  fetch: (parts: MessageParts) => Promise<CoapMessage>,
): Promise<CoapMessage> {
  const limit = maxBodySize ?? DEFAULT_MAX_BODY;
  const chunks = [first.payload];
  let size = first.payload.length;
  let current = block;
  const blockSize = 16 << block.szx;
  if (block.num !== 0 || (block.more && first.payload.length !== blockSize)) {
    throw new CoapError(
      'ERR_COAP_BLOCK_OPTION',
      'the first Outer Block2 fragment is not block 0 of its size',
    );
  }
  // Bounded: every fragment but the last is a whole block, so the size limit ends the loop.
  while (current.more) {
    const num = current.num + 1;
    const options = withOption(wire.options, Opt.Block2, encodeBlock({ num, more: false, szx: block.szx }));
    const next = await fetch({ ...wire, options });
    const b = outerBlock2(next);
    if (b === undefined || b.num !== num || b.szx !== block.szx) {
      throw new CoapError('ERR_COAP_BLOCK_OPTION', `expected Outer Block2 fragment ${num}`);
    }
    if (b.more && next.payload.length !== blockSize) {
      throw new CoapError('ERR_COAP_BLOCK_OPTION', `Outer Block2 fragment ${num} is not a whole block`);
    }
    size += next.payload.length;
    if (size > limit)
      throw new CoapError('ERR_COAP_BODY_TOO_LARGE', `the protected response exceeds ${limit} bytes`);
    chunks.push(next.payload);
    current = b;
  }
  return {
    ...first,
    type: MessageType.ACK,
    options: first.options.filter((o) => o.number !== Opt.Block2 && o.number !== Opt.Size2),
    payload: Buffer.concat(chunks),
  };
}
