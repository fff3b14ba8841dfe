/**
 * The server's Block1 reassembly buffer and its limits (RFC 7959 §2.5, §2.9; RFC 9175 §3), driven
 * with hand-made blocks from a raw messenger on the memory network: 4.08 for a block out of
 * order, 4.13 with Size1 for a body too large, 5.03 when no room is left, 4.00 for a block of
 * the wrong size, and abandoned bodies dropped after `idleMs`. `server.stats().block1` shows
 * the buffer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeUint, encodeBlock, encodeUint } from '../../src/entry/codec.js';
import { Code, codeToString, findOption, Opt } from '../../src/index.js';
import type { CoapMessage, CoapOption } from '../../src/message/types.js';
import type { Block1Limits } from '../../src/server/block1.js';
import { BASE, type BwPair, body, bwPair, type RawPeer } from '../support/bw-mem.js';

const T = { timeout: 20_000 };

interface Blk {
  num: number;
  more: boolean;
  szx?: number;
  tag?: string;
  size1?: number;
  payload?: Buffer;
  path?: string;
}

/** Sends one Block1 PUT of `/up` (16-byte blocks unless `szx` says otherwise). */
function block(peer: RawPeer, b: Blk): Promise<CoapMessage> {
  const szx = b.szx ?? 0;
  const options: CoapOption[] = [
    { number: Opt.UriPath, value: Buffer.from(b.path ?? 'up') },
    { number: Opt.Block1, value: encodeBlock({ num: b.num, more: b.more, szx }) },
  ];
  if (b.tag !== undefined) options.push({ number: Opt.RequestTag, value: Buffer.from(b.tag) });
  if (b.size1 !== undefined) options.push({ number: Opt.Size1, value: encodeUint(b.size1) });
  options.sort((x, y) => x.number - y.number);
  return peer.request({ code: 3, options, payload: b.payload ?? body(16 << szx, b.num) });
}

async function withServer(limits: Partial<Block1Limits>, fn: (p: BwPair) => Promise<void>) {
  const p = await bwPair({
    server: { block1: limits },
    setup: (s) => s.resource('/up').put((req) => ({ payload: `got ${req.payload.length}` })),
  });
  try {
    await fn(p);
  } finally {
    await p.close();
  }
}

const code = (m: CoapMessage) => codeToString(m.code);

describe('Block1 reassembly limits', () => {
  it('answers 2.31 per block and the final 2.04 with the whole body, then holds nothing', T, async () => {
    await withServer({}, async (p) => {
      const peer = p.raw();
      assert.equal(code(await p.rt.settle(block(peer, { num: 0, more: true, tag: 'a' }))), '2.31');
      assert.deepEqual(p.server.stats()!.block1, { bodies: 1, bytes: 16 });
      const last = await p.rt.settle(block(peer, { num: 1, more: false, tag: 'a', payload: body(5) }));
      assert.equal(code(last), '2.04');
      assert.equal(last.payload.toString(), 'got 21');
      assert.deepEqual(p.server.stats()!.block1, { bodies: 0, bytes: 0 });
    });
  });

  it('answers 4.08 to a block that skips one, and drops the partial body', T, async () => {
    await withServer({}, async (p) => {
      const peer = p.raw();
      await p.rt.settle(block(peer, { num: 0, more: true, tag: 'g' }));
      const res = await p.rt.settle(block(peer, { num: 2, more: true, tag: 'g' }));
      assert.equal(res.code, Code.RequestEntityIncomplete);
      assert.deepEqual(p.server.stats()!.block1, { bodies: 0, bytes: 0 });
      // RFC 7959 §2.9.2: a block with no body begun is incomplete too.
      const orphan = await p.rt.settle(block(peer, { num: 1, more: false, tag: 'h' }));
      assert.equal(code(orphan), '4.08');
    });
  });

  it('answers 4.13 with Size1 = maxBodySize when the announced Size1 is larger', T, async () => {
    await withServer({ maxBodySize: 100 }, async (p) => {
      const res = await p.rt.settle(block(p.raw(), { num: 0, more: true, tag: 's', size1: 101 }));
      assert.equal(code(res), '4.13');
      assert.equal(decodeUint(findOption(res.options, Opt.Size1)!.value), 100);
      assert.deepEqual(p.server.stats()!.block1, { bodies: 0, bytes: 0 });
    });
  });

  it('answers 4.13 with Size1 once the blocks themselves pass maxBodySize', T, async () => {
    await withServer({ maxBodySize: 40 }, async (p) => {
      const peer = p.raw();
      assert.equal(code(await p.rt.settle(block(peer, { num: 0, more: true }))), '2.31');
      assert.equal(code(await p.rt.settle(block(peer, { num: 1, more: true }))), '2.31');
      const res = await p.rt.settle(block(peer, { num: 2, more: true }));
      assert.equal(code(res), '4.13');
      assert.equal(decodeUint(findOption(res.options, Opt.Size1)!.value), 40);
      assert.deepEqual(p.server.stats()!.block1, { bodies: 0, bytes: 0 });
    });
  });

  it(
    'answers 5.03 to a new body when maxBodies are in progress, and not to their next blocks',
    T,
    async () => {
      await withServer({ maxBodies: 2 }, async (p) => {
        const peer = p.raw();
        for (const tag of ['1', '2'])
          assert.equal(code(await p.rt.settle(block(peer, { num: 0, more: true, tag }))), '2.31');
        const third = await p.rt.settle(block(peer, { num: 0, more: true, tag: '3' }));
        assert.equal(code(third), '5.03');
        assert.equal(p.server.stats()!.block1.bodies, 2);
        const next = await p.rt.settle(block(peer, { num: 1, more: false, tag: '1', payload: body(3) }));
        assert.equal(code(next), '2.04');
        assert.equal(p.server.stats()!.block1.bodies, 1);
      });
    },
  );

  it('answers 5.03 when the blocks would pass maxTotalBytes', T, async () => {
    await withServer({ maxTotalBytes: 48 }, async (p) => {
      const peer = p.raw();
      for (const tag of ['x', 'y', 'z'])
        assert.equal(code(await p.rt.settle(block(peer, { num: 0, more: true, tag }))), '2.31');
      const res = await p.rt.settle(block(peer, { num: 0, more: true, tag: 'w' }));
      assert.equal(code(res), '5.03');
      assert.ok(p.server.stats()!.block1.bytes <= 48);
    });
  });

  it('answers 4.00 to a non-final block that is not exactly the block size', T, async () => {
    await withServer({}, async (p) => {
      const res = await p.rt.settle(block(p.raw(), { num: 0, more: true, payload: body(15) }));
      assert.equal(code(res), '4.00');
      assert.deepEqual(p.server.stats()!.block1, { bodies: 0, bytes: 0 });
    });
  });

  it('drops abandoned bodies after idleMs, freeing every byte', T, async () => {
    await withServer({ idleMs: 5000 }, async (p) => {
      const peer = p.raw();
      for (const tag of ['p', 'q', 'r']) await p.rt.settle(block(peer, { num: 0, more: true, tag, szx: 2 }));
      assert.deepEqual(p.server.stats()!.block1, { bodies: 3, bytes: 192 });
      await p.rt.advance(4000);
      assert.equal(p.server.stats()!.block1.bodies, 3, 'not before idleMs');
      await p.rt.advance(1100);
      assert.deepEqual(p.server.stats()!.block1, { bodies: 0, bytes: 0 });
      const late = await p.rt.settle(block(peer, { num: 1, more: false, tag: 'p', szx: 2 }));
      assert.equal(code(late), '4.08', 'the rest of a dropped body is incomplete');
    });
  });

  it('keeps bodies of one Request-Tag to different resources apart (RFC 9175 §3.3)', T, async () => {
    const p = await bwPair({
      setup: (s) => {
        s.resource('/up').put((req) => ({ payload: `up ${req.payload.length}` }));
        s.resource('/other').put((req) => ({ payload: `other ${req.payload.length}` }));
      },
    });
    try {
      const peer = p.raw();
      await p.rt.settle(block(peer, { num: 0, more: true, tag: 't' }));
      await p.rt.settle(block(peer, { num: 0, more: true, tag: 't', path: 'other' }));
      assert.equal(p.server.stats()!.block1.bodies, 2);
      const a = await p.rt.settle(block(peer, { num: 1, more: false, tag: 't', payload: body(1) }));
      const b = await p.rt.settle(
        block(peer, { num: 1, more: false, tag: 't', path: 'other', payload: body(2) }),
      );
      assert.equal(a.payload.toString(), 'up 17');
      assert.equal(b.payload.toString(), 'other 18');
    } finally {
      await p.close();
    }
  });
});

describe('the body limit of a download', () => {
  it('enforces maxBodySize on the last block too', { timeout: 30_000 }, async () => {
    const s = await bwPair({ setup: (server) => server.get('/big', () => ({ payload: body(2048) })) });
    await assert.rejects(s.rt.settle(s.client.request({ uri: `${BASE}/big`, maxBodySize: 1500 })), {
      code: 'ERR_COAP_BODY_TOO_LARGE',
    });
    await s.close();
  });
});
