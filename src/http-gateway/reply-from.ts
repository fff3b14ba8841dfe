/**
 * @module http-gateway/reply-from
 * The HTTP Reply-From header field (groupcomm-proxy §9.2): an RFC 9651 List with one Byte
 * Sequence member, the CRI of the member that sent a response (groupcomm-proxy §3: scheme and
 * authority only), built from the response's transport source address and port. The CRI is
 * `[scheme-id, [host-ip, ?port]]` (href §5.1): `coap` is scheme-id -1, the host an IP literal as
 * a byte string (4 or 16 bytes; an IPv4-mapped IPv6 address as its 4 bytes, no zone), the port
 * omitted when it is 5683 (href §2.1 C7). The field is serialised by `structured-headers`, which
 * writes the `:base64:` form of RFC 9651 §4.1.8 (the draft's example line, bare base64url, would
 * parse as a Token and be ignored). The gateway loads that package when it starts, so the rest
 * of the library never needs it.
 */
import type { List } from 'structured-headers';
import { criOfEndpoint, encodeCri } from '../uri/index.js';

/** The CBOR bytes of the CRI `coap://address:port` (href §5.1), as Reply-From carries it. */
export function memberCri(address: string, port: number): Buffer {
  return encodeCri(criOfEndpoint('coap', address, port));
}

/** `serializeList` of `structured-headers`. */
export type ListSerializer = (list: List) => string;

/** The Reply-From field value for a member, e.g. `:giCBRH8AAAI=:` for 127.0.0.2:5683. */
export function replyFromHeader(address: string, port: number, serialize: ListSerializer): string {
  // A copy, never `.buffer`: a small Buffer is a view into a shared pool.
  return serialize([[Uint8Array.from(memberCri(address, port)), new Map()]]);
}
