// Resource directory (RFC 9176): our `rd` in a child process on loopback, driven over UDP by 8
// clients in this process, each with one request in flight. Registrations per second while
// 10 000 endpoints register 10 links each (2 000 in quick mode), with the registrations in
// memory and in a state directory (each change flushed before the 2.01; concurrent ones share a
// flush), and the same load against libcoap's example directory (coap-rd-notls, which keeps
// them in memory and offers no lookup). Then, on the full directory: resource lookups per
// second by endpoint name (an index finds the registration) and by a resource type that only
// one link has (every link is compared); the heap each registration holds, in the directory
// alone (rd-memory) and in the child with the message layer's state (after a full GC there);
// and the median time of one lookup, one at a time, as the directory grows to 10², 10³ and 10⁴
// registrations.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoapClient } from '../../src/index.js';
import type { BenchConfig } from '../config.js';
import { median } from '../load/stats.js';
import type { Row, SectionResult } from '../report/types.js';
import { type Child, sibling, spawnTs } from '../servers/spawn.js';
import { directoryHeapPerRegistration } from './rd-memory.js';

const HOST = '127.0.0.31';
const LIBCOAP_HOST = '127.0.0.32';
const WRITERS = 8;
const LINKS = 10;

/** Registration `i`'s links: 10 resources, the first with a resource type no other link has. */
function payload(i: number): Buffer {
  const links = [`</sensors/0>;rt="dev-${i}";ct=0`];
  for (let j = 1; j < LINKS; j++)
    links.push(`</sensors/${j}>;rt="t${(i * LINKS + j) % 997}";if="core.s";obs`);
  return Buffer.from(links.join(','));
}

/** Registers endpoints `from` to `to - 1`, `WRITERS` at a time; returns registrations per second. */
async function register(
  clients: readonly CoapClient[],
  origin: string,
  from: number,
  to: number,
): Promise<number> {
  let next = from;
  const started = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      // Bounded: each pass takes one number below `to`.
      for (let i = next++; i < to; i = next++) {
        const r = await c.request({
          uri: `${origin}/rd?ep=n${i}&d=bench&lt=86400`,
          method: 'POST',
          payload: payload(i),
          format: 40,
          timeout: 10_000,
        });
        if (r.code !== 0x41) throw new Error(`registration ${i}: ${r.codeString} ${r.text()}`);
      }
    }),
  );
  return (to - from) / ((performance.now() - started) / 1000);
}

type Query = (i: number) => string;
const BY_EP: Query = (i) => `/rd-lookup/res?ep=n${i}`;
const BY_RT: Query = (i) => `/rd-lookup/res?rt=dev-${i}`;

async function lookup(c: CoapClient, origin: string, q: Query, i: number): Promise<void> {
  const r = await c.request({ uri: `${origin}${q(i)}`, timeout: 10_000 });
  if (r.code !== 0x45 || r.payload.length === 0) throw new Error(`lookup ${q(i)}: ${r.codeString}`);
}

/** Lookups per second for `ms`, every client with one in flight, over registrations 0..n-1. */
async function lookupRate(
  clients: readonly CoapClient[],
  origin: string,
  q: Query,
  n: number,
  ms: number,
): Promise<number> {
  let done = 0;
  const until = performance.now() + ms;
  const started = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < until) {
        await lookup(c, origin, q, Math.floor(Math.random() * n));
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** The median time of `count` lookups made one at a time, ms. */
async function lookupTime(
  c: CoapClient,
  origin: string,
  q: Query,
  n: number,
  count: number,
): Promise<number> {
  const times: number[] = [];
  for (let k = 0; k < count; k++) {
    const t = performance.now();
    await lookup(c, origin, q, Math.floor(Math.random() * n));
    times.push(performance.now() - t);
  }
  return median(times);
}

/** Registers and removes `count` endpoints, so the child's code is compiled before it is measured. */
async function warmUp(clients: readonly CoapClient[], origin: string, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    clients.map(async (c) => {
      // Bounded: each pass takes one number below `count`.
      for (let i = next++; i < count; i = next++) {
        const r = await c.request({
          uri: `${origin}/rd?ep=warm${i}`,
          method: 'POST',
          payload: payload(i),
          format: 40,
        });
        const loc = r.options.filter((o) => o.number === 8).map((o) => o.value.toString());
        await c.request({ uri: `${origin}/${loc.join('/')}`, method: 'DELETE' });
        await c.request({ uri: `${origin}${BY_RT(i)}` });
      }
    }),
  );
}

async function withRd<T>(
  store: string,
  clients: readonly CoapClient[],
  fn: (origin: string, child: Child) => Promise<T>,
): Promise<T> {
  const child = await spawnTs(
    `rd (${store === 'memory' ? 'memory' : 'file'})`,
    sibling(import.meta.url, '../servers/rd.ts'),
    [HOST, store],
    ['--expose-gc'],
  );
  try {
    const origin = `coap://${HOST}:${child.port}`;
    await warmUp(clients, origin, 400);
    return await fn(origin, child);
  } finally {
    await child.stop();
  }
}

/** libcoap's example directory, or undefined with the reason it cannot run. */
async function libcoapRegistrations(
  clients: readonly CoapClient[],
  n: number,
  notes: string[],
): Promise<number | null> {
  const port = 20000 + Math.floor(Math.random() * 30000);
  const proc = spawn('coap-rd-notls', ['-A', LIBCOAP_HOST, '-p', String(port)], { stdio: 'ignore' });
  const failed = new Promise<Error>((resolve) => proc.once('error', resolve));
  try {
    // Bounded: 50 pings 100 ms apart.
    for (let k = 0; k < 50; k++) {
      const ping = await Promise.race([clients[0]!.ping(`coap://${LIBCOAP_HOST}:${port}`), failed]);
      if (ping instanceof Error) throw ping;
      if (ping) return await register(clients, `coap://${LIBCOAP_HOST}:${port}`, 0, n);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('it did not answer a ping');
  } catch (err) {
    notes.push(`libcoap coap-rd-notls not measured: ${(err as Error).message}`);
    return null;
  } finally {
    proc.kill('SIGKILL');
  }
}

export async function rdSection(cfg: BenchConfig, log: (s: string) => void): Promise<SectionResult> {
  const n = cfg.quick ? 2000 : 10_000;
  const sizes = cfg.quick ? [100, 1000] : [100, 1000, 10_000];
  const notes: string[] = [];
  const rows: Row[] = [];
  const row = (
    scenario: string,
    unit: string,
    higherIsBetter: boolean,
    ours: number,
    libcoap: number | null = null,
  ) => {
    rows.push({ scenario, unit, higherIsBetter, values: { ours, 'libcoap coap-rd': libcoap } });
    log(
      `  rd ${scenario.padEnd(52)} ${ours.toFixed(2)} ${unit}${libcoap === null ? '' : `  libcoap ${libcoap.toFixed(2)}`}`,
    );
  };
  const clients = await Promise.all(
    Array.from({ length: WRITERS }, () => CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }] })),
  );
  try {
    row(
      'heap per registration (10 links), directory only',
      'bytes',
      false,
      await directoryHeapPerRegistration(n, payload),
    );
    const libcoap = await libcoapRegistrations(clients, n, notes);
    await withRd('memory', clients, async (origin, child) => {
      const before = await child.memory();
      const rate = await register(clients, origin, 0, n);
      row(`register ${n} endpoints x ${LINKS} links (memory)`, 'reg/s', true, rate, libcoap);
      const after = (await child.memory()) as { heapUsed: number; gc: boolean } | undefined;
      if (before !== undefined && after !== undefined) {
        row(
          'heap per registration, with message-layer state',
          'bytes',
          false,
          (after.heapUsed - before.heapUsed) / n,
        );
        if (!after.gc) notes.push('the child could not run a GC before measuring its heap');
      }
      row(
        `resource lookup by ep, ${n} registrations`,
        'lookups/s',
        true,
        await lookupRate(clients, origin, BY_EP, n, cfg.durationMs),
      );
      row(
        `resource lookup by rt (scans ${n * LINKS} links)`,
        'lookups/s',
        true,
        await lookupRate(clients, origin, BY_RT, n, cfg.durationMs),
      );
    });
    const dir = mkdtempSync(join(tmpdir(), 'coap-rd-bench-'));
    try {
      await withRd(dir, clients, async (origin) => {
        row(
          `register ${n} endpoints x ${LINKS} links (state dir, flushed)`,
          'reg/s',
          true,
          await register(clients, origin, 0, n),
        );
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await withRd('memory', clients, async (origin) => {
      let have = 0;
      for (const size of sizes) {
        await register(clients, origin, have, size);
        have = size;
        const count = cfg.quick ? 20 : 50;
        row(
          `one lookup by ep, ${size} registrations (median)`,
          'ms',
          false,
          await lookupTime(clients[0]!, origin, BY_EP, size, count),
        );
        row(
          `one lookup by rt, ${size} registrations (median)`,
          'ms',
          false,
          await lookupTime(clients[0]!, origin, BY_RT, size, count),
        );
      }
    });
  } finally {
    for (const c of clients) await c.close();
  }
  notes.push(
    `${WRITERS} clients with one request in flight each; registrations carry 10 links (${payload(n - 1).length} bytes); the directory runs in a child process, warmed up by 400 registrations, removals and lookups first`,
  );
  return {
    name: 'rd',
    title: 'Resource directory (RFC 9176): registrations, lookups, memory',
    columns: ['ours', 'libcoap coap-rd'],
    rows,
    notes,
  };
}
