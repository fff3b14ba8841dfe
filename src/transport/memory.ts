/**
 * @module transport/memory
 * An in-memory network for deterministic tests: transports with addresses, group membership,
 * and link conditions (loss, duplication, reordering, delay), all driven by an injected
 * `Runtime` so a `FakeRuntime` replays them exactly. Users can test their own code with it.
 *
 * @example
 * const rt = new FakeRuntime({ seed: 7 });
 * const net = new MemoryNetwork({ runtime: rt, conditions: { loss: 0.1 } });
 * const a = net.createTransport({ bind: [{ address: '192.0.2.1', port: 5683 }] });
 */
import { InvalidArgumentError, TransportError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { systemRuntime } from '../runtime.js';
import { ipFamily, isMulticast, splitZone } from '../util/ip.js';
import type {
  Address,
  Datagram,
  JoinedGroup,
  LocalSocket,
  MulticastOptions,
  SendCallback,
  Transport,
} from './types.js';

/** How the simulated links treat datagrams. Probabilities are in [0, 1]. */
export interface LinkConditions {
  /** Probability a datagram is lost. */
  readonly loss?: number;
  /** Probability a datagram is delivered twice. */
  readonly duplicate?: number;
  /** Probability a datagram is held back by `reorderDelay` (so later ones overtake it). */
  readonly reorder?: number;
  /** Extra delay of a reordered datagram, ms; default 50. */
  readonly reorderDelay?: number;
  /** Base one-way delay, ms; default 0. */
  readonly delay?: number;
  /** Uniform random extra delay up to this many ms; default 0. */
  readonly jitter?: number;
}

/** Counters of what the network did. */
export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
}

function checkProbability(name: string, p: number | undefined): void {
  if (p !== undefined && !(p >= 0 && p <= 1))
    throw new InvalidArgumentError(`${name} must be in [0, 1], got ${p}`);
}

/**
 * A simulated network shared by memory transports.
 *
 * @example
 * const net = new MemoryNetwork({ conditions: { loss: 0.1, delay: 5 } });
 * const server = new CoapServer({ transport: net.createTransport({ bind: [{ address: '10.0.0.1', port: 5683 }] }) });
 * const client = await CoapClient.create({ transport: net.createTransport({ bind: [{ address: '10.0.0.2', port: 0 }] }) });
 */
export class MemoryNetwork {
  readonly runtime: Runtime;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, duplicated: 0 };
  private conditions: LinkConditions = {};
  private readonly sockets = new Map<string, { transport: MemoryTransport; local: LocalSocket }>();
  private readonly groups = new Map<string, Set<MemoryTransport>>();
  private nextPort = 49152;

  constructor(options: { runtime?: Runtime; conditions?: LinkConditions } = {}) {
    this.runtime = options.runtime ?? systemRuntime;
    this.setConditions(options.conditions ?? {});
  }

  /** Changes the link conditions for datagrams sent from now on. */
  setConditions(c: LinkConditions): void {
    checkProbability('loss', c.loss);
    checkProbability('duplicate', c.duplicate);
    checkProbability('reorder', c.reorder);
    for (const k of ['delay', 'jitter', 'reorderDelay'] as const) {
      const v = c[k];
      if (v !== undefined && !(v >= 0)) throw new InvalidArgumentError(`${k} must be >= 0 ms, got ${v}`);
    }
    this.conditions = { ...c };
  }

  /** A transport bound to the given addresses (port 0 picks a free port). */
  createTransport(options: { bind?: readonly Address[] } & MulticastOptions = {}): MemoryTransport {
    const locals: LocalSocket[] = [];
    for (const b of options.bind ?? [{ address: '127.0.0.1', port: 0 }]) {
      const family = ipFamily(b.address);
      if (family === 0 || isMulticast(b.address)) {
        throw new InvalidArgumentError(`bind address ${b.address} is not a unicast IP address`);
      }
      let port = b.port;
      if (port === 0) while (this.sockets.has(`${b.address}|${(port = this.nextPort++)}`)) {}
      if (this.sockets.has(`${b.address}|${port}`)) {
        throw new TransportError('ERR_COAP_BIND', `cannot bind ${b.address} port ${port}: EADDRINUSE`);
      }
      locals.push({ address: b.address, port, family });
    }
    const t = new MemoryTransport(this, locals, options);
    for (const l of locals) this.sockets.set(`${l.address}|${l.port}`, { transport: t, local: l });
    return t;
  }

  /** @internal */
  unbind(t: MemoryTransport): void {
    for (const l of t.sockets) this.sockets.delete(`${l.address}|${l.port}`);
    for (const members of this.groups.values()) members.delete(t);
  }

  /** @internal */
  setMember(group: string, port: number, t: MemoryTransport, member: boolean): void {
    const key = `${group}|${port}`;
    let set = this.groups.get(key);
    if (set === undefined) this.groups.set(key, (set = new Set()));
    if (member) set.add(t);
    else set.delete(t);
    if (set.size === 0) this.groups.delete(key);
  }

  /** @internal Routes one datagram through the simulated links. */
  route(from: MemoryTransport, src: LocalSocket, data: Buffer, address: string, port: number): void {
    this.stats.sent++;
    const bare = splitZone(address).address;
    const copy = Buffer.from(data); // the sender may reuse its buffer
    const remote: Address = { address: src.address, port: src.port };
    if (isMulticast(bare)) {
      for (const t of this.groups.get(`${bare}|${port}`) ?? []) {
        if (t === from && !from.loopback) continue;
        const local = t.sockets.find((s) => s.family === src.family);
        if (local) this.transmit(t, { data: copy, remote, local, multicast: true, group: bare });
      }
      return;
    }
    const target = this.sockets.get(`${bare}|${port}`);
    if (target) {
      this.transmit(target.transport, {
        data: copy,
        remote,
        local: target.local,
        multicast: false,
        group: undefined,
      });
    }
  }

  private transmit(t: MemoryTransport, d: Datagram): void {
    const c = this.conditions;
    const rt = this.runtime;
    if (c.loss && rt.random() < c.loss) {
      this.stats.lost++;
      return;
    }
    const copies = c.duplicate && rt.random() < c.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      let delay = (c.delay ?? 0) + (c.jitter ? rt.random() * c.jitter : 0);
      if (c.reorder && rt.random() < c.reorder) delay += c.reorderDelay ?? 50;
      rt.setTimeout(() => {
        this.stats.delivered++;
        t.deliver(d);
      }, delay);
    }
  }
}

/**
 * A transport on a `MemoryNetwork`. Same contract as the UDP transport.
 *
 * @example
 * const net = new MemoryNetwork();
 * const transport = net.createTransport({ bind: [{ address: '10.0.0.1', port: 0 }] });
 * const server = new CoapServer({ transport });
 * await server.listen();
 * console.log(transport.sockets[0]?.port); // a free port of the simulated network
 */
export class MemoryTransport implements Transport {
  readonly sockets: readonly LocalSocket[];
  readonly loopback: boolean;
  private receiver: (d: Datagram) => void = () => {};
  private readonly joined = new Map<string, { group: string; port: number; iface: string; refs: number }>();
  private closed = false;
  private readonly network: MemoryNetwork;
  private readonly multicast: MulticastOptions;

  /** @internal use `MemoryNetwork.createTransport` */
  constructor(network: MemoryNetwork, sockets: LocalSocket[], multicast: MulticastOptions) {
    this.network = network;
    this.sockets = sockets;
    this.multicast = multicast;
    this.loopback = multicast.loopback ?? true;
  }

  setReceiver(receiver: (datagram: Datagram) => void): void {
    this.receiver = receiver;
  }

  /** @internal */
  deliver(d: Datagram): void {
    if (!this.closed) this.receiver(d);
  }

  send(data: Buffer, address: string, port: number, via?: LocalSocket, callback?: SendCallback): void {
    const family = ipFamily(address);
    const src = via ?? this.sockets.find((s) => s.family === family);
    let err: TransportError | null = null;
    if (this.closed) err = new TransportError('ERR_COAP_CLOSED', 'the transport is closed');
    else if (src === undefined)
      err = new TransportError('ERR_COAP_NO_SOCKET', `no socket to send to ${address}`);
    else if (
      isMulticast(address) &&
      (family === 4 ? this.multicast.ipv4Interface : this.multicast.ipv6Interface) === undefined
    ) {
      err = new TransportError(
        'ERR_COAP_NO_MULTICAST_INTERFACE',
        `refusing to send to ${address} without a multicast interface; set one (--iface)`,
      );
    } else this.network.route(this, src!, data, address, port);
    if (callback) queueMicrotask(() => callback(err));
  }

  private ifaceFor(group: string, iface: string | undefined): string {
    const zone = splitZone(group).zone;
    const i =
      iface ??
      (zone
        ? `::%${zone}`
        : ipFamily(group) === 4
          ? this.multicast.ipv4Interface
          : this.multicast.ipv6Interface);
    if (i === undefined) {
      throw new TransportError(
        'ERR_COAP_NO_MULTICAST_INTERFACE',
        `refusing to join ${group} without an interface; set one (--iface)`,
      );
    }
    return i;
  }

  async join(group: string, port: number, iface?: string): Promise<void> {
    if (!isMulticast(group)) throw new InvalidArgumentError(`${group} is not a multicast address`);
    const i = this.ifaceFor(group, iface);
    const bare = splitZone(group).address;
    const key = `${bare}|${port}|${i}`;
    const m = this.joined.get(key);
    if (m) m.refs++;
    else this.joined.set(key, { group: bare, port, iface: i, refs: 1 });
    this.network.setMember(bare, port, this, true);
  }

  async leave(group: string, port: number, iface?: string): Promise<void> {
    const i = this.ifaceFor(group, iface);
    const bare = splitZone(group).address;
    const key = `${bare}|${port}|${i}`;
    const m = this.joined.get(key);
    if (!m) return;
    if (--m.refs > 0) return;
    this.joined.delete(key);
    const still = [...this.joined.values()].some((j) => j.group === bare && j.port === port);
    if (!still) this.network.setMember(bare, port, this, false);
  }

  memberships(): JoinedGroup[] {
    return [...this.joined.values()].map((m) => ({ ...m }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.joined.clear();
    this.network.unbind(this);
  }
}
