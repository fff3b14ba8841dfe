/**
 * Several CoAP servers in one group on the memory network, for group block-wise and group
 * Observe tests (RFC 7959 §2.8, RFC 7390 §2.8, groupcomm-bis §3.7): a FakeRuntime, nodes at
 * 192.0.2.11.. on port 5683 that joined All CoAP Nodes (224.0.1.187) on the memory interface
 * `mem0`, and a client at 192.0.2.1. Every node and the client are tapped.
 */
import { CoapClient } from '../../src/client/client.js';
import { FakeRuntime } from '../../src/fake-runtime.js';
import { CoapServer, type ServerOptions } from '../../src/server/server.js';
import { type LinkConditions, MemoryNetwork } from '../../src/transport/memory.js';
import { type Received, tap } from './mem-net.js';

export const GROUP = 'coap://224.0.1.187';

export interface BwNode {
  readonly index: number;
  readonly address: string;
  readonly server: CoapServer;
  /** Datagrams this node received. */
  readonly log: Received[];
}

export interface BwRoom {
  readonly rt: FakeRuntime;
  readonly net: MemoryNetwork;
  readonly nodes: BwNode[];
  readonly client: CoapClient;
  /** Datagrams the client received. */
  readonly atClient: Received[];
  close(): Promise<void>;
}

export interface BwRoomOptions {
  nodes: number;
  seed?: number;
  conditions?: LinkConditions;
  server?: Omit<ServerOptions, 'transport' | 'runtime'>;
  /** Adds resources to each node before it listens. */
  setup: (server: CoapServer, index: number) => void;
}

/** Builds the room; every node listens before it returns. */
export async function bwRoom(o: BwRoomOptions): Promise<BwRoom> {
  const rt = new FakeRuntime({ seed: o.seed ?? 3 });
  const net = new MemoryNetwork({ runtime: rt, ...(o.conditions ? { conditions: o.conditions } : {}) });
  const nodes: BwNode[] = [];
  for (let i = 0; i < o.nodes; i++) {
    const address = `192.0.2.${11 + i}`;
    const transport = net.createTransport({ bind: [{ address, port: 5683 }], ipv4Interface: 'mem0' });
    const log = tap(transport, rt);
    const server = new CoapServer({ leisure: 1, ...o.server, transport, runtime: rt });
    o.setup(server, i);
    await server.listen();
    nodes.push({ index: i, address, server, log });
  }
  const clientT = net.createTransport({
    bind: [{ address: '192.0.2.1', port: 40000 }],
    ipv4Interface: 'mem0',
  });
  const atClient = tap(clientT, rt);
  const client = await CoapClient.create({ transport: clientT, runtime: rt });
  return {
    rt,
    net,
    nodes,
    client,
    atClient,
    async close() {
      await client.close();
      for (const n of nodes) await n.server.close();
      await rt.advance(0);
    },
  };
}
