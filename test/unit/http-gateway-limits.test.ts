/**
 * The HTTP gateway's limits and access rules, on an explicit clock: concurrent group requests
 * per client and in total, a busy group, request rates per client and per group, a silent group
 * (RFC 7252 §4.7), all refused with 429 and a Retry-After; the allow-lists of RFC 8075 §10.4 and
 * §10.1, and the Host and Origin checks; the options checked at construction.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  Admission,
  ByteBudget,
  DEFAULT_GATEWAY_LIMITS,
  type GatewayLimits,
} from '../../src/http-gateway/limits.js';
import { checkGatewayOptions } from '../../src/http-gateway/options.js';
import { Policy } from '../../src/http-gateway/policy.js';
import type { Refusal } from '../../src/http-gateway/refusal.js';
import { refused } from '../support/http-gateway.js';

function retryAfter(r: Refusal): number {
  return Number(r.headers.find(([k]) => k === 'Retry-After')?.[1]);
}

const limits = (l: Partial<GatewayLimits>): GatewayLimits => ({ ...DEFAULT_GATEWAY_LIMITS, ...l });

describe('admission of group requests (429 + Retry-After)', () => {
  it('bounds the group requests of one client, and says when the first one ends', () => {
    const a = new Admission(limits({ groupRequestsPerClient: 2, groupRate: { rate: 100, burst: 100 } }));
    a.admitGroup('192.0.2.1', 'g1|5683', 5000, 0);
    a.admitGroup('192.0.2.1', 'g2|5683', 9000, 1000);
    const r = refused(
      () => a.admitGroup('192.0.2.1', 'g3|5683', 5000, 2000),
      429,
      /2 group requests of this client/,
    );
    assert.equal(retryAfter(r), 3);
    // Another client is not held back.
    a.admitGroup('192.0.2.2', 'g3|5683', 5000, 2000);
  });

  it('bounds the group requests of all clients together', () => {
    const a = new Admission(limits({ groupRequests: 2, groupRate: { rate: 100, burst: 100 } }));
    const t = a.admitGroup('192.0.2.1', 'g1|5683', 5000, 0);
    a.admitGroup('192.0.2.2', 'g2|5683', 5000, 0);
    refused(() => a.admitGroup('192.0.2.3', 'g3|5683', 5000, 0), 429, /2 group requests under way/);
    t.release();
    a.admitGroup('192.0.2.3', 'g3|5683', 5000, 0);
    assert.equal(a.activeGroups, 2);
  });

  it('refuses a request that would wait for its group most of its window (NSTART 1 per group)', () => {
    const a = new Admission(limits({ groupRate: { rate: 100, burst: 100 } }));
    a.admitGroup('192.0.2.1', 'g|5683', 10_000, 0);
    const r = refused(() => a.admitGroup('192.0.2.2', 'g|5683', 5000, 1000), 429, /the group is busy/);
    assert.equal(retryAfter(r), 9);
    // A window long enough to keep more than half after the wait is let in, and ends at received + T'.
    assert.equal(a.admitGroup('192.0.2.2', 'g|5683', 30_000, 1000).deadline, 31_000);
    // T' = 0 never waits.
    refused(() => a.admitGroup('192.0.2.3', 'g|5683', 0, 1000), 429, /busy/);
  });

  it('limits the rate per client and per group with token buckets', () => {
    const a = new Admission(
      limits({
        clientRate: { rate: 1, burst: 2 },
        groupRate: { rate: 10, burst: 10 },
        groupRequestsPerClient: 10,
      }),
    );
    a.admitGroup('c', 'g1|1', 100, 0).release();
    a.admitGroup('c', 'g2|1', 100, 0).release();
    const r = refused(() => a.admitGroup('c', 'g3|1', 100, 0), 429, /too fast/);
    assert.equal(retryAfter(r), 1);
    a.admitGroup('c', 'g3|1', 100, 1000).release();
    const g = new Admission(limits({ groupRate: { rate: 0.5, burst: 1 } }));
    g.admitGroup('c1', 'g|1', 100, 0).release();
    assert.equal(retryAfter(refused(() => g.admitGroup('c2', 'g|1', 100, 0), 429, /asked too often/)), 2);
  });

  it('holds a silent group until it may be probed again (RFC 7252 §4.7)', () => {
    const a = new Admission(DEFAULT_GATEWAY_LIMITS);
    a.holdGroup('g|1', 30_000);
    assert.equal(
      retryAfter(refused(() => a.admitGroup('c', 'g|1', 1000, 10_000), 429, /answered nothing/)),
      20,
    );
    a.admitGroup('c', 'g|1', 1000, 30_000);
  });

  it('bounds unicast requests in flight and counts them out once', () => {
    const a = new Admission(limits({ unicastRequests: 1 }));
    const done = a.admitUnicast('c', 0);
    refused(() => a.admitUnicast('d', 0), 429, /unicast requests under way/);
    done();
    done();
    assert.equal(a.activeUnicast, 0);
  });

  it('takes bytes from the shared budget only while they fit', () => {
    const b = new ByteBudget(100);
    assert.ok(b.take(60));
    assert.ok(!b.take(41));
    b.give(60);
    assert.ok(b.take(100));
  });
});

describe('access rules (RFC 8075 §10.1, §10.4)', () => {
  const policy = new Policy({
    targets: ['127.0.0.0/8', '192.0.2.0/24'],
    groupClients: [
      { from: '127.0.0.1' },
      { from: '10.0.0.0/8', groups: ['coap://224.0.1.187', '[ff02::fd]:61616'] },
      { from: '192.0.2.0/24', groups: ['coap://239.0.0.3/lights'] },
    ],
    hostnames: ['gw.example'],
  });

  it('allows unicast targets in the prefixes only', () => {
    policy.checkUnicast('192.0.2.7');
    policy.checkUnicast('::ffff:127.0.0.2');
    refused(() => policy.checkUnicast('198.51.100.1'), 403, /not in the gateway's allow-list of targets/);
  });

  it('allows group requests from listed clients, limited to their groups by host, port and path', () => {
    policy.checkGroup('127.0.0.1', '239.1.2.3', 7777, []);
    policy.checkGroup('10.1.2.3', '224.0.1.187', 5683, ['light']);
    policy.checkGroup('10.1.2.3', 'FF02:0:0::FD', 61616, []);
    refused(
      () => policy.checkGroup('10.1.2.3', '224.0.1.187', 5684, []),
      403,
      /224\.0\.1\.187:5684 are not allowed from 10\.1\.2\.3/,
    );
    refused(() => policy.checkGroup('192.0.2.1', '224.0.1.187', 5683, []), 403);
    // A group URI with a path admits targets under that path only.
    policy.checkGroup('192.0.2.1', '239.0.0.3', 5683, ['lights', 'one']);
    refused(() => policy.checkGroup('192.0.2.1', '239.0.0.3', 5683, ['.well-known', 'core']), 403);
  });

  it('answers only to its own names and origin (DNS rebinding, cross-site requests)', () => {
    policy.checkHost('127.0.0.1:8080', undefined);
    policy.checkHost('[::1]:8080', 'http://[::1]:8080');
    policy.checkHost('localhost:8080', 'http://localhost:8080');
    policy.checkHost('GW.example', undefined);
    refused(
      () => policy.checkHost('evil.example:8080', undefined),
      403,
      /does not answer to the name evil\.example/,
    );
    refused(
      () => policy.checkHost('127.0.0.1:8080', 'http://evil.example'),
      403,
      /requests from http:\/\/evil\.example/,
    );
  });
});

describe('options checked at construction', () => {
  it('refuses bad ones with InvalidArgumentError', () => {
    for (const bad of [
      { port: 70000 },
      { path: 'hc/' },
      { path: '/hc' },
      { hops: 0 },
      { limits: { maxTimeout: 0 } },
      { limits: { groupRequests: 1.5 } },
      { limits: { clientRate: { rate: 1, burst: 0 } } },
      { targets: ['not a prefix'] },
    ]) {
      assert.throws(
        () => {
          const o = checkGatewayOptions(bad as never);
          new Policy(o);
        },
        InvalidArgumentError,
        JSON.stringify(bad),
      );
    }
    assert.throws(
      () =>
        new Policy({
          ...checkGatewayOptions({}),
          groupClients: [{ from: '10.0.0.0/8', groups: ['coap://10.0.0.1'] }],
        }),
      /not a group URI with a multicast address/,
    );
  });

  it('defaults to loopback: HTTP on 127.0.0.1:8080, loopback targets, group requests from loopback', () => {
    const o = checkGatewayOptions({});
    assert.equal(o.host, '127.0.0.1');
    assert.equal(o.port, 8080);
    assert.equal(o.path, '/hc/');
    assert.deepEqual(o.targets, ['127.0.0.0/8', '::1/128']);
    assert.deepEqual(o.groupClients, [{ from: '127.0.0.0/8' }, { from: '::1/128' }]);
    // The link of the multicast interface is added to the targets.
    assert.ok((checkGatewayOptions({ iface: '127.0.0.1' }).targets as string[]).includes('127.0.0.1/8'));
  });
});
