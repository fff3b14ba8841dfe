/**
 * @module messenger/trace
 * Where the message layer tells what it does: every message sent and received, and every one
 * rejected, is published on the `coap:message:*` diagnostics channels and, with NODE_DEBUG=coap,
 * logged one line each through `util.debuglog`. With nobody listening each call tests two
 * flags and returns.
 */
import diagnostics from 'node:diagnostics_channel';
import { debuglog } from 'node:util';
import { decodeMessage } from '../message/decode.js';
import { describeMessage } from '../message/describe.js';
import type { CoapMessage } from '../message/types.js';
import type { Address, Datagram } from '../transport/types.js';

const sentChannel = diagnostics.channel('coap:message:sent');
const receivedChannel = diagnostics.channel('coap:message:received');
const rejectedChannel = diagnostics.channel('coap:message:rejected');
const debug = debuglog('coap');
/** Read once: NODE_DEBUG is fixed at start-up, and the hot path then tests one constant. */
const DEBUG = debug.enabled;

function peer(a: Address): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** A datagram about to be sent (`msg` when the caller has it decoded). */
export function traceSent(bytes: Buffer, remote: Address, msg: CoapMessage | undefined): void {
  if (sentChannel.hasSubscribers) sentChannel.publish({ bytes, remote, message: msg });
  if (DEBUG) debug('sent %s to %s', describeMessage(msg ?? decodeMessage(bytes)), peer(remote));
}

/** A message received and decoded. */
export function traceReceived(msg: CoapMessage, d: Datagram): void {
  if (receivedChannel.hasSubscribers)
    receivedChannel.publish({ message: msg, remote: d.remote, multicast: d.multicast });
  if (DEBUG)
    debug('received %s from %s%s', describeMessage(msg), peer(d.remote), d.multicast ? ' (multicast)' : '');
}

/** Bytes that are not a CoAP message. */
export function traceMalformed(d: Datagram, reason: string): void {
  if (rejectedChannel.hasSubscribers) rejectedChannel.publish({ remote: d.remote, reason });
  if (DEBUG) debug('received %d unreadable bytes from %s: %s', d.data.length, peer(d.remote), reason);
}

/** A well-formed message the layer rejects. */
export function traceRejected(d: Datagram, reason: string, msg: CoapMessage): void {
  if (rejectedChannel.hasSubscribers) rejectedChannel.publish({ remote: d.remote, reason, message: msg });
}
