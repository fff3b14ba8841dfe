// The CoAP proxy (groupcomm-proxy; RFC 7252 §5.7): the time to all N responses of a group GET
// (N = 10 and 100 of our nodes on lo, Leisure N/1000 s, as in the fan-out section), collected
// directly by our client and through our proxy (a raw client, the proxy in a child process of its
// own, the nodes in another); then proxied unicast GET requests per second against direct ones,
// with the proxy's cache hit (Max-Age 60) and missed (Max-Age 0: every request goes through).
// The proxy should add about one round trip to the group figure.
import { CoapClient } from '../../src/index.js';
import type { BenchConfig } from '../config.js';
import { type DriveResult, drive, type OneRequest } from '../load/drive.js';
import type { Row, SectionResult } from '../report/types.js';
import { type Child, sibling, spawnTs } from '../servers/spawn.js';
import { groupTimeRows } from './group-through.js';

const IN_FLIGHT = [1, 16];
const TIMEOUT_MS = 2000;

/** Closed-loop GETs from our client, to the origin directly or through the proxy (Proxy-Uri). */
async function unicast(
  cfg: BenchConfig,
  target: string,
  proxyPort: number | undefined,
  inFlight: number,
): Promise<DriveResult> {
  const client = await CoapClient.create({
    bind: [{ address: '127.0.0.1', port: 0 }],
    transmission: { nstart: inFlight },
  });
  const request =
    proxyPort === undefined
      ? { uri: target }
      : {
          uri: `coap://127.0.0.15:${proxyPort}/`,
          options: [{ number: 35, value: Buffer.from(target) }],
        };
  const one: OneRequest = () =>
    client.request({ ...request, timeout: TIMEOUT_MS }).then(
      (r) => r.code === 0x45,
      () => false,
    );
  try {
    return await drive(one, inFlight, cfg.warmupMs, cfg.durationMs);
  } finally {
    await client.close();
  }
}

async function unicastRows(
  cfg: BenchConfig,
  proxy: Child,
  log: (s: string) => void,
  notes: string[],
): Promise<Row[]> {
  const rows: Row[] = [];
  let origin: Child;
  try {
    origin = await spawnTs('origin', sibling(import.meta.url, '../servers/proxy-origin.ts'), []);
  } catch (err) {
    notes.push(`the origin did not start: ${(err as Error).message.split('\n')[0]}`);
    return rows;
  }
  try {
    const base = `coap://127.0.0.16:${origin.port}/bench`;
    for (const inFlight of IN_FLIGHT) {
      const direct = await unicast(cfg, `${base}/hello`, undefined, inFlight);
      const hit = await unicast(cfg, `${base}/hello`, proxy.port, inFlight);
      const miss = await unicast(cfg, `${base}/fresh`, proxy.port, inFlight);
      for (const [what, r] of [
        ['direct', direct],
        ['cache hit', hit],
        ['cache miss', miss],
      ] as const) {
        log(
          `  proxy unicast x${inFlight} ${what.padEnd(10)} ${r.reqPerSec.toFixed(0)} req/s, p50 ${r.p50Us.toFixed(0)} µs, failed ${r.failed}`,
        );
        if (r.failed > 0) notes.push(`unicast x${inFlight} ${what}: ${r.failed} requests failed`);
      }
      for (const [what, r] of [
        ['cache hit', hit],
        ['cache miss', miss],
      ] as const) {
        rows.push({
          scenario: `unicast GET CON x${inFlight}, ${what}`,
          unit: 'req/s',
          higherIsBetter: true,
          values: { proxy: r.reqPerSec, direct: direct.reqPerSec },
        });
      }
    }
  } finally {
    await origin.stop();
  }
  return rows;
}

export async function proxySection(cfg: BenchConfig, log: (s: string) => void): Promise<SectionResult> {
  const notes: string[] = [];
  const rows: Row[] = [];
  const result = () => ({
    name: 'proxy',
    title: 'CoAP proxy: multicast GET to N of our nodes on lo, and unicast GET, through the proxy and direct',
    columns: ['proxy', 'direct'],
    rows,
    notes,
  });
  let proxy: Child;
  try {
    proxy = await spawnTs('proxy', sibling(import.meta.url, '../servers/proxy.ts'), []);
  } catch (err) {
    notes.push(`the proxy did not start: ${(err as Error).message.split('\n')[0]}`);
    return result();
  }
  try {
    rows.push(
      ...(await groupTimeRows(
        cfg,
        { column: 'proxy', child: proxy, collector: '../proxy/collect-proxy.ts' },
        log,
        notes,
      )),
    );
    rows.push(...(await unicastRows(cfg, proxy, log, notes)));
    const mem = await proxy.memory();
    if (mem) notes.push(`the proxy's process after the runs: RSS ${(mem.rss / 1024 / 1024).toFixed(0)} MB`);
  } finally {
    await proxy.stop();
  }
  notes.push(
    'group, proxy: a raw client, from sending the request to the proxy to the N-th relayed 2.05; direct: our client, from group() to the N-th response',
    'unicast: our client in the bench process, closed loop; the proxy and the origin each in a child process',
  );
  return result();
}
