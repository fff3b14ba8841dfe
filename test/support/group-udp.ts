/**
 * Real UDP nodes for the multicast integration tests (run only inside a network namespace, see
 * netns.ts): CoAP servers bound to explicit unicast addresses on one port, with handlers that
 * count their calls so a test can check each multicast request is processed exactly once.
 */
import type { CoapClient } from '../../src/client/client.js';
import type { GroupRequestOptions, GroupResponse } from '../../src/client/group.js';
import type { GroupSpec } from '../../src/server/server.js';
import { CoapServer } from '../../src/server/server.js';

/** One real node. */
export interface UdpNode {
  readonly index: number;
  readonly address: string;
  readonly server: CoapServer;
  /** Handler calls by `METHOD /path`. */
  readonly calls: Map<string, number>;
  /** The value of the `/private` resource (no multicast). */
  value: string;
}

export interface UdpNodesOptions {
  readonly addresses: readonly string[];
  readonly port: number;
  readonly iface: string;
  readonly leisure: number;
  /** Nodes (by index) that also serve a multicast `/few`. */
  readonly few?: readonly number[];
  readonly groups?: readonly GroupSpec[];
}

function bump(node: UdpNode, key: string): void {
  node.calls.set(key, (node.calls.get(key) ?? 0) + 1);
}

/**
 * Starts one server per address. Each serves a multicast `/light` (GET), `/private` (GET, PUT; not
 * opted in to multicast) and, on the nodes in `few`, a multicast `/few`. Closes what it started
 * if one fails.
 */
export async function startUdpNodes(o: UdpNodesOptions): Promise<UdpNode[]> {
  const nodes: UdpNode[] = [];
  try {
    for (const [index, address] of o.addresses.entries()) {
      const server = new CoapServer({
        bind: [address],
        port: o.port,
        iface: o.iface,
        leisure: o.leisure,
        groups: o.groups ?? [],
      });
      const node: UdpNode = { index, address, server, calls: new Map(), value: 'off' };
      server.resource('/light', { multicast: true, rt: 'light' }).get(() => {
        bump(node, 'GET /light');
        return { payload: `node${index}` };
      });
      server
        .resource('/private')
        .get(() => ({ payload: node.value }))
        .put((req) => {
          bump(node, 'PUT /private');
          node.value = req.text();
          return undefined;
        });
      if (o.few?.includes(index)) {
        server.resource('/few', { multicast: true }).get(() => {
          bump(node, 'GET /few');
          return { payload: `few${index}` };
        });
      }
      nodes.push(node);
      await server.listen();
    }
  } catch (err) {
    await closeNodes(nodes);
    throw err;
  }
  return nodes;
}

export async function closeNodes(nodes: readonly UdpNode[]): Promise<void> {
  for (const n of nodes) await n.server.close();
}

/** Sends a group request and collects its responses and summary. */
export async function collectGroup(
  client: CoapClient,
  o: GroupRequestOptions,
): Promise<{ responses: GroupResponse[]; reason: string }> {
  const rs = client.group(o);
  const responses = await rs.collect();
  return { responses, reason: (await rs.done).reason };
}

/** Responder addresses, sorted. */
export function responders(responses: readonly GroupResponse[]): string[] {
  return responses.map((r) => r.source.address).sort();
}
