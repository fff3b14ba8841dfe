/**
 * @module entry/transport
 * The package's `coap-group/transport` entry: the building blocks under the client and server.
 * Datagram transports (UDP with a socket per joined group, design.md §Multicast on Node; and the
 * in-memory network for tests), the message layer (`Messenger`: RFC 7252 §4 retransmission,
 * deduplication, ACK and RST), interface resolution, the injected clock and randomness, and IP
 * address facts (RFC 4291 §2.7 multicast, CIDR prefixes).
 */
export { Messenger, type MessengerOptions } from '../messenger/messenger.js';
export type { Runtime, TimerHandle } from '../runtime.js';
export { systemRuntime } from '../runtime.js';
export { type ResolvedInterface, resolveInterface } from '../transport/interfaces.js';
export {
  type LinkConditions,
  MemoryNetwork,
  MemoryTransport,
  type NetworkStats,
} from '../transport/memory.js';
export type {
  Address,
  Datagram,
  JoinedGroup,
  LocalSocket,
  MulticastOptions,
  Transport,
} from '../transport/types.js';
export { UdpTransport, type UdpTransportOptions } from '../transport/udp.js';
export { canonicalIPv6, cidrContains, ipFamily, isMulticast, parseCidr } from '../util/ip.js';
