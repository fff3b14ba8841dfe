/**
 * @module transport/literal-lookup
 * The address lookup the UDP transport gives dgram: an IP literal answered at once, anything
 * else through `dns.lookup`.
 */
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';

/**
 * dgram's address lookup for the unicast sockets. The stack sends to IP literals (received
 * addresses, and names resolved beforehand: client/resolve), and dgram's default passes every
 * one through `dns.lookup`, which parses it and answers on the next tick: one more hop, and
 * its allocations, before each `sendmsg`. A literal is answered at once, so the datagram leaves
 * during `send()`; anything else still goes to `dns.lookup`.
 */
export function literalLookup(
  address: string,
  options: LookupOneOptions | number,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  if (looksLiteral(address)) callback(null, address, address.includes(':') ? 6 : 4);
  else if (typeof options === 'number') dnsLookup(address, options, callback);
  else dnsLookup(address, options, callback);
}

/** True for text that can only be an IP literal: IPv6 has a colon, IPv4 is digits and dots. */
function looksLiteral(address: string): boolean {
  if (address.includes(':')) return true;
  if (address.length === 0) return false;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c !== 0x2e && (c < 0x30 || c > 0x39)) return false;
  }
  return true;
}
