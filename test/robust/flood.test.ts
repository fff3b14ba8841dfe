/**
 * Robustness under request floods: a worker thread (its own event loop) sends GET requests with
 * fresh Message IDs and tokens from 32 sockets as fast as it can for a bounded time, first to a
 * server's unicast address, then to the All CoAP Nodes group on lo (224.0.1.187, random port,
 * pinned to 127.0.0.1). Meanwhile the server's tables (messenger.stats()) must stay under fixed
 * bounds and a well-behaved client must keep getting answers. No timing thresholds: only counts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { CoapClient, CoapServer } from '../../src/index.js';
import { randomPort, trackHandles } from '../support/handles.js';

const FLOOD_MS = Number(process.env.FLOOD_MS ?? 3000);
/** Upper bounds of the server's tables during a flood. */
const BOUNDS = { dedup: 20_000, pending: 1000, timers: 1000 } as const;
const MB = 1024 * 1024;

/** The flooder, as CommonJS source for an eval'd worker. Bounded by time and by count. */
const FLOODER = `
const { workerData, parentPort } = require('node:worker_threads');
const dgram = require('node:dgram');
const { host, port, durationMs, maxDatagrams, multicast } = workerData;
(async () => {
  const socks = [];
  for (let i = 0; i < 32; i++) {
    const s = dgram.createSocket('udp4');
    s.on('error', () => {});
    await new Promise((r) => s.bind({ address: '127.0.0.1', port: 0 }, r));
    if (multicast) { s.setMulticastInterface('127.0.0.1'); s.setMulticastTTL(1); }
    socks.push(s);
  }
  const template = Buffer.from([0x44, 0x01, 0, 0, 0, 0, 0, 0, 0xb5, 0x68, 0x65, 0x6c, 0x6c, 0x6f]);
  let sent = 0;
  const end = Date.now() + durationMs;
  while (Date.now() < end && sent < maxDatagrams) {
    for (let i = 0; i < 64; i++, sent++) {
      const b = Buffer.from(template);
      b[0] = multicast || (sent & 1) ? 0x54 : 0x44;
      b.writeUInt16BE(sent & 0xffff, 2);
      b.writeUInt32BE(sent >>> 0, 4);
      socks[sent % socks.length].send(b, port, host);
    }
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(socks.map((s) => new Promise((r) => s.close(r))));
  parentPort.postMessage({ sent });
})();
`;

function flood(host: string, port: number, multicast: boolean): Promise<number> {
  const w = new Worker(FLOODER, {
    eval: true,
    workerData: { host, port, durationMs: FLOOD_MS, maxDatagrams: 5_000_000, multicast },
  });
  // Settles only once the worker has exited, so nothing of it outlives the test.
  return new Promise<number>((resolve, reject) => {
    let sent = -1;
    const kill = setTimeout(() => void w.terminate(), FLOOD_MS + 10_000);
    w.on('message', (m: { sent: number }) => {
      sent = m.sent;
    });
    w.once('error', (e) => {
      clearTimeout(kill);
      reject(e);
    });
    w.once('exit', () => {
      clearTimeout(kill);
      resolve(sent);
    });
  });
}

interface Observed {
  max: { dedup: number; pending: number; timers: number };
  heapGrowth: number;
  ok: number;
  failed: number;
  sent: number;
}

/** Floods while sampling the server's tables and running a well-behaved client; then checks it still answers. */
async function underFlood(
  server: CoapServer,
  host: string,
  port: number,
  multicast: boolean,
): Promise<Observed> {
  const max = { dedup: 0, pending: 0, timers: 0 };
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  const sample = () => {
    const s = server.messenger.stats();
    max.dedup = Math.max(max.dedup, s.dedup);
    max.pending = Math.max(max.pending, s.pending);
    max.timers = Math.max(max.timers, s.timers);
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  };
  const sampler = setInterval(sample, 20);
  // Short retransmission timeouts, so a request whose datagram the flood crowded out is retried soon.
  const client = await CoapClient.create({
    bind: [{ address: '127.0.0.1', port: 0 }],
    transmission: { ackTimeout: 0.1, maxRetransmit: 6 },
  });
  let ok = 0;
  let failed = 0;
  try {
    const flooding = flood(multicast ? '224.0.1.187' : host, port, multicast);
    let done = false;
    void flooding.finally(() => {
      done = true;
    });
    // Bounded: stops with the flood, and after 10000 requests at most.
    for (let i = 0; i < 10_000 && !done; i++) {
      try {
        const r = await client.request({ uri: `coap://${host}:${port}/hello`, timeout: 15_000 });
        if (r.codeString === '2.05' && r.text() === 'hello') ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
    const sent = await flooding;
    sample();
    const after = await client.request({ uri: `coap://${host}:${port}/hello`, timeout: 15_000 });
    assert.equal(after.text(), 'hello', 'the server answers after the flood');
    return { max, heapGrowth: heapPeak - heapBefore, ok, failed, sent };
  } finally {
    clearInterval(sampler);
    await client.close();
  }
}

function checkBounds(o: Observed): void {
  assert.ok(o.sent > 0, 'the flooder ran');
  for (const k of ['dedup', 'pending', 'timers'] as const) {
    assert.ok(o.max[k] <= BOUNDS[k], `${k} reached ${o.max[k]}, bound ${BOUNDS[k]}`);
  }
  assert.ok(o.heapGrowth < 256 * MB, `heap grew ${(o.heapGrowth / MB).toFixed(0)} MB`);
  assert.ok(o.ok >= 3, `the well-behaved client got ${o.ok} answers (${o.failed} failed) during the flood`);
}

const report = (o: Observed) =>
  `flood sent ${o.sent}; max tables ${JSON.stringify(o.max)}; heap peak +${(o.heapGrowth / MB).toFixed(1)} MB; ` +
  `well-behaved client: ${o.ok} answered, ${o.failed} failed`;

describe('request floods', () => {
  it('unicast: tables stay bounded and a well-behaved client is answered', { timeout: 60_000 }, async (t) => {
    const checkHandles = trackHandles();
    const host = '127.0.0.32';
    const server = new CoapServer({ bind: [host], port: 0, joinAllCoapNodes: false });
    server.get('/hello', () => ({ payload: 'hello' }));
    await server.listen();
    try {
      const o = await underFlood(server, host, server.endpoints[0]!.port, false);
      t.diagnostic(report(o));
      checkBounds(o);
    } finally {
      await server.close();
      await checkHandles();
    }
  });

  it('multicast on lo: tables stay bounded and a well-behaved client is answered', {
    timeout: 60_000,
  }, async (t) => {
    const checkHandles = trackHandles();
    const host = '127.0.0.33';
    let server: CoapServer | undefined;
    let port = 0;
    // Bounded: a few random ports, in case one is taken.
    for (let i = 0; i < 5 && server === undefined; i++) {
      port = randomPort();
      const s = new CoapServer({ bind: [host], port, iface: '127.0.0.1', leisure: 0.05 });
      s.get('/hello', () => ({ payload: 'hello' }), { multicast: true });
      try {
        await s.listen();
        server = s;
      } catch {
        await s.close();
      }
    }
    assert.ok(server, 'a server joined 224.0.1.187 on lo');
    try {
      assert.ok(server.memberships().some((m) => m.group === '224.0.1.187' && m.port === port));
      const o = await underFlood(server, host, port, true);
      t.diagnostic(report(o));
      checkBounds(o);
    } finally {
      await server.close();
      await checkHandles();
    }
  });
});
