/**
 * Tests of the Block1/Block2 option codec and body slicing (RFC 7959 §2.2).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { BlockValue } from '../../src/block/index.js';
import {
  BlockOptionError,
  blockSlice,
  decodeBlock,
  encodeBlock,
  MAX_BLOCK_NUM,
  sizeToSzx,
  szxToSize,
} from '../../src/block/index.js';
import { CoapError } from '../../src/errors.js';

const isBlockError = (e: unknown): boolean =>
  e instanceof BlockOptionError && e instanceof CoapError && e.code === 'ERR_COAP_BLOCK_OPTION';

const bytes = (...b: number[]): Buffer => Buffer.from(b);

describe('encodeBlock and decodeBlock', () => {
  const vectors: Array<[BlockValue, Buffer]> = [
    // RFC 7959 §2.2: all-zero NUM, M and SZX is the zero-length uint.
    [{ num: 0, more: false, szx: 0 }, bytes()],
    [{ num: 0, more: false, szx: 2 }, bytes(0x02)],
    [{ num: 0, more: true, szx: 6 }, bytes(0x0e)],
    [{ num: 1, more: true, szx: 6 }, bytes(0x1e)],
    [{ num: 15, more: true, szx: 6 }, bytes(0xfe)],
    // One-byte NUM ends at 15; NUM 16 needs two bytes (RFC 7959 §2.2, Figure 1).
    [{ num: 16, more: false, szx: 0 }, bytes(0x01, 0x00)],
    [{ num: 4095, more: true, szx: 6 }, bytes(0xff, 0xfe)],
    [{ num: 4096, more: false, szx: 0 }, bytes(0x01, 0x00, 0x00)],
    [{ num: MAX_BLOCK_NUM, more: true, szx: 6 }, bytes(0xff, 0xff, 0xfe)],
  ];

  for (const [value, wire] of vectors) {
    test(`NUM=${value.num} M=${Number(value.more)} SZX=${value.szx} is ${wire.length} byte(s) ${wire.toString('hex') || '(empty)'}`, () => {
      assert.deepEqual(encodeBlock(value), wire);
      assert.deepEqual(decodeBlock(wire), value);
    });
  }

  test('NUM 2**20-1 fits in 3 bytes', () => {
    assert.equal(MAX_BLOCK_NUM, 2 ** 20 - 1);
    assert.equal(encodeBlock({ num: 2 ** 20 - 1, more: false, szx: 0 }).length, 3);
  });

  test('decoding accepts leading zero bytes (RFC 7252 §3.2)', () => {
    assert.deepEqual(decodeBlock(bytes(0x00, 0x02)), { num: 0, more: false, szx: 2 });
    assert.deepEqual(decodeBlock(bytes(0x00, 0x00, 0x1a)), { num: 1, more: true, szx: 2 });
  });

  test('every valid value survives a round trip in the fewest bytes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_BLOCK_NUM }),
        fc.boolean(),
        fc.integer({ min: 0, max: 6 }),
        (num, more, szx) => {
          const wire = encodeBlock({ num, more, szx });
          const n = num * 16 + (more ? 8 : 0) + szx;
          assert.equal(wire.length, n === 0 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : 3);
          assert.deepEqual(decodeBlock(wire), { num, more, szx });
        },
      ),
    );
  });

  test('encoding refuses NUM outside 0..2**20-1 and SZX outside 0..6', () => {
    for (const num of [2 ** 20, -1, 1.5, Number.NaN]) {
      assert.throws(() => encodeBlock({ num, more: false, szx: 0 }), isBlockError, String(num));
    }
    for (const szx of [7, -1, 2.5]) {
      assert.throws(() => encodeBlock({ num: 0, more: false, szx }), isBlockError, String(szx));
    }
  });

  test('decoding refuses more than 3 bytes', () => {
    assert.throws(() => decodeBlock(bytes(0x00, 0x00, 0x00, 0x02)), isBlockError);
  });

  test('decoding refuses the reserved SZX 7 (RFC 7959 §2.2)', () => {
    assert.throws(() => decodeBlock(bytes(0x07)), isBlockError);
    assert.throws(() => decodeBlock(bytes(0x12, 0x3f)), isBlockError);
  });
});

describe('block sizes', () => {
  test('SZX 0..6 are the sizes 16..1024 and back', () => {
    const sizes = [16, 32, 64, 128, 256, 512, 1024];
    sizes.forEach((size, szx) => {
      assert.equal(szxToSize(szx), size);
      assert.equal(sizeToSzx(size), szx);
    });
  });

  test('sizes that are not a power of two from 16 to 1024 are refused', () => {
    for (const size of [0, 8, 15, 17, 100, 2048, -16, 16.5])
      assert.throws(() => sizeToSzx(size), isBlockError);
    for (const szx of [7, -1, 0.5]) assert.throws(() => szxToSize(szx), isBlockError);
  });
});

describe('blockSlice', () => {
  const body = Buffer.from(Array.from({ length: 100 }, (_, i) => i));

  test('gives full blocks with more set, then the short last block with more clear', () => {
    const first = blockSlice(body, 0, 1);
    assert.deepEqual(first, { data: body.subarray(0, 32), more: true });
    const last = blockSlice(body, 3, 1);
    assert.deepEqual(last, { data: body.subarray(96, 100), more: false });
  });

  test('gives undefined for a block past the end', () => {
    assert.equal(blockSlice(body, 4, 1), undefined);
    assert.equal(blockSlice(body, MAX_BLOCK_NUM, 6), undefined);
  });

  test('a body that is a whole number of blocks ends with a full block with more clear', () => {
    const even = body.subarray(0, 64);
    assert.deepEqual(blockSlice(even, 1, 1), { data: even.subarray(32, 64), more: false });
    assert.equal(blockSlice(even, 2, 1), undefined);
  });

  test('block 0 of an empty body is empty and last; block 1 does not exist', () => {
    const empty = Buffer.alloc(0);
    const slice = blockSlice(empty, 0, 6);
    assert.equal(slice?.data.length, 0);
    assert.equal(slice?.more, false);
    assert.equal(blockSlice(empty, 1, 6), undefined);
  });

  test('the data is a view into the body, not a copy', () => {
    const slice = blockSlice(body, 1, 0)!;
    assert.equal(slice.data.buffer, body.buffer);
    assert.equal(slice.data.byteOffset, body.byteOffset + 16);
  });

  test('the blocks of any body concatenate back to it, with more set on all but the last', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 0, max: 6 }), (raw, szx) => {
        const whole = Buffer.from(raw);
        const parts: Buffer[] = [];
        for (let num = 0; ; num++) {
          const slice = blockSlice(whole, num, szx);
          assert.ok(slice, `block ${num} exists`);
          assert.ok(slice.data.length <= szxToSize(szx));
          parts.push(slice.data);
          if (!slice.more) {
            assert.equal(blockSlice(whole, num + 1, szx), undefined);
            break;
          }
          assert.equal(slice.data.length, szxToSize(szx));
        }
        assert.deepEqual(Buffer.concat(parts), whole);
      }),
    );
  });

  test('refuses NUM or SZX out of range', () => {
    assert.throws(() => blockSlice(body, -1, 0), isBlockError);
    assert.throws(() => blockSlice(body, 2 ** 20, 0), isBlockError);
    assert.throws(() => blockSlice(body, 0, 7), isBlockError);
  });
});
