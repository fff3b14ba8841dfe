/**
 * Which of a node's addresses answers a group request (RFC 7252 §8.2, RFC 7390 §2.5): an address
 * the requester can reach on the link the request came in on, on a node with two links.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AnswerCandidate,
  chooseAnswer,
  type InterfaceTable,
  isLinkLocalUnicast,
  localFacts,
} from '../../src/transport/local-addresses.js';

/** A node on two links, na (fd01::/64, 198.18.1.0/24) and nb (fd02::/64, 198.18.2.0/24). */
const TABLE: InterfaceTable = {
  lo: [{ address: '127.0.0.1', family: 'IPv4', cidr: '127.0.0.1/8' }],
  na: [
    { address: '198.18.1.1', family: 'IPv4', cidr: '198.18.1.1/24' },
    { address: 'fd01::1', family: 'IPv6', cidr: 'fd01::1/64' },
    { address: 'fe80::a', family: 'IPv6', cidr: 'fe80::a/64' },
  ],
  nb: [
    { address: '198.18.2.1', family: 'IPv4', cidr: '198.18.2.1/24' },
    { address: 'fd02::1', family: 'IPv6', cidr: 'fd02::1/64' },
    { address: 'fe80::b', family: 'IPv6', cidr: 'fe80::b/64' },
  ],
};

function candidates(addresses: readonly string[]): AnswerCandidate<string>[] {
  return addresses.map((a) => ({
    local: a,
    family: a.includes(':') ? 6 : 4,
    facts: localFacts(a, TABLE),
  }));
}

const ALL = candidates(['198.18.1.1', '198.18.2.1', 'fd01::1', 'fd02::1', 'fe80::a%na', 'fe80::b%nb']);

describe('local address facts', () => {
  it('finds the interface and prefix of an address, and of one inside a listed prefix', () => {
    assert.deepEqual(localFacts('fd02::1', TABLE), {
      iface: 'nb',
      prefix: {
        family: 6,
        bytes: localFacts('fd02::1', TABLE).prefix!.bytes,
        prefix: 64,
        text: 'fd02::1/64',
      },
      linkLocal: false,
    });
    assert.equal(localFacts('127.0.0.2', TABLE).iface, 'lo');
    assert.equal(localFacts('fe80::b%nb', TABLE).iface, 'nb');
    assert.equal(localFacts('fe80::b%nb', TABLE).linkLocal, true);
    assert.equal(
      localFacts('fe80::9%zz', TABLE).iface,
      'zz',
      'a zone names the interface even when unlisted',
    );
    assert.equal(localFacts('192.0.2.1', TABLE).iface, undefined);
  });

  it('knows fe80::/10 as link-local', () => {
    for (const a of ['fe80::1', 'FE80::1%eth0', 'febf::1']) assert.ok(isLinkLocalUnicast(a), a);
    for (const a of ['fec0::1', 'fd00::1', 'ff02::1', '::1']) assert.ok(!isLinkLocalUnicast(a), a);
  });
});

describe('the answering address', () => {
  it('answers a link-local requester from the link-local address of its link', () => {
    assert.equal(chooseAnswer(ALL, 'fe80::77%nb', undefined), 'fe80::b%nb');
    assert.equal(chooseAnswer(ALL, 'fe80::77%na', 'na'), 'fe80::a%na');
  });

  it('answers from the address whose prefix holds the requester', () => {
    assert.equal(chooseAnswer(ALL, 'fd02::9', undefined), 'fd02::1');
    assert.equal(chooseAnswer(ALL, '198.18.2.7', undefined), '198.18.2.1');
    assert.equal(chooseAnswer(ALL, '198.18.1.7', undefined), '198.18.1.1');
  });

  it('answers a request on a link-scoped group from another prefix with the link-local address of that link', () => {
    assert.equal(chooseAnswer(ALL, 'fd77::9', 'nb'), 'fe80::b%nb');
  });

  it('falls back to the first routable address of the family, never a link-local one', () => {
    assert.equal(chooseAnswer(ALL, 'fd77::9', undefined), 'fd01::1');
    assert.equal(chooseAnswer(ALL, '203.0.113.5', undefined), '198.18.1.1');
    const onlyLinkLocal = candidates(['fe80::a%na']);
    assert.equal(chooseAnswer(onlyLinkLocal, 'fd77::9', undefined), 'fe80::a%na');
  });

  it('has no answer for a family it has no address of', () => {
    assert.equal(chooseAnswer(candidates(['198.18.1.1']), 'fd01::9', undefined), undefined);
  });

  it('keeps a one-socket node as it was: that socket answers everything of its family', () => {
    const one = candidates(['fd01::1']);
    assert.equal(chooseAnswer(one, 'fe80::77%nb', 'nb'), 'fd01::1');
  });
});
