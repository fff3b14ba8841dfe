/**
 * @module message/types
 * The in-memory form of a CoAP message (RFC 7252 §3). Option values are kept as bytes; decoding
 * slices them out of the datagram without copying, and accessors in `options/values` read them.
 */

/** RFC 7252 §3: message types. */
export const MessageType = Object.freeze({ CON: 0, NON: 1, ACK: 2, RST: 3 } as const);
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** One option instance. Options in a message are ordered by number; repeats keep their order. */
export interface CoapOption {
  readonly number: number;
  readonly value: Buffer;
}

/** A CoAP message. `code` is the 8-bit code, `class << 5 | detail` (RFC 7252 §3). */
export interface CoapMessage {
  type: MessageType;
  code: number;
  messageId: number;
  token: Buffer;
  options: CoapOption[];
  payload: Buffer;
}

/** An empty buffer shared by every message without token or payload. */
export const EMPTY: Buffer = Buffer.alloc(0);
