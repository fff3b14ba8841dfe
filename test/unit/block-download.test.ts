/**
 * Block-wise downloads (RFC 7959 §2.4) between our server and our client on the memory network
 * with a FakeRuntime: slicing at the server's and the client's block size, recovery from lost,
 * duplicated and reordered datagrams (CON retransmission, RFC 7252 §4.2/§4.5), a restart when
 * the ETag changes mid-transfer, and the client's limits (ERR_COAP_BLOCK_CHANGED,
 * ERR_COAP_BODY_TOO_LARGE).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { CoapError, type CoapServer, findOption, Opt } from '../../src/index.js';
import { BASE, blocksOf, body, bwPair, messages, requestsOf } from '../support/bw-mem.js';

const T = { timeout: 30_000 };

/** A GET resource `/big` that returns `payload` and counts its calls. */
function big(payload: Buffer, calls = { n: 0 }) {
  return {
    calls,
    setup: (s: CoapServer) =>
      s.resource('/big').get(() => {
        calls.n++;
        return { payload, format: 42 };
      }),
  };
}

describe('Block2 download', () => {
  it('reassembles a 5000-byte body from 1024-byte blocks and runs the handler once', T, async () => {
    const data = body(5000);
    const r = big(data);
    const p = await bwPair({ setup: r.setup });
    try {
      const res = await p.rt.settle(p.client.request(`${BASE}/big`));
      assert.equal(res.codeString, '2.05');
      assert.ok(res.payload.equals(data));
      assert.equal(findOption(res.options, Opt.Block2), undefined, 'the whole body has no Block2');
      assert.equal(res.format, 42);
      assert.equal(r.calls.n, 1, 'later blocks come from the cached representation');
      const sent = blocksOf(messages(p.atClient), Opt.Block2);
      assert.deepEqual(
        sent.map((b) => [b.num, b.more, b.szx]),
        [0, 1, 2, 3, 4].map((n) => [n, n < 4, 6]),
      );
      const first = p.atClient.find((x) => x.msg && findOption(x.msg.options, Opt.Size2));
      assert.equal(findOption(first!.msg!.options, Opt.Size2)!.value.readUIntBE(0, 2), 5000);
      assert.equal(p.server.stats()!.representations, 1);
    } finally {
      await p.close();
    }
  });

  it('never sends a block larger than the server maxBlockSize', T, async () => {
    const data = body(300);
    const p = await bwPair({ setup: big(data).setup, server: { maxBlockSize: 64 } });
    try {
      const res = await p.rt.settle(p.client.request(`${BASE}/big`));
      assert.ok(res.payload.equals(data));
      const sent = blocksOf(messages(p.atClient), Opt.Block2);
      assert.equal(sent.length, 5);
      assert.ok(sent.every((b) => b.szx === 2));
      for (const r of p.atClient) assert.ok((r.msg?.payload.length ?? 0) <= 64);
    } finally {
      await p.close();
    }
  });

  it('asks for blocks of the client blockSize from the first request on', T, async () => {
    const data = body(100);
    const p = await bwPair({ setup: big(data).setup });
    try {
      const res = await p.rt.settle(p.client.request({ uri: `${BASE}/big`, blockSize: 32 }));
      assert.ok(res.payload.equals(data));
      assert.deepEqual(
        blocksOf(requestsOf(messages(p.atServer)), Opt.Block2).map((b) => [b.num, b.szx]),
        [
          [0, 1],
          [1, 1],
          [2, 1],
          [3, 1],
        ],
      );
    } finally {
      await p.close();
    }
  });

  it('recovers lost blocks by CON retransmission (loss 0.2)', T, async () => {
    // 8 blocks: the transfer ends within the server's 60 s representation lifetime.
    const data = body(8000);
    const p = await bwPair({ setup: big(data).setup, conditions: { loss: 0.2 }, seed: 2 });
    try {
      const res = await p.rt.settle(p.client.request(`${BASE}/big`));
      assert.ok(res.payload.equals(data));
      assert.ok(p.net.stats.lost > 0, 'the test lost no datagram: pick another seed');
      const arrived = messages(p.atServer).filter((m) => m.code === 1).length;
      const distinct = requestsOf(messages(p.atServer)).length;
      assert.equal(distinct, 8, 'one request per block');
      assert.ok(arrived > distinct, 'some requests arrived more than once: retransmissions');
    } finally {
      await p.close();
    }
  });

  it('is byte-exact with duplicated and reordered datagrams (duplicate 0.3, reorder 0.3)', T, async () => {
    const data = body(20_000);
    const r = big(data);
    const p = await bwPair({ setup: r.setup, conditions: { duplicate: 0.3, reorder: 0.3 }, seed: 9 });
    try {
      const res = await p.rt.settle(p.client.request(`${BASE}/big`));
      assert.ok(res.payload.equals(data));
      assert.ok(p.net.stats.duplicated > 0, 'nothing was duplicated: pick another seed');
      assert.equal(r.calls.n, 1, 'duplicates are answered from the dedup cache, not the handler');
    } finally {
      await p.close();
    }
  });

  it('gives up with ERR_COAP_BODY_TOO_LARGE past maxBodySize', T, async () => {
    const p = await bwPair({ setup: big(body(5000)).setup });
    try {
      await assert.rejects(
        p.rt.settle(p.client.request({ uri: `${BASE}/big`, maxBodySize: 2000 })),
        (e: unknown) => e instanceof CoapError && e.code === 'ERR_COAP_BODY_TOO_LARGE',
      );
    } finally {
      await p.close();
    }
  });
});

describe('Block2 when the representation changes (RFC 7959 §2.4)', () => {
  // Each way takes 40 s, so the server's 60 s representation cache has expired by the time the
  // request for block 1 arrives; the client waits that long for an ACK (ackTimeout 10 s).
  const slow = { conditions: { delay: 40_000 }, client: { transmission: { ackTimeout: 10 } } };

  it('starts over from block 0 when the ETag changes and returns the new version whole', T, async () => {
    const a = body(3000, 1);
    const b = body(3000, 2);
    let calls = 0;
    const p = await bwPair({
      ...slow,
      setup: (s) =>
        s.resource('/v').get(() => {
          calls++;
          // From the second call on the link is fast again, and the version is B.
          if (calls === 2) p.net.setConditions({});
          return { payload: calls === 1 ? a : b };
        }),
    });
    try {
      const res = await p.rt.settle(p.client.request(`${BASE}/v`), { maxMs: 2_000_000, step: 1000 });
      assert.ok(res.payload.equals(b), 'the body is version B, not a mix of A and B');
      const asked = blocksOf(requestsOf(messages(p.atServer)), Opt.Block2).map((x) => x.num);
      assert.deepEqual(asked, [1, 0, 1, 2], 'block 1 (changed ETag), then 0, 1, 2 again');
    } finally {
      await p.close();
    }
  });

  it('fails with ERR_COAP_BLOCK_CHANGED when it changes on every try (3 restarts)', T, async () => {
    let calls = 0;
    const p = await bwPair({
      ...slow,
      setup: (s) => s.resource('/v').get(() => ({ payload: body(3000, ++calls) })),
    });
    try {
      await assert.rejects(
        p.rt.settle(p.client.request(`${BASE}/v`), { maxMs: 5_000_000, step: 1000 }),
        (e: unknown) => e instanceof CoapError && e.code === 'ERR_COAP_BLOCK_CHANGED',
      );
      const block1 = blocksOf(requestsOf(messages(p.atServer)), Opt.Block2).filter((x) => x.num === 1);
      assert.equal(block1.length, 4, 'block 1 of the first try and of 3 restarts, each with a new ETag');
    } finally {
      await p.close();
    }
  });
});

describe('downloads beside others, and of POST responses (RFC 7959 §2.4, §3.3)', () => {
  it('lets two clients download the same unchanged resource at once', { timeout: 30_000 }, async () => {
    const big = body(5000);
    const s = await bwPair({ setup: (server) => server.get('/big', () => ({ payload: big })) });
    const second = await CoapClient.create({
      transport: s.net.createTransport({ bind: [{ address: '192.0.2.9', port: 40009 }] }),
      runtime: s.rt,
    });
    const [a, b] = await s.rt.settle(
      Promise.all([s.client.request(`${BASE}/big`), second.request(`${BASE}/big`)]),
    );
    assert.ok(a.payload.equals(big) && b.payload.equals(big));
    await second.close();
    await s.close();
  });

  it('fetches the rest of a large POST response with POST (RFC 7959 §3.3)', { timeout: 30_000 }, async () => {
    const answer = body(3000, 7);
    const s = await bwPair({ setup: (server) => server.post('/soap', () => ({ payload: answer })) });
    const res = await s.rt.settle(s.client.request({ uri: `${BASE}/soap`, method: 'POST', payload: 'q' }));
    assert.equal(res.codeString, '2.04');
    assert.ok(res.payload.equals(answer));
    await s.close();
  });
});
