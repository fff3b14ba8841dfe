/**
 * @module transport/udp-groups
 * The group sockets of the UDP transport (RFC 7390 §2.2, §4.2 and Appendix A): one socket bound
 * to each joined (group, port), so a datagram arriving there is known to be multicast, with its
 * memberships reference-counted per interface. Joining an interface is what makes the kernel
 * send the IGMP/MLD report that tells the link's routers to forward the group there; dropping the
 * last reference sends the leave (IGMP leave, MLD done or a change to include nothing).
 *
 * A link-scoped IPv6 group (ff01::/16, ff02::/16) gets one socket per interface, bound with that
 * interface as its zone: the kernel then delivers to it only what came in on that interface, so
 * the answer can leave from an address on the same link (transport/local-addresses). Wider
 * groups and IPv4 share one socket across interfaces; their answer is chosen by the requester's
 * address.
 */
import dgram from 'node:dgram';
import { TransportError } from '../errors.js';
import { ipFamily, ipv6MulticastScope, splitZone } from '../util/ip.js';
import type { JoinedGroup } from './types.js';

/** One socket bound to a group. */
interface GroupSocket {
  readonly group: string;
  readonly port: number;
  readonly socket: dgram.Socket;
  /** The interface it is bound to (link-scoped IPv6 groups), else undefined. */
  readonly zone: string | undefined;
  /** iface -> refs */
  readonly ifaces: Map<string, number>;
}

/** Where group datagrams go: the datagram, its sender, the group, and the interface when known. */
export type GroupReceiver = (
  data: Buffer,
  remote: dgram.RemoteInfo,
  group: string,
  ingress: string | undefined,
) => void;

/** Binds `socket`, rejecting with the bind error. */
export function bindSocket(socket: dgram.Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: false }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/** True when an IPv6 group needs an interface to be bound (interface- and link-local scope). */
function linkScoped(group: string): boolean {
  return ipFamily(group) === 6 && ipv6MulticastScope(group) <= 2;
}

/** The group sockets of one transport. */
export class GroupSockets {
  readonly #groups = new Map<string, GroupSocket>();
  readonly #receive: GroupReceiver;

  constructor(receive: GroupReceiver) {
    this.#receive = receive;
  }

  /**
   * Joins `group` (no zone) on `port` on one interface (`ifaceAddr`: an IPv4 address or
   * `::%name`). `isClosed` is asked after each wait, so a close() meanwhile wins.
   */
  async join(group: string, port: number, ifaceAddr: string, isClosed: () => boolean): Promise<void> {
    const family = ipFamily(group);
    // A link-local IPv6 group is bound with its zone, which also filters by interface.
    const zone = linkScoped(group) ? splitZone(ifaceAddr).zone : undefined;
    const key = `${group}|${port}|${zone ?? ''}`;
    let gs = this.#groups.get(key);
    if (gs === undefined) {
      const socket = dgram.createSocket({
        type: family === 4 ? 'udp4' : 'udp6',
        reuseAddr: true,
        ipv6Only: family === 6,
      });
      try {
        await bindSocket(socket, zone ? `${group}%${zone}` : group, port);
      } catch (err) {
        socket.close();
        const e = err as NodeJS.ErrnoException;
        throw new TransportError(
          'ERR_COAP_JOIN',
          `cannot bind group ${group} port ${port}: ${e.code ?? e.message}`,
          {
            cause: err,
          },
        );
      }
      // Another join of this group, or close(), may have happened while binding.
      const raced = this.#groups.get(key);
      if (raced !== undefined || isClosed()) {
        socket.close();
        if (raced === undefined) throw new TransportError('ERR_COAP_CLOSED', 'the transport is closed');
        return this.join(group, port, ifaceAddr, isClosed);
      }
      socket.on('message', (data, rinfo) => this.#receive(data, rinfo, group, zone));
      socket.on('error', () => {});
      gs = { group, port, socket, zone, ifaces: new Map() };
      this.#groups.set(key, gs);
    }
    const refs = gs.ifaces.get(ifaceAddr) ?? 0;
    if (refs === 0) {
      try {
        gs.socket.addMembership(group, ifaceAddr);
      } catch (err) {
        if (gs.ifaces.size === 0) {
          gs.socket.close();
          this.#groups.delete(key);
        }
        const e = err as NodeJS.ErrnoException;
        throw new TransportError(
          'ERR_COAP_JOIN',
          `cannot join ${group} on interface ${ifaceAddr}: ${e.code ?? e.message}`,
          { cause: err },
        );
      }
    }
    gs.ifaces.set(ifaceAddr, refs + 1);
  }

  /** Drops one reference of `group` on `ifaceAddr`; the last one leaves, and closes the socket when it held nothing else. */
  async leave(group: string, port: number, ifaceAddr: string): Promise<void> {
    const zone = linkScoped(group) ? splitZone(ifaceAddr).zone : undefined;
    const key = `${group}|${port}|${zone ?? ''}`;
    const gs = this.#groups.get(key);
    const refs = gs?.ifaces.get(ifaceAddr);
    if (gs === undefined || refs === undefined) return;
    if (refs > 1) {
      gs.ifaces.set(ifaceAddr, refs - 1);
      return;
    }
    gs.ifaces.delete(ifaceAddr);
    try {
      gs.socket.dropMembership(group, ifaceAddr);
    } catch {
      // The interface may have gone away; the socket is closed below if nothing else holds it.
    }
    // Closing the socket matters: with IP_MULTICAST_ALL a socket bound to the group keeps
    // receiving while any other socket on the host is joined.
    if (gs.ifaces.size === 0) {
      this.#groups.delete(key);
      await new Promise<void>((r) => gs.socket.close(() => r()));
    }
  }

  /** Whether `group` is joined on `ifaceAddr` now. */
  holds(group: string, port: number, ifaceAddr: string): boolean {
    const zone = linkScoped(group) ? splitZone(ifaceAddr).zone : undefined;
    return (this.#groups.get(`${group}|${port}|${zone ?? ''}`)?.ifaces.get(ifaceAddr) ?? 0) > 0;
  }

  memberships(): JoinedGroup[] {
    const out: JoinedGroup[] = [];
    for (const gs of this.#groups.values()) {
      for (const [iface, refs] of gs.ifaces) out.push({ group: gs.group, port: gs.port, iface, refs });
    }
    return out;
  }

  /** Every group socket, for close(); the table is emptied. */
  takeAll(): dgram.Socket[] {
    const all = [...this.#groups.values()].map((g) => g.socket);
    this.#groups.clear();
    return all;
  }
}
