/**
 * The parts of the Group Configuration resource (RFC 7390 §2.6.2) that need no network: the
 * access policy (RFC 7390 §2.6.2, §6.2: only authorized controllers), the change limit (RFC 7390
 * §6.2), the membership synchronisation with its leave grace period (RFC 7390 §2.6.2.1), and
 * the resolution of name-only entries (RFC 7390 §2.6.2.2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeRuntime } from '../../src/fake-runtime.js';
import { MembershipSync } from '../../src/group-config/membership-sync.js';
import { resolveMembership } from '../../src/group-config/names.js';
import { CidrAccessPolicy, enforce } from '../../src/group-config/policy.js';
import { TokenBucket } from '../../src/group-config/rate-limit.js';
import { parseMembership } from '../../src/group-json/index.js';
import type { IncomingRequest } from '../../src/server/request.js';

function from(address: string): IncomingRequest {
  return { source: { address, port: 40000 } } as IncomingRequest;
}

describe('CidrAccessPolicy', () => {
  it('lets loopback change and anyone read by default', () => {
    const p = new CidrAccessPolicy();
    for (const a of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1']) {
      assert.equal(p.authorizeWrite(from(a)), 'allow', a);
    }
    for (const a of ['192.0.2.1', '::2', '10.0.0.1']) assert.equal(p.authorizeWrite(from(a)), 'forbidden', a);
    assert.equal(p.authorizeRead(from('192.0.2.1')), 'allow');
  });

  it('takes prefixes and host addresses, and can restrict reading too', () => {
    const p = new CidrAccessPolicy({ writers: ['127.0.0.5/32', '2001:db8::/32'], readers: ['127.0.0.0/24'] });
    assert.equal(p.authorizeWrite(from('127.0.0.5')), 'allow');
    assert.equal(p.authorizeWrite(from('127.0.0.6')), 'forbidden');
    assert.equal(p.authorizeWrite(from('2001:db8:1::9')), 'allow');
    assert.equal(p.authorizeRead(from('127.0.0.200')), 'allow');
    assert.equal(p.authorizeRead(from('127.0.1.1')), 'forbidden');
    assert.equal(new CidrAccessPolicy({ writers: [] }).authorizeWrite(from('127.0.0.1')), 'forbidden');
  });

  it('refuses a prefix that does not parse, saying how to write one', () => {
    for (const bad of ['127.0.0.0/33', 'localhost', '', '::1/129', 'fe80::1%lo/64']) {
      assert.throws(() => new CidrAccessPolicy({ writers: [bad] }), {
        code: 'ERR_COAP_INVALID_ARGUMENT',
        message: /is not a CIDR prefix; write e\.g\./,
      });
    }
  });

  it('turns a denial into 4.01 (unauthenticated) or 4.03 (forbidden)', () => {
    assert.doesNotThrow(() => enforce('allow', 'change'));
    assert.throws(() => enforce('unauthenticated', 'change'), { responseCode: '4.01' });
    assert.throws(() => enforce('forbidden', 'read'), { responseCode: '4.03' });
  });
});

describe('TokenBucket', { timeout: 30_000 }, () => {
  it('allows a burst, then one change per interval, and says how long to wait', async () => {
    const rt = new FakeRuntime();
    const b = new TokenBucket({ burst: 3, perSecond: 0.5 }, rt);
    assert.deepEqual([b.take(), b.take(), b.take()], [0, 0, 0]);
    assert.equal(b.take(), 2);
    await rt.advance(1000);
    assert.equal(b.take(), 1);
    await rt.advance(1000);
    assert.equal(b.take(), 0);
    assert.equal(b.take(), 2);
  });

  it('uses burst 10 and 1 per second by default, and never refills above the burst', async () => {
    const rt = new FakeRuntime();
    const b = new TokenBucket({}, rt);
    await rt.advance(60_000);
    let n = 0;
    while (b.take() === 0) n++;
    assert.equal(n, 10);
  });

  it('checks its options eagerly', () => {
    const rt = new FakeRuntime();
    assert.throws(() => new TokenBucket({ burst: 0 }, rt), { code: 'ERR_COAP_INVALID_ARGUMENT' });
    assert.throws(() => new TokenBucket({ perSecond: 0 }, rt), { code: 'ERR_COAP_INVALID_ARGUMENT' });
    assert.throws(() => new TokenBucket({ burst: 1.5 }, rt), { code: 'ERR_COAP_INVALID_ARGUMENT' });
  });
});

/** A transport stand-in that records joins and leaves and keeps reference counts. */
function recordingIo(fail: Set<string> = new Set()) {
  const log: string[] = [];
  const refs = new Map<string, number>();
  return {
    log,
    refs,
    io: {
      async join(group: string, port: number) {
        if (fail.has(group)) throw Object.assign(new Error('no such device'), { code: 'ENODEV' });
        log.push(`join ${group}:${port}`);
        refs.set(`${group}:${port}`, (refs.get(`${group}:${port}`) ?? 0) + 1);
        return '127.0.0.1';
      },
      async leave(group: string, port: number, iface: string | undefined) {
        assert.equal(iface, '127.0.0.1', 'a leave names the interface of its join');
        log.push(`leave ${group}:${port}`);
        refs.set(`${group}:${port}`, (refs.get(`${group}:${port}`) ?? 0) - 1);
      },
    },
  };
}

const want = (...groups: string[]) =>
  new Map(groups.map((g) => [`${g}|5683`, { group: g, port: 5683 }] as const));

describe('MembershipSync', { timeout: 30_000 }, () => {
  it('joins at once, leaves after the grace period', async () => {
    const rt = new FakeRuntime();
    const r = recordingIo();
    const s = new MembershipSync(r.io, rt, 2000, () => {});
    await s.reconcile(want('239.0.0.1', '239.0.0.2'));
    assert.deepEqual(r.log, ['join 239.0.0.1:5683', 'join 239.0.0.2:5683']);
    await s.reconcile(want('239.0.0.2'));
    assert.deepEqual(s.pendingLeaves(), [{ group: '239.0.0.1', port: 5683 }]);
    assert.deepEqual(s.state({ group: '239.0.0.1', port: 5683 }), { state: 'absent' });
    await rt.advance(1999);
    assert.equal(r.log.length, 2);
    await rt.advance(1);
    assert.deepEqual(r.log.slice(2), ['leave 239.0.0.1:5683']);
    assert.deepEqual(s.pendingLeaves(), []);
  });

  it('cancels a pending leave when the group is wanted again: no leave, no second join', async () => {
    const rt = new FakeRuntime();
    const r = recordingIo();
    const s = new MembershipSync(r.io, rt, 2000, () => {});
    await s.reconcile(want('239.0.0.1'));
    await s.reconcile(want());
    await rt.advance(1000);
    await s.reconcile(want('239.0.0.1'));
    await rt.advance(5000);
    assert.deepEqual(r.log, ['join 239.0.0.1:5683']);
    assert.deepEqual(s.state({ group: '239.0.0.1', port: 5683 }), { state: 'joined' });
    assert.equal(rt.pending, 0);
  });

  it('leaves within the call when the grace period is 0', async () => {
    const r = recordingIo();
    const s = new MembershipSync(r.io, new FakeRuntime(), 0, () => {});
    await s.reconcile(want('239.0.0.1'));
    await s.reconcile(want());
    assert.deepEqual(r.log, ['join 239.0.0.1:5683', 'leave 239.0.0.1:5683']);
  });

  it('remembers why a join failed, keeps the others, and tries again next time', async () => {
    const fail = new Set(['239.0.0.9']);
    const r = recordingIo(fail);
    const s = new MembershipSync(r.io, new FakeRuntime(), 0, () => {});
    await s.reconcile(want('239.0.0.9', '239.0.0.1'));
    assert.deepEqual(s.state({ group: '239.0.0.9', port: 5683 }), { state: 'failed', reason: 'ENODEV' });
    assert.deepEqual(s.state({ group: '239.0.0.1', port: 5683 }), { state: 'joined' });
    fail.clear();
    await s.reconcile(want('239.0.0.9', '239.0.0.1'));
    assert.deepEqual(s.state({ group: '239.0.0.9', port: 5683 }), { state: 'joined' });
  });

  it('leaves everything at once on close, pending leaves included', async () => {
    const rt = new FakeRuntime();
    const r = recordingIo();
    const s = new MembershipSync(r.io, rt, 2000, () => {});
    await s.reconcile(want('239.0.0.1', '239.0.0.2'));
    await s.reconcile(want('239.0.0.2'));
    await s.close();
    assert.deepEqual([...r.refs.values()], [0, 0]);
    assert.equal(rt.pending, 0);
  });

  it('reports a failed leave as a warning', async () => {
    const warnings: string[] = [];
    const r = recordingIo();
    const s = new MembershipSync(
      { join: r.io.join, leave: async () => Promise.reject(new Error('gone')) },
      new FakeRuntime(),
      0,
      (w) => warnings.push(w),
    );
    await s.reconcile(want('239.0.0.1'));
    await s.reconcile(want());
    assert.deepEqual(warnings, ['could not leave 239.0.0.1 port 5683: gone']);
  });
});

describe('resolveMembership', { timeout: 30_000 }, () => {
  const rt = new FakeRuntime();
  it('uses "a" without a lookup, with its port or 5683', async () => {
    const calls: string[] = [];
    const resolver = async (h: string) => {
      calls.push(h);
      return ['239.9.9.9'];
    };
    const m = parseMembership('{"n":"x.example:1234","a":"239.1.1.1"}');
    assert.deepEqual(await resolveMembership(m, resolver, 1000, rt), {
      ok: true,
      target: { group: '239.1.1.1', port: 5683 },
    });
    assert.deepEqual(calls, []);
  });

  it('resolves "n" to its first multicast address, with the port of "n"', async () => {
    const m = parseMembership('{"n":"lights.example.com:6000"}');
    const r = await resolveMembership(m, async () => ['192.0.2.1', 'FF15::0:1', '239.1.1.1'], 1000, rt);
    assert.deepEqual(r, { ok: true, target: { group: 'ff15::1', port: 6000 } });
  });

  it('gives a reason when the name does not resolve, or not to a group', async () => {
    const m = parseMembership('{"n":"lights.example.com"}');
    const nx = await resolveMembership(
      m,
      async () => Promise.reject(Object.assign(new Error('x'), { code: 'ENOTFOUND' })),
      1000,
      rt,
    );
    assert.deepEqual(nx, { ok: false, reason: 'cannot resolve lights.example.com: ENOTFOUND' });
    const unicast = await resolveMembership(m, async () => ['192.0.2.1'], 1000, rt);
    assert.deepEqual(unicast, {
      ok: false,
      reason: 'lights.example.com resolves to only 192.0.2.1, not a multicast address',
    });
  });

  it('gives up on a lookup that does not answer in time', async () => {
    const clock = new FakeRuntime();
    const m = parseMembership('{"n":"slow.example"}');
    const pending = resolveMembership(m, () => new Promise<string[]>(() => {}), 500, clock);
    await clock.advance(500);
    assert.deepEqual(await pending, {
      ok: false,
      reason: 'cannot resolve slow.example: no answer within 500 ms',
    });
    assert.equal(clock.pending, 0);
  });
});
