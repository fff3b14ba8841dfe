/**
 * A deterministic "room" for group-communication tests (RFC 7390 §2): a FakeRuntime, a
 * MemoryNetwork, N CoAP servers at 192.0.2.1..N:5683 that joined All CoAP Nodes (224.0.1.187),
 * and a client at 192.0.2.100. Every transport uses the memory interface name `mem0`.
 * Handlers are counted per node and path so a test can tell "not sent" from "not processed".
 */
import { CoapClient } from '../../src/client/client.js';
import type { GroupRequestOptions, GroupResponse, GroupSummary } from '../../src/client/group.js';
import { FakeRuntime } from '../../src/fake-runtime.js';
import type { LeisureSetting } from '../../src/server/leisure.js';
import { CoapServer } from '../../src/server/server.js';
import { type LinkConditions, MemoryNetwork, type MemoryTransport } from '../../src/transport/memory.js';
import { isMulticast } from '../../src/util/ip.js';
import { type Received, tap } from './mem-net.js';

export const GROUP_HOST = '224.0.1.187';
export const GROUP_URI = `coap://${GROUP_HOST}`;
export const IFACE = 'mem0';

/** One server of the room. */
export interface RoomNode {
  readonly index: number;
  readonly address: string;
  readonly server: CoapServer;
  readonly transport: MemoryTransport;
  /** Handler calls by `METHOD /path`. */
  readonly calls: Map<string, number>;
  /** Virtual times at which each handler call happened. */
  readonly callTimes: number[];
}

export interface RoomOptions {
  seed?: number;
  nodes?: number;
  /** Leisure of every node (seconds), or per node. */
  leisure?: LeisureSetting | ((index: number) => LeisureSetting);
  conditions?: LinkConditions;
  /** Adds resources to node `index` (0-based) before it listens. */
  setup?: (server: CoapServer, node: RoomNode) => void;
  /** More groups every node joins, e.g. `239.1.2.3`. */
  groups?: readonly string[];
  /** Transmission parameters of the client. */
  clientTransmission?: { probingRate?: number; defaultLeisure?: number };
}

export interface Room {
  readonly rt: FakeRuntime;
  readonly net: MemoryNetwork;
  readonly nodes: RoomNode[];
  readonly client: CoapClient;
  /** Another client at 192.0.2.101 on demand (closed by `close()`). */
  secondClient(): Promise<CoapClient>;
  /** Other things to close with the room (raw transports). */
  readonly extras: Array<{ close(): Promise<void> }>;
  /** Closes every client, server and transport made here. */
  close(): Promise<void>;
}

/** Counts a handler call on `node` under `key`. */
export function count(node: RoomNode, key: string, now: number): void {
  node.calls.set(key, (node.calls.get(key) ?? 0) + 1);
  node.callTimes.push(now);
}

/** Builds the room and starts every server. */
export async function makeRoom(o: RoomOptions = {}): Promise<Room> {
  const rt = new FakeRuntime({ seed: o.seed ?? 1 });
  const net = new MemoryNetwork({ runtime: rt, ...(o.conditions ? { conditions: o.conditions } : {}) });
  const nodes: RoomNode[] = [];
  const clients: CoapClient[] = [];
  for (let i = 0; i < (o.nodes ?? 1); i++) {
    const address = `192.0.2.${i + 1}`;
    const transport = net.createTransport({ bind: [{ address, port: 5683 }], ipv4Interface: IFACE });
    const leisure = typeof o.leisure === 'function' ? o.leisure(i) : (o.leisure ?? 1);
    const server = new CoapServer({ transport, runtime: rt, leisure, groups: o.groups ?? [] });
    const node: RoomNode = { index: i, address, server, transport, calls: new Map(), callTimes: [] };
    o.setup?.(server, node);
    await server.listen();
    nodes.push(node);
  }
  const newClient = async (address: string) => {
    const transport = net.createTransport({ bind: [{ address, port: 40000 }], ipv4Interface: IFACE });
    const c = await CoapClient.create({
      transport,
      runtime: rt,
      ...(o.clientTransmission ? { transmission: o.clientTransmission } : {}),
    });
    clients.push(c);
    return c;
  };
  const client = await newClient('192.0.2.100');
  const extras: Array<{ close(): Promise<void> }> = [];
  return {
    rt,
    net,
    nodes,
    client,
    extras,
    secondClient: () => newClient(`192.0.2.${100 + clients.length}`),
    async close() {
      for (const c of clients) await c.close();
      for (const n of nodes) await n.server.close();
      for (const e of extras) await e.close();
      await rt.advance(0);
    },
  };
}

/** Advances virtual time in `step` ms until `p` settles (at most `maxMs`); returns or throws its outcome. */
export function settle<T>(rt: FakeRuntime, p: Promise<T>, maxMs = 60_000, step = 10): Promise<T> {
  return rt.settle(p, { maxMs, step });
}

/** What one group request produced. */
export interface Outcome {
  readonly responses: GroupResponse[];
  readonly summary: GroupSummary;
}

/** Sends one group request from `client` and drives time until its window ends. */
export async function ask(
  room: Room,
  o: Partial<GroupRequestOptions>,
  client = room.client,
): Promise<Outcome> {
  const rs = client.group({ uri: `${GROUP_URI}/`, window: 2000, ...o });
  const responses = await settle(room.rt, rs.collect());
  return { responses, summary: await rs.done };
}

/** The node addresses that answered, sorted. */
export function sources(responses: readonly GroupResponse[]): string[] {
  return responses.map((r) => r.source.address).sort();
}

/** One datagram sent to a multicast address on the memory network. */
export interface GroupSend {
  readonly at: number;
  readonly group: string;
  readonly bytes: number;
}

/** Records every datagram sent to a multicast address on `room.net` from now on. */
export function watchGroupSends(room: Room): GroupSend[] {
  const log: GroupSend[] = [];
  const net = room.net;
  const route = net.route.bind(net);
  net.route = (from, src, data, address, port) => {
    if (isMulticast(address)) log.push({ at: room.rt.now(), group: address, bytes: data.length });
    route(from, src, data, address, port);
  };
  return log;
}

/** A bare endpoint on the room's network with no CoAP stack: it sends raw bytes and records what it gets. */
export function rawPeer(
  room: Room,
  address = '192.0.2.200',
): { transport: MemoryTransport; received: Received[] } {
  const transport = room.net.createTransport({ bind: [{ address, port: 40000 }], ipv4Interface: IFACE });
  room.extras.push(transport);
  return { transport, received: tap(transport, room.rt) };
}
