/**
 * Several CoAP servers in one group on the memory network, for group block-wise and group
 * Observe tests (RFC 7959 §2.8, RFC 7390 §2.8, groupcomm-bis §3.7), a setting of support/room: a
 * FakeRuntime (with the pair's settle() defaults, long transfers), nodes at 192.0.2.11.. on
 * port 5683 that joined All CoAP Nodes (224.0.1.187) on the memory interface `mem0`, and a
 * client at 192.0.2.1. Every node and the client are tapped.
 */
import type { CoapServer, ServerOptions } from '../../src/server/server.js';
import type { LinkConditions } from '../../src/transport/memory.js';
import { PAIR_SETTLE } from './bw-mem.js';
import { type Room, type RoomNode, room } from './room.js';

export const GROUP = 'coap://224.0.1.187';

/** A node of the room: its index, address, server and log (a `RoomNode` has them all). */
export type BwNode = Pick<RoomNode, 'index' | 'address' | 'server' | 'log'>;

/** The room (a `Room` has everything this names). */
export type BwRoom = Pick<Room, 'rt' | 'net' | 'client' | 'atClient' | 'close'> & {
  readonly nodes: BwNode[];
};

export interface BwRoomOptions {
  nodes: number;
  seed?: number;
  conditions?: LinkConditions;
  server?: Omit<ServerOptions, 'transport' | 'runtime'>;
  /** Adds resources to each node before it listens. */
  setup: (server: CoapServer, index: number) => void;
}

/** Builds the room; every node listens before it returns. */
export function bwRoom(o: BwRoomOptions): Promise<BwRoom> {
  return room({
    seed: o.seed ?? 3,
    settle: PAIR_SETTLE,
    nodes: o.nodes,
    ...(o.conditions ? { conditions: o.conditions } : {}),
    address: (i) => `192.0.2.${11 + i}`,
    server: () => ({ leisure: 1, ...o.server }),
    setup: (server, node) => o.setup(server, node.index),
    client: '192.0.2.1',
  });
}
