/**
 * IP address facts: multicast detection (both forms agree), IPv6 scope, RFC 5952 text, CIDR.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  canonicalIPv6,
  cidrContains,
  ipFamily,
  ipv6MulticastScope,
  isLoopback,
  isMulticast,
  isMulticastQuick,
  parseCidr,
} from '../../src/util/ip.js';

describe('ip', () => {
  it('recognises IPv4 224.0.0.0/4 and IPv6 ff00::/8 as multicast', () => {
    for (const a of [
      '224.0.1.187',
      '239.255.255.255',
      '224.0.0.1',
      'ff02::fd',
      'FF05::FD',
      'ff02::fd%eth0',
    ]) {
      assert.ok(isMulticast(a), a);
    }
    for (const a of ['223.255.255.255', '240.0.0.1', '127.0.0.1', 'ff::1', 'fe80::1', '::1', 'not-an-ip']) {
      assert.ok(!isMulticast(a), a);
    }
  });

  it('gives the same answer from the quick check on the send path for any IP literal', () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
    const v6 = fc.ipV6();
    fc.assert(
      fc.property(fc.oneof(v4, v6), (a) => isMulticastQuick(a) === isMulticast(a)),
      { numRuns: 5000 },
    );
  });

  it('reads the scope nibble of IPv6 multicast addresses', () => {
    assert.equal(ipv6MulticastScope('ff02::fd'), 2);
    assert.equal(ipv6MulticastScope('ff05::fd'), 5);
    assert.equal(ipv6MulticastScope('ff0e::fd%lo'), 14);
  });

  it('writes IPv6 in RFC 5952 form', () => {
    assert.equal(canonicalIPv6('FF15:0:0:0:4200:F7FE:ED37:14CA'), 'ff15::4200:f7fe:ed37:14ca');
    assert.equal(canonicalIPv6('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(canonicalIPv6('0:0:0:0:0:0:0:1'), '::1');
    assert.equal(canonicalIPv6('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
    assert.equal(canonicalIPv6('fe80::1%eth0'), 'fe80::1%eth0');
  });

  it('tells families and loopback apart', () => {
    assert.equal(ipFamily('127.0.0.1'), 4);
    assert.equal(ipFamily('::1'), 6);
    assert.equal(ipFamily('fe80::1%eth0'), 6);
    assert.equal(ipFamily('127.0.0.1%eth0'), 0);
    assert.equal(ipFamily('example.com'), 0);
    assert.ok(isLoopback('127.0.0.9') && isLoopback('::1') && !isLoopback('10.0.0.1'));
  });

  it('matches addresses against CIDR prefixes, including IPv4-mapped IPv6', () => {
    const lo = parseCidr('127.0.0.0/8')!;
    assert.ok(cidrContains(lo, '127.1.2.3'));
    assert.ok(cidrContains(lo, '::ffff:127.0.0.1'));
    assert.ok(!cidrContains(lo, '128.0.0.1'));
    const v6 = parseCidr('fd00::/8')!;
    assert.ok(cidrContains(v6, 'fd99::1') && !cidrContains(v6, 'fe80::1'));
    assert.ok(cidrContains(parseCidr('10.1.2.3')!, '10.1.2.3'));
    for (const bad of ['10.0.0.0/33', '::/129', 'x/8', '10.0.0.0/a', 'fe80::1%eth0/64'])
      assert.equal(parseCidr(bad), undefined, bad);
  });
});
