/**
 * A block-wise body that stops short (RFC 7959 §2.4, §2.8): a member that answers the unicast
 * request for a later block with an error, or not at all, is reported with the code of its
 * first block, the bytes that arrived, and `incomplete` saying which block failed and how;
 * a unicast request rejects with BlockTransferError instead of passing the later block's error
 * off as the answer to the request. Plain on the memory network, then with a Group OSCORE group.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeBlock } from '../../src/block/index.js';
import { BlockTransferError } from '../../src/client/block-transfer-error.js';
import type { CoapClient } from '../../src/client/client.js';
import type { GroupResponse } from '../../src/client/group.js';
import type { FakeRuntime } from '../../src/fake-runtime.js';
import { Code, parseCode } from '../../src/message/codes.js';
import { Messenger } from '../../src/messenger/messenger.js';
import { Opt } from '../../src/options/registry.js';
import { decodeUint, encodeUint, findOption } from '../../src/options/values.js';
import { CoapServer } from '../../src/server/server.js';
import type { MemoryNetwork } from '../../src/transport/memory.js';
import { keyringOf } from '../fixtures/oscore-keys.js';
import { body } from '../support/bw-mem.js';
import { room } from '../support/oscore-group-room.js';
import { OSCORE_SETTLE } from '../support/oscore-net.js';
import { IFACE, TestNet } from '../support/test-net.js';

const T = { timeout: 30_000 };
const SIZE = 3000;
const GROUP = '224.0.1.187';

/** What a scripted member does with a request for block `num`: answer it, answer a code, or stay silent. */
type Script = (num: number) => 'block' | string | 'silent';

interface Net {
  rt: FakeRuntime;
  net: MemoryNetwork;
  client: CoapClient;
  closers: Array<() => Promise<void>>;
}

async function makeNet(): Promise<Net> {
  const t = new TestNet({ seed: 5, settle: OSCORE_SETTLE });
  const { client } = await t.client({ address: '192.0.2.1', port: 40000, ipv4Interface: IFACE });
  return { rt: t.rt, net: t.net, client, closers: [() => t.close()] };
}

/** A member that serves `/big` (SIZE bytes, salted with its last octet) block by block as `script` says. */
async function scripted(n: Net, address: string, script: Script): Promise<Buffer> {
  const salt = Number(address.split('.').at(-1));
  const whole = body(SIZE, salt);
  const t = n.net.createTransport({ bind: [{ address, port: 5683 }], ipv4Interface: 'mem0' });
  await t.join(GROUP, 5683);
  const m = new Messenger({ transport: t, runtime: n.rt });
  m.setRequestHandler((ex) => {
    const b2 = findOption(ex.request.options, Opt.Block2);
    const num = b2 === undefined ? 0 : decodeUint(b2.value) >> 4;
    const what = script(num);
    if (what === 'silent') return;
    if (what !== 'block')
      return ex.respond({ code: parseCode(what)!, options: [], payload: Buffer.from('no') });
    const more = (num + 1) * 1024 < SIZE;
    ex.respond({
      code: Code.Content,
      options: [
        { number: Opt.ETag, value: Buffer.from('e1') },
        { number: Opt.Block2, value: encodeBlock({ num, more, szx: 6 }) },
        { number: Opt.Size2, value: encodeUint(SIZE) },
      ],
      payload: whole.subarray(num * 1024, (num + 1) * 1024),
    });
  });
  n.closers.push(() => m.close());
  return whole;
}

async function close(n: Net): Promise<void> {
  for (const c of n.closers) await c();
  await n.rt.advance(0);
}

const byAddress = (rs: readonly GroupResponse[], a: string) => rs.find((r) => r.source.address === a)!;

describe('a group member whose body stops short (RFC 7959 §2.8)', () => {
  it('keeps the first block code and the bytes that arrived, and says what failed', T, async () => {
    const n = await makeNet();
    try {
      const server = new CoapServer({
        transport: n.net.createTransport({
          bind: [{ address: '192.0.2.11', port: 5683 }],
          ipv4Interface: 'mem0',
        }),
        runtime: n.rt,
        leisure: 0.5,
      });
      const whole = body(SIZE, 11);
      server.resource('/big', { multicast: true }).get(() => ({ payload: whole }));
      await server.listen();
      n.closers.push(() => server.close());
      const b408 = await scripted(n, '192.0.2.12', (num) => (num === 0 ? 'block' : '4.08'));
      const b503 = await scripted(n, '192.0.2.13', (num) => (num < 2 ? 'block' : '5.03'));
      const bSilent = await scripted(n, '192.0.2.14', (num) => (num === 0 ? 'block' : 'silent'));
      const rs = n.client.group({ uri: `coap://${GROUP}/big`, window: 2000 });
      // The silent member's continuation runs until its CON times out (RFC 7252 §4.8.2).
      const got = await n.rt.settle(rs.collect(), { maxMs: 200_000 });
      assert.equal(got.length, 4);
      assert.equal((await rs.done).reason, 'window');

      const ok = byAddress(got, '192.0.2.11');
      assert.equal(ok.codeString, '2.05');
      assert.ok(ok.payload.equals(whole));
      assert.equal(ok.incomplete, undefined);

      const cases = [
        { r: byAddress(got, '192.0.2.12'), bytes: b408.subarray(0, 1024), block: 1, answer: '4.08' },
        { r: byAddress(got, '192.0.2.13'), bytes: b503.subarray(0, 2048), block: 2, answer: '5.03' },
        { r: byAddress(got, '192.0.2.14'), bytes: bSilent.subarray(0, 1024), block: 1, answer: undefined },
      ];
      for (const { r, bytes, block, answer } of cases) {
        const at = r.source.address;
        assert.equal(r.codeString, '2.05', `${at}: the code of the first block`);
        assert.ok(r.payload.equals(bytes), `${at}: the bytes that arrived, ${r.payload.length}`);
        assert.equal(findOption(r.options, Opt.Block2), undefined);
        assert.ok(r.etag?.equals(Buffer.from('e1')), `${at}: the first block's options`);
        const inc = r.incomplete;
        assert.ok(inc instanceof BlockTransferError, `${at}: incomplete`);
        assert.equal(inc.code, 'ERR_COAP_BLOCK_INCOMPLETE');
        assert.equal(inc.block, block);
        assert.ok(inc.received.equals(bytes));
        assert.equal(inc.response?.codeString, answer);
        if (answer === undefined) assert.equal((inc.cause as { code?: string }).code, 'ERR_COAP_TIMEOUT');
        else assert.equal(inc.response!.text(), 'no');
      }
    } finally {
      await close(n);
    }
  });
});

describe('a unicast block-wise download that stops short', () => {
  it('rejects with BlockTransferError, not the later block error as the answer', T, async () => {
    const n = await makeNet();
    try {
      const whole = await scripted(n, '192.0.2.12', (num) => (num === 0 ? 'block' : '4.08'));
      const err = await n.rt.settle(n.client.request('coap://192.0.2.12/big')).then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof BlockTransferError);
      assert.equal(err.code, 'ERR_COAP_BLOCK_INCOMPLETE');
      assert.equal(err.block, 1);
      assert.equal(err.response?.codeString, '4.08');
      assert.ok(err.received.equals(whole.subarray(0, 1024)));
      assert.match(err.message, /answered block 1 with 4\.08; 1024 bytes/);
    } finally {
      await close(n);
    }
  });

  it('keeps a timeout of a later block a timeout', T, async () => {
    const n = await makeNet();
    try {
      await scripted(n, '192.0.2.14', (num) => (num === 0 ? 'block' : 'silent'));
      await assert.rejects(n.rt.settle(n.client.request('coap://192.0.2.14/big'), { maxMs: 200_000 }), {
        code: 'ERR_COAP_TIMEOUT',
      });
    } finally {
      await close(n);
    }
  });
});

describe('a Group OSCORE member whose body stops short', () => {
  it('is reported the same way: the protected error answer, or the timeout', T, async () => {
    const big = 'x'.repeat(300);
    const r = await room(2, {
      leisure: 1,
      echo: false,
      setup: (s) => s.resource('/big', { multicast: true, protected: true }).get(() => ({ payload: big })),
    });
    try {
      // Once each member has sent its first block: the one at .2 drops /big (its block 1 answer
      // is a protected 4.04), the one at .3 becomes unreachable (its block 1 request times out).
      const [GONE, SILENT] = ['192.0.2.2', '192.0.2.3'];
      const net = r.n.net;
      const route = net.route.bind(net);
      const answered = new Set<string>();
      net.route = (from, src, data, address, port) => {
        if (address === SILENT && answered.has(SILENT)) return;
        route(from, src, data, address, port);
        if (src.address === GONE && !answered.has(GONE)) r.servers[0]!.removeResource('/big');
        answered.add(src.address);
      };
      const { client } = await r.n.client(keyringOf(r.files[0]!), '192.0.2.90');
      const got = await r.n.rt.settle(
        client.group({ uri: `coap://${GROUP}/big`, window: 3000, blockSize: 64 }).collect(),
        { maxMs: 200_000 },
      );
      assert.equal(got.length, 2);
      const gone = byAddress(got, GONE);
      const silent = byAddress(got, SILENT);
      for (const x of [gone, silent]) {
        assert.equal(x.codeString, '2.05');
        assert.equal(x.text(), big.slice(0, 64));
        assert.equal(x.incomplete?.block, 1);
      }
      assert.equal(gone.incomplete?.response?.codeString, '4.04');
      assert.equal(silent.incomplete?.response, undefined);
      assert.equal((silent.incomplete?.cause as { code?: string } | undefined)?.code, 'ERR_COAP_TIMEOUT');
    } finally {
      await r.n.close();
    }
  });
});
