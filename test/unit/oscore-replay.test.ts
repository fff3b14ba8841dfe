/**
 * Replay protection (RFC 8613 §7.4, §3.2.2: sliding window of 32) and Sender Sequence Numbers
 * (§7.2.1) with their persistence across restarts (Appendix B.1.1).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplayWindow } from '../../src/oscore/replay.js';
import {
  CounterSequence,
  MAX_SEQUENCE_NUMBER,
  MemorySequenceStorage,
  PersistentSequence,
} from '../../src/oscore/sequence.js';

describe('ReplayWindow', () => {
  it('accepts a number once and reports the second time as replayed', () => {
    const w = new ReplayWindow();
    assert.equal(w.check(0), 'fresh');
    w.update(0);
    assert.equal(w.check(0), 'replayed');
  });

  it('accepts reordered numbers within the window and rejects those that fell out of it', () => {
    const w = new ReplayWindow(32);
    w.update(100);
    for (const late of [99, 80, 69]) {
      assert.equal(w.check(late), 'fresh', String(late));
      w.update(late);
      assert.equal(w.check(late), 'replayed');
    }
    assert.equal(w.check(68), 'too-old');
    assert.equal(w.check(0), 'too-old');
    assert.equal(w.highest, 100);
  });

  it('slides: a big jump forgets the old bitmap, a small one keeps it', () => {
    const w = new ReplayWindow(8);
    w.update(1);
    w.update(3);
    w.update(5);
    assert.equal(w.check(3), 'replayed');
    assert.equal(w.check(4), 'fresh');
    w.update(1000);
    assert.equal(w.check(999), 'fresh');
    assert.equal(w.check(993), 'fresh');
    assert.equal(w.check(992), 'too-old');
    w.update(1003);
    assert.equal(w.check(1000), 'replayed');
    assert.equal(w.check(996), 'fresh');
    assert.equal(w.check(995), 'too-old');
  });

  it('refuses to record a number that is not fresh', () => {
    const w = new ReplayWindow();
    w.update(7);
    assert.throws(() => w.update(7), { code: 'ERR_COAP_INVALID_ARGUMENT' });
  });

  it('resets to a lower limit after a reboot (Appendix B.1.2)', () => {
    const w = new ReplayWindow();
    w.reset(50);
    assert.equal(w.check(49), 'too-old');
    assert.equal(w.check(50), 'fresh');
    assert.equal(w.check(10_000), 'fresh');
  });

  it('checks its size eagerly', () => {
    assert.throws(() => new ReplayWindow(0), { code: 'ERR_COAP_INVALID_ARGUMENT' });
    assert.throws(() => new ReplayWindow(1e9), { code: 'ERR_COAP_INVALID_ARGUMENT' });
  });
});

describe('Sender Sequence Numbers', () => {
  it('counts from 0 and stops after 2^40 - 1 (RFC 8613 §7.2.1)', () => {
    const s = new CounterSequence();
    assert.equal(s.next(), 0);
    assert.equal(s.next(), 1);
    const end = new CounterSequence(MAX_SEQUENCE_NUMBER);
    assert.equal(end.next(), MAX_SEQUENCE_NUMBER);
    assert.throws(() => end.next(), { code: 'ERR_OSCORE_SEQUENCE_EXHAUSTED' });
  });

  it('stores next + K before using a number and resumes from the stored bound after a restart', () => {
    const storage = new MemorySequenceStorage();
    const first = new PersistentSequence(storage, { reserve: 10 });
    const used: number[] = [];
    for (let i = 0; i < 15; i++) used.push(first.next());
    assert.deepEqual(used, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    // One write before 0 and one before 10, each reserving K numbers ahead.
    assert.deepEqual(storage.writes, [10, 20]);

    // Simulated restart: the counter is lost; only storage survives.
    const second = new PersistentSequence(storage, { reserve: 10 });
    const next = second.next();
    assert.equal(next, 20);
    assert.ok(next > Math.max(...used), 'no sequence number is reused');
    assert.ok(next - used.length < 10, 'at most K numbers are skipped');
    assert.deepEqual(storage.writes, [10, 20, 30]);
  });

  it('adds the margin F on restart for storage whose last write may be lost', () => {
    const storage = new MemorySequenceStorage(40);
    const s = new PersistentSequence(storage, { reserve: 10, margin: 5 });
    assert.equal(s.peek(), 45);
  });

  it('does not hand out a number when the write fails', () => {
    const s = new PersistentSequence(
      {
        load: () => undefined,
        save: () => {
          throw new Error('disk full');
        },
      },
      { reserve: 10 },
    );
    assert.throws(() => s.next(), /disk full/);
    assert.equal(s.peek(), 0);
  });

  it('checks K and F eagerly', () => {
    assert.throws(() => new PersistentSequence(new MemorySequenceStorage(), { reserve: 0 }), {
      code: 'ERR_COAP_INVALID_ARGUMENT',
    });
    assert.throws(() => new PersistentSequence(new MemorySequenceStorage(), { margin: -1 }), {
      code: 'ERR_COAP_INVALID_ARGUMENT',
    });
  });
});
