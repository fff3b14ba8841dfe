/**
 * The proxy's limits (spec: the proxy must not become an amplifier; groupcomm-bis §3.6, §6.3):
 * concurrency per client and in all, token buckets per client and per group with the seconds
 * until a token is back, bytes held by waiting requests, NSTART 1 per group with a bounded queue,
 * and every table bounded. Then the same through the proxy: 5.03 with Max-Age.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeRuntime } from '../../src/fake-runtime.js';
import { Code } from '../../src/message/codes.js';
import { Opt } from '../../src/options/registry.js';
import { uintOption } from '../../src/options/values.js';
import { GroupTurns } from '../../src/proxy/group-turns.js';
import { Limiter, resolveLimits } from '../../src/proxy/limits.js';
import { makeProxyRoom, mt, pass, proxyUri } from '../support/proxy-room.js';

describe('proxy limits', { timeout: 30_000 }, () => {
  it('refuses past the concurrency of a client and in all, taking no rate token', () => {
    const rt = new FakeRuntime({ seed: 1 });
    const l = new Limiter(resolveLimits({ perClient: 2, total: 3 }), rt);
    assert.equal(l.admitGroup('a', 'g'), undefined);
    assert.equal(l.admitGroup('a', 'g'), undefined);
    assert.match(l.admitGroup('a', 'g')?.reason ?? '', /per client/);
    assert.equal(l.admitGroup('b', 'g'), undefined);
    assert.match(l.admitGroup('c', 'g')?.reason ?? '', /as many group requests/);
    l.releaseGroup('a');
    assert.equal(l.admitGroup('c', 'g'), undefined);
    assert.deepEqual(l.stats().running, 3);
  });

  it('rate-limits a client and a group, saying when a token is back', async () => {
    const rt = new FakeRuntime({ seed: 1 });
    const l = new Limiter(
      resolveLimits({
        perClient: 100,
        clientRate: { burst: 2, perSecond: 0.5 },
        groupRate: { burst: 3, perSecond: 1 },
      }),
      rt,
    );
    const admit = (c: string) => {
      const r = l.admitGroup(c, 'g');
      if (r === undefined) l.releaseGroup(c);
      return r;
    };
    assert.equal(admit('a'), undefined);
    assert.equal(admit('a'), undefined);
    assert.deepEqual(admit('a'), { retryAfter: 2, reason: 'too many group requests from this client' });
    assert.equal(admit('b'), undefined);
    assert.deepEqual(admit('c'), { retryAfter: 1, reason: 'too many group requests to this group' });
    await rt.advance(2000);
    assert.equal(admit('a'), undefined);
  });

  it('bounds the bytes of waiting requests and the tracked clients', () => {
    const rt = new FakeRuntime({ seed: 1 });
    const l = new Limiter(
      resolveLimits({ bufferedBytes: 100, maxTracked: 10, perClient: 1000, total: 100_000 }),
      rt,
    );
    assert.equal(l.hold(60), true);
    assert.equal(l.hold(60), false);
    l.unhold(60);
    assert.equal(l.hold(60), true);
    for (let i = 0; i < 1000; i++) {
      l.admitGroup(`client${i}`, `g${i}`);
      l.releaseGroup(`client${i}`);
    }
    assert.ok(l.stats().tracked <= 30, `tracked ${l.stats().tracked}`);
  });

  it('lets one request per group out at a time, the others wait in a bounded queue', () => {
    const turns = new GroupTurns(2);
    const started: string[] = [];
    const a = turns.take('g', () => started.push('a'))!;
    const b = turns.take('g', () => started.push('b'))!;
    const c = turns.take('g', () => started.push('c'))!;
    assert.equal(
      turns.take('g', () => started.push('d')),
      undefined,
      'the queue is full',
    );
    assert.ok(
      turns.take('h', () => started.push('h')),
      'another group is free',
    );
    assert.deepEqual(started, ['a', 'h']);
    b.release();
    a.release();
    assert.deepEqual(started, ['a', 'h', 'c'], 'b gave up its place; c goes when a is done');
    a.release();
    c.release();
    assert.equal(turns.waiting, 0);
    assert.equal(turns.busy, 1);
  });

  it('answers a client over its rate 5.03 with Max-Age through the proxy', { timeout: 30_000 }, async () => {
    const r = await makeProxyRoom({
      nodes: 1,
      leisure: 0.1,
      proxy: {
        iface: 'mem0',
        groups: { allow: [{ from: '192.0.2.0/24' }] },
        limits: { clientRate: { burst: 1, perSecond: 0.25 } },
      },
    });
    try {
      const a = Buffer.from('lim1');
      const b = Buffer.from('lim2');
      r.raw.send({ token: a, options: [proxyUri('coap://224.0.1.187/x'), mt(1)] });
      r.raw.send({ token: b, options: [proxyUri('coap://224.0.1.187/x'), mt(1)] });
      await pass(r, 2000);
      const [m] = r.raw.on(b);
      assert.equal(m?.code, Code.ServiceUnavailable);
      assert.equal(uintOption(m!.options, Opt.MaxAge), 4);
      assert.equal(r.proxy.stats().counters.refused, 1);
    } finally {
      await r.close();
    }
  });
});
