/**
 * A memory network with OSCORE servers and clients (a preset of test-net): servers wired through
 * `OscoreServerSecurity`, clients through `OscoreClientSecurity`, raw endpoints for injecting
 * datagrams, every endpoint tapped, and the runtime's settle() allowing 120 s of virtual time.
 */
import type { CoapClient } from '../../src/client/client.js';
import type { FakeRuntime } from '../../src/fake-runtime.js';
import { decodeMessage } from '../../src/message/decode.js';
import type { CoapMessage } from '../../src/message/types.js';
import { type OscoreClientOptions, OscoreClientSecurity } from '../../src/oscore/endpoint/client.js';
import type { OscoreKeyring } from '../../src/oscore/endpoint/keyring.js';
import { type OscoreServerOptions, OscoreServerSecurity } from '../../src/oscore/endpoint/server.js';
import type { CoapServer, ServerOptions } from '../../src/server/server.js';
import type { MemoryNetwork, MemoryTransport } from '../../src/transport/memory.js';
import type { Address } from '../../src/transport/types.js';
import type { Received } from './tap.js';
import { IFACE, TestNet } from './test-net.js';

/** Decodes received datagrams for inspection. */
export const decoded = (log: readonly { bytes: Buffer }[]): CoapMessage[] =>
  log.map((r) => decodeMessage(Buffer.from(r.bytes)));

export const SERVER: Address = { address: '192.0.2.2', port: 5683 };
export const CLIENT: Address = { address: '192.0.2.1', port: 40000 };

export interface Net {
  readonly rt: FakeRuntime;
  readonly net: MemoryNetwork;
  /** Opens a server at `address` (default SERVER) with the given security. */
  server(
    keyring: OscoreKeyring | undefined,
    options?: Partial<ServerOptions> & { address?: string; oscore?: OscoreServerOptions },
  ): Promise<{ server: CoapServer; transport: MemoryTransport; log: Received[] }>;
  /** Opens a client at `address` (default CLIENT); `oscore` are its `OscoreClientSecurity` options. */
  client(
    keyring: OscoreKeyring | undefined,
    address?: string,
    oscore?: OscoreClientOptions,
  ): Promise<{ client: CoapClient; transport: MemoryTransport; log: Received[] }>;
  /** A raw transport for injecting datagrams, with the log of what it receives. */
  raw(address: string): { transport: MemoryTransport; log: Received[] };
  close(): Promise<void>;
}

/** The settle() defaults of a secured network. */
export const OSCORE_SETTLE = { maxMs: 120_000 } as const;

/** A memory network with a FakeRuntime; everything made through it is closed by `close()`. */
export function makeNet(seed = 3): Net {
  const t = new TestNet({ seed, settle: OSCORE_SETTLE });
  return {
    rt: t.rt,
    net: t.net,
    async server(keyring, options = {}) {
      const { address, oscore, ...rest } = options;
      const security = keyring
        ? { security: new OscoreServerSecurity(keyring, { runtime: t.rt, ...oscore }) }
        : {};
      return t.server(
        { address: address ?? SERVER.address, port: 5683, ipv4Interface: IFACE },
        { ...security, ...rest },
      );
    },
    async client(keyring, address = CLIENT.address, oscore = {}) {
      return t.client(
        { address, port: 40000, ipv4Interface: IFACE },
        keyring ? { security: new OscoreClientSecurity(keyring, oscore) } : {},
      );
    },
    raw(address) {
      return t.raw({ address, port: 40001, ipv4Interface: IFACE });
    },
    close: () => t.close(),
  };
}

/**
 * `rt.settle(p)` under the name these tests once used; a secured network's runtime has the
 * defaults this gave (`OSCORE_SETTLE`). Kept for files written against it.
 */
export function settle<T>(rt: FakeRuntime, p: Promise<T>, maxMs?: number): Promise<T> {
  return rt.settle(p, maxMs === undefined ? {} : { maxMs });
}
