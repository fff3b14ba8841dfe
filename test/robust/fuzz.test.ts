/**
 * Robustness: a seeded mutation fuzzer (bit flips, truncation, option corruption, huge lengths,
 * header damage) over valid CoAP datagrams, plus fully random datagrams, sent over UDP loopback
 * at a live in-process CoapServer. Nothing may crash or reject unhandled, memory stays bounded
 * (heap growth, dedup table), and afterwards the server still answers a well-formed GET. At codec
 * level, fast-check properties: decoding any bytes throws nothing but MessageFormatError, and
 * whatever decodes re-encodes (or fails with MessageEncodeError) to the same message.
 * FUZZ_SEED and FUZZ_COUNT override the seed (default 0xC0A9) and the datagram count (20000).
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { describe, it } from 'node:test';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { decodeMessage, encodeMessage } from '../../src/entry/codec.js';
import { UdpTransport } from '../../src/entry/transport.js';
import {
  CoapClient,
  type CoapMessage,
  CoapResponseError,
  CoapServer,
  MessageEncodeError,
  MessageFormatError,
  Opt,
} from '../../src/index.js';
import { trackHandles } from '../support/handles.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0xc0a9);
const COUNT = Number(process.env.FUZZ_COUNT ?? 20_000);
const HOST = '127.0.0.31';
/** Messenger default (MessengerOptions.maxDedupEntries). */
const MAX_DEDUP = 20_000;
const MB = 1024 * 1024;

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** xorshift32: the same seed gives the same datagrams. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.s = x >>> 0);
  }
  int(n: number): number {
    return this.u32() % n;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

const b = (s: string) => Buffer.from(s);
const u = (n: number) =>
  n === 0 ? Buffer.alloc(0) : n < 256 ? Buffer.from([n]) : Buffer.from([n >> 8, n & 0xff]);
const msg = (m: Partial<CoapMessage>): Buffer =>
  encodeMessage({
    type: 0,
    code: 1,
    messageId: 1,
    token: b('tok1'),
    options: [],
    payload: Buffer.alloc(0),
    ...m,
  });
const path = (...segs: string[]) => segs.map((s) => ({ number: Opt.UriPath, value: b(s) }));

/** Valid datagrams that reach every part of the server: routing, formats, Observe, blocks, errors. */
const SEEDS: readonly Buffer[] = [
  msg({ options: path('hello') }),
  msg({ type: 1, options: path('hello') }),
  msg({
    code: 3,
    options: [...path('json'), { number: Opt.ContentFormat, value: u(50) }],
    payload: b('{"a":[1,2,{"b":null}]}'),
  }),
  msg({ code: 2, options: path('echo'), payload: b('some text') }),
  msg({ options: [{ number: Opt.Observe, value: u(0) }, ...path('hello')] }),
  msg({ options: [...path('big'), { number: Opt.Block2, value: u(0x16) }] }),
  msg({
    code: 3,
    options: [...path('echo'), { number: Opt.Block1, value: u(0x0e) }],
    payload: Buffer.alloc(1024, 7),
  }),
  msg({ options: [...path('.well-known', 'core'), { number: Opt.UriQuery, value: b('rt=light*') }] }),
  msg({ options: [...path('items', '42'), { number: Opt.Accept, value: u(50) }] }),
  msg({ options: path('throw') }),
  msg({ options: path('async') }),
  msg({
    options: [
      { number: Opt.UriHost, value: b('example.com') },
      ...path('hello'),
      { number: Opt.NoResponse, value: u(2) },
    ],
  }),
  msg({ options: [{ number: Opt.ProxyUri, value: b('coap://example.com/x') }] }),
  msg({ options: [...path('hello'), { number: 9, value: b('x') }] }),
  msg({ options: [...path('hello'), { number: 2049, value: b('odd critical') }] }),
  msg({
    code: 0x45,
    type: 0,
    options: [{ number: Opt.ContentFormat, value: u(0) }],
    payload: b('late response'),
  }),
  msg({ code: 0x45, type: 2, messageId: 7 }),
  encodeMessage({
    type: 0,
    code: 0,
    messageId: 9,
    token: Buffer.alloc(0),
    options: [],
    payload: Buffer.alloc(0),
  }),
  encodeMessage({
    type: 3,
    code: 0,
    messageId: 9,
    token: Buffer.alloc(0),
    options: [],
    payload: Buffer.alloc(0),
  }),
  msg({ code: 7, options: path('hello') }),
  msg({ code: 0xe1, options: path('hello') }),
];

/** One damaged datagram. */
function mutate(rng: Rng, seed: Buffer): Buffer {
  const d = Buffer.from(seed);
  switch (rng.int(8)) {
    case 0: {
      // 1-8 bit flips
      for (let i = rng.int(8) + 1; i > 0; i--) d[rng.int(d.length)]! ^= 1 << rng.int(8);
      return d;
    }
    case 1:
      return d.subarray(0, rng.int(d.length));
    case 2: {
      // An option header with reserved or extended nibbles somewhere after the token.
      const at = Math.min(d.length - 1, 4 + (d[0]! & 15) + rng.int(8));
      const nibbles = [13, 14, 15, rng.int(16)];
      d[at] = (nibbles[rng.int(4)]! << 4) | nibbles[rng.int(4)]!;
      return d;
    }
    case 3: {
      // A huge option length or delta (up to 65804) that runs past the end.
      const at = 4 + (d[0]! & 15);
      const huge = Buffer.from([rng.int(2) ? 0xde : 0xed, 0xff, 0xff, 0xfe, rng.int(256)]);
      return Buffer.concat([d.subarray(0, at), huge, d.subarray(at)]);
    }
    case 4:
      d[0] = (d[0]! & 0xf0) | rng.int(16); // token length 0-15
      return d;
    case 5:
      d[0] = (rng.int(4) << 6) | (d[0]! & 0x3f); // version
      d[1] = rng.int(256); // code
      return d;
    case 6:
      return Buffer.concat([d, rng.bytes(rng.int(64))]);
    default: {
      // Splice two seeds.
      const other = SEEDS[rng.int(SEEDS.length)]!;
      return Buffer.concat([d.subarray(0, rng.int(d.length)), other.subarray(rng.int(other.length))]);
    }
  }
}

/** A fuzz datagram: three quarters (mostly mutated) seeds, one quarter random bytes (0-1400). */
function datagram(rng: Rng): Buffer {
  if (rng.int(4) === 0) return rng.bytes(rng.int(1401));
  // A fresh Message ID and token, so the dedup table fills as it would under real traffic.
  let d: Buffer = Buffer.from(SEEDS[rng.int(SEEDS.length)]!);
  d.writeUInt16BE(rng.int(0x10000), 2);
  if (d[1] !== 0) rng.bytes(d[0]! & 15).copy(d, 4);
  // One in four goes out undamaged, so valid requests keep reaching the handlers.
  for (let i = rng.int(4); i > 0; i--) d = mutate(rng, d);
  return d.length === 0 ? rng.bytes(1) : d;
}

function fuzzServer(transport: UdpTransport): CoapServer {
  const s = new CoapServer({ transport, joinAllCoapNodes: false });
  s.get('/hello', () => ({ payload: 'hello' }), { rt: 'light', obs: true });
  s.put('/json', (req) => ({ payload: req.json() as object }), { accepts: [50] });
  s.post('/echo', (req) => ({ payload: req.payload }));
  s.put('/echo', (req) => ({ payload: req.payload }));
  s.get('/big', () => ({ payload: Buffer.alloc(5000, 1) }));
  s.get('/items/:id', (req) => ({ payload: { id: req.params.id }, format: 50 }));
  s.get('/throw', () => {
    throw new Error('handler failure');
  });
  s.get('/teapot', () => {
    throw new CoapResponseError('4.03', 'no');
  });
  s.get('/async', () => new Promise((r) => setImmediate(() => r({ payload: 'later' }))));
  return s;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('fuzzing a live server over UDP loopback', () => {
  it(`survives ${COUNT} mutated and random datagrams (seed ${SEED}) and still answers`, {
    timeout: 60_000,
  }, async (t) => {
    const checkHandles = trackHandles();
    const failures: unknown[] = [];
    const onRejection = (e: unknown) => failures.push(e);
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onRejection);
    const transport = await UdpTransport.create({ bind: [{ address: HOST, port: 0 }] });
    let received = 0;
    const install = transport.setReceiver.bind(transport);
    transport.setReceiver = (r) =>
      install((d) => {
        received++;
        r(d);
      });
    const server = fuzzServer(transport);
    await server.listen();
    const port = server.endpoints[0]!.port;
    const sockets = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const s = dgram.createSocket('udp4');
        s.on('message', () => {});
        s.on('error', () => {});
        await new Promise<void>((r) => s.bind({ address: '127.0.0.1', port: 0 }, r));
        return s;
      }),
    );
    const client = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }] });
    let peakHeap = 0;
    let maxDedup = 0;
    const sampler = setInterval(() => {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      maxDedup = Math.max(maxDedup, server.messenger.stats().dedup);
    }, 10);
    try {
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      const rng = new Rng(SEED);
      let sent = 0;
      const deadline = Date.now() + 40_000;
      // Bounded by COUNT and by time; paced so the server's receive buffer does not overflow.
      while (sent < COUNT && Date.now() < deadline) {
        for (let i = 0; i < 32 && sent < COUNT; i++, sent++) {
          sockets[sent % sockets.length]!.send(datagram(rng), port, HOST);
        }
        for (let w = 0; w < 50 && received < sent - 128; w++) await sleep(1);
        await new Promise((r) => setImmediate(r));
      }
      for (let w = 0; w < 200 && received < sent; w++) await sleep(5);
      maxDedup = Math.max(maxDedup, server.messenger.stats().dedup);
      gc();
      const heapAfter = process.memoryUsage().heapUsed;
      const stats = server.messenger.stats();
      t.diagnostic(
        `seed ${SEED}: sent ${sent}, received ${received}, crashes ${failures.length}, ` +
          `heap ${((heapAfter - heapBefore) / MB).toFixed(1)} MB after GC, peak ${(peakHeap / MB).toFixed(1)} MB, ` +
          `dedup max ${maxDedup}, tables now ${JSON.stringify(stats)}`,
      );
      assert.equal(sent, COUNT, 'every datagram was sent within the time bound');
      assert.deepEqual(failures, [], 'no uncaught exception and no unhandled rejection');
      assert.ok(maxDedup <= MAX_DEDUP, `dedup table ${maxDedup} <= ${MAX_DEDUP}`);
      assert.ok(
        heapAfter - heapBefore < 64 * MB,
        `heap grew ${((heapAfter - heapBefore) / MB).toFixed(1)} MB`,
      );
      assert.ok(stats.pending < 1000 && stats.timers < 1000, `tables bounded: ${JSON.stringify(stats)}`);
      const res = await client.request({ uri: `coap://${HOST}:${port}/hello`, timeout: 5000 });
      assert.equal(res.codeString, '2.05');
      assert.equal(res.text(), 'hello');
    } finally {
      clearInterval(sampler);
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onRejection);
      await client.close();
      await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
      await server.close();
      await checkHandles();
    }
  });
});

/** Decodes; a MessageFormatError is the only acceptable failure. */
function decodeOrFormatError(bytes: Buffer): CoapMessage | undefined {
  try {
    return decodeMessage(bytes);
  } catch (e) {
    assert.ok(e instanceof MessageFormatError, `decode threw ${String(e)}`);
    return undefined;
  }
}

const seedBytes = fc.constantFrom(...SEEDS);
/** A seed mutated by fast-check: bytes overwritten, cut or appended. */
const mutated = fc
  .tuple(
    seedBytes,
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
    fc.nat(),
    fc.uint8Array({ maxLength: 32 }),
  )
  .map(([seed, writes, cut, tail]) => {
    const d = Buffer.from(seed);
    for (const [at, v] of writes) d[at % d.length] = v;
    return Buffer.concat([d.subarray(0, cut % (d.length + 1)), tail]);
  });
const anyBytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

describe('codec properties over damaged input', () => {
  it('decode throws nothing but MessageFormatError', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(fc.oneof(mutated, anyBytes), (bytes) => {
        decodeOrFormatError(bytes);
      }),
      { seed: SEED, numRuns: 20_000 },
    );
  });

  it('what decodes re-encodes to the same message, or fails with MessageEncodeError', {
    timeout: 30_000,
  }, () => {
    fc.assert(
      fc.property(fc.oneof(mutated, anyBytes), (bytes) => {
        const m = decodeOrFormatError(bytes);
        if (m === undefined) return;
        let again: Buffer;
        try {
          again = encodeMessage(m);
        } catch (e) {
          assert.ok(e instanceof MessageEncodeError, `encode threw ${String(e)}`);
          return;
        }
        const back = decodeMessage(again);
        assert.deepEqual(
          {
            ...back,
            token: [...back.token],
            payload: [...back.payload],
            options: back.options.map((o) => [o.number, [...o.value]]),
          },
          {
            ...m,
            token: [...m.token],
            payload: [...m.payload],
            options: m.options.map((o) => [o.number, [...o.value]]),
          },
        );
      }),
      { seed: SEED, numRuns: 20_000 },
    );
  });
});
