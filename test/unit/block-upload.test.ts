/**
 * Block-wise uploads (RFC 7959 §2.5) from our client on the memory network with a FakeRuntime:
 * Block1 with one Request-Tag and Size1 per body (RFC 9175 §3, RFC 7959 §4), reassembly at our
 * server, a smaller SZX asked for in 2.31 Continue, loss, and two bodies sent at once to one
 * resource that Request-Tag keeps apart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { decodeBlock, encodeBlock } from '../../src/entry/codec.js';
import { type CoapServer, Code, findOption, Opt } from '../../src/index.js';
import { EMPTY } from '../../src/message/types.js';
import type { ServerExchange } from '../../src/messenger/server-exchange.js';
import { BASE, blocksOf, body, bwPair, messages, RAW_ADDR, requestsOf } from '../support/bw-mem.js';
import { memSetup, SERVER } from '../support/mem-net.js';

const T = { timeout: 30_000 };

/** A PUT resource `/store` that keeps every body it receives. */
function store(bodies: Buffer[]) {
  return (s: CoapServer) =>
    s.resource('/store').put((req) => {
      bodies.push(Buffer.from(req.payload));
      return { code: '2.04' };
    });
}

const tagOf = (m: { options: readonly { number: number; value: Buffer }[] }) =>
  findOption(m.options, Opt.RequestTag)?.value.toString('hex');

describe('Block1 upload', () => {
  it(
    'sends 5000 bytes as 1024-byte blocks with one Request-Tag and Size1, stored whole once',
    T,
    async () => {
      const data = body(5000);
      const bodies: Buffer[] = [];
      const p = await bwPair({ setup: store(bodies) });
      try {
        const res = await p.rt.settle(
          p.client.request({ uri: `${BASE}/store`, method: 'PUT', payload: data }),
        );
        assert.equal(res.codeString, '2.04');
        assert.equal(bodies.length, 1);
        assert.ok(bodies[0]!.equals(data));
        const reqs = requestsOf(messages(p.atServer));
        assert.deepEqual(
          blocksOf(reqs, Opt.Block1).map((b) => [b.num, b.more, b.szx]),
          [0, 1, 2, 3, 4].map((n) => [n, n < 4, 6]),
        );
        const tags = new Set(reqs.map(tagOf));
        assert.equal(tags.size, 1, 'one Request-Tag for the whole body');
        assert.ok([...tags][0], 'the Request-Tag is present');
        const size1 = findOption(reqs[0]!.options, Opt.Size1);
        assert.equal(size1?.value.readUIntBE(0, size1.value.length), 5000);
        // RFC 7959 §2.3: 2.31 for every block but the last; the final response echoes Block1.
        const codes = messages(p.atClient).map((m) => m.code);
        assert.deepEqual(codes, [Code.Continue, Code.Continue, Code.Continue, Code.Continue, Code.Changed]);
        const last = blocksOf(messages(p.atClient), Opt.Block1).at(-1)!;
        assert.deepEqual([last.num, last.more], [4, false]);
        assert.deepEqual(p.server.stats()!.block1, { bodies: 0, bytes: 0 });
      } finally {
        await p.close();
      }
    },
  );

  it(
    'uses the client blockSize for the blocks and sends a body that fits in one without Block1',
    T,
    async () => {
      const bodies: Buffer[] = [];
      const p = await bwPair({ setup: store(bodies) });
      try {
        const put = (payload: Buffer) =>
          p.rt.settle(p.client.request({ uri: `${BASE}/store`, method: 'PUT', payload, blockSize: 64 }));
        await put(body(64));
        assert.equal(blocksOf(messages(p.atServer), Opt.Block1).length, 0);
        await put(body(200));
        assert.deepEqual(
          blocksOf(messages(p.atServer), Opt.Block1).map((b) => [b.num, b.szx]),
          [
            [0, 2],
            [1, 2],
            [2, 2],
            [3, 2],
          ],
        );
        assert.ok(bodies[1]!.equals(body(200)));
      } finally {
        await p.close();
      }
    },
  );

  it('survives loss 0.2: every block arrives by retransmission and the body is exact', T, async () => {
    const data = body(8000, 3);
    const bodies: Buffer[] = [];
    const p = await bwPair({ setup: store(bodies), conditions: { loss: 0.2 }, seed: 2 });
    try {
      const res = await p.rt.settle(p.client.request({ uri: `${BASE}/store`, method: 'PUT', payload: data }));
      assert.equal(res.codeString, '2.04');
      assert.ok(p.net.stats.lost > 0, 'nothing was lost: pick another seed');
      assert.equal(bodies.length, 1);
      assert.ok(bodies[0]!.equals(data));
    } finally {
      await p.close();
    }
  });

  it('keeps two bodies sent at once to one resource apart by Request-Tag (NSTART 2)', T, async () => {
    const a = body(4000, 1);
    const b = body(3000, 2);
    const bodies: Buffer[] = [];
    const p = await bwPair({ setup: store(bodies), client: { transmission: { nstart: 2 } } });
    try {
      const put = (payload: Buffer) => p.client.request({ uri: `${BASE}/store`, method: 'PUT', payload });
      const [ra, rb] = await p.rt.settle(Promise.all([put(a), put(b)]));
      assert.equal(ra.codeString, '2.04');
      assert.equal(rb.codeString, '2.04');
      assert.equal(bodies.length, 2);
      assert.ok(bodies.some((x) => x.equals(a)));
      assert.ok(bodies.some((x) => x.equals(b)));
      const tags = requestsOf(messages(p.atServer)).map(tagOf);
      assert.equal(new Set(tags).size, 2, 'each body has its own Request-Tag');
      // The blocks really interleaved: the second tag appears before the first body ended.
      const firstEnd = tags.lastIndexOf(tags[0]);
      assert.ok(tags.indexOf(tags.find((t) => t !== tags[0])) < firstEnd, tags.join(' '));
    } finally {
      await p.close();
    }
  });
});

describe('Block1 against a server that asks for smaller blocks (RFC 7959 §2.5)', () => {
  it('continues at the same offset with the SZX from the 2.31 Continue', T, async () => {
    const m = memSetup({ seed: 4 });
    const got: Array<{ num: number; szx: number; data: Buffer }> = [];
    m.server((ex: ServerExchange) => {
      const blk = decodeBlock(findOption(ex.request.options, Opt.Block1)!.value);
      got.push({ num: blk.num, szx: blk.szx, data: Buffer.from(ex.request.payload) });
      // Ask for 64-byte blocks (SZX 2) from now on.
      const szx = Math.min(blk.szx, 2);
      ex.respond({
        code: blk.more ? Code.Continue : Code.Changed,
        options: [{ number: Opt.Block1, value: encodeBlock({ num: blk.num, more: blk.more, szx }) }],
        payload: Buffer.alloc(0),
      });
    });
    const client = await CoapClient.create({ transport: m.clientT, runtime: m.rt });
    try {
      const data = body(1300);
      const res = await m.rt.settle(
        client.request({ uri: `coap://${SERVER.address}/up`, method: 'POST', payload: data }),
      );
      assert.equal(res.codeString, '2.04');
      assert.equal(got[0]!.szx, 6, 'the first block is 1024 bytes');
      // 1024 bytes are 16 blocks of 64: the second request is NUM 16 with SZX 2.
      assert.deepEqual(
        got.slice(1).map((g) => [g.num, g.szx]),
        [16, 17, 18, 19, 20].map((n) => [n, 2]),
      );
      const joined = Buffer.concat(got.map((g) => g.data));
      assert.ok(joined.equals(data), 'no byte skipped or repeated');
    } finally {
      await client.close();
      await m.close();
    }
  });
});

describe('an upload to a server that keeps no state between blocks (RFC 7959 §2.5, Figure 8)', () => {
  it('keeps sending blocks to a server that takes each block on its own (stateless, Figure 8)', {
    timeout: 30_000,
  }, async () => {
    const s = await bwPair();
    const raw = s.raw();
    const seen: number[] = [];
    raw.messenger.setRequestHandler((ex) => {
      const b = decodeBlock(findOption(ex.request.options, Opt.Block1)!.value);
      seen.push(b.num);
      ex.respond({
        code: Code.Changed,
        options: [{ number: Opt.Block1, value: encodeBlock({ ...b, more: false }) }],
        payload: EMPTY,
      });
    });
    const res = await s.rt.settle(
      s.client.request({
        uri: `coap://${RAW_ADDR.address}:${RAW_ADDR.port}/x`,
        method: 'PUT',
        payload: body(3000),
      }),
    );
    assert.equal(res.codeString, '2.04');
    assert.deepEqual(seen, [0, 1, 2]);
    await s.close();
  });
});
