/**
 * @module oscore/endpoint/parts
 * Small pieces the client and server sides of the endpoint layer share: message parts to and
 * from whole messages (the primitives of RFC 8613 §8 take messages), the outer Block check
 * (RFC 8613 §4.1.3.4.2: the server pipeline and the client's security wrapper join Outer Block
 * fragments before a message is opened), and the diagnostics channel
 * `coap:oscore:rejected`, which reports a discarded message by sender and code, never by content.
 */
import diagnostics from 'node:diagnostics_channel';
import type { MessageParts } from '../../client/exchanger.js';
import { Code } from '../../message/codes.js';
import { type CoapMessage, type CoapOption, EMPTY, MessageType } from '../../message/types.js';
import { Opt } from '../../options/registry.js';
import { encodeUint, findOption, withOption } from '../../options/values.js';
import type { Address } from '../../transport/types.js';
import { decodePartialIv } from '../option.js';

const rejected = diagnostics.channel('coap:oscore:rejected');

/** Reports a discarded message: who sent it and why, never keys or plaintext. */
export function reportRejected(role: 'client' | 'server', remote: Address, err: unknown): void {
  if (!rejected.hasSubscribers) return;
  const code =
    typeof err === 'string'
      ? err
      : err instanceof Error && 'code' in err
        ? String(err.code)
        : 'ERR_OSCORE_FORMAT';
  rejected.publish({ role, remote: { address: remote.address, port: remote.port }, code });
}

/** A message around the parts, for the primitives that take whole messages. */
export function asMessage(parts: MessageParts): CoapMessage {
  return {
    type: MessageType.NON,
    code: parts.code,
    messageId: 0,
    token: EMPTY,
    options: parts.options,
    payload: parts.payload,
  };
}

/** The parts of a message. */
export function partsOf(msg: CoapMessage): MessageParts {
  return { code: msg.code, options: msg.options, payload: msg.payload };
}

/** True when Block1/Block2 sit outside the protection (RFC 8613 §4.1.3.4.2: not supported here). */
export function hasOuterBlock(msg: CoapMessage): boolean {
  return msg.options.some((o) => o.number === Opt.Block1 || o.number === Opt.Block2);
}

/**
 * RFC 8613 §4.1.3.5.2, §7.4.1: notifications are ordered by Partial IV, and one without a
 * Partial IV is the oldest. The Observe value a verified notification carries becomes Partial IV
 * + 1 (24 bits), so the RFC 7641 §3.4 ordering the client applies agrees: a first notification
 * that reused the request's nonce (value 0) is older than one with Partial IV 0.
 */
export function observeFromPartialIv(msg: CoapMessage, partialIv: Buffer | undefined): CoapMessage {
  const at = msg.options.findIndex((o) => o.number === Opt.Observe);
  if (at < 0 || partialIv === undefined) return msg;
  const options = [...msg.options];
  options[at] = { number: Opt.Observe, value: encodeUint((decodePartialIv(partialIv) + 1) % 0x1000000) };
  return { ...msg, options };
}

/** True when the parts carry Observe (a notification, RFC 7641 §4.2). */
export function isNotification(parts: MessageParts): boolean {
  return parts.options.some((o) => o.number === Opt.Observe);
}

/**
 * RFC 9175 §2.4 (RFC 8613 Appendix B.1.2, Group OSCORE draft §10): a verified 4.01 carrying
 * Echo asks for the request again with that Echo value. Returns the request to send, or
 * `undefined` when `opened` is no such challenge.
 */
export function echoRetry(
  plain: MessageParts,
  opened: { readonly code: number; readonly options: readonly CoapOption[] },
): MessageParts | undefined {
  if (opened.code !== Code.Unauthorized) return undefined;
  const echo = findOption(opened.options, Opt.Echo);
  if (echo === undefined) return undefined;
  return {
    code: plain.code,
    options: withOption(plain.options, Opt.Echo, echo.value),
    payload: plain.payload,
  };
}
