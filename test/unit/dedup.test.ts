/**
 * Tests of duplicate detection (RFC 7252 §4.5, RFC 7390 §2.5): lifetimes per message type,
 * matching on source, Message ID and token, and the bounded table.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeRuntime } from '../../src/fake-runtime.js';
import { DedupCache } from '../../src/messenger/dedup.js';

const T = { timeout: 10000 };
const A = '192.0.2.1';
const tok = (s: string): Buffer => Buffer.from(s, 'hex');

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

  it('forgets everything on clear()', () => {
    const { dedup, isNew } = cache();
    for (let i = 0; i < 10; i++) isNew(i);
    dedup.clear();
    assert.equal(dedup.size, 0);
    assert.equal(isNew(1), true);
    assert.equal(dedup.size, 1);
  });
});
