/**
 * The one builder of the tests' networks: a FakeRuntime (its `settle()` defaults set once for
 * the network), a MemoryNetwork with optional link conditions, and on it tapped endpoints (every
 * datagram each one receives is logged), CoAP servers, clients and messengers. Whatever is made
 * here is closed by `close()`, the last made first.
 *
 * The shapes the tests use are presets over it: a pair of messengers (mem-net `memSetup`), a
 * client and a server (bw-mem `bwPair`; oscore-net `makeNet`, with security layers), and a room
 * of group members with a client (room `room`; bw-room `bwRoom` and group-room `makeRoom` are
 * its settings of earlier tests; oscore-group-room for Group OSCORE).
 */
import { type ClientOptions, CoapClient } from '../../src/client/client.js';
import { FakeRuntime, type SettleOptions } from '../../src/fake-runtime.js';
import { Messenger, type MessengerOptions } from '../../src/messenger/messenger.js';
import { CoapServer, type ServerOptions } from '../../src/server/server.js';
import { type LinkConditions, MemoryNetwork, type MemoryTransport } from '../../src/transport/memory.js';
import type { MulticastOptions } from '../../src/transport/types.js';
import { type Received, tap } from './tap.js';

export type { Received } from './tap.js';

/** The memory interface name every preset gives its endpoints for multicast. */
export const IFACE = 'mem0';

export interface TestNetOptions {
  readonly seed?: number;
  readonly conditions?: LinkConditions;
  /** Defaults of `rt.settle()` on this network. */
  readonly settle?: SettleOptions;
}

/** A transport and the log of what it received. */
export interface Endpoint {
  readonly transport: MemoryTransport;
  readonly log: Received[];
}

/** Where an endpoint binds, and its multicast settings (`ipv4Interface: IFACE` for groups). */
export interface At extends MulticastOptions {
  readonly address: string;
  readonly port: number;
}

export class TestNet {
  readonly rt: FakeRuntime;
  readonly net: MemoryNetwork;
  readonly #closers: Array<() => Promise<void>> = [];

  constructor(o: TestNetOptions = {}) {
    this.rt = new FakeRuntime({ seed: o.seed ?? 1, ...(o.settle ? { settle: o.settle } : {}) });
    this.net = new MemoryNetwork({ runtime: this.rt, ...(o.conditions ? { conditions: o.conditions } : {}) });
  }

  /** A tapped transport (closed by `close()` unless a server, client or messenger on it is). */
  endpoint(at: At): Endpoint {
    const { address, port, ...multicast } = at;
    const transport = this.net.createTransport({ bind: [{ address, port }], ...multicast });
    return { transport, log: tap(transport, this.rt) };
  }

  /** A bare tapped transport that `close()` closes. */
  raw(at: At): Endpoint {
    const e = this.endpoint(at);
    this.onClose(() => e.transport.close());
    return e;
  }

  /** A server on a new tapped endpoint; `setup` adds resources before it listens. */
  async server(
    at: At,
    options: Omit<ServerOptions, 'transport' | 'runtime'> = {},
    setup?: (server: CoapServer) => void,
  ): Promise<Endpoint & { server: CoapServer }> {
    const e = this.endpoint(at);
    const server = new CoapServer({ ...options, transport: e.transport, runtime: this.rt });
    setup?.(server);
    await server.listen();
    this.onClose(() => server.close());
    return { ...e, server };
  }

  /** A client on a new tapped endpoint. */
  async client(
    at: At,
    options: Omit<ClientOptions, 'transport' | 'runtime' | 'messenger'> = {},
  ): Promise<Endpoint & { client: CoapClient }> {
    const e = this.endpoint(at);
    const client = await CoapClient.create({ ...options, transport: e.transport, runtime: this.rt });
    this.onClose(() => client.close());
    return { ...e, client };
  }

  /** A messenger on `transport` (closing it closes the transport too). */
  messenger(
    transport: MemoryTransport,
    options: Omit<MessengerOptions, 'transport' | 'runtime'> = {},
  ): Messenger {
    const m = new Messenger({ ...options, transport, runtime: this.rt });
    this.onClose(() => m.close());
    return m;
  }

  /** Something else to close with the network. */
  onClose(close: () => Promise<void>): void {
    this.#closers.push(close);
  }

  /** Closes everything made here, the last made first, and lets the network run out. */
  async close(): Promise<void> {
    for (const c of this.#closers.splice(0).reverse()) await c();
    await this.rt.advance(0);
  }
}

/**
 * A server at 192.0.2.2:5683, not listening yet (add resources, then `listen()`), and clients on
 * demand at any address (port 40000), on a network whose settle() steps by 100 ms for at most
 * 60 s. The test closes what it made.
 */
export function serverAndClients(seed = 5): {
  readonly rt: FakeRuntime;
  readonly net: MemoryNetwork;
  readonly server: CoapServer;
  client(address: string): Promise<CoapClient>;
} {
  const t = new TestNet({ seed, settle: { maxMs: 60_000, step: 100 } });
  const server = new CoapServer({
    transport: t.endpoint({ address: '192.0.2.2', port: 5683 }).transport,
    runtime: t.rt,
  });
  return {
    rt: t.rt,
    net: t.net,
    server,
    client: async (address) => (await t.client({ address, port: 40000 })).client,
  };
}
