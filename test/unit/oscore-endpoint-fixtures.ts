/**
 * Fixtures of the OSCORE endpoint tests: key material from the generators (with seeded
 * randomness, so runs repeat), keyrings whose Sender Sequence Numbers live in memory storage (so
 * a test can restart a node), and a memory network with a server and a client wired through the
 * security hooks.
 */
import { createHash } from 'node:crypto';
import { CoapClient } from '../../src/client/client.js';
import { FakeRuntime } from '../../src/fake-runtime.js';
import { decodeMessage } from '../../src/message/decode.js';
import type { CoapMessage } from '../../src/message/types.js';
import { type OscoreClientOptions, OscoreClientSecurity } from '../../src/oscore/endpoint/client.js';
import { parseOscoreConfig } from '../../src/oscore/endpoint/config.js';
import {
  generateGroup,
  generateOscorePair,
  type OscoreConfigFile,
} from '../../src/oscore/endpoint/generate.js';
import type { OscoreKeyring } from '../../src/oscore/endpoint/keyring.js';
import { type OscoreServerOptions, OscoreServerSecurity } from '../../src/oscore/endpoint/server.js';
import { MemorySequenceStorage, PersistentSequence } from '../../src/oscore/sequence.js';
import { CoapServer, type ServerOptions } from '../../src/server/server.js';
import { MemoryNetwork, type MemoryTransport } from '../../src/transport/memory.js';
import type { Address } from '../../src/transport/types.js';
import { type Received, tap } from '../support/mem-net.js';

/** Deterministic "random" bytes: SHA-256 of a counter and a label. */
export function seededRandom(label: string): (n: number) => Buffer {
  let i = 0;
  return (n) => {
    const out: Buffer[] = [];
    let len = 0;
    while (len < n) {
      const h = createHash('sha256').update(`${label}/${i++}`).digest();
      out.push(h);
      len += h.length;
    }
    return Buffer.concat(out).subarray(0, n);
  };
}

/** Sequence storages by key, shared across "restarts" of a node. */
export type Storages = Map<string, MemorySequenceStorage>;

/** A keyring whose sequence numbers persist in `storages` (RFC 8613 Appendix B.1.1, K = 10). */
export function keyringOf(file: OscoreConfigFile, storages: Storages = new Map()): OscoreKeyring {
  return parseOscoreConfig(file, {
    sequence: (key) => {
      let s = storages.get(key);
      if (s === undefined) storages.set(key, (s = new MemorySequenceStorage()));
      return new PersistentSequence(s, { reserve: 10 });
    },
  });
}

export const pair = (): { client: OscoreConfigFile; server: OscoreConfigFile } =>
  generateOscorePair({ random: seededRandom('pair') });

export const group = (members: number, label = 'group'): OscoreConfigFile[] =>
  generateGroup({ members, random: seededRandom(label), addresses: ['224.0.1.187'] });

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

/** A memory network with a FakeRuntime; everything made through it is closed by `close()`. */
export function makeNet(seed = 3): Net {
  const rt = new FakeRuntime({ seed });
  const net = new MemoryNetwork({ runtime: rt });
  const closers: Array<() => Promise<void>> = [];
  return {
    rt,
    net,
    async server(keyring, options = {}) {
      const { address, oscore, ...rest } = options;
      const transport = net.createTransport({
        bind: [{ address: address ?? SERVER.address, port: 5683 }],
        ipv4Interface: 'mem0',
      });
      const log = tap(transport, rt);
      const server = new CoapServer({
        transport,
        runtime: rt,
        ...(keyring ? { security: new OscoreServerSecurity(keyring, { runtime: rt, ...oscore }) } : {}),
        ...rest,
      });
      await server.listen();
      closers.push(() => server.close());
      return { server, transport, log };
    },
    async client(keyring, address = CLIENT.address, oscore = {}) {
      const transport = net.createTransport({ bind: [{ address, port: 40000 }], ipv4Interface: 'mem0' });
      const log = tap(transport, rt);
      const client = await CoapClient.create({
        transport,
        runtime: rt,
        ...(keyring ? { security: new OscoreClientSecurity(keyring, oscore) } : {}),
      });
      closers.push(() => client.close());
      return { client, transport, log };
    },
    raw(address) {
      const t = net.createTransport({ bind: [{ address, port: 40001 }], ipv4Interface: 'mem0' });
      const log = tap(t, rt);
      closers.push(() => t.close());
      return { transport: t, log };
    },
    async close() {
      for (const c of closers.reverse()) await c();
      await rt.advance(0);
    },
  };
}

/** Advances virtual time until `p` settles. */
export function settle<T>(rt: FakeRuntime, p: Promise<T>, maxMs = 120_000): Promise<T> {
  return rt.settle(p, { maxMs });
}
