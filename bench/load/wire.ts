// Hand-written CoAP bytes for the neutral load client (RFC 7252 §3), so the load it puts on a
// server owes nothing to either codec under test: request templates and a minimal response reader.

export const CON = 0;
export const NON = 1;
export const ACK = 2;
export const RST = 3;
export const CODE_GET = 0x01;
export const CODE_PUT = 0x03;
export const CODE_CONTENT = 0x45;
const URI_PATH = 11;
const CONTENT_FORMAT = 12;
const BLOCK2 = 23;

/** One option header for a delta and length below 13 each, or 13-268 (enough for the bench). */
function optionHeader(delta: number, length: number): number[] {
  const nib = (n: number) => Math.min(n, 13);
  const out = [(nib(delta) << 4) | nib(length)];
  if (delta >= 13) out.push(delta - 13);
  if (length >= 13) out.push(length - 13);
  return out;
}

/** RFC 7252 §3.2: a uint in the fewest bytes. */
function uintBytes(n: number): number[] {
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return out;
}

export interface RequestParts {
  readonly type: number;
  readonly code: number;
  readonly messageId: number;
  readonly token: Buffer;
  readonly path: readonly string[];
  readonly contentFormat?: number;
  /** The Block2 option value (RFC 7959 §2.2: NUM << 4 | M << 3 | SZX). */
  readonly block2?: number;
  readonly payload?: Buffer;
}

/** Encodes a request by hand: Uri-Path segments, then optional Content-Format and Block2. */
export function requestBytes(p: RequestParts): Buffer {
  const bytes: number[] = [
    0x40 | (p.type << 4) | p.token.length,
    p.code,
    p.messageId >> 8,
    p.messageId & 0xff,
  ];
  bytes.push(...p.token);
  let prev = 0;
  for (const seg of p.path) {
    const v = Buffer.from(seg);
    bytes.push(...optionHeader(URI_PATH - prev, v.length), ...v);
    prev = URI_PATH;
  }
  if (p.contentFormat !== undefined) {
    const v = uintBytes(p.contentFormat);
    bytes.push(...optionHeader(CONTENT_FORMAT - prev, v.length), ...v);
    prev = CONTENT_FORMAT;
  }
  if (p.block2 !== undefined) {
    const v = uintBytes(p.block2);
    bytes.push(...optionHeader(BLOCK2 - prev, v.length), ...v);
    prev = BLOCK2;
  }
  const out = Buffer.from(bytes);
  return p.payload && p.payload.length > 0 ? Buffer.concat([out, Buffer.from([0xff]), p.payload]) : out;
}

/** What the bench needs from a response: header fields, the Block2 option and the payload. */
export interface ResponseView {
  readonly type: number;
  readonly code: number;
  readonly messageId: number;
  readonly token: Buffer;
  /** Block2 as a number, or -1 when absent. */
  readonly block2: number;
  readonly payload: Buffer;
}

/** Reads a response; undefined when it is not well-formed CoAP. */
export function readResponse(b: Buffer): ResponseView | undefined {
  if (b.length < 4 || b[0]! >> 6 !== 1) return undefined;
  const tkl = b[0]! & 15;
  if (tkl > 8 || b.length < 4 + tkl) return undefined;
  let pos = 4 + tkl;
  let number = 0;
  let block2 = -1;
  let payload: Buffer = Buffer.alloc(0);
  while (pos < b.length) {
    const h = b[pos++]!;
    if (h === 0xff) {
      payload = b.subarray(pos);
      break;
    }
    let delta = h >> 4;
    let len = h & 15;
    if (delta === 15 || len === 15) return undefined;
    if (delta === 13) delta = b[pos++]! + 13;
    else if (delta === 14) delta = b.readUInt16BE((pos += 2) - 2) + 269;
    if (len === 13) len = b[pos++]! + 13;
    else if (len === 14) len = b.readUInt16BE((pos += 2) - 2) + 269;
    number += delta;
    if (pos + len > b.length) return undefined;
    if (number === BLOCK2) {
      block2 = 0;
      for (let i = 0; i < len; i++) block2 = block2 * 256 + b[pos + i]!;
    }
    pos += len;
  }
  return {
    type: (b[0]! >> 4) & 3,
    code: b[1]!,
    messageId: b.readUInt16BE(2),
    token: b.subarray(4, 4 + tkl),
    block2,
    payload,
  };
}
