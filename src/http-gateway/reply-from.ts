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
import { COAP_PORT } from '../constants.js';
import { ipFamily, ipv6ToBytes, splitZone } from '../util/ip.js';

/** The host of an address as CRI bytes (href §5.1 host-ip). */
function hostBytes(address: string): Buffer {
  const bare = splitZone(address).address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  const v4 = mapped ? mapped[1]! : bare;
  if (ipFamily(v4) === 4) return Buffer.from(v4.split('.').map(Number));
  return ipv6ToBytes(bare);
}

/** The CBOR bytes of the CRI `coap://address:port` (href §5.1), as Reply-From carries it. */
export function memberCri(address: string, port: number): Buffer {
  const host = hostBytes(address);
  const withPort = port !== COAP_PORT;
  const portBytes = !withPort
    ? []
    : port < 24
      ? [port]
      : port < 256
        ? [0x18, port]
        : [0x19, port >> 8, port & 0xff];
  return Buffer.from([
    0x82, // array(2): scheme, authority
    0x20, // -1: coap (href §5.1.1)
    withPort ? 0x82 : 0x81, // authority array: host, ?port
    0x40 | host.length, // byte string of 4 or 16
    ...host,
    ...portBytes,
  ]);
}

/** `serializeList` of `structured-headers`. */
export type ListSerializer = (list: List) => string;

/** The Reply-From field value for a member, e.g. `:giCBRH8AAAI=:` for 127.0.0.2:5683. */
export function replyFromHeader(address: string, port: number, serialize: ListSerializer): string {
  // The Buffer itself, never `.buffer`: a small Buffer is a view into a shared pool.
  return serialize([[memberCri(address, port), new Map()]]);
}
