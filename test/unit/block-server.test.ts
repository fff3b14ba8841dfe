/**
 * The server side of Block2 (RFC 7959 §2.2, §2.4), driven with hand-made requests from a raw
 * messenger on the memory network: later blocks come from the cached representation with the
 * same ETag, an expired representation is made again with a new ETag, the cache is bounded,
 * invalid or impossible Block2 requests are errors, and Size2 gives the whole size.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBlock, decodeUint, encodeBlock } from '../../src/entry/codec.js';
import { codeToString, findOption, Opt } from '../../src/index.js';
import type { CoapMessage, CoapOption } from '../../src/message/types.js';
import { type BwPair, body, bwPair, type RawPeer } from '../support/bw-mem.js';
import { serverAndClients } from '../support/test-net.js';

const T = { timeout: 20_000 };

/** A GET of `/big` (query `q` if given) asking for block `num` of size 16 << szx. */
function get(peer: RawPeer, num: number, szx: number, q?: string): Promise<CoapMessage> {
  const options: CoapOption[] = [{ number: Opt.UriPath, value: Buffer.from('big') }];
  if (q !== undefined) options.push({ number: Opt.UriQuery, value: Buffer.from(q) });
  options.push({ number: Opt.Block2, value: encodeBlock({ num, more: false, szx }) });
  return peer.request({ code: 1, options });
}

const block2 = (m: CoapMessage) => decodeBlock(findOption(m.options, Opt.Block2)!.value);
const etag = (m: CoapMessage) => findOption(m.options, Opt.ETag)?.value.toString('hex');

async function withBig(
  size: number,
  fn: (p: BwPair, calls: () => number) => Promise<void>,
  maxBlockSize?: number,
) {
  let n = 0;
  const p = await bwPair({
    ...(maxBlockSize !== undefined ? { server: { maxBlockSize } } : {}),
    setup: (s) =>
      s.resource('/big').get(() => {
        n++;
        return { payload: body(size, n) };
      }),
  });
  try {
    await fn(p, () => n);
  } finally {
    await p.close();
  }
}

describe('Block2 at the server', () => {
  it('serves later blocks from the cached representation, with the same ETag and Size2', T, async () => {
    await withBig(200, async (p, calls) => {
      const peer = p.raw();
      const b0 = await p.rt.settle(get(peer, 0, 1));
      const b3 = await p.rt.settle(get(peer, 3, 1));
      const b6 = await p.rt.settle(get(peer, 6, 1));
      assert.equal(calls(), 1);
      assert.ok(etag(b0), 'a block-wise response carries an ETag');
      assert.equal(etag(b3), etag(b0));
      assert.equal(etag(b6), etag(b0));
      assert.deepEqual(block2(b3), { num: 3, more: true, szx: 1 });
      assert.deepEqual(block2(b6), { num: 6, more: false, szx: 1 });
      assert.ok(b3.payload.equals(body(200, 1).subarray(96, 128)));
      assert.equal(b6.payload.length, 200 - 192);
      assert.equal(decodeUint(findOption(b0.options, Opt.Size2)!.value), 200);
    });
  });

  it('makes the representation again, with a new ETag, once the cached one expired (60 s)', T, async () => {
    await withBig(200, async (p, calls) => {
      const peer = p.raw();
      const b0 = await p.rt.settle(get(peer, 0, 1));
      await p.rt.advance(61_000);
      const b1 = await p.rt.settle(get(peer, 1, 1));
      assert.equal(calls(), 2);
      assert.notEqual(etag(b1), etag(b0), 'the client can tell the versions apart');
      assert.ok(b1.payload.equals(body(200, 2).subarray(32, 64)));
    });
  });

  it('uses a smaller block than asked for when maxBlockSize is smaller (RFC 7959 §2.4)', T, async () => {
    await withBig(
      300,
      async (p) => {
        const b0 = await p.rt.settle(get(p.raw(), 0, 6));
        assert.deepEqual(block2(b0), { num: 0, more: true, szx: 2 });
        assert.equal(b0.payload.length, 64);
      },
      64,
    );
  });

  it('answers a Block2 request for a small body with its only block, M=0', T, async () => {
    await withBig(10, async (p) => {
      const b0 = await p.rt.settle(get(p.raw(), 0, 2));
      assert.equal(codeToString(b0.code), '2.05');
      assert.deepEqual(block2(b0), { num: 0, more: false, szx: 2 });
      assert.equal(b0.payload.length, 10);
    });
  });

  it('answers an error, not 2.05, to a block beyond the end', T, async () => {
    await withBig(100, async (p) => {
      const res = await p.rt.settle(get(p.raw(), 7, 0));
      assert.equal(res.code >> 5, 4, codeToString(res.code));
    });
  });

  it('answers 4.00 to a Block2 with the reserved SZX 7 (RFC 7959 §2.2)', T, async () => {
    await withBig(100, async (p, calls) => {
      const res = await p.rt.settle(
        p.raw().request({
          code: 1,
          options: [
            { number: Opt.UriPath, value: Buffer.from('big') },
            { number: Opt.Block2, value: Buffer.from([0x07]) },
          ],
        }),
      );
      assert.equal(codeToString(res.code), '4.00');
      assert.equal(calls(), 0);
    });
  });

  it('keeps at most 64 representations however many are asked for', T, async () => {
    await withBig(2000, async (p) => {
      const peer = p.raw();
      for (let i = 0; i < 100; i++) await p.rt.settle(get(peer, 0, 6, `i=${i}`));
      assert.equal(p.server.stats()!.representations, 64);
    });
  });
});

describe('later blocks of a representation (RFC 7959 §2.4)', () => {
  it('serves a later block only to the requester the handler answered', { timeout: 20_000 }, async () => {
    const s = serverAndClients();
    s.server.get('/secret', (req) => {
      if (req.source.address !== '192.0.2.1') throw new Error('refused');
      return { payload: Buffer.alloc(3000, 7) };
    });
    await s.server.listen();
    const a = await s.client('192.0.2.1');
    const b = await s.client('192.0.2.9');
    assert.equal((await s.rt.settle(a.request('coap://192.0.2.2/secret'))).payload.length, 3000);
    const stolen = await s.rt.settle(
      b.request({
        uri: 'coap://192.0.2.2/secret',
        options: [{ number: Opt.Block2, value: encodeBlock({ num: 1, more: false, szx: 6 }) }],
      }),
    );
    assert.equal(stolen.codeString, '5.00');
    await a.close();
    await b.close();
    await s.server.close();
  });
});
