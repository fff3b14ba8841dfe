/**
 * @module message/encode
 * `CoapMessage` to bytes (RFC 7252 §3, §3.1). Validates what the receiver would reject: token
 * length, code range, option numbers and value lengths. Allocates exactly one buffer per message.
 */
import { MessageEncodeError } from '../errors.js';
import { optionDefinition } from '../options/registry.js';
import type { CoapMessage, CoapOption } from './types.js';

/**
 * Node's `Buffer.allocUnsafe`, read once: in an ES module the global `Buffer` is an accessor
 * property, whose getter V8 calls on every read, even in optimised code.
 */
const allocUnsafe = Buffer.allocUnsafe;

function extendedSize(n: number): number {
  return n < 13 ? 0 : n < 269 ? 1 : 2;
}

function nibble(n: number): number {
  return n < 13 ? n : n < 269 ? 13 : 14;
}

function isSorted(options: readonly CoapOption[]): boolean {
  for (let i = 1; i < options.length; i++) if (options[i]!.number < options[i - 1]!.number) return false;
  return true;
}

/**
 * Encodes a message. Options need not be sorted: they are ordered by number (stable, so the
 * order of repeated options is kept).
 * @throws MessageEncodeError naming the offending field.
 */
export function encodeMessage(msg: CoapMessage): Buffer {
  const { token, payload } = msg;
  if (token.length > 8) throw new MessageEncodeError(`token of ${token.length} bytes; at most 8 allowed`);
  if (!Number.isInteger(msg.code) || msg.code < 0 || msg.code > 255) {
    throw new MessageEncodeError(`code ${msg.code} is outside 0-255`);
  }
  if (!Number.isInteger(msg.messageId) || msg.messageId < 0 || msg.messageId > 0xffff) {
    throw new MessageEncodeError(`message ID ${msg.messageId} is outside 0-65535`);
  }
  if (msg.type < 0 || msg.type > 3) throw new MessageEncodeError(`message type ${msg.type} is outside 0-3`);
  const options = isSorted(msg.options) ? msg.options : [...msg.options].sort((a, b) => a.number - b.number);
  if (msg.code === 0 && (token.length > 0 || options.length > 0 || payload.length > 0)) {
    throw new MessageEncodeError('an Empty message (0.00) carries no token, options or payload');
  }
  let size = 4 + token.length;
  let prev = 0;
  for (let i = 0; i < options.length; i++) {
    const o = options[i]!;
    const n = o.number;
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new MessageEncodeError(`option number ${n}`);
    const l = o.value.length;
    const d = optionDefinition(n);
    if (d !== undefined && (l < d.minLength || l > d.maxLength)) {
      throw new MessageEncodeError(`${d.name} value of ${l} bytes; allowed ${d.minLength}-${d.maxLength}`);
    }
    if (l > 65804) throw new MessageEncodeError(`option ${n} value of ${l} bytes is too long`);
    const delta = n - prev;
    size += 1 + extendedSize(delta) + extendedSize(l) + l;
    prev = n;
  }
  if (payload.length > 0) size += 1 + payload.length;

  const out = allocUnsafe(size);
  out[0] = 0x40 | (msg.type << 4) | token.length;
  out[1] = msg.code;
  out[2] = msg.messageId >> 8;
  out[3] = msg.messageId & 0xff;
  let pos = copyInto(out, 4, token);
  prev = 0;
  for (let i = 0; i < options.length; i++) {
    const o = options[i]!;
    const delta = o.number - prev;
    prev = o.number;
    const l = o.value.length;
    out[pos++] = (nibble(delta) << 4) | nibble(l);
    pos = writeExtended(out, pos, delta);
    pos = writeExtended(out, pos, l);
    if (l > 0) pos = copyInto(out, pos, o.value);
  }
  if (payload.length > 0) {
    out[pos++] = 0xff;
    copyInto(out, pos, payload);
  }
  return out;
}

/**
 * Copies `src` into `out` at `pos`; returns the position after it. A token, an option value or a
 * short payload is copied byte by byte: `Buffer#copy` makes a `Uint8Array` of the source for
 * each call, which costs more than copying a few dozen bytes.
 */
function copyInto(out: Buffer, pos: number, src: Uint8Array): number {
  const n = src.length;
  if (n > 64) out.set(src, pos);
  else for (let i = 0; i < n; i++) out[pos + i] = src[i]!;
  return pos + n;
}

function writeExtended(out: Buffer, pos: number, n: number): number {
  if (n < 13) return pos;
  if (n < 269) {
    out[pos] = n - 13;
    return pos + 1;
  }
  const v = n - 269;
  out[pos] = v >> 8;
  out[pos + 1] = v & 0xff;
  return pos + 2;
}
