/**
 * @module transport/udp-options
 * What `UdpTransport.create` takes: the addresses to bind, the multicast interfaces and hop
 * limit (RFC 7390 §2.2, §4.1), and the interfaces a node on several links joins on.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Address, MulticastOptions } from './types.js';

/** One interface to join groups on: its IPv4 address and its `::%name` for IPv6. */
export interface JoinInterface {
  readonly ipv4?: string | undefined;
  readonly ipv6?: string | undefined;
}

/** Options of `UdpTransport.create`. */
export interface UdpTransportOptions extends MulticastOptions {
  /** Unicast addresses to bind; port 0 picks a free one. Default: `127.0.0.1:0`. */
  readonly bind?: readonly Address[];
  /**
   * The interfaces `join()` without an interface joins, for a node on several links (RFC 7390
   * §4.1). Default: the multicast interface of the group's family (`ipv4Interface`,
   * `ipv6Interface`). Multicast is still sent on those.
   */
  readonly interfaces?: readonly JoinInterface[];
}

/** A hop limit is an integer 0-255 (RFC 7390 §2.2). */
export function checkHops(hops: number): void {
  if (!Number.isInteger(hops) || hops < 0 || hops > 255)
    throw new InvalidArgumentError(`hops must be an integer 0-255, got ${hops}`);
}
