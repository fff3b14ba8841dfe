/**
 * A resource directory on the memory network with virtual time, for the RFC 9176 tests: the RD
 * at 192.0.2.2 and [2001:db8:4::ff] (port 5683), clients at any address a test names (an
 * endpoint, a commissioning tool, a lookup client), each its own CoapClient, and a way to
 * restart the RD on the same store. `drive()` advances virtual time until a request settles.
 */
import { CoapClient } from '../../src/client/client.js';
import type { CoapResponse } from '../../src/client/response.js';
import type { FakeRuntime } from '../../src/fake-runtime.js';
import { type Link, parseLinks } from '../../src/link-format/index.js';
import type { MethodName } from '../../src/message/codes.js';
import type { CoapOption } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { encodeUint, findOptions } from '../../src/options/values.js';
import { attachResourceDirectory, type ResourceDirectoryOptions } from '../../src/rd/attach.js';
import type { ResourceDirectory } from '../../src/rd/resource-directory.js';
import { MemoryRdStore, type RdStore } from '../../src/rd/store.js';
import { CoapServer } from '../../src/server/server.js';
import type { MemoryNetwork } from '../../src/transport/memory.js';
import { TestNet } from './test-net.js';

export const RD_V4 = '192.0.2.2';
export const RD_V6 = '2001:db8:4::ff';
/** The commissioning tool's address in these tests (the RD allows it, and nobody else). */
export const CT = '192.0.2.100';
/** The wall clock at virtual time 0. */
export const EPOCH = Date.UTC(2030, 0, 1);

export interface Req {
  method?: MethodName;
  /** Path and query, e.g. `/rd?ep=node1`. */
  path: string;
  payload?: string | Buffer;
  format?: number;
  accept?: number;
  observe?: number;
  options?: CoapOption[];
}

export interface RdMem {
  readonly rt: FakeRuntime;
  readonly net: MemoryNetwork;
  readonly store: RdStore;
  server: CoapServer;
  rd: ResourceDirectory;
  /** A client bound at `address` (made once per address). */
  client(address: string): Promise<CoapClient>;
  /** Sends one request from `address` to the RD (IPv4 or IPv6 RD address by the client's family). */
  send(address: string, r: Req): Promise<CoapResponse>;
  /** Closes the RD and its server, then starts them again on the same store. */
  restart(options?: ResourceDirectoryOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * RFC 9176 prints queries like `base=coap://[ff05::1]` as they read; on the wire (RFC 3986
 * §3.4, RFC 6570 expansion) the brackets are percent-encoded.
 */
export function encodeQuery(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q) + path.slice(q).replaceAll('[', '%5B').replaceAll(']', '%5D');
}

/**
 * Lets the memory network and the RD run until `p` settles, without moving virtual time: a
 * file store waits for the real disk, and virtual time that moved meanwhile would age the
 * registrations by however slow the disk is. Bounded by 10 s of real time.
 */
export async function drive<T>(rt: FakeRuntime, p: Promise<T>): Promise<T> {
  let done = false;
  const settled = p.finally(() => {
    done = true;
  });
  settled.catch(() => {});
  const limit = Date.now() + 10_000;
  while (!done && Date.now() < limit) await rt.advance(0);
  if (!done) throw new Error('the request did not settle within 10 s (with virtual time standing still)');
  return settled;
}

/** The Location-Path of a response as a path (`/rd/1`). */
export function location(res: CoapResponse): string {
  return `/${findOptions(res.options, Opt.LocationPath)
    .map((o) => o.value.toString())
    .join('/')}`;
}

/** A payload's links with attributes sorted by name: compares link format by meaning. */
export function meaning(text: string): Array<{ href: string; attributes: string[] }> {
  return parseLinks(text).map((l: Link) => ({
    href: l.href,
    attributes: l.attributes.map(([k, v]) => `${k}=${v === true ? '' : v}`).sort(),
  }));
}

/** RFC payloads are shown folded over lines: joins them back into one link-format text. */
export function unfold(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .join('');
}

export async function rdMem(options: ResourceDirectoryOptions = {}): Promise<RdMem> {
  const { rt, net } = new TestNet({ seed: 7 });
  const store = options.store instanceof Object ? (options.store as RdStore) : new MemoryRdStore();
  const clients = new Map<string, CoapClient>();
  const start = async (o: ResourceDirectoryOptions) => {
    const transport = net.createTransport({
      bind: [
        { address: RD_V4, port: 5683 },
        { address: RD_V6, port: 5683 },
      ],
      ipv4Interface: 'mem0',
    });
    const server = new CoapServer({ transport, runtime: rt, leisure: 0 });
    await server.listen();
    const rd = await drive(
      rt,
      attachResourceDirectory(server, {
        commissioningTools: [CT],
        wallClock: () => EPOCH + rt.now(),
        joinAllRds: false,
        ...o,
        store,
      }),
    );
    return { server, rd };
  };
  const first = await start(options);
  const m: RdMem = {
    rt,
    net,
    store,
    server: first.server,
    rd: first.rd,
    async client(address) {
      let c = clients.get(address);
      if (c === undefined) {
        const transport = net.createTransport({ bind: [{ address, port: 0 }], ipv4Interface: 'mem0' });
        c = await CoapClient.create({ transport, runtime: rt });
        clients.set(address, c);
      }
      return c;
    },
    async send(address, r) {
      const c = await m.client(address);
      const host = address.includes(':') ? `[${RD_V6}]` : RD_V4;
      const options: CoapOption[] = [...(r.options ?? [])];
      if (r.observe !== undefined) options.push({ number: Opt.Observe, value: encodeUint(r.observe) });
      return drive(
        rt,
        c.request({
          uri: `coap://${host}${encodeQuery(r.path)}`,
          method: r.method ?? 'GET',
          ...(r.payload !== undefined ? { payload: Buffer.from(r.payload) } : {}),
          ...(r.format !== undefined ? { format: r.format } : {}),
          ...(r.accept !== undefined ? { accept: r.accept } : {}),
          options,
        }),
      );
    },
    async restart(o = options) {
      await m.rd.close();
      await m.server.close();
      const next = await start(o);
      m.server = next.server;
      m.rd = next.rd;
    },
    async close() {
      for (const c of clients.values()) await c.close();
      await m.rd.close();
      await m.server.close();
      await rt.advance(0);
    },
  };
  return m;
}
