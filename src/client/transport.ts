/**
 * @module client/transport
 * The UDP sockets a client binds when it is given none: both address families on ephemeral
 * ports, or IPv4 alone on a host without IPv6.
 */
import type { Address, Transport } from '../transport/types.js';
import { UdpTransport } from '../transport/udp.js';

/** Binds `bind`, or 0.0.0.0 and :: on ephemeral ports (IPv4 alone when IPv6 is missing). */
export async function createClientTransport(
  bind: readonly Address[] | undefined,
  ipv4Interface: string | undefined,
  ipv6Interface: string | undefined,
  hops: number | undefined,
): Promise<Transport> {
  const common = { ipv4Interface, ipv6Interface, hops };
  if (bind) return UdpTransport.create({ bind, ...common });
  try {
    return await UdpTransport.create({
      bind: [
        { address: '0.0.0.0', port: 0 },
        { address: '::', port: 0 },
      ],
      ...common,
    });
  } catch {
    // A host without IPv6 still gets an IPv4 client.
    return UdpTransport.create({ bind: [{ address: '0.0.0.0', port: 0 }], ...common });
  }
}
