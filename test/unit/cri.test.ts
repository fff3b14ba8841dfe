/**
 * Tests of the CRI codec (draft-ietf-core-href §5.1) in the forms of the group proxy's
 * Reply-From option (draft-ietf-core-groupcomm-proxy §3, §6), with the worked vectors of the
 * proxy design (each derived by hand and matching href's `coaps://192.168.0.97` vector).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CborError, decodeCbor, encodeCbor } from '../../src/cbor/index.js';
import { decodeCbor as oscoreDecodeCbor } from '../../src/oscore/cbor.js';
import { OscoreError } from '../../src/oscore/errors.js';
import {
  type Cri,
  CriError,
  criOfEndpoint,
  decodeCri,
  decodeCriReference,
  decodeReplyFrom,
  encodeCri,
  encodeCriReference,
  encodeReplyFrom,
  formatCri,
} from '../../src/uri/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const isCri = (e: unknown): boolean => e instanceof CriError && e.code === 'ERR_COAP_CRI';

/** [URI, the CRI, its bytes]: the vectors table of the design. */
const VECTORS: Array<[string, Cri, string]> = [
  ['coap://127.0.0.2', { scheme: 'coap', host: '127.0.0.2', hostKind: 'ipv4' }, '82 20 81 44 7f000002'],
  [
    'coap://192.0.2.1:61616',
    { scheme: 'coap', host: '192.0.2.1', hostKind: 'ipv4', port: 61616 },
    '82 20 82 44 c0000201 19 f0b0',
  ],
  [
    'coap://[2001:db8::1]',
    { scheme: 'coap', host: '2001:db8::1', hostKind: 'ipv6' },
    '82 20 81 50 20010db8000000000000000000000001',
  ],
  [
    'coap://[2001:db8::1]:1234',
    { scheme: 'coap', host: '2001:db8::1', hostKind: 'ipv6', port: 1234 },
    '82 20 82 50 20010db8000000000000000000000001 19 04d2',
  ],
  ['coaps://192.0.2.1', { scheme: 'coaps', host: '192.0.2.1', hostKind: 'ipv4' }, '82 21 81 44 c0000201'],
  [
    'coap://127.0.0.1:5684',
    { scheme: 'coap', host: '127.0.0.1', hostKind: 'ipv4', port: 5684 },
    '82 20 82 44 7f000001 19 1634',
  ],
  // href's own example of §5.1 (coaps://192.168.0.97).
  ['coaps://192.168.0.97', { scheme: 'coaps', host: '192.168.0.97', hostKind: 'ipv4' }, '82218144c0a80061'],
];

describe('CRI of scheme and authority (href §5.1)', () => {
  it('encodes and decodes the worked vectors byte for byte', () => {
    for (const [uri, cri, wire] of VECTORS) {
      assert.equal(encodeCri(cri).toString('hex'), hex(wire).toString('hex'), uri);
      assert.deepEqual(decodeCri(hex(wire)), cri, uri);
      assert.equal(formatCri(cri), uri);
    }
  });

  it('maps every scheme of href §8.1 to its scheme-id and back', () => {
    // -25 and -26 need a one-byte argument: 0x38 0x18 and 0x38 0x19.
    const ids: Array<[string, string]> = [
      ['coap', '20'],
      ['coaps', '21'],
      ['coap+tcp', '26'],
      ['coaps+tcp', '27'],
      ['coap+ws', '3818'],
      ['coaps+ws', '3819'],
    ];
    for (const [scheme, id] of ids) {
      const wire = encodeCri({ scheme, host: '10.0.0.1', hostKind: 'ipv4' });
      assert.equal(wire.subarray(1, 1 + id.length / 2).toString('hex'), id, scheme);
      assert.equal(decodeCri(wire).scheme, scheme);
    }
  });

  it('builds the Reply-From CRI of a response source: mapped IPv4, no zone, default port omitted', () => {
    assert.deepEqual(criOfEndpoint('coap', '::ffff:127.0.0.2', 5683), {
      scheme: 'coap',
      host: '127.0.0.2',
      hostKind: 'ipv4',
    });
    assert.deepEqual(criOfEndpoint('coap', 'fe80::1%eth0', 40000), {
      scheme: 'coap',
      host: 'fe80::1',
      hostKind: 'ipv6',
      port: 40000,
    });
    assert.equal(
      encodeCri(criOfEndpoint('coap', '127.0.0.1', 5684)).toString('hex'),
      '822082447f000001191634',
    );
    assert.throws(() => criOfEndpoint('coap', 'example.com', 5683), isCri);
  });

  it('keeps a zone-id and host-name labels that a peer sends', () => {
    const zoned = encodeCbor([-1, [hex('fe800000000000000000000000000001'), 'eth0', 7000]]);
    assert.deepEqual(decodeCri(zoned), {
      scheme: 'coap',
      host: 'fe80::1%eth0',
      hostKind: 'ipv6',
      port: 7000,
    });
    const named = encodeCbor([-1, ['node', 'example', 'org']]);
    const cri = decodeCri(named);
    assert.deepEqual(cri, { scheme: 'coap', host: 'node.example.org', hostKind: 'name' });
    assert.deepEqual(encodeCri(cri), named);
    assert.equal(formatCri(cri), 'coap://node.example.org');
  });

  it('refuses forms outside the subset with a typed error', () => {
    const bad: Array<[string, unknown]> = [
      ['no authority', [-1]],
      ['authority-less (null)', [-1, null]],
      ['no-authority true', [-1, true]],
      ['path given', [-1, [hex('7f000001')], ['light']]],
      ['empty path left in', [-1, [hex('7f000001')], []]],
      ['3-byte host', [-1, [hex('7f0000')]]],
      ['userinfo', [-1, [false, 'me', hex('7f000001')]]],
      ['port out of range', [-1, [hex('7f000001'), 70000]]],
      ['negative port', [-1, [hex('7f000001'), -1]]],
      ['item after port', [-1, [hex('7f000001'), 1, 2]]],
      ['zone after IPv4', [-1, [hex('7f000001'), 'eth0']]],
      ['unknown scheme-id', [-100, [hex('7f000001')]]],
      ['upper-case scheme name', ['COAP', [hex('7f000001')]]],
      ['empty authority', [-1, []]],
      ['label with a dot', [-1, ['a.b']]],
      ['not an array', 5],
    ];
    for (const [why, value] of bad) {
      assert.throws(() => decodeCri(encodeCbor(value as never)), isCri, why);
    }
    assert.throws(() => decodeCri(hex('8220')), isCri);
    assert.throws(() => decodeCri(hex('822081447f000002 00')), isCri, 'trailing bytes');
    assert.throws(() => decodeCri(hex('9f20ff')), isCri, 'indefinite length');
  });

  it('refuses to encode hosts that are not what their kind says', () => {
    assert.throws(() => encodeCri({ scheme: 'coap', host: '2001:db8::1', hostKind: 'ipv4' }), isCri);
    assert.throws(() => encodeCri({ scheme: 'coap', host: '10.0.0.1', hostKind: 'ipv6' }), isCri);
    assert.throws(
      () => encodeCri({ scheme: 'coap', host: '10.0.0.1', hostKind: 'ipv4', port: 65536 }),
      isCri,
    );
    assert.throws(() => encodeCri({ scheme: 'Not a scheme', host: '10.0.0.1', hostKind: 'ipv4' }), isCri);
  });

  it('round-trips any IPv4 or IPv6 host and port', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.ipV4(), fc.ipV6()),
        fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
        (ip, port) => {
          const cri = criOfEndpoint('coap', ip, port ?? 5683);
          assert.deepEqual(decodeCri(encodeCri(cri)), cri);
        },
      ),
    );
  });
});

describe('Reply-From value (groupcomm-proxy §3)', () => {
  it('is one CRI from a forward proxy', () => {
    const wire = encodeReplyFrom({ origin: { scheme: 'coap', host: '127.0.0.2', hostKind: 'ipv4' } });
    assert.equal(wire.toString('hex'), '822081447f000002');
    assert.deepEqual(decodeReplyFrom(wire), {
      origin: { scheme: 'coap', host: '127.0.0.2', hostKind: 'ipv4' },
    });
  });

  it('is a CRI and a CRI reference from a reverse proxy standing in for each member (Appendix A.1)', () => {
    const wire = hex('82268244c0000209191644 82f682447f000003191633');
    const value = decodeReplyFrom(wire);
    assert.deepEqual(value, {
      origin: { scheme: 'coap+tcp', host: '192.0.2.9', hostKind: 'ipv4', port: 5700 },
      reference: { authority: { host: '127.0.0.3', hostKind: 'ipv4', port: 5683 } },
    });
    assert.deepEqual(encodeReplyFrom(value), wire);
  });

  it('accepts a path-only reference in both forms (null scheme, or discard true)', () => {
    const discard = encodeCriReference({ path: ['room3', 'node2'] });
    assert.equal(discard.toString('hex'), '82f58265726f6f6d33656e6f646532');
    assert.deepEqual(decodeCriReference(discard), { path: ['room3', 'node2'] });
    const withAuthority = encodeCriReference({
      authority: { host: '127.0.0.3', hostKind: 'ipv4', port: 5683 },
      path: ['n2'],
    });
    assert.deepEqual(decodeCriReference(withAuthority), {
      authority: { host: '127.0.0.3', hostKind: 'ipv4', port: 5683 },
      path: ['n2'],
    });
  });

  it('refuses more than two items, a bad first CRI, or an authority after a host name', () => {
    const one = '822081447f000002';
    const ref = '82f682447f000003191633';
    assert.throws(() => decodeReplyFrom(hex(one + ref + ref)), isCri);
    assert.throws(() => decodeReplyFrom(Buffer.alloc(0)), isCri);
    assert.throws(() => decodeReplyFrom(hex(`83208144 7f000002 80`)), isCri, 'a path in the first CRI');
    assert.throws(() => decodeReplyFrom(hex(ref)), isCri, 'a reference first');
    assert.throws(() => decodeReplyFrom(hex(`${one}8201 80`)), isCri, 'a relative discard');
    const named = encodeCri({ scheme: 'coap', host: 'proxy.example', hostKind: 'name' }).toString('hex');
    assert.throws(() => decodeReplyFrom(hex(named + ref)), isCri);
    assert.throws(() => decodeReplyFrom(hex('ff')), isCri, 'not CBOR');
  });
});

describe('CBOR codec errors', () => {
  it('throws CborError with ERR_COAP_CBOR from the codec, and OscoreError ERR_OSCORE_CBOR inside OSCORE', () => {
    assert.throws(
      () => decodeCbor(hex('1801')),
      (e) => e instanceof CborError && e.code === 'ERR_COAP_CBOR',
    );
    assert.throws(
      () => oscoreDecodeCbor(hex('1801')),
      (e) => e instanceof OscoreError && e.code === 'ERR_OSCORE_CBOR' && e.cause instanceof CborError,
    );
  });
});
