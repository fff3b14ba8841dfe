/**
 * A deterministic client/server pair for the block-wise and Observe tests (RFC 7959, RFC 7641),
 * a preset of test-net:
 * a FakeRuntime, a MemoryNetwork with optional link conditions, a CoapServer at 192.0.2.2:5683
 * and a CoapClient at 192.0.2.1, both tapped (every datagram each one received is logged), and
 * on demand a raw messenger at 192.0.2.3 for hand-made requests and notifications.
 */
import { type BlockValue, decodeBlock } from '../../src/block/index.js';
import type { ClientOptions, CoapClient } from '../../src/client/client.js';
import type { FakeRuntime } from '../../src/fake-runtime.js';
import type { CoapMessage } from '../../src/message/types.js';
import { MessageType } from '../../src/message/types.js';
import { Messenger } from '../../src/messenger/messenger.js';
import { findOption } from '../../src/options/values.js';
import type { CoapServer, ServerOptions } from '../../src/server/server.js';
import type { LinkConditions, MemoryNetwork, MemoryTransport } from '../../src/transport/memory.js';
import type { Address } from '../../src/transport/types.js';
import type { Received } from './tap.js';
import { IFACE, TestNet } from './test-net.js';

export const SERVER_ADDR: Address = Object.freeze({ address: '192.0.2.2', port: 5683 });
export const CLIENT_ADDR: Address = Object.freeze({ address: '192.0.2.1', port: 40000 });
export const RAW_ADDR: Address = Object.freeze({ address: '192.0.2.3', port: 40001 });
export const BASE = `coap://${SERVER_ADDR.address}`;

/** A messenger that sends hand-made messages and records what comes back. */
export interface RawPeer {
  readonly messenger: Messenger;
  readonly transport: MemoryTransport;
  /** Every response (piggy-backed or separate) it received. */
  readonly responses: CoapMessage[];
  /** Sends a request (CON by default) and resolves with the response that carries its token. */
  request(parts: Partial<Omit<CoapMessage, 'messageId'>>, to?: Address): Promise<CoapMessage>;
}

export interface BwPair {
  readonly rt: FakeRuntime;
  readonly net: MemoryNetwork;
  readonly server: CoapServer;
  readonly client: CoapClient;
  /** Datagrams the server's transport received. */
  readonly atServer: Received[];
  /** Datagrams the client's transport received. */
  readonly atClient: Received[];
  /** A raw messenger at 192.0.2.3 (made on first use, closed by `close()`). */
  raw(): RawPeer;
  close(): Promise<void>;
}

export interface BwOptions {
  seed?: number;
  conditions?: LinkConditions;
  /** Server options besides transport and runtime. */
  server?: Omit<ServerOptions, 'transport' | 'runtime'>;
  /** Adds resources before the server listens. */
  setup?: (server: CoapServer) => void;
  client?: Pick<ClientOptions, 'transmission'>;
}

/** A raw peer on `transport` (already created on the network). */
export function rawPeer(rt: FakeRuntime, transport: MemoryTransport): RawPeer {
  const messenger = new Messenger({ transport, runtime: rt });
  const responses: CoapMessage[] = [];
  const waiting = new Map<string, (m: CoapMessage) => void>();
  let nextToken = 1;
  messenger.addResponseListener((m) => {
    responses.push(m);
    const w = waiting.get(m.token.toString('hex'));
    waiting.delete(m.token.toString('hex'));
    w?.(m);
    return true;
  });
  return {
    messenger,
    transport,
    responses,
    request(parts, to = SERVER_ADDR) {
      const token = parts.token ?? Buffer.from([0xb0, nextToken++ & 0xff, 0x42]);
      return new Promise((resolve) => {
        waiting.set(token.toString('hex'), resolve);
        messenger.send(
          { type: MessageType.CON, code: 1, options: [], payload: Buffer.alloc(0), ...parts, token },
          to,
        );
      });
    },
  };
}

/** The settle() defaults of a pair: long transfers in virtual time. */
export const PAIR_SETTLE = { maxMs: 600_000, step: 100 } as const;

/** Builds the pair and starts the server. */
export async function bwPair(o: BwOptions = {}): Promise<BwPair> {
  const t = new TestNet({
    seed: o.seed ?? 5,
    settle: PAIR_SETTLE,
    ...(o.conditions ? { conditions: o.conditions } : {}),
  });
  const { server, log: atServer } = await t.server(
    { ...SERVER_ADDR, ipv4Interface: IFACE },
    { ...o.server, joinAllCoapNodes: false },
    o.setup,
  );
  const { client, log: atClient } = await t.client({ ...CLIENT_ADDR, ipv4Interface: IFACE }, { ...o.client });
  let raw: RawPeer | undefined;
  return {
    rt: t.rt,
    net: t.net,
    server,
    client,
    atServer,
    atClient,
    raw() {
      if (raw === undefined) {
        raw = rawPeer(t.rt, t.net.createTransport({ bind: [RAW_ADDR] }));
        const m = raw.messenger;
        t.onClose(() => m.close());
      }
      return raw;
    },
    close: () => t.close(),
  };
}

/**
 * `rt.settle(p)` under the name the pair's tests once used; the pair's runtime has the
 * defaults this gave (`PAIR_SETTLE`). Kept for files written against it.
 */
export function drive<T>(rt: FakeRuntime, p: Promise<T>, maxMs?: number, step?: number): Promise<T> {
  return rt.settle(p, { ...(maxMs !== undefined ? { maxMs } : {}), ...(step !== undefined ? { step } : {}) });
}

/** `n` deterministic bytes that differ from block to block (so a misplaced block shows). */
export function body(n: number, salt = 0): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8) * 7 + salt) & 0xff;
  return b;
}

/** The messages of a log that decoded. */
export function messages(log: readonly Received[]): CoapMessage[] {
  return log.flatMap((r) => (r.msg ? [r.msg] : []));
}

/** The requests (code class 0, not empty) among `msgs`, retransmissions (same Message ID) left out. */
export function requestsOf(msgs: readonly CoapMessage[]): CoapMessage[] {
  const seen = new Set<number>();
  return msgs.filter((m) => {
    if (m.code === 0 || m.code >> 5 !== 0 || seen.has(m.messageId)) return false;
    seen.add(m.messageId);
    return true;
  });
}

/** The Block option `number` (Opt.Block1 or Opt.Block2) of each message that has one. */
export function blocksOf(msgs: readonly CoapMessage[], number: number): BlockValue[] {
  const out: BlockValue[] = [];
  for (const m of msgs) {
    const o = findOption(m.options, number);
    if (o) out.push(decodeBlock(o.value));
  }
  return out;
}
