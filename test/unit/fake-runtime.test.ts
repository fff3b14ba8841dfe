/**
 * FakeRuntime: virtual time that moves only when asked, a seeded random sequence, and settle()
 * with defaults a test sets once (the builders of test/support give each network its own).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeRuntime } from '../../src/fake-runtime.js';

/** A promise that resolves after `ms` of the runtime's virtual time. */
const after = (rt: FakeRuntime, ms: number) =>
  new Promise<number>((r) => rt.setTimeout(() => r(rt.now()), ms));

describe('FakeRuntime', { timeout: 10_000 }, () => {
  it('settles by advancing in steps of 10 ms, giving up after 60 s of virtual time', async () => {
    const rt = new FakeRuntime();
    assert.equal(await rt.settle(after(rt, 25)), 25);
    assert.equal(rt.now(), 30);
    await assert.rejects(rt.settle(after(rt, 70_000)), /still pending after 60000 ms/);
  });

  it("takes settle's defaults from the constructor, and a call's options before them", async () => {
    const rt = new FakeRuntime({ settle: { maxMs: 600_000, step: 100 } });
    assert.equal(await rt.settle(after(rt, 25)), 25);
    assert.equal(rt.now(), 100);
    assert.equal(await rt.settle(after(rt, 70_000)), 70_100);
    await assert.rejects(rt.settle(after(rt, 5_000), { maxMs: 1_000 }), /still pending after 1000 ms/);
    assert.equal(await rt.settle(after(rt, 1), { step: 1 }), rt.now());
  });

  it('repeats its random sequence for a seed', () => {
    const a = new FakeRuntime({ seed: 9 });
    const b = new FakeRuntime({ seed: 9 });
    const c = new FakeRuntime({ seed: 10 });
    const draw = (rt: FakeRuntime) => [rt.random(), rt.random(), rt.random()];
    const first = draw(a);
    assert.deepEqual(draw(b), first);
    assert.notDeepEqual(draw(c), first);
    for (const x of first) assert.ok(x >= 0 && x < 1);
  });
});
