/**
 * The OSCORE option value (RFC 8613 §6.1) with the compression examples of §6.3, the Partial IV
 * encoding (§5), and the deterministic CBOR subset the COSE structures use (RFC 8949 §4.2.1).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CborSimple,
  decodeCbor,
  decodeCborSequence,
  encodeCbor,
  encodeCborWrapped,
} from '../../src/oscore/cbor.js';
import { OscoreError } from '../../src/oscore/errors.js';
import {
  decodeOscoreOption,
  decodePartialIv,
  encodeOscoreOption,
  encodePartialIv,
} from '../../src/oscore/option.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const isCode = (code: string) => (e: unknown) => e instanceof OscoreError && e.code === code;

describe('OSCORE option value: the compression examples of RFC 8613 §6.3', () => {
  const cases: Array<[string, Parameters<typeof encodeOscoreOption>[0], string]> = [
    ['1. request, kid 0x25, Partial IV 5', { kid: hex('25'), partialIv: hex('05') }, '090525'],
    ['2. request, empty kid, Partial IV 0', { kid: hex(''), partialIv: hex('00') }, '0900'],
    [
      "3. request, empty kid, Partial IV 5, kid context 'Dalek'",
      { kid: hex(''), partialIv: hex('05'), kidContext: hex('44616c656b') },
      '19050544616c656b',
    ],
    ['4. response without Partial IV', {}, ''],
    ['5. response with Partial IV 7', { partialIv: hex('07') }, '0107'],
  ];
  for (const [name, value, wire] of cases) {
    it(`encodes and decodes example ${name}`, () => {
      assert.equal(encodeOscoreOption(value).toString('hex'), wire);
      const back = decodeOscoreOption(hex(wire));
      assert.equal(back.kid?.toString('hex'), value.kid?.toString('hex'));
      assert.equal(back.partialIv?.toString('hex'), value.partialIv?.toString('hex'));
      assert.equal(back.kidContext?.toString('hex'), value.kidContext?.toString('hex'));
    });
  }
});

describe('OSCORE option value: malformed input is ERR_OSCORE_FORMAT', () => {
  const bad: Array<[string, string]> = [
    ['a Partial IV cut short', '0a05'],
    ['a kid context length without the kid context', '1905'],
    ['a kid context longer than the value', '190506aabb'],
    ['Partial IV length 6 (reserved)', '06010203040506'],
    ['Partial IV length 7 (reserved)', '0701020304050607'],
    ['reserved bit 0x80', '89'],
    ['reserved bit 0x40', '4914'],
    ['the Group Flag outside Group OSCORE', '2914'],
    ['a lone 0x00 flag byte', '00'],
    ['bytes after the fields without the kid flag', '0114ff'],
    ['a Partial IV with a leading zero byte', '020014'],
  ];
  for (const [name, wire] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(() => decodeOscoreOption(hex(wire)), isCode('ERR_OSCORE_FORMAT'));
    });
  }

  it('accepts the Group Flag when asked to (draft-ietf-core-oscore-groupcomm §4.1)', () => {
    const v = decodeOscoreOption(hex('39050344616c25'), { allowGroupFlag: true });
    assert.equal(v.groupFlag, true);
    assert.equal(v.kid?.toString('hex'), '25');
    assert.equal(v.kidContext?.toString('hex'), '44616c');
    assert.equal(encodeOscoreOption(v).toString('hex'), '39050344616c25');
  });

  it('refuses to encode a Partial IV longer than 5 bytes', () => {
    assert.throws(() => encodeOscoreOption({ partialIv: hex('010203040506') }), {
      code: 'ERR_COAP_INVALID_ARGUMENT',
    });
  });
});

describe('Partial IV (RFC 8613 §5)', () => {
  it('encodes 0 as 0x00 and drops leading zero bytes', () => {
    assert.equal(encodePartialIv(0).toString('hex'), '00');
    assert.equal(encodePartialIv(20).toString('hex'), '14');
    assert.equal(encodePartialIv(256).toString('hex'), '0100');
    assert.equal(encodePartialIv(2 ** 40 - 1).toString('hex'), 'ffffffffff');
    assert.equal(decodePartialIv(hex('ffffffffff')), 2 ** 40 - 1);
  });

  it('refuses 2^40 and above', () => {
    assert.throws(() => encodePartialIv(2 ** 40), { code: 'ERR_COAP_INVALID_ARGUMENT' });
  });
});

describe('CBOR subset (deterministic encoding, RFC 8949 §4.2.1)', () => {
  it('encodes the shortest heads for integers, bytes, text, arrays and simple values', () => {
    const cases: Array<[Parameters<typeof encodeCbor>[0], string]> = [
      [0, '00'],
      [23, '17'],
      [24, '1818'],
      [255, '18ff'],
      [256, '190100'],
      [65536, '1a00010000'],
      [2 ** 32, '1b0000000100000000'],
      [-1, '20'],
      [-25, '3818'],
      [-27, '381a'],
      [Buffer.from([1, 2]), '420102'],
      ['Key', '634b6579'],
      [[], '80'],
      [null, 'f6'],
      [true, 'f5'],
      [false, 'f4'],
      [new CborSimple(16), 'f0'],
      [new CborSimple(32), 'f820'],
    ];
    for (const [v, wire] of cases) assert.equal(encodeCbor(v).toString('hex'), wire, String(v));
  });

  it('sorts map keys by their encoding and round-trips a COSE_Key-like map', () => {
    const map = new Map<number | string, number | Buffer>([
      [-1, 6],
      [1, 1],
      [-2, Buffer.alloc(2)],
      [3, -8],
    ]);
    const wire = encodeCbor(map);
    assert.equal(wire.toString('hex'), 'a401010327200621420000');
    const back = decodeCbor(wire) as Map<number, unknown>;
    assert.equal(back.get(1), 1);
    assert.equal(back.get(3), -8);
  });

  it('wraps an encoding in a byte string (bstr .cbor)', () => {
    assert.equal(encodeCborWrapped([1]).toString('hex'), '428101');
  });

  it('decodes a sequence and refuses trailing bytes, indefinite lengths, tags, floats and non-shortest forms', () => {
    assert.deepEqual(decodeCborSequence(hex('01 02')), [1, 2]);
    for (const bad of ['0102', '9f01ff', 'c101', 'f93c00', '1801', '5f', 'f801', '62c328']) {
      assert.throws(() => decodeCbor(hex(bad)), isCode('ERR_OSCORE_CBOR'), bad);
    }
  });

  it('refuses to encode non-integers and duplicate map keys', () => {
    assert.throws(() => encodeCbor(1.5), isCode('ERR_OSCORE_CBOR'));
    const twice = new Map<number | bigint, number>([
      [1, 1],
      [1n, 2],
    ]);
    assert.throws(() => encodeCbor(twice), isCode('ERR_OSCORE_CBOR'));
  });
});
