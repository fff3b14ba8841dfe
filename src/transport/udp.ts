/**
 * @module transport/udp
 * The UDP transport over `node:dgram` (RFC 7252 §3 over UDP; RFC 7390 §2 multicast).
 *
 * Unicast sockets are bound to explicit addresses, never the wildcard: on Linux a wildcard socket
 * would also receive every group joined on the host, and a multicast request would then look
 * like a unicast one (design.md §Multicast on Node). Each joined (group, port) gets its own socket
 * bound to the group address (transport/udp-groups); a datagram arriving there is multicast, and
 * is answered from the unicast address the requester can reach on its link
 * (transport/local-addresses). A node on several links joins each of them (`interfaces`), and
 * sockets can be added and removed while it runs, for addresses that come and go.
 */
import dgram from 'node:dgram';
import { InvalidArgumentError, TransportError } from '../errors.js';
import { ipFamily, isMulticast, isMulticastQuick, splitZone } from '../util/ip.js';
import { literalLookup } from './literal-lookup.js';
import { type AnswerCandidate, chooseAnswer, type LocalFacts, localFacts } from './local-addresses.js';
import type {
  Address,
  Datagram,
  JoinedGroup,
  LocalSocket,
  MulticastOptions,
  SendCallback,
  Transport,
} from './types.js';
import { bindSocket, GroupSockets } from './udp-groups.js';
import { checkHops, type JoinInterface, type UdpTransportOptions } from './udp-options.js';

export type { JoinInterface, UdpTransportOptions };

const NO_FACTS: LocalFacts = { iface: undefined, prefix: undefined, linkLocal: false };
const isUnspecified = (address: string): boolean => address === '0.0.0.0' || address === '::';

interface BoundSocket extends AnswerCandidate<LocalSocket> {
  readonly socket: dgram.Socket;
}

/**
 * UDP transport. Create it with `UdpTransport.create()`, which resolves once every socket is bound.
 *
 * @example
 * const t = await UdpTransport.create({ bind: [{ address: '127.0.0.2', port: 5683 }], ipv4Interface: '127.0.0.1' });
 * await t.join('224.0.1.187', 5683);
 */
export class UdpTransport implements Transport {
  private bound: BoundSocket[] = [];
  private readonly byLocal = new Map<LocalSocket, dgram.Socket>();
  private firstOf: Record<4 | 6, dgram.Socket | undefined> = { 4: undefined, 6: undefined };
  private readonly groups: GroupSockets;
  private receiver: (d: Datagram) => void = () => {};
  private closed = false;
  private readonly options: UdpTransportOptions;

  private constructor(options: UdpTransportOptions) {
    this.options = options;
    this.groups = new GroupSockets((data, rinfo, group, ingress) => {
      // The requester's zone (a link-local source) names the interface it came in on too.
      const link = splitZone(rinfo.address).zone ?? ingress;
      const local = chooseAnswer(this.bound, rinfo.address, link);
      if (local !== undefined) this.receiver({ data, remote: rinfo, local, multicast: true, group });
    });
  }

  /** The unicast sockets, in bind order (sockets added later come last). */
  get sockets(): readonly LocalSocket[] {
    return this.bound.map((b) => b.local);
  }

  /** Binds the sockets. Rejects with `TransportError` (`ERR_COAP_BIND`) naming the address. */
  static async create(options: UdpTransportOptions = {}): Promise<UdpTransport> {
    const binds = options.bind ?? [{ address: '127.0.0.1', port: 0 }];
    if (binds.length === 0) throw new InvalidArgumentError('bind needs at least one address');
    checkHops(options.hops ?? 1);
    const t = new UdpTransport(options);
    try {
      for (const b of binds) await t.addSocket(b);
    } catch (err) {
      await t.close();
      throw err;
    }
    return t;
  }

  /**
   * Binds one more unicast address, for an address that appeared after start-up. Rejects with
   * `TransportError` (`ERR_COAP_BIND`) naming the address.
   */
  async addSocket(b: Address): Promise<LocalSocket> {
    const family = ipFamily(b.address);
    if (family === 0) throw new InvalidArgumentError(`bind address ${b.address} is not an IP address`);
    if (isMulticast(b.address)) {
      throw new InvalidArgumentError(`bind address ${b.address} is multicast; join groups with join()`);
    }
    if (!Number.isInteger(b.port) || b.port < 0 || b.port > 65535) {
      throw new InvalidArgumentError(`bind port ${b.port} is outside 0-65535`);
    }
    if (this.closed) throw new TransportError('ERR_COAP_CLOSED', 'the transport is closed');
    // ipv6Only: a dual-stack socket would send to ::ffff:224.x.y.z as IPv4 multicast, which
    // no IPv6 multicast interface setting pins, so it could follow the default route.
    const socket = dgram.createSocket({
      type: family === 4 ? 'udp4' : 'udp6',
      reuseAddr: false,
      ipv6Only: family === 6,
      lookup: literalLookup,
    });
    try {
      await bindSocket(socket, b.address, b.port);
      // A socket bound to a zoned (link-local) address can only send on its own interface.
      const zone = splitZone(b.address).zone;
      const options = zone === undefined ? this.options : { ...this.options, ipv6Interface: `::%${zone}` };
      configureMulticast(socket, family, options, this.options.hops ?? 1);
    } catch (err) {
      socket.close();
      if (err instanceof TransportError) throw err;
      const e = err as NodeJS.ErrnoException;
      throw new TransportError(
        'ERR_COAP_BIND',
        `cannot bind ${b.address} port ${b.port}: ${e.code ?? e.message}`,
        {
          cause: err,
        },
      );
    }
    if (this.closed) {
      socket.close();
      throw new TransportError('ERR_COAP_CLOSED', 'the transport is closed');
    }
    const local: LocalSocket = { address: b.address, port: socket.address().port, family };
    // The unspecified address (a client's socket) is on no interface: nothing to look up, and a
    // one-shot command saves reading the interface table.
    const facts: LocalFacts = isUnspecified(b.address) ? NO_FACTS : localFacts(b.address);
    socket.on('message', (data, rinfo) => {
      this.receiver({ data, remote: rinfo, local, multicast: false, group: undefined });
    });
    // A send error without a callback, or an ICMP error, must not crash the process.
    socket.on('error', () => {});
    this.bound.push({ local, family, facts, socket });
    this.byLocal.set(local, socket);
    this.firstOf[family] ??= socket;
    return local;
  }

  /** Closes one unicast socket, for an address that went away. Sends through it fail from now on. */
  async removeSocket(local: LocalSocket): Promise<void> {
    const b = this.bound.find((x) => x.local === local);
    if (b === undefined) return;
    this.bound = this.bound.filter((x) => x !== b);
    this.byLocal.delete(local);
    this.firstOf = {
      4: this.bound.find((x) => x.family === 4)?.socket,
      6: this.bound.find((x) => x.family === 6)?.socket,
    };
    await new Promise<void>((r) => b.socket.close(() => r()));
  }

  setReceiver(receiver: (datagram: Datagram) => void): void {
    this.receiver = receiver;
  }

  send(data: Buffer, address: string, port: number, via?: LocalSocket, callback?: SendCallback): void {
    // Hot path: the socket comes from a map keyed by the LocalSocket object the datagram
    // arrived on, and the family and multicast tests read characters instead of parsing.
    const family = address.includes(':') ? 6 : 4;
    const socket = via !== undefined ? this.byLocal.get(via) : this.defaultSocket(address, family);
    if (this.closed || socket === undefined || (isMulticastQuick(address) && !this.canMulticast(family))) {
      if (callback) queueMicrotask(() => callback(this.sendError(address, family, socket)));
      return;
    }
    if (callback) socket.send(data, port, address, (err) => callback(err ?? null));
    else socket.send(data, port, address);
  }

  /** The socket a send without `via` leaves from: for a zoned (link-local) destination, one on its link. */
  private defaultSocket(address: string, family: 4 | 6): dgram.Socket | undefined {
    if (family === 6 && address.includes('%') && this.bound.length > 1) {
      const local = chooseAnswer(this.bound, address, undefined);
      if (local !== undefined) return this.byLocal.get(local);
    }
    return this.firstOf[family];
  }

  private canMulticast(family: 4 | 6): boolean {
    return (family === 4 ? this.options.ipv4Interface : this.options.ipv6Interface) !== undefined;
  }

  private sendError(address: string, family: 4 | 6, socket: dgram.Socket | undefined): TransportError {
    if (this.closed) return new TransportError('ERR_COAP_CLOSED', 'the transport is closed');
    if (socket === undefined) {
      return new TransportError(
        'ERR_COAP_NO_SOCKET',
        `no IPv${family} socket is bound to send to ${address}`,
      );
    }
    return new TransportError(
      'ERR_COAP_NO_MULTICAST_INTERFACE',
      `refusing to send to ${address} without a multicast interface; set one (--iface)`,
    );
  }

  /**
   * The interfaces a join of `group` uses: the one named, the group's zone, else every
   * interface of `interfaces` that has the family, else the family's multicast interface.
   */
  private interfacesFor(group: string, iface: string | undefined): string[] {
    if (iface !== undefined) return [iface];
    const zone = splitZone(group).zone;
    if (zone) return [`::%${zone}`];
    const family = ipFamily(group);
    const pick = (i: JoinInterface) => (family === 4 ? i.ipv4 : i.ipv6);
    const list = this.options.interfaces?.map(pick) ?? [
      pick({ ipv4: this.options.ipv4Interface, ipv6: this.options.ipv6Interface }),
    ];
    return [...new Set(list.filter((x): x is string => x !== undefined))];
  }

  async join(group: string, port: number, iface?: string): Promise<void> {
    const family = ipFamily(group);
    if (!isMulticast(group)) throw new InvalidArgumentError(`${group} is not a multicast address`);
    const ifaces = this.interfacesFor(group, iface);
    if (ifaces.length === 0) {
      throw new TransportError(
        'ERR_COAP_NO_MULTICAST_INTERFACE',
        `refusing to join ${group} without an interface; set one (--iface)`,
      );
    }
    if (this.closed) throw new TransportError('ERR_COAP_CLOSED', 'the transport is closed');
    if (!this.bound.some((b) => b.family === family)) {
      throw new TransportError(
        'ERR_COAP_NO_SOCKET',
        `no IPv${family} unicast socket to answer group ${group}`,
      );
    }
    const bare = splitZone(group).address;
    const done: string[] = [];
    try {
      for (const i of ifaces) {
        await this.groups.join(bare, port, i, () => this.closed);
        done.push(i);
      }
    } catch (err) {
      // All the interfaces or none: a join that fails on one link leaves the others as they were.
      for (const i of done) await this.groups.leave(bare, port, i);
      throw err;
    }
  }

  async leave(group: string, port: number, iface?: string): Promise<void> {
    const bare = splitZone(group).address;
    for (const i of this.interfacesFor(group, iface)) await this.groups.leave(bare, port, i);
  }

  memberships(): JoinedGroup[] {
    return this.groups.memberships();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.bound.map((b) => b.socket), ...this.groups.takeAll()];
    await Promise.all(all.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

function configureMulticast(
  socket: dgram.Socket,
  family: 4 | 6,
  options: MulticastOptions,
  hops: number,
): void {
  const iface = family === 4 ? options.ipv4Interface : options.ipv6Interface;
  if (iface === undefined) return;
  try {
    socket.setMulticastInterface(iface);
    socket.setMulticastTTL(hops);
    socket.setMulticastLoopback(options.loopback ?? true);
  } catch (err) {
    // The caller closes every bound socket, this one included.
    const e = err as NodeJS.ErrnoException;
    throw new TransportError(
      'ERR_COAP_MULTICAST_INTERFACE',
      `cannot use ${iface} as the multicast interface: ${e.code ?? e.message}`,
      { cause: err },
    );
  }
}
