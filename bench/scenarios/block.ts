// Block-wise 1 MiB (256 KiB in quick mode; RFC 7959): measured only where the library does
// block-wise transfers. A probe asks our server for block 0 of /bench/big/<size>; without a Block2
// answer the table says "not yet implemented" instead of a figure. Server side: the neutral block fetcher against our server and
// node-coap's. Client side: our CoapClient against node-coap's client, both fetching from
// node-coap's server (known to answer block-wise), if our client reassembles the whole body.

import { request } from 'coap';
import { CoapClient } from '../../src/index.js';
import type { BenchConfig } from '../config.js';
import { fetchBlockwise } from '../load/blockwise.js';
import { median } from '../load/stats.js';
import type { Row, SectionResult } from '../report/types.js';
import { type Child, sibling, spawnTs } from '../servers/spawn.js';

async function timed(reps: number, size: number, once: () => Promise<number>): Promise<number | string> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const bytes = await once();
    if (bytes !== size) return `got ${bytes} bytes of ${size}`;
    times.push(performance.now() - t0);
  }
  return median(times);
}

function nodeCoapGet(host: string, port: number, size: number): Promise<number> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(-1), 20_000);
    const req = request({ hostname: host, port, pathname: `/bench/big/${size}`, agent: false });
    req.on('response', (res: { payload: Buffer }) => {
      clearTimeout(t);
      resolve(res.payload.length);
    });
    req.on('error', () => {
      clearTimeout(t);
      resolve(-1);
    });
    req.end();
  });
}

export async function blockSection(cfg: BenchConfig, log: (s: string) => void): Promise<SectionResult> {
  const notes: string[] = [];
  const rows: Row[] = [];
  const reps = cfg.quick ? 1 : 3;
  const size = cfg.blockBytes;
  const PATH = ['bench', 'big', String(size)];
  const what = size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`;
  const children: Child[] = [];
  try {
    const ours = await spawnTs('ours', sibling(import.meta.url, '../servers/ours.ts'), ['127.0.0.11']);
    children.push(ours);
    const peer = await spawnTs('node-coap', sibling(import.meta.url, '../servers/node-coap.ts'), [
      '127.0.0.12',
    ]);
    children.push(peer);
    const probe = await fetchBlockwise('127.0.0.11', ours.port, PATH, 6, 1000);
    const server: Record<string, number | null> = { ours: null, 'node-coap': null };
    if (!probe.ok) {
      log(`  block-wise: not yet implemented (server probe: ${probe.reason})`);
      notes.push(`block-wise: not yet implemented in our server (probe: ${probe.reason})`);
    }
    for (const [col, host, port] of [
      ['ours', '127.0.0.11', ours.port],
      ['node-coap', '127.0.0.12', peer.port],
    ] as const) {
      if (col === 'ours' && !probe.ok) continue;
      const r = await timed(reps, size, async () => {
        const f = await fetchBlockwise(host, port, PATH, 6, 1000);
        return f.ok ? f.bytes : -1;
      });
      if (typeof r === 'string') notes.push(`server ${col}: ${r}`);
      else server[col] = r;
    }
    rows.push({
      scenario: probe.ok
        ? `server: GET ${what}, Block2 1024 B, neutral client`
        : 'server: block-wise: not yet implemented',
      unit: 'ms',
      higherIsBetter: false,
      values: server,
    });
    const client: Record<string, number | null> = { ours: null, 'node-coap': null };
    const c = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }] });
    try {
      const uri = `coap://127.0.0.12:${peer.port}/bench/big/${size}`;
      const ourBytes = await c.request({ uri, timeout: 20_000 }).then(
        (r) => r.payload.length,
        () => -1,
      );
      const clientHas = ourBytes === size;
      if (!clientHas) {
        log(`  block-wise: not yet implemented (our client got ${ourBytes} bytes of ${size})`);
        notes.push(
          `block-wise: not yet implemented in our client (it returned ${ourBytes} of ${size} bytes)`,
        );
      } else {
        const r = await timed(reps, size, () =>
          c.request({ uri, timeout: 20_000 }).then((x) => x.payload.length),
        );
        if (typeof r === 'string') notes.push(`client ours: ${r}`);
        else client.ours = r;
      }
      const r = await timed(reps, size, () => nodeCoapGet('127.0.0.12', peer.port, size));
      if (typeof r === 'string') notes.push(`client node-coap: ${r}`);
      else client['node-coap'] = r;
      rows.push({
        scenario: clientHas
          ? `client: GET ${what} from node-coap's server`
          : 'client: block-wise: not yet implemented',
        unit: 'ms',
        higherIsBetter: false,
        values: client,
      });
    } finally {
      await c.close();
    }
    for (const [k, v] of Object.entries({ ...server }))
      if (v !== null) log(`  block server ${k} ${v.toFixed(1)} ms`);
    for (const [k, v] of Object.entries({ ...client }))
      if (v !== null) log(`  block client ${k} ${v.toFixed(1)} ms`);
  } catch (err) {
    notes.push(`block-wise: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    for (const ch of children) await ch.stop();
  }
  return {
    name: 'block',
    title: `Block-wise transfer of ${what} (RFC 7959), sequential CON exchanges, median of ${reps}`,
    columns: ['ours', 'node-coap'],
    rows,
    notes,
  };
}
