/**
 * Tests of the timer queue: many deadlines on one runtime timer, fired in deadline order with
 * ties in insertion order, with cancellation and close().
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeRuntime } from '../../src/fake-runtime.js';
import { TimerQueue } from '../../src/util/timer-queue.js';

const T = { timeout: 10000 };

function setup() {
  const rt = new FakeRuntime({ seed: 3 });
  const q = new TimerQueue(rt);
  const fired: Array<[string, number]> = [];
  const at = (name: string) => () => fired.push([name, rt.now()]);
  return { rt, q, fired, at };
}

describe('TimerQueue', () => {
  it('fires callbacks in deadline order, ties in insertion order, each at its deadline', T, async () => {
    const { rt, q, fired, at } = setup();
    q.schedule(30, at('a'));
    q.schedule(10, at('b'));
    q.schedule(20, at('c'));
    q.schedule(10, at('d'));
    q.schedule(0, at('e'));
    q.schedule(-5, at('f'));
    assert.equal(q.size, 6);
    await rt.advance(100);
    assert.deepEqual(fired, [
      ['e', 0],
      ['f', 0],
      ['b', 10],
      ['d', 10],
      ['c', 20],
      ['a', 30],
    ]);
    assert.equal(q.size, 0);
    assert.equal(rt.pending, 0);
  });

  it('fires nothing before its deadline', T, async () => {
    const { rt, q, fired, at } = setup();
    q.schedule(1000, at('a'));
    await rt.advance(999);
    assert.deepEqual(fired, []);
    await rt.advance(1);
    assert.deepEqual(fired, [['a', 1000]]);
  });

  it('does not fire a cancelled callback, and cancelling twice or after it ran is harmless', T, async () => {
    const { rt, q, fired, at } = setup();
    const a = q.schedule(10, at('a'));
    const b = q.schedule(20, at('b'));
    q.schedule(30, at('c'));
    q.cancel(b);
    q.cancel(b);
    q.cancel(undefined);
    assert.equal(q.size, 2);
    await rt.advance(100);
    q.cancel(a);
    assert.deepEqual(
      fired.map(([n]) => n),
      ['a', 'c'],
    );
    assert.equal(q.size, 0);
  });

  it('still fires later callbacks on time when the earliest is cancelled', T, async () => {
    const { rt, q, fired, at } = setup();
    const first = q.schedule(10, at('a'));
    q.schedule(50, at('b'));
    q.cancel(first);
    await rt.advance(100);
    assert.deepEqual(fired, [['b', 50]]);
    assert.equal(rt.pending, 0);
  });

  it('releases the runtime timer when the last callback is cancelled', () => {
    const { rt, q, at } = setup();
    const a = q.schedule(10, at('a'));
    const b = q.schedule(20, at('b'));
    assert.equal(rt.pending, 1);
    q.cancel(b);
    q.cancel(a);
    assert.equal(rt.pending, 0);
  });

  it('uses at most one runtime timer for many callbacks', T, async () => {
    const { rt, q } = setup();
    const order: number[] = [];
    const handles = [];
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(rt.random() * 5000);
      handles.push(
        q.schedule(ms, () => {
          order.push(rt.now());
          assert.ok(rt.pending <= 1);
        }),
      );
      assert.ok(rt.pending <= 1, `runtime timers: ${rt.pending}`);
    }
    for (let i = 0; i < 2000; i += 3) q.cancel(handles[i]);
    assert.ok(rt.pending <= 1);
    await rt.advance(2500);
    assert.ok(rt.pending <= 1);
    await rt.advance(2500);
    assert.equal(order.length, 2000 - 667);
    for (let i = 1; i < order.length; i++) assert.ok(order[i - 1]! <= order[i]!, 'in deadline order');
    assert.equal(rt.pending, 0);
    assert.equal(q.size, 0);
  });

  it('runs callbacks scheduled from a callback: due ones in the same pass, later ones later', T, async () => {
    const { rt, q, fired, at } = setup();
    q.schedule(10, () => {
      fired.push(['a', rt.now()]);
      q.schedule(0, at('now'));
      q.schedule(15, at('later'));
    });
    q.schedule(20, at('b'));
    await rt.advance(100);
    assert.deepEqual(fired, [
      ['a', 10],
      ['now', 10],
      ['b', 20],
      ['later', 25],
    ]);
    assert.equal(rt.pending, 0);
  });

  it('cancels everything on close() and ignores later schedules', T, async () => {
    const { rt, q, fired, at } = setup();
    for (let i = 0; i < 10; i++) q.schedule(i * 10, at(`t${i}`));
    q.close();
    assert.equal(q.size, 0);
    assert.equal(rt.pending, 0);
    const late = q.schedule(5, at('late'));
    q.cancel(late);
    assert.equal(q.size, 0);
    assert.equal(rt.pending, 0);
    await rt.advance(1000);
    assert.deepEqual(fired, []);
  });

  it('stops at close() called from a callback', T, async () => {
    const { rt, q, fired, at } = setup();
    q.schedule(10, () => {
      fired.push(['closer', rt.now()]);
      q.close();
    });
    q.schedule(10, at('same-time'));
    q.schedule(20, at('later'));
    await rt.advance(100);
    assert.deepEqual(fired, [['closer', 10]]);
    assert.equal(rt.pending, 0);
  });
});
