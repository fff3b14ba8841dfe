/**
 * @module server/exchange-info
 * Two facts about a received request that the pipeline and the block-wise code both need: who
 * is asking (block continuations and cached representations are per requesting endpoint), and
 * its Block1/Block2 value (RFC 7959 §2.2: an invalid one is a 4.00).
 */
import { type BlockValue, decodeBlock } from '../block/index.js';
import type { CoapMessage } from '../message/types.js';
import { findOption } from '../options/values.js';

/** Who is asking: the requesting endpoint (block continuations come from the same one). */
export function requesterOf(ex: { remote: { address: string; port: number } }): string {
  return `${ex.remote.address}|${ex.remote.port}`;
}

export function blockOption(msg: CoapMessage, number: number): BlockValue | undefined | null {
  const o = findOption(msg.options, number);
  if (o === undefined) return undefined;
  try {
    return decodeBlock(o.value);
  } catch {
    return null; // RFC 7959 §2.2: an invalid Block option is a 4.00
  }
}
