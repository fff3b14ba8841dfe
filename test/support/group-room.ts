/**
 * The room of the group-communication tests (RFC 7390 §2), a setting of support/room: a
 * FakeRuntime, a MemoryNetwork, N CoAP servers at 192.0.2.1..N:5683 that joined All CoAP Nodes
 * (224.0.1.187), and a client at 192.0.2.100. Every transport uses the memory interface name
 * `mem0`. Handlers are counted per node and path so a test can tell "not sent" from "not
 * processed". Also: one group request driven to its end, and watching a group's traffic.
 */
import type { GroupRequestOptions, GroupResponse, GroupSummary } from '../../src/client/group.js';
import type { FakeRuntime } from '../../src/fake-runtime.js';
import type { LeisureSetting } from '../../src/server/leisure.js';
import type { CoapServer } from '../../src/server/server.js';
import type { LinkConditions, MemoryTransport } from '../../src/transport/memory.js';
import { isMulticast } from '../../src/util/ip.js';
import { type Room, type RoomNode, room } from './room.js';
import { type Received, tap } from './tap.js';
import { IFACE } from './test-net.js';

export { count, type Room, type RoomNode } from './room.js';
export { IFACE } from './test-net.js';

export const GROUP_HOST = '224.0.1.187';
export const GROUP_URI = `coap://${GROUP_HOST}`;

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

/** Builds the room and starts every server. */
export function makeRoom(o: RoomOptions = {}): Promise<Room> {
  return room({
    seed: o.seed ?? 1,
    nodes: o.nodes ?? 1,
    ...(o.conditions ? { conditions: o.conditions } : {}),
    server: (i) => ({
      leisure: typeof o.leisure === 'function' ? o.leisure(i) : (o.leisure ?? 1),
      groups: o.groups ?? [],
    }),
    ...(o.setup ? { setup: o.setup } : {}),
    client: '192.0.2.100',
    clientOptions: o.clientTransmission ? { transmission: o.clientTransmission } : {},
  });
}

/**
 * `rt.settle(p)` under the name the room's tests once used (a room's runtime has the defaults
 * this gave). Kept for files written against it.
 */
export function settle<T>(rt: FakeRuntime, p: Promise<T>, maxMs?: number, step?: number): Promise<T> {
  return rt.settle(p, { ...(maxMs !== undefined ? { maxMs } : {}), ...(step !== undefined ? { step } : {}) });
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
  const responses = await room.rt.settle(rs.collect());
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
