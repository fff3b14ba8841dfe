/**
 * @module transport/udp
 * The UDP transport over `node:dgram` (RFC 7252 §3 over UDP; RFC 7390 §2 multicast).
 *
 * Unicast sockets are bound to explicit addresses, never the wildcard: on Linux a wildcard socket
 * would also receive every group joined on the host, and a multicast request would then look
 * like a unicast one (design.md §Multicast on Node). Each joined (group, port) gets its own socket
 * bound to the group address; a datagram arriving there is multicast.
 */
import dgram from 'node:dgram';
import { InvalidArgumentError, TransportError } from '../errors.js';
import { ipFamily, isMulticast, isMulticastQuick, splitZone } from '../util/ip.js';
import type {
  Address,
  Datagram,
  JoinedGroup,
  LocalSocket,
  MulticastOptions,
  SendCallback,
  Transport,
} from './types.js';

/** Options of `UdpTransport.create`. */
export interface UdpTransportOptions extends MulticastOptions {
  /** Unicast addresses to bind; port 0 picks a free one. Default: `127.0.0.1:0`. */
  readonly bind?: readonly Address[];
}

interface BoundSocket extends LocalSocket {
  readonly socket: dgram.Socket;
}

interface GroupSocket {
  readonly group: string;
  readonly port: number;
  readonly socket: dgram.Socket;
  /** iface -> refs */
  readonly ifaces: Map<string, number>;
}

function bindSocket(socket: dgram.Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: false }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/**
 * UDP transport. Create it with `UdpTransport.create()`, which resolves once every socket is bound.
 *
 * @example
 * const t = await UdpTransport.create({ bind: [{ address: '127.0.0.2', port: 5683 }], ipv4Interface: '127.0.0.1' });
 * await t.join('224.0.1.187', 5683);
 */
export class UdpTransport implements Transport {
  readonly sockets: readonly LocalSocket[];
  private readonly bound: BoundSocket[];
  private readonly groups = new Map<string, GroupSocket>();
  private readonly byLocal = new Map<LocalSocket, dgram.Socket>();
  private readonly firstOf: Record<4 | 6, dgram.Socket | undefined> = { 4: undefined, 6: undefined };
  private receiver: (d: Datagram) => void = () => {};
  private closed = false;
  private readonly options: UdpTransportOptions;

  private constructor(bound: BoundSocket[], options: UdpTransportOptions) {
    this.bound = bound;
    this.sockets = bound.map(({ address, port, family }) => ({ address, port, family }));
    this.options = options;
    for (let i = 0; i < bound.length; i++) {
      const b = bound[i]!;
      const local = this.sockets[i]!;
      this.byLocal.set(local, b.socket);
      this.firstOf[b.family] ??= b.socket;
      b.socket.on('message', (data, rinfo) => {
        this.receiver({ data, remote: rinfo, local, multicast: false, group: undefined });
      });
      // A send error without a callback, or an ICMP error, must not crash the process.
      b.socket.on('error', () => {});
    }
  }

  /** Binds the sockets. Rejects with `TransportError` (`ERR_COAP_BIND`) naming the address. */
  static async create(options: UdpTransportOptions = {}): Promise<UdpTransport> {
    const binds = options.bind ?? [{ address: '127.0.0.1', port: 0 }];
    if (binds.length === 0) throw new InvalidArgumentError('bind needs at least one address');
    const hops = options.hops ?? 1;
    if (!Number.isInteger(hops) || hops < 0 || hops > 255) {
      throw new InvalidArgumentError(`hops must be an integer 0-255, got ${hops}`);
    }
    const bound: BoundSocket[] = [];
    try {
      for (const b of binds) {
        const family = ipFamily(b.address);
        if (family === 0) throw new InvalidArgumentError(`bind address ${b.address} is not an IP address`);
        if (isMulticast(b.address)) {
          throw new InvalidArgumentError(`bind address ${b.address} is multicast; join groups with join()`);
        }
        if (!Number.isInteger(b.port) || b.port < 0 || b.port > 65535) {
          throw new InvalidArgumentError(`bind port ${b.port} is outside 0-65535`);
        }
        // ipv6Only: a dual-stack socket would send to ::ffff:224.x.y.z as IPv4 multicast, which
        // no IPv6 multicast interface setting pins, so it could follow the default route.
        const socket = dgram.createSocket({
          type: family === 4 ? 'udp4' : 'udp6',
          reuseAddr: false,
          ipv6Only: family === 6,
        });
        try {
          await bindSocket(socket, b.address, b.port);
        } catch (err) {
          socket.close();
          const e = err as NodeJS.ErrnoException;
          throw new TransportError(
            'ERR_COAP_BIND',
            `cannot bind ${b.address} port ${b.port}: ${e.code ?? e.message}`,
            {
              cause: err,
            },
          );
        }
        const addr = socket.address();
        bound.push({ socket, address: b.address, port: addr.port, family });
        configureMulticast(socket, family, options, hops);
      }
    } catch (err) {
      for (const b of bound) b.socket.close();
      throw err;
    }
    return new UdpTransport(bound, options);
  }

  setReceiver(receiver: (datagram: Datagram) => void): void {
    this.receiver = receiver;
  }

  send(data: Buffer, address: string, port: number, via?: LocalSocket, callback?: SendCallback): void {
    // Hot path: the socket comes from a map keyed by the LocalSocket object the datagram
    // arrived on, and the family and multicast tests read characters instead of parsing.
    const family = address.includes(':') ? 6 : 4;
    const socket = via !== undefined ? this.byLocal.get(via) : this.firstOf[family];
    if (this.closed || socket === undefined || (isMulticastQuick(address) && !this.canMulticast(family))) {
      if (callback) queueMicrotask(() => callback(this.sendError(address, family, socket)));
      return;
    }
    if (callback) socket.send(data, port, address, (err) => callback(err ?? null));
    else socket.send(data, port, address);
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

  async join(group: string, port: number, iface?: string): Promise<void> {
    const family = ipFamily(group);
    if (!isMulticast(group)) throw new InvalidArgumentError(`${group} is not a multicast address`);
    const { address: bare, zone } = splitZone(group);
    const ifaceAddr =
      iface ?? (zone ? `::%${zone}` : family === 4 ? this.options.ipv4Interface : this.options.ipv6Interface);
    if (ifaceAddr === undefined) {
      throw new TransportError(
        'ERR_COAP_NO_MULTICAST_INTERFACE',
        `refusing to join ${group} without an interface; set one (--iface)`,
      );
    }
    if (this.closed) throw new TransportError('ERR_COAP_CLOSED', 'the transport is closed');
    const key = `${bare}|${port}`;
    let gs = this.groups.get(key);
    if (gs === undefined) {
      const socket = dgram.createSocket({
        type: family === 4 ? 'udp4' : 'udp6',
        reuseAddr: true,
        ipv6Only: family === 6,
      });
      try {
        // Binding a link-local IPv6 group needs its zone: from the group, else from the interface.
        const bindZone = family === 6 ? (zone ?? splitZone(ifaceAddr).zone) : undefined;
        await bindSocket(socket, bindZone ? `${bare}%${bindZone}` : bare, port);
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
      const answer = this.bound.find((b) => b.family === family);
      if (answer === undefined) {
        socket.close();
        throw new TransportError(
          'ERR_COAP_NO_SOCKET',
          `no IPv${family} unicast socket to answer group ${group}`,
        );
      }
      // Another join of this group, or close(), may have happened while binding.
      const raced = this.groups.get(key);
      if (raced !== undefined || this.closed) {
        socket.close();
        if (raced === undefined) throw new TransportError('ERR_COAP_CLOSED', 'the transport is closed');
        return this.join(group, port, iface);
      }
      const local = this.sockets[this.bound.indexOf(answer)]!;
      socket.on('message', (data, rinfo) => {
        this.receiver({ data, remote: rinfo, local, multicast: true, group: bare });
      });
      socket.on('error', () => {});
      gs = { group: bare, port, socket, ifaces: new Map() };
      this.groups.set(key, gs);
    }
    const refs = gs.ifaces.get(ifaceAddr) ?? 0;
    if (refs === 0) {
      try {
        gs.socket.addMembership(bare, ifaceAddr);
      } catch (err) {
        if (gs.ifaces.size === 0) {
          gs.socket.close();
          this.groups.delete(key);
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

  async leave(group: string, port: number, iface?: string): Promise<void> {
    const { address: bare, zone } = splitZone(group);
    const family = ipFamily(group);
    const ifaceAddr =
      iface ?? (zone ? `::%${zone}` : family === 4 ? this.options.ipv4Interface : this.options.ipv6Interface);
    const key = `${bare}|${port}`;
    const gs = this.groups.get(key);
    if (gs === undefined || ifaceAddr === undefined) return;
    const refs = gs.ifaces.get(ifaceAddr);
    if (refs === undefined) return;
    if (refs > 1) {
      gs.ifaces.set(ifaceAddr, refs - 1);
      return;
    }
    gs.ifaces.delete(ifaceAddr);
    try {
      gs.socket.dropMembership(bare, ifaceAddr);
    } catch {
      // The interface may have gone away; the socket is closed below if nothing else holds it.
    }
    // Closing the socket matters: with IP_MULTICAST_ALL a socket bound to the group keeps
    // receiving while any other socket on the host is joined.
    if (gs.ifaces.size === 0) {
      this.groups.delete(key);
      await new Promise<void>((r) => gs.socket.close(() => r()));
    }
  }

  memberships(): JoinedGroup[] {
    const out: JoinedGroup[] = [];
    for (const gs of this.groups.values()) {
      for (const [iface, refs] of gs.ifaces) out.push({ group: gs.group, port: gs.port, iface, refs });
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.bound.map((b) => b.socket), ...[...this.groups.values()].map((g) => g.socket)];
    this.groups.clear();
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
