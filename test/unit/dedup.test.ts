/**
 * Tests of duplicate detection (RFC 7252 §4.5, RFC 7390 §2.5): lifetimes per message type,
 * matching on source, Message ID and token, and the bounded table, its slots and queues.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeRuntime } from '../../src/fake-runtime.js';
import { DedupCache } from '../../src/messenger/dedup.js';
import { hex, memSetup, msg, SERVER, sendRaw } from '../support/mem-net.js';

const T = { timeout: 10000 };
const A = '192.0.2.1';
const tok = (s: string): Buffer => Buffer.from(s, 'hex');

/** The cache's private tables, to check that they are emptied and stay bounded. */
const internals = (d: DedupCache) =>
  d as unknown as {
    /** Slots handed out so far (in use or free). */
    used: number;
    /** The source address of each slot's entry; undefined for a free slot. */
    address: (string | undefined)[];
    con: { length: number };
    non: { length: number };
  };
/** The addresses the table holds entries of, each once. */
const addressesHeld = (d: DedupCache) => [...new Set(internals(d).address.filter((a) => a !== undefined))];

function cache(options: { maxEntries?: number; conLifetimeMs?: number; nonLifetimeMs?: number } = {}) {
  const rt = new FakeRuntime();
  const dedup = new DedupCache(rt, {
    maxEntries: 100,
    conLifetimeMs: 247_000,
    nonLifetimeMs: 145_000,
    ...options,
  });
  /** True when the message is new. */
  const isNew = (mid: number, token = tok('01'), confirmable = true, address = A, port = 5683): boolean =>
    dedup.check(address, port, mid, token, confirmable).isNew;
  return { rt, dedup, isNew };
}

describe('DedupCache', () => {
  it('reports a repeat of the same source, Message ID and token as a duplicate of the first entry', () => {
    const { dedup } = cache();
    const first = dedup.check(A, 5683, 7, tok('aa'), true);
    assert.equal(first.isNew, true);
    first.entry.reply = tok('6045');
    const again = dedup.check(A, 5683, 7, tok('aa'), true);
    assert.equal(again.isNew, false);
    assert.equal(again.entry, first.entry);
    assert.deepEqual(again.entry.reply, tok('6045'), 'the remembered reply can be replayed');
    assert.equal(dedup.size, 1);
  });

  it('tells messages apart by address, port and Message ID', () => {
    const { dedup, isNew } = cache();
    assert.equal(isNew(1), true);
    assert.equal(isNew(2), true);
    assert.equal(isNew(1, tok('01'), true, '192.0.2.9'), true);
    assert.equal(isNew(1, tok('01'), true, A, 5684), true);
    assert.equal(isNew(1, tok('01'), true, '2001:db8::1'), true);
    assert.equal(dedup.size, 5);
    assert.equal(isNew(1), false);
  });

  it('keeps its own copy of the token', () => {
    const { isNew } = cache();
    const token = tok('0102');
    assert.equal(isNew(1, token), true);
    token[0] = 0xff;
    assert.equal(isNew(1, tok('0102')), false);
  });

  it('forgets a CON after conLifetimeMs and a NON after nonLifetimeMs', T, async () => {
    const { rt, isNew } = cache({ conLifetimeMs: 1000, nonLifetimeMs: 400 });
    assert.equal(isNew(1, tok('01'), true), true);
    assert.equal(isNew(2, tok('01'), false), true);
    await rt.advance(399);
    assert.equal(isNew(2, tok('01'), false), false, 'NON still remembered just before its lifetime');
    await rt.advance(1);
    assert.equal(isNew(2, tok('01'), false), true, 'NON forgotten at its lifetime');
    await rt.advance(599);
    assert.equal(isNew(1, tok('01'), true), false, 'CON still remembered just before its lifetime');
    await rt.advance(1);
    assert.equal(isNew(1, tok('01'), true), true, 'CON forgotten at its lifetime');
  });

  it('replaces the entry when the same Message ID comes with another token (MID wrap-around)', () => {
    const { dedup, isNew } = cache();
    assert.equal(isNew(8), true, 'another message from the same source');
    assert.equal(isNew(9, tok('aa')), true);
    const replaced = dedup.check(A, 5683, 9, tok('aa'), true).entry;
    assert.equal(isNew(9, tok('bb')), true);
    assert.equal(dedup.size, 2);
    assert.equal(replaced.dead, true);
    assert.equal(isNew(9, tok('bb')), false, 'the new message is remembered');
    assert.equal(isNew(9, tok('aa')), true, 'the replaced token is new again');
    assert.equal(dedup.size, 2);
  });

  it('treats an empty token as a token', () => {
    const { isNew } = cache();
    assert.equal(isNew(3, Buffer.alloc(0)), true);
    assert.equal(isNew(3, Buffer.alloc(0)), false);
    assert.equal(isNew(3, tok('00')), true);
  });

  it('stays within maxEntries by evicting the oldest entry', T, async () => {
    const { rt, dedup, isNew } = cache({ maxEntries: 3 });
    for (const mid of [1, 2, 3]) {
      assert.equal(isNew(mid), true);
      await rt.advance(10);
    }
    assert.equal(isNew(4), true);
    assert.equal(dedup.size, 3);
    assert.equal(isNew(4), false);
    assert.equal(isNew(3), false);
    assert.equal(isNew(2), false);
    assert.equal(isNew(1), true, 'the oldest was evicted');
    assert.equal(dedup.size, 3);
    assert.equal(isNew(2), true, 'and now the next oldest');
  });

  it('stays within maxEntries with a mix of CON and NON entries', () => {
    const { dedup, isNew } = cache({ maxEntries: 50 });
    for (let i = 0; i < 1000; i++) {
      isNew(i, tok('01'), i % 3 !== 0);
      assert.ok(dedup.size <= 50);
    }
    assert.equal(dedup.size, 50);
  });

  it('drops expired entries as new messages arrive, leaving only the new one', T, async () => {
    const { rt, dedup, isNew } = cache({ maxEntries: 10_000, conLifetimeMs: 1000, nonLifetimeMs: 500 });
    for (let i = 0; i < 3000; i++) isNew(i, tok('01'), i % 2 === 0, A, 5683 + (i % 7));
    assert.equal(dedup.size, 3000);
    await rt.advance(1000);
    assert.equal(isNew(1, tok('02')), true);
    assert.equal(dedup.size, 1);
    await rt.advance(1000);
    for (let i = 0; i < 3000; i++) assert.equal(isNew(i, tok('01'), false), true);
    assert.equal(dedup.size, 3000);
  });

  it('keeps peers apart when the same Message ID and token come from many addresses and ports', () => {
    const { dedup, isNew } = cache({ maxEntries: 1000 });
    const addresses = [A, '192.0.2.2', '::ffff:192.0.2.1', '2001:db8::1', 'fe80::1%lo', '::1', '127.0.0.1'];
    const ports = [0, 1, 5683, 16384, 32768, 65535];
    for (const mid of [0, 1, 65535]) {
      for (const address of addresses) {
        for (const port of ports) assert.equal(isNew(mid, tok('cafe'), true, address, port), true);
      }
    }
    assert.equal(dedup.size, 3 * addresses.length * ports.length);
    for (const mid of [0, 1, 65535]) {
      for (const address of addresses) {
        for (const port of ports) {
          assert.equal(isNew(mid, tok('cafe'), true, address, port), false, `${address} ${port} ${mid}`);
        }
      }
    }
    assert.equal(isNew(2, tok('cafe'), true, A, 5683), true, 'a Message ID no peer used');
    assert.equal(isNew(1, tok('cafe'), true, A, 5684), true, 'a port no peer used');
    assert.equal(isNew(1, tok('cafe'), true, '192.0.2.3', 5683), true, 'an address no peer used');
  });

  it('tells apart tokens that differ in any byte or only in length', () => {
    const { dedup, isNew } = cache({ maxEntries: 1000 });
    const tokens = ['', '00', '0000', '000000', '00000000', '0000000000000000', '01', '0001', '000001'];
    for (let i = 0; i < 8; i++) {
      for (const b of ['01', '80', 'ff']) {
        const t = Buffer.alloc(8);
        t[i] = Number.parseInt(b, 16);
        tokens.push(t.toString('hex'), t.subarray(0, i + 1).toString('hex'));
      }
    }
    const distinct = [...new Set(tokens)];
    for (const t of distinct) assert.equal(isNew(5, tok(t)), true, `token ${t} replaces the previous one`);
    for (const t of distinct) assert.equal(isNew(6 + distinct.indexOf(t), tok(t)), true);
    for (const t of distinct) assert.equal(isNew(6 + distinct.indexOf(t), tok(t)), false, `token ${t}`);
    const other = tok('ffffffffffffffffff');
    for (const t of distinct) {
      for (const u of distinct) {
        if (u === t) continue;
        assert.equal(isNew(1000, other) && isNew(1000, tok(t)), true);
        assert.equal(isNew(1000, tok(u)), true, `${u} after ${t}`);
      }
    }
    assert.equal(dedup.size, distinct.length + 2);
  });

  it('compares a token longer than 8 bytes in full', () => {
    const { isNew } = cache();
    assert.equal(isNew(1, tok('000102030405060708')), true);
    assert.equal(isNew(1, tok('000102030405060708')), false);
    assert.equal(isNew(1, tok('000102030405060709')), true, 'differs after byte 8');
    assert.equal(isNew(1, tok('000102030405060709')), false);
  });

  it('a message whose arrival evicts the last entry of another port of its address is remembered', () => {
    const { dedup, isNew } = cache({ maxEntries: 1 });
    assert.equal(isNew(1, tok('01'), true, A, 1000), true);
    assert.equal(isNew(1, tok('01'), true, A, 2000), true);
    assert.equal(isNew(1, tok('01'), true, A, 2000), false);
    assert.equal(isNew(1, tok('01'), true, A, 1000), true, 'the evicted one is new again');
    assert.equal(dedup.size, 1);
    assert.equal(internals(dedup).used, 1, 'one slot serves the one entry');
  });

  it('removes the maps of peers whose entries all expired or were evicted', T, async () => {
    const { rt, dedup, isNew } = cache({ maxEntries: 500, conLifetimeMs: 1000, nonLifetimeMs: 500 });
    for (let i = 0; i < 2000; i++) isNew(i, tok('01'), i % 2 === 0, `192.0.2.${i % 50}`, 40000 + (i % 7));
    assert.equal(dedup.size, 500);
    assert.ok(internals(dedup).used <= 500, `${internals(dedup).used} slots`);
    assert.ok(addressesHeld(dedup).length <= 50, `${addressesHeld(dedup).length} addresses`);
    // The evicted peers left nothing behind.
    for (let i = 0; i < 500; i++) isNew(70000 + i, tok('02'), true, '198.51.100.1', 5683);
    assert.deepEqual(addressesHeld(dedup), ['198.51.100.1']);
    await rt.advance(2000);
    assert.equal(dedup.size, 0, 'the sweep timer emptied the table');
    assert.deepEqual(addressesHeld(dedup), []);
    assert.equal(internals(dedup).con.length + internals(dedup).non.length, 0);
  });

  it('splits one busy peer by Message ID range without mixing up ranges or peers', T, async () => {
    const { rt, dedup, isNew } = cache({ maxEntries: 70_000, conLifetimeMs: 1000, nonLifetimeMs: 500 });
    // Message IDs across every 4096 boundary, wrapping, from one port, and the same IDs from a
    // port whose number shares bits with them.
    for (let i = 0; i < 65536; i++) assert.equal(isNew((60000 + i) & 0xffff, tok('01'), true, A, 5683), true);
    for (const mid of [0, 4095, 4096, 65535]) {
      assert.equal(isNew(mid, tok('01'), true, A, 5683), false);
      assert.equal(isNew(mid, tok('01'), true, A, 5683 + 1), true);
      assert.equal(isNew(mid, tok('01'), true, A, 5683 << 4), true);
      assert.equal(isNew(mid, tok('02'), true, A, 5683), true, 'another token');
    }
    assert.equal(dedup.size, 65536 + 8);
    assert.ok(internals(dedup).used <= 65536 + 8, `${internals(dedup).used} slots`);
    await rt.advance(2000);
    assert.equal(dedup.size, 0);
    assert.deepEqual(addressesHeld(dedup), []);
  });

  it('keeps its queues bounded while one Message ID keeps coming with new tokens', () => {
    const { dedup, isNew } = cache({ maxEntries: 100 });
    // Older entries at the head of both queues, so replaced entries queue up behind them.
    assert.equal(isNew(1, tok('01'), true) && isNew(2, tok('01'), false), true);
    const token = Buffer.alloc(4);
    for (let i = 0; i < 100_000; i++) {
      token.writeUInt32BE(i);
      assert.equal(dedup.check(A, 5683, 42, token, i % 2 === 0).isNew, true);
    }
    assert.equal(dedup.size, 3);
    assert.equal(
      isNew(1, tok('01'), true) || isNew(2, tok('01'), false),
      false,
      'the older entries are kept',
    );
    const { con, non } = internals(dedup);
    assert.ok(con.length + non.length <= 64, `${con.length} + ${non.length} entries queued`);
  });

  it(
    'gives the slots of a burst back once idle, and an entry that ended never matches a later one',
    T,
    async () => {
      const { rt, dedup, isNew } = cache({ maxEntries: 5000, conLifetimeMs: 1000, nonLifetimeMs: 500 });
      const early = dedup.check(A, 5683, 1, tok('01'), true).entry;
      early.reply = tok('60');
      for (let i = 2; i <= 3000; i++) isNew(i);
      assert.ok(internals(dedup).address.length >= 3000, 'the slab grew for the burst');
      await rt.advance(2000);
      assert.equal(dedup.size, 0);
      assert.equal(internals(dedup).address.length, 16, 'back to the first size');
      assert.equal(early.dead, true);
      // New entries take the slots again, the first one's among them.
      for (let i = 0; i < 16; i++) isNew(100 + i, tok('02'), true, '198.51.100.7');
      assert.equal(early.dead, true, 'a reference to the ended entry stays dead');
      assert.equal(early.reply, undefined);
      early.reply = tok('61');
      for (let i = 0; i < 16; i++)
        assert.equal(dedup.check('198.51.100.7', 5683, 100 + i, tok('02'), true).entry.reply, undefined);
    },
  );

  it('forgets everything on clear()', () => {
    const { dedup, isNew } = cache();
    for (let i = 0; i < 10; i++) isNew(i);
    dedup.clear();
    assert.equal(dedup.size, 0);
    assert.equal(isNew(1), true);
    assert.equal(dedup.size, 1);
  });
});

describe('duplicate detection keeps working after entries are replaced or evicted', () => {
  it('detects a duplicate of a message that replaced the only entry of its address', () => {
    const dedup = new DedupCache(new FakeRuntime(), {
      maxEntries: 100,
      conLifetimeMs: 247_000,
      nonLifetimeMs: 145_000,
    });
    assert.equal(dedup.check('192.0.2.1', 5683, 9, hex('aa'), true).isNew, true);
    assert.equal(dedup.check('192.0.2.1', 5683, 9, hex('bb'), true).isNew, true);
    assert.equal(dedup.check('192.0.2.1', 5683, 9, hex('bb'), true).isNew, false);
    assert.equal(dedup.size, 1);
  });

  it('detects a duplicate of a message whose arrival evicted the only entry of its address', () => {
    const dedup = new DedupCache(new FakeRuntime(), {
      maxEntries: 1,
      conLifetimeMs: 247_000,
      nonLifetimeMs: 145_000,
    });
    assert.equal(dedup.check('192.0.2.1', 5683, 1, hex('aa'), true).isNew, true);
    assert.equal(dedup.check('192.0.2.1', 5683, 2, hex('bb'), true).isNew, true);
    assert.equal(dedup.check('192.0.2.1', 5683, 2, hex('bb'), true).isNew, false);
  });

  it('passes a retransmitted request up once after its MID was reused with a new token', {
    timeout: 10000,
  }, async () => {
    const s = memSetup();
    s.server();
    sendRaw(s.clientT, msg({ code: 2, token: hex('aa') }), SERVER);
    await s.rt.advance(0);
    const req = sendRaw(s.clientT, msg({ code: 2, token: hex('bb') }), SERVER);
    await s.rt.advance(2500);
    sendRaw(s.clientT, req, SERVER);
    await s.rt.advance(0);
    assert.equal(s.requests.length, 2);
    await s.close();
  });
});
