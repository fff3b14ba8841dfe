/**
 * @module server/block-option
 * The Block1/Block2 value of a received request (RFC 7959 §2.2), with an invalid one told apart
 * from an absent one, since it is answered 4.00.
 */
import { type BlockValue, decodeBlock } from '../block/index.js';
import type { CoapMessage } from '../message/types.js';
import { findOption } from '../options/values.js';

/** The value of Block option `number`: undefined when absent, null when invalid (RFC 7959 §2.2: 4.00). */
export function blockOption(msg: CoapMessage, number: number): BlockValue | undefined | null {
  const o = findOption(msg.options, number);
  if (o === undefined) return undefined;
  try {
    return decodeBlock(o.value);
  } catch {
    return null;
  }
}
