/**
 * Regressions of block-wise transfer (RFC 7959) and Observe (RFC 7641) found by review:
 * shared downloads, stateless uploads, POST responses in blocks, the body limit, and clients
 * or servers that go away.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBlock, encodeBlock } from '../../src/block/index.js';
import { CoapClient } from '../../src/client/client.js';
import { Code } from '../../src/message/codes.js';
import { EMPTY } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { findOption } from '../../src/options/values.js';
import { BASE, body, bwPair, drive, RAW_ADDR } from '../support/bw-mem.js';

const T = { timeout: 30_000 };

describe('block-wise regressions', () => {
  it('lets two clients download the same unchanged resource at once', T, async () => {
    const big = body(5000);
    const s = await bwPair({ setup: (server) => server.get('/big', () => ({ payload: big })) });
    const second = await CoapClient.create({
      transport: s.net.createTransport({ bind: [{ address: '192.0.2.9', port: 40009 }] }),
      runtime: s.rt,
    });
    const [a, b] = await drive(
      s.rt,
      Promise.all([s.client.request(`${BASE}/big`), second.request(`${BASE}/big`)]),
    );
    assert.ok(a.payload.equals(big) && b.payload.equals(big));
    await second.close();
    await s.close();
  });

  it(
    'keeps sending blocks to a server that takes each block on its own (stateless, Figure 8)',
    T,
    async () => {
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
      const res = await drive(
        s.rt,
        s.client.request({
          uri: `coap://${RAW_ADDR.address}:${RAW_ADDR.port}/x`,
          method: 'PUT',
          payload: body(3000),
        }),
      );
      assert.equal(res.codeString, '2.04');
      assert.deepEqual(seen, [0, 1, 2]);
      await s.close();
    },
  );

  it('fetches the rest of a large POST response with POST (RFC 7959 §3.3)', T, async () => {
    const answer = body(3000, 7);
    const s = await bwPair({ setup: (server) => server.post('/soap', () => ({ payload: answer })) });
    const res = await drive(s.rt, s.client.request({ uri: `${BASE}/soap`, method: 'POST', payload: 'q' }));
    assert.equal(res.codeString, '2.04');
    assert.ok(res.payload.equals(answer));
    await s.close();
  });

  it('enforces maxBodySize on the last block too', T, async () => {
    const s = await bwPair({ setup: (server) => server.get('/big', () => ({ payload: body(2048) })) });
    await assert.rejects(drive(s.rt, s.client.request({ uri: `${BASE}/big`, maxBodySize: 1500 })), {
      code: 'ERR_COAP_BODY_TOO_LARGE',
    });
    await s.close();
  });
});

describe('Observe regressions', () => {
  it(
    'removes an observer whose client is gone even when notifications keep replacing each other',
    T,
    async () => {
      let n = 0;
      const s = await bwPair({
        server: { observe: { conEvery: 1 } },
        setup: (server) => server.resource('/c', { obs: true }).get(() => ({ payload: String(n) })),
      });
      const obs = s.client.observe(`${BASE}/c`);
      const it = obs[Symbol.asyncIterator]();
      await drive(s.rt, it.next());
      assert.equal(s.server.stats()!.observers, 1);
      // The client vanishes without deregistering.
      await s.client.messenger.transport.close();
      for (let i = 0; i < 60; i++) {
        n++;
        s.server.notify('/c');
        await s.rt.advance(10_000);
      }
      assert.equal(s.server.stats()!.observers, 0);
      await s.close();
    },
  );

  it(
    'ends an observation with a timeout when the server stops answering its re-registration',
    T,
    async () => {
      const s = await bwPair({
        setup: (server) => server.resource('/c', { obs: true }).get(() => ({ payload: 'v', maxAge: 10 })),
      });
      const it = s.client.observe(`${BASE}/c`)[Symbol.asyncIterator]();
      await drive(s.rt, it.next());
      await s.server.close();
      await assert.rejects(drive(s.rt, it.next(), 3_600_000, 1000), { code: 'ERR_COAP_TIMEOUT' });
      await s.close();
    },
  );
});
