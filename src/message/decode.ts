/**
 * @module message/decode
 * Bytes to `CoapMessage` (RFC 7252 §3, §3.1). Every malformation is a `MessageFormatError` with
 * the offset where it was found; nothing else is ever thrown. Option values and the payload are
 * views into the input buffer, not copies; the token (at most 8 bytes) is a copy.
 */
import { MessageFormatError } from '../errors.js';
import { type CoapMessage, type CoapOption, EMPTY, type MessageType } from './types.js';

/**
 * Node's `Buffer.allocUnsafe`, read once: in an ES module the global `Buffer` is an accessor
 * property, whose getter V8 calls on every read, even in optimised code.
 */
const allocUnsafe = Buffer.allocUnsafe;

/**
 * An option whose value view is made on first read: most options of a message are never read
 * (or only once), and creating a Buffer view per option was half the cost of decoding. A reader
 * that only compares or hashes the bytes can read them where they lie (`source`, `start`, `end`).
 */
export class DecodedOption implements CoapOption {
  readonly number: number;
  private view: Buffer | undefined;
  /** The datagram the value lies in, from `start` to `end`. */
  readonly source: Buffer;
  readonly start: number;
  readonly end: number;

  constructor(number: number, source: Buffer, start: number, end: number) {
    this.number = number;
    this.source = source;
    this.start = start;
    this.end = end;
  }

  get value(): Buffer {
    if (this.view === undefined) this.view = this.source.subarray(this.start, this.end);
    return this.view;
  }
}

/**
 * Decodes one datagram.
 * @throws MessageFormatError for anything RFC 7252 §3 calls a message format error,
 *   including a version other than 1 (which §3 says to silently ignore; callers drop it).
 */
export function decodeMessage(buf: Buffer): CoapMessage {
  const len = buf.length;
  if (len < 4) throw new MessageFormatError('message shorter than the 4-byte header', len);
  const b0 = buf[0]!;
  const version = b0 >> 6;
  if (version !== 1) throw new MessageFormatError(`unknown version ${version}`, 0);
  const type = ((b0 >> 4) & 3) as MessageType;
  const tkl = b0 & 0x0f;
  // RFC 7252 §3: lengths 9-15 are reserved and MUST be processed as a message format error.
  if (tkl > 8) throw new MessageFormatError(`token length ${tkl} is reserved`, 0);
  const code = buf[1]!;
  const messageId = (buf[2]! << 8) | buf[3]!;
  let pos = 4;
  if (pos + tkl > len) throw new MessageFormatError('token runs past the end', pos);
  // The token is copied, not viewed: at most 8 bytes (§3), which cost less to copy into a fresh
  // Buffer from Node's pool than `subarray` costs to make a view (its `buffer` getter is a call
  // into C++). The payload, which may be long, stays a view.
  let token = EMPTY;
  if (tkl !== 0) {
    token = allocUnsafe(tkl);
    for (let i = 0; i < tkl; i++) token[i] = buf[pos + i]!;
  }
  pos += tkl;
  // RFC 7252 §4.1: an Empty message has only the 4-byte header.
  if (code === 0 && (tkl !== 0 || pos !== len)) {
    throw new MessageFormatError('an Empty message (0.00) must have no token, options or payload', 4);
  }
  // The first two options wait in locals: an empty `[]` gets a backing store of 17 slots at its
  // first push, a quarter of the bytes a short response's decode allocated. A message with one or
  // two options (most of them) so gets an array of exactly that size. From the third option on,
  // the array grows to 17 slots, as before.
  let options: CoapOption[] | undefined;
  let first: CoapOption | undefined;
  let second: CoapOption | undefined;
  let number = 0;
  let payload = EMPTY;
  while (pos < len) {
    const byte = buf[pos]!;
    if (byte === 0xff) {
      pos++;
      // RFC 7252 §3: a marker followed by a zero-length payload is a format error.
      if (pos === len) throw new MessageFormatError('payload marker with an empty payload', pos - 1);
      payload = buf.subarray(pos);
      break;
    }
    const start = pos;
    pos++;
    let delta = byte >> 4;
    let length = byte & 0x0f;
    if (delta === 13) {
      if (pos >= len) throw new MessageFormatError('option delta runs past the end', pos);
      delta = buf[pos++]! + 13;
    } else if (delta === 14) {
      if (pos + 1 >= len) throw new MessageFormatError('option delta runs past the end', pos);
      delta = ((buf[pos]! << 8) | buf[pos + 1]!) + 269;
      pos += 2;
    } else if (delta === 15) {
      throw new MessageFormatError('option delta 15 is reserved', start);
    }
    if (length === 13) {
      if (pos >= len) throw new MessageFormatError('option length runs past the end', pos);
      length = buf[pos++]! + 13;
    } else if (length === 14) {
      if (pos + 1 >= len) throw new MessageFormatError('option length runs past the end', pos);
      length = ((buf[pos]! << 8) | buf[pos + 1]!) + 269;
      pos += 2;
    } else if (length === 15) {
      throw new MessageFormatError('option length 15 is reserved', start);
    }
    number += delta;
    if (number > 65535) throw new MessageFormatError(`option number ${number} exceeds 65535`, start);
    if (pos + length > len) throw new MessageFormatError(`option ${number} value runs past the end`, pos);
    const option =
      length === 0 ? { number, value: EMPTY } : new DecodedOption(number, buf, pos, pos + length);
    if (options !== undefined) options.push(option);
    else if (first === undefined) first = option;
    else if (second === undefined) second = option;
    else {
      // One push at a time, so that it grows once, to 17 slots (three at once would make 20).
      options = [];
      options.push(first);
      options.push(second);
      options.push(option);
    }
    pos += length;
  }
  if (options === undefined)
    options = first === undefined ? [] : second === undefined ? [first] : [first, second];
  return { type, code, messageId, token, options, payload };
}
