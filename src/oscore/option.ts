/**
 * @module oscore/option
 * The OSCORE option value (RFC 8613 §2, §6.1): the flag byte `0 0 0 h k n n n`, then the Partial
 * IV, the 'kid context' with its length byte, and the 'kid' last. Group OSCORE adds the Group
 * Flag, bit 0x20 (draft-ietf-core-oscore-groupcomm §4.1). Also the Partial IV encoding (§5, §6.1).
 */
import { InvalidArgumentError } from '../errors.js';
import { OscoreError } from './errors.js';
import { MAX_SEQUENCE_NUMBER } from './sequence.js';

/** The compressed COSE header parameters an OSCORE option carries (RFC 8613 §6.1). */
export interface OscoreOptionValue {
  /** 1-5 bytes, no leading zero bytes (RFC 8613 §5). Absent in most responses. */
  readonly partialIv?: Buffer;
  /** The ID Context, when the sender chose to send it (RFC 8613 §5.1). */
  readonly kidContext?: Buffer;
  /** The Sender ID; present in requests (RFC 8613 §5). May be empty. */
  readonly kid?: Buffer;
  /** Group OSCORE group mode (draft-ietf-core-oscore-groupcomm §4.1). */
  readonly groupFlag?: boolean;
}

const FLAG_GROUP = 0x20;
const FLAG_H = 0x10;
const FLAG_K = 0x08;
/** RFC 8613 §6.1: the two most significant bits are reserved (0x80 will extend the flag bits). */
const RESERVED = 0xc0;

/**
 * Encodes an option value. All flags zero gives the empty value, as RFC 8613 §2 requires.
 * @throws InvalidArgumentError for a Partial IV outside 1-5 bytes, a 'kid context' over 255 bytes
 *   or a value over the 255 bytes the option allows.
 */
export function encodeOscoreOption(v: OscoreOptionValue): Buffer {
  const piv = v.partialIv;
  if (piv !== undefined && (piv.length < 1 || piv.length > 5)) {
    throw new InvalidArgumentError(`Partial IV of ${piv.length} bytes; 1-5 allowed (RFC 8613 §6.1)`);
  }
  const ctx = v.kidContext;
  if (ctx !== undefined && ctx.length > 255)
    throw new InvalidArgumentError(`kid context of ${ctx.length} bytes; at most 255`);
  const n = piv?.length ?? 0;
  const flags =
    n |
    (v.kid !== undefined ? FLAG_K : 0) |
    (ctx !== undefined ? FLAG_H : 0) |
    (v.groupFlag ? FLAG_GROUP : 0);
  if (flags === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [Buffer.from([flags])];
  if (piv !== undefined) parts.push(piv);
  if (ctx !== undefined) parts.push(Buffer.from([ctx.length]), ctx);
  if (v.kid !== undefined) parts.push(v.kid);
  const out = Buffer.concat(parts);
  if (out.length > 255)
    throw new InvalidArgumentError(`OSCORE option of ${out.length} bytes; at most 255 (RFC 8613 §2)`);
  return out;
}

/** Options of `decodeOscoreOption`. */
export interface DecodeOscoreOptionOptions {
  /** Accept the Group Flag 0x20 (Group OSCORE); otherwise it is a reserved bit and malformed. */
  readonly allowGroupFlag?: boolean;
}

function malformed(why: string): never {
  throw new OscoreError('ERR_OSCORE_FORMAT', `malformed OSCORE option: ${why}`);
}

/**
 * Decodes an option value. Returned buffers are views into `value`.
 * @throws OscoreError `ERR_OSCORE_FORMAT` for reserved bits or Partial IV lengths (RFC 8613
 *   §6.1), a truncated value, bytes after the fields when 'kid' is absent, a one-byte 0x00 value
 *   (RFC 8613 §2 says all-zero flags are sent as the empty value) or a Partial IV with a leading
 *   zero byte (RFC 8613 §5).
 */
export function decodeOscoreOption(
  value: Buffer,
  options: DecodeOscoreOptionOptions = {},
): OscoreOptionValue {
  if (value.length === 0) return {};
  const flags = value[0]!;
  if (flags === 0) malformed('flag byte 0x00 must be sent as the empty value');
  if (flags & RESERVED) malformed(`reserved flag bits set (0x${flags.toString(16).padStart(2, '0')})`);
  const groupFlag = (flags & FLAG_GROUP) !== 0;
  if (groupFlag && !options.allowGroupFlag) malformed('the Group Flag (0x20) is not expected here');
  const n = flags & 0x07;
  if (n > 5) malformed(`Partial IV length ${n} is reserved`);
  let pos = 1;
  const out: { partialIv?: Buffer; kidContext?: Buffer; kid?: Buffer; groupFlag?: boolean } = {};
  if (groupFlag) out.groupFlag = true;
  if (n > 0) {
    if (pos + n > value.length) malformed('Partial IV runs past the end');
    const piv = value.subarray(pos, pos + n);
    if (n > 1 && piv[0] === 0) malformed('Partial IV has a leading zero byte');
    out.partialIv = piv;
    pos += n;
  }
  if (flags & FLAG_H) {
    if (pos >= value.length) malformed('kid context length is missing');
    const s = value[pos]!;
    pos++;
    if (pos + s > value.length) malformed('kid context runs past the end');
    out.kidContext = value.subarray(pos, pos + s);
    pos += s;
  }
  if (flags & FLAG_K) out.kid = value.subarray(pos);
  else if (pos !== value.length) malformed(`${value.length - pos} unexpected bytes after the fields`);
  return out;
}

/**
 * The Partial IV for a sequence number: big-endian without leading zero bytes, and 0x00 for 0
 * (RFC 8613 §5).
 */
export function encodePartialIv(seq: number): Buffer {
  if (!Number.isSafeInteger(seq) || seq < 0 || seq > MAX_SEQUENCE_NUMBER) {
    throw new InvalidArgumentError(`sequence number ${seq} is outside 0..2^40-1`);
  }
  const bytes: number[] = [];
  let v = seq;
  do {
    bytes.unshift(v % 256);
    v = Math.floor(v / 256);
  } while (v > 0);
  return Buffer.from(bytes);
}

/** The sequence number a Partial IV encodes. */
export function decodePartialIv(piv: Buffer): number {
  let n = 0;
  for (let i = 0; i < piv.length; i++) n = n * 256 + piv[i]!;
  return n;
}
