/**
 * Properties of the application/coap-group+json codec (RFC 7390 §2.6.2.1, §6.2): any input
 * either parses or throws GroupJsonError, never anything else; and valid collections survive
 * formatCollection/parseCollection unchanged, with IPv6 compared by meaning (R44).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  formatCollection,
  type GroupAddress,
  GroupJsonError,
  type GroupName,
  INDEX_SPACE_SIZE,
  MAX_GROUP_JSON_BYTES,
  type Membership,
  type MembershipCollection,
  parseCollection,
  parseMembership,
} from '../../src/group-json/index.js';
import { canonicalIPv6, ipv6ToBytes } from '../../src/util/ip.js';

/** Runs `fn` and accepts a result or a GroupJsonError; any other throw fails the property. */
function parsesOrGroupJsonError(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GroupJsonError, `threw ${String(e)}`);
    assert.equal(e.code, 'ERR_COAP_GROUP_JSON');
  }
}

const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
const label = fc.stringMatching(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,14}[a-zA-Z0-9])?$/);
const lastLabel = fc.stringMatching(/^[a-zA-Z](?:[a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?$/);
const host = fc
  .tuple(fc.array(label, { maxLength: 4 }), lastLabel)
  .map(([ls, last]) => [...ls, last].join('.'))
  .filter((h) => h.length <= 253);
const groupName: fc.Arbitrary<GroupName> = fc.record({ host: host.map((h) => h.toLowerCase()), port });

const ipv4Multicast = fc
  .tuple(fc.integer({ min: 224, max: 239 }), fc.nat(255), fc.nat(255), fc.nat(255))
  .map((o) => o.join('.'));
/** Eight groups, the first in ff00-ffff, written in full so canonicalIPv6 has work to do. */
const ipv6Multicast = fc
  .tuple(
    fc.integer({ min: 0xff00, max: 0xffff }),
    fc.array(fc.constantFrom(0, 0, 0, 1, 0xfd, 0xabcd), { minLength: 7, maxLength: 7 }),
  )
  .map(([first, rest]) => [first, ...rest].map((g) => g.toString(16)).join(':'));
const groupAddress: fc.Arbitrary<GroupAddress> = fc.oneof(
  fc.record({ address: ipv4Multicast, family: fc.constant(4 as const), port }),
  fc.record({ address: ipv6Multicast.map(canonicalIPv6), family: fc.constant(6 as const), port }),
);
const membership: fc.Arbitrary<Membership> = fc.oneof(
  fc.record({ n: groupName }),
  fc.record({ a: groupAddress }),
  fc.record({ n: groupName, a: groupAddress }),
);
const index = fc.stringMatching(/^[a-z0-9]{1,2}$/);
// fc.record builds null-prototype objects; structuredClone gives plain ones, as parsing does.
const collection: fc.Arbitrary<MembershipCollection> = fc
  .uniqueArray(fc.tuple(index, membership), { selector: ([k]) => k, maxLength: 40 })
  .map((entries) => structuredClone(new Map(entries)));

describe('group-json: properties', () => {
  it('any string either parses or throws GroupJsonError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        parsesOrGroupJsonError(() => parseMembership(s));
        parsesOrGroupJsonError(() => parseCollection(s));
      }),
      { numRuns: 500 },
    );
  });

  it('any bytes either parse or throw GroupJsonError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        parsesOrGroupJsonError(() => parseMembership(Buffer.from(bytes)));
        parsesOrGroupJsonError(() => parseCollection(Buffer.from(bytes)));
      }),
      { numRuns: 500 },
    );
  });

  it('any JSON text either parses or throws GroupJsonError', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        parsesOrGroupJsonError(() => parseMembership(text));
        parsesOrGroupJsonError(() => parseCollection(text));
      }),
      { numRuns: 300 },
    );
  });

  it('near-valid membership objects either parse or throw GroupJsonError', () => {
    const value = fc.oneof(
      fc.constantFrom(
        '224.0.1.187',
        '[ff15::1]:5683',
        'ff15::1',
        '10.0.0.1',
        'x.example',
        '[ff02::1%25lo]',
        '',
      ),
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.constant(null),
    );
    const key = fc.constantFrom('n', 'a', 'N', 'x', '__proto__', '1');
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 4 }), (pairs) => {
        const text = `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
        parsesOrGroupJsonError(() => parseMembership(text));
        parsesOrGroupJsonError(() => parseCollection(`{"1":${text}}`));
      }),
      { numRuns: 500 },
    );
  });

  it('formatCollection then parseCollection gives back the same collection', () => {
    fc.assert(
      fc.property(collection, (c) => {
        const text = formatCollection(c);
        assert.deepEqual(parseCollection(text), c);
        assert.equal(formatCollection(parseCollection(text)), text);
      }),
      { numRuns: 300 },
    );
  });

  it('parsing keeps the meaning of any spelling of an IPv6 group address (R44)', () => {
    fc.assert(
      fc.property(ipv6Multicast, fc.boolean(), port, (written, upper, p) => {
        const text = `[${upper ? written.toUpperCase() : written}]${p === undefined ? '' : `:${p}`}`;
        const a = parseMembership(JSON.stringify({ a: text })).a!;
        assert.deepEqual(ipv6ToBytes(a.address), ipv6ToBytes(written));
        assert.equal(a.port, p);
        assert.equal(a.address, canonicalIPv6(written));
      }),
      { numRuns: 300 },
    );
  });

  it('the largest possible collection fits under MAX_GROUP_JSON_BYTES and reads back', () => {
    const name = `${`${'h'.repeat(63)}.`.repeat(3)}${'h'.repeat(61)}`;
    const c: MembershipCollection = new Map();
    const chars = '0123456789abcdefghijklmnopqrstuvwxyz';
    const keys = [...chars, ...[...chars].flatMap((x) => [...chars].map((y) => x + y))];
    for (const k of keys) {
      c.set(k, {
        n: { host: name, port: 65535 },
        a: { address: 'ff15:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 6, port: 65535 },
      });
    }
    assert.equal(c.size, INDEX_SPACE_SIZE);
    const text = formatCollection(c);
    assert.ok(Buffer.byteLength(text) <= MAX_GROUP_JSON_BYTES, `${Buffer.byteLength(text)} bytes`);
    assert.deepEqual(parseCollection(text), c);
  });
});
