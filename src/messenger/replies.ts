/**
 * @module messenger/replies
 * The replies the message layer makes on its own: empty ACK and RST (RFC 7252 §4.2, §4.3), the
 * RST to a Confirmable datagram that cannot be read (§4.2), and the piggy-backed 4.02 Bad Option
 * to a CON request with a critical option nobody understands (§5.4.1).
 */
import { Code } from '../message/codes.js';
import { type CoapMessage, EMPTY, MessageType } from '../message/types.js';

/** An empty message (ACK or RST) with this Message ID. */
export function emptyMessage(type: MessageType, messageId: number): CoapMessage {
  return { type, code: 0, messageId, token: EMPTY, options: [], payload: EMPTY };
}

/**
 * The RST for bytes that are not a CoAP message, when their header is readable and says CON
 * (RFC 7252 §4.2); undefined otherwise: never for multicast (§8.1), never for another version
 * (§3: silently ignore).
 */
export function rstForUnreadable(data: Buffer, multicast: boolean): CoapMessage | undefined {
  if (multicast || data.length < 4 || data[0]! >> 6 !== 1 || ((data[0]! >> 4) & 3) !== MessageType.CON)
    return undefined;
  return emptyMessage(MessageType.RST, (data[2]! << 8) | data[3]!);
}

/** The piggy-backed 4.02 to a CON request carrying `option`, which nobody above understands. */
export function badOption(request: CoapMessage, option: number): CoapMessage {
  return {
    type: MessageType.ACK,
    code: Code.BadOption,
    messageId: request.messageId,
    token: request.token,
    options: [],
    payload: Buffer.from(`unrecognized critical option ${option}`),
  };
}
