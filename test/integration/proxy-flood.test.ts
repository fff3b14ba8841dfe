/**
 * A bounded flood of proxied group requests (spec: "the proxy must not become an amplifier";
 * groupcomm-bis §6.3): a worker thread sends CON GETs with Proxy-Uri coap://224.0.1.187/light and
 * Multicast-Timeout 2 from eight clients, four of them allow-listed, as fast as it can for a
 * bounded time and count, at a proxy in front of three members on lo, inside a private network
 * namespace. The proxy's tables must stay under their bounds, the allow-listed flooders get 5.03
 * with Max-Age, the others 4.01, and a well-behaved allow-listed client keeps getting every
 * member's response. No timing thresholds: only counts and sizes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { MessageType } from '../../src/message/types.js';
import { Messenger } from '../../src/messenger/messenger.js';
import { Opt } from '../../src/options/registry.js';
import { encodeUint } from '../../src/options/values.js';
import { CoapProxy } from '../../src/proxy/proxy.js';
import { CoapServer } from '../../src/server/server.js';
import { UdpTransport } from '../../src/transport/udp.js';
import { runGroupTestsInNetns } from '../support/group-netns.js';
import { trackHandles } from '../support/handles.js';
import { assertOnlyInterfaces, insideNetns, LOOPBACK_SETUP } from '../support/netns.js';

const FLOOD_MS = Number(process.env.FLOOD_MS ?? 2500);
const MB = 1024 * 1024;
const PROXY = '127.0.0.10';
const MEMBERS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const FLOODERS = [
  '127.0.0.20',
  '127.0.0.21',
  '127.0.0.22',
  '127.0.0.23',
  '127.0.0.24',
  '127.0.0.25',
  '127.0.0.26',
  '127.0.0.27',
];
const GOOD = '127.0.0.30';

/** The flooder, as CommonJS for an eval'd worker: bounded by time and count; counts answers by code. */
const FLOODER = `
const { workerData, parentPort } = require('node:worker_threads');
const dgram = require('node:dgram');
const { host, port, sources, durationMs, maxDatagrams } = workerData;
(async () => {
  const codes = {};
  let maxAgeOf503 = Infinity;
  const socks = [];
  for (const [i, address] of sources.entries()) {
    const s = dgram.createSocket('udp4');
    s.on('error', () => {});
    s.on('message', (m) => {
      if (m.length < 4) return;
      const key = i + ':' + (m[1] >> 5) + '.' + String(m[1] & 31).padStart(2, '0');
      codes[key] = (codes[key] || 0) + 1;
      // 5.03: Max-Age (14) is the first option, right after the token: d1 01 NN (delta 13 + 1, length 1).
      if (m[1] === 0xa3) {
        const at = 4 + (m[0] & 15);
        if (m[at] === 0xd1 && m[at + 1] === 1) maxAgeOf503 = Math.min(maxAgeOf503, m[at + 2]);
      }
    });
    await new Promise((r) => s.bind({ address, port: 0 }, r));
    socks.push(s);
  }
  const uri = Buffer.from('coap://224.0.1.187/light');
  // CON GET, token 4 bytes, Proxy-Uri (35: dd 16 len-13), Multicast-Timeout 2 (65026: e1 fc d2 02).
  const head = Buffer.from([0x44, 0x01, 0, 0, 0, 0, 0, 0, 0xdd, 0x16, uri.length - 13]);
  const tail = Buffer.from([0xe1, 0xfc, 0xd2, 0x02]);
  let sent = 0;
  const end = Date.now() + durationMs;
  while (Date.now() < end && sent < maxDatagrams) {
    for (let i = 0; i < 16; i++, sent++) {
      const b = Buffer.concat([head, uri, tail]);
      b.writeUInt16BE(sent & 0xffff, 2);
      b.writeUInt32BE(sent >>> 0, 4);
      socks[sent % socks.length].send(b, port, host);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  // The last answers come in; then every socket closes.
  await new Promise((r) => setTimeout(r, 500));
  await Promise.all(socks.map((s) => new Promise((r) => s.close(r))));
  parentPort.postMessage({ sent, codes, maxAgeOf503 });
})();
`;

interface Flooded {
  sent: number;
  codes: Record<string, number>;
  maxAgeOf503: number;
}

function flood(): Promise<Flooded> {
  const w = new Worker(FLOODER, {
    eval: true,
    workerData: { host: PROXY, port: 5683, sources: FLOODERS, durationMs: FLOOD_MS, maxDatagrams: 12_000 },
  });
  return new Promise<Flooded>((resolve, reject) => {
    let result: Flooded | undefined;
    const kill = setTimeout(() => void w.terminate(), FLOOD_MS + 10_000);
    w.on('message', (m: Flooded) => {
      result = m;
    });
    w.once('error', (e) => {
      clearTimeout(kill);
      reject(e);
    });
    w.once('exit', () => {
      clearTimeout(kill);
      if (result === undefined) reject(new Error('the flooder ended without a result'));
      else resolve(result);
    });
  });
}

/** The well-behaved client: one proxied group GET, and the members that answered within `ms`. */
async function ask(m: Messenger, n: number, ms: number): Promise<{ members: number; codes: number[] }> {
  const token = Buffer.from([0x60, 0x0d, n >> 8, n & 0xff]);
  const codes: number[] = [];
  const off = m.addResponseListener((msg) => {
    if (!msg.token.equals(token)) return false;
    codes.push(msg.code);
    return true;
  });
  m.send(
    {
      type: MessageType.CON,
      code: 1,
      token,
      options: [
        { number: Opt.ProxyUri, value: Buffer.from('coap://224.0.1.187/light') },
        { number: 65026, value: encodeUint(1) },
      ],
      payload: Buffer.alloc(0),
    },
    { address: PROXY, port: 5683 },
  );
  await new Promise((r) => setTimeout(r, ms));
  off();
  return { members: codes.filter((c) => c === 0x45).length, codes };
}

if (!insideNetns()) {
  test('a flood of proxied group requests, in a private network namespace', { timeout: 120_000 }, (t) =>
    runGroupTestsInNetns(t, import.meta.filename, LOOPBACK_SETUP),
  );
} else {
  describe('a flood of proxied group requests', () => {
    const members: CoapServer[] = [];
    let proxy: CoapProxy | undefined;
    let checkHandles: () => Promise<void> = async () => {};

    before(async () => {
      assertOnlyInterfaces(['lo']);
      checkHandles = trackHandles();
      for (const address of MEMBERS) {
        const s = new CoapServer({ bind: [address], iface: '127.0.0.1', leisure: 0.1 });
        s.resource('/light', { multicast: true }).get(() => ({ payload: 'on', format: 0 }));
        await s.listen();
        members.push(s);
      }
      proxy = new CoapProxy({
        bind: [PROXY],
        iface: '127.0.0.1',
        groups: { allow: [{ from: '127.0.0.20/30' }, { from: GOOD }] },
      });
      await proxy.listen();
    });

    after(async () => {
      await proxy?.close();
      for (const s of members) await s.close();
      await checkHandles();
    });

    it('stays bounded, answers 5.03 and 4.01, and keeps serving an allow-listed client', {
      timeout: 60_000,
    }, async (t) => {
      const p = proxy!;
      const max = { forwardings: 0, waiting: 0, buffered: 0, pending: 0, dedup: 0, tokens: 0 };
      const heapBefore = process.memoryUsage().heapUsed;
      let heapPeak = heapBefore;
      const sample = () => {
        const s = p.stats();
        const m = p.server.stats()!.messenger;
        max.forwardings = Math.max(max.forwardings, s.forwardings);
        max.waiting = Math.max(max.waiting, s.waiting);
        max.buffered = Math.max(max.buffered, s.limits.buffered);
        max.pending = Math.max(max.pending, m.pending);
        max.dedup = Math.max(max.dedup, m.dedup);
        max.tokens = Math.max(max.tokens, s.outward?.tokens ?? 0);
        heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
      };
      const sampler = setInterval(sample, 20);
      const transport = await UdpTransport.create({ bind: [{ address: GOOD, port: 0 }] });
      const good = new Messenger({ transport, transmission: { ackTimeout: 0.2 } });
      const served: number[] = [];
      const refused: number[][] = [];
      try {
        const flooding = flood();
        let done = false;
        void flooding.finally(() => {
          done = true;
        });
        // Within its rate (one request a second); bounded by the flood and by count.
        for (let i = 0; i < 20 && !done; i++) {
          const r = await ask(good, i, 1200);
          served.push(r.members);
          if (r.codes.some((c) => c >> 5 !== 2)) refused.push(r.codes);
        }
        const f = await flooding;
        sample();
        const last = await ask(good, 1000, 1500);
        const total = (code: string, from: (i: number) => boolean) =>
          Object.entries(f.codes)
            .filter(([k]) => k.endsWith(code) && from(Number(k.split(':')[0])))
            .reduce((n, [, v]) => n + v, 0);
        const listed = (i: number) => i < 4;
        t.diagnostic(
          `flood sent ${f.sent}; answers ${JSON.stringify(f.codes)}; max ${JSON.stringify(max)}; ` +
            `heap peak +${((heapPeak - heapBefore) / MB).toFixed(1)} MB; well-behaved client: ${served.join(',')}`,
        );
        assert.ok(f.sent > 100, 'the flooder ran');
        assert.ok(total('5.03', listed) > 0, 'allow-listed flooders were held back with 5.03');
        assert.ok(f.maxAgeOf503 >= 1 && f.maxAgeOf503 < Infinity, '5.03 says when to come back (Max-Age)');
        assert.ok(total('4.01', (i) => !listed(i)) > 0, 'the others got 4.01');
        assert.equal(
          total('2.05', (i) => !listed(i)),
          0,
          'nothing reached them from the group',
        );
        const limits = { total: 64, queued: 8 };
        assert.ok(max.forwardings <= limits.total, `forwardings ${max.forwardings}`);
        assert.ok(max.waiting <= limits.queued, `waiting ${max.waiting}`);
        assert.ok(max.buffered <= 256 * 1024, `buffered ${max.buffered}`);
        assert.ok(max.pending <= limits.total * 32, `relayed messages tracked ${max.pending}`);
        assert.ok(max.dedup <= 20_000, `dedup ${max.dedup}`);
        assert.ok(
          heapPeak - heapBefore < 256 * MB,
          `heap grew ${((heapPeak - heapBefore) / MB).toFixed(0)} MB`,
        );
        assert.deepEqual(refused, [], 'the well-behaved client was never refused');
        assert.ok(served.filter((n) => n > 0).length >= 2, `served during the flood: ${served.join(',')}`);
        assert.equal(last.members, 3, 'every member answers it after the flood');
      } finally {
        clearInterval(sampler);
        await good.close();
      }
    });
  });
}
