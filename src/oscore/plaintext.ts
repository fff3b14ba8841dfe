/**
 * @module oscore/plaintext
 * The OSCORE plaintext (RFC 8613 §5.3, Figure 9): the original Code, the Inner (Class E) options
 * encoded as in RFC 7252 §3.1, and the payload after a 0xff marker. Reuses the message codec, so
 * option encoding and its checks exist once.
 */
import { MessageFormatError } from '../errors.js';
import { decodeMessage } from '../message/decode.js';
import { encodeMessage } from '../message/encode.js';
import { type CoapOption, EMPTY, MessageType } from '../message/types.js';
import { OscoreError } from './errors.js';

/** What the plaintext holds. */
export interface Plaintext {
  readonly code: number;
  readonly options: CoapOption[];
  readonly payload: Buffer;
}

/**
 * Encodes the plaintext. The message encoder writes a 4-byte header first, which is dropped,
 * leaving `Code | options | 0xff payload`.
 * @throws MessageEncodeError for option values the registry does not allow.
 */
export function encodePlaintext(p: Plaintext): Buffer {
  const full = encodeMessage({
    type: MessageType.CON,
    code: p.code,
    messageId: 0,
    token: EMPTY,
    options: p.options,
    payload: p.payload,
  });
  // Byte 3 (the low Message ID byte) is overwritten with the Code: no copy is needed.
  full[3] = p.code;
  return full.subarray(3);
}

/**
 * Decodes a verified plaintext.
 * @throws OscoreError `ERR_OSCORE_FORMAT` when it is empty or not a valid option/payload sequence.
 */
export function decodePlaintext(bytes: Buffer): Plaintext {
  if (bytes.length === 0) throw new OscoreError('ERR_OSCORE_FORMAT', 'the plaintext has no Code');
  const code = bytes[0]!;
  if (code === 0) throw new OscoreError('ERR_OSCORE_FORMAT', 'the plaintext carries the Empty code 0.00');
  // A 4-byte header in front lets the message decoder parse options and payload.
  const framed = Buffer.concat([Buffer.from([0x40, code, 0, 0]), bytes.subarray(1)]);
  try {
    const m = decodeMessage(framed);
    return { code, options: m.options, payload: m.payload };
  } catch (cause) {
    const why = cause instanceof MessageFormatError ? cause.message : String(cause);
    throw new OscoreError('ERR_OSCORE_FORMAT', `malformed plaintext: ${why}`, { cause });
  }
}
