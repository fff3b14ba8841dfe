/**
 * A room for group tests (RFC 7390 §2), built on test-net: N CoAP servers on port 5683 that
 * joined All CoAP Nodes (224.0.1.187) on the memory interface `mem0`, and a client on port
 * 40000; every endpoint tapped. Handler calls can be counted per node, so a test can tell "not
 * sent" from "not processed". bw-room and group-room are its settings for earlier tests.
 */
import type { ClientOptions, CoapClient } from '../../src/client/client.js';
import type { FakeRuntime, SettleOptions } from '../../src/fake-runtime.js';
import { CoapServer, type ServerOptions } from '../../src/server/server.js';
import type { LinkConditions, MemoryNetwork, MemoryTransport } from '../../src/transport/memory.js';
import type { Received } from './tap.js';
import { IFACE, TestNet } from './test-net.js';

/** One server of the room. */
export interface RoomNode {
  readonly index: number;
  readonly address: string;
  readonly server: CoapServer;
  readonly transport: MemoryTransport;
  /** Datagrams this node received. */
  readonly log: Received[];
  /** Handler calls by `METHOD /path` (see `count`). */
  readonly calls: Map<string, number>;
  /** Virtual times at which each counted call happened. */
  readonly callTimes: number[];
}

export interface RoomOptions {
  seed?: number;
  conditions?: LinkConditions;
  settle?: SettleOptions;
  /** How many servers; default 1. */
  nodes?: number;
  /** The address of node `index` (0-based); default 192.0.2.(index + 1). */
  address?: (index: number) => string;
  /** The options of node `index` besides its transport and runtime. */
  server?: (index: number) => Omit<ServerOptions, 'transport' | 'runtime'>;
  /** Adds resources to a node before it listens. */
  setup?: (server: CoapServer, node: RoomNode) => void;
  /** The first client's address (default 192.0.2.100), later ones count up from it. */
  client?: string;
  clientOptions?: Omit<ClientOptions, 'transport' | 'runtime' | 'messenger'>;
}

export interface Room {
  readonly rt: FakeRuntime;
  readonly net: MemoryNetwork;
  readonly t: TestNet;
  readonly nodes: RoomNode[];
  readonly client: CoapClient;
  /** Datagrams the first client received. */
  readonly atClient: Received[];
  /** Another client, at the next address (closed by `close()`). */
  secondClient(): Promise<CoapClient>;
  /** Other things to close with the room, after the clients and servers (raw transports). */
  readonly extras: Array<{ close(): Promise<void> }>;
  /** Closes every client, server and transport made here. */
  close(): Promise<void>;
}

/** Counts a handler call on `node` under `key`. */
export function count(node: RoomNode, key: string, now: number): void {
  node.calls.set(key, (node.calls.get(key) ?? 0) + 1);
  node.callTimes.push(now);
}

/** Builds the room: every server listens, then the client is made. */
export async function room(o: RoomOptions = {}): Promise<Room> {
  const t = new TestNet({
    seed: o.seed ?? 1,
    ...(o.conditions ? { conditions: o.conditions } : {}),
    ...(o.settle ? { settle: o.settle } : {}),
  });
  const extras: Array<{ close(): Promise<void> }> = [];
  t.onClose(async () => {
    for (const e of extras) await e.close();
  });
  const nodes: RoomNode[] = [];
  for (let i = 0; i < (o.nodes ?? 1); i++) {
    const address = o.address?.(i) ?? `192.0.2.${i + 1}`;
    const { transport, log } = t.endpoint({ address, port: 5683, ipv4Interface: IFACE });
    const server = new CoapServer({ ...o.server?.(i), transport, runtime: t.rt });
    const node: RoomNode = { index: i, address, server, transport, log, calls: new Map(), callTimes: [] };
    o.setup?.(server, node);
    await server.listen();
    t.onClose(() => server.close());
    nodes.push(node);
  }
  const first = (o.client ?? '192.0.2.100').split('.').map(Number);
  let clients = 0;
  const newClient = () => {
    const address = [...first.slice(0, 3), first[3]! + clients++].join('.');
    return t.client({ address, port: 40000, ipv4Interface: IFACE }, o.clientOptions);
  };
  const { client, log: atClient } = await newClient();
  return {
    rt: t.rt,
    net: t.net,
    t,
    nodes,
    client,
    atClient,
    extras,
    secondClient: async () => (await newClient()).client,
    close: () => t.close(),
  };
}
