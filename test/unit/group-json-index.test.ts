/**
 * Group indexes (RFC 7390 §2.6.2.2): validity, and fresh indexes that never collide with those
 * a PUT on the collection supplied (RFC 7390 §2.6.2.6, R47).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  INDEX_SPACE_SIZE,
  indexOrdinal,
  isValidIndex,
  nextFreeIndex,
  parseCollection,
} from '../../src/group-json/index.js';

describe('group-json: isValidIndex', () => {
  it('accepts one or two ASCII letters or digits, in either case', () => {
    for (const s of ['1', '12', '8', 'a', 'Z', 'aB', '0', '00', 'z9']) assert.equal(isValidIndex(s), true, s);
  });

  it('rejects empty, longer, punctuated and non-ASCII strings', () => {
    for (const s of ['', '123', 'a-', '-', ' 1', '1 ', 'é', '١', 'a\n', '%31'])
      assert.equal(isValidIndex(s), false, s);
  });

  it('counts 1332 indexes in all', () => {
    assert.equal(INDEX_SPACE_SIZE, 1332);
  });
});

describe('group-json: nextFreeIndex', () => {
  it('hands out small decimal numbers first, like the RFC 7390 examples', () => {
    assert.equal(nextFreeIndex(new Set()), '1');
    assert.equal(nextFreeIndex(new Set(['1', '2'])), '3');
  });

  it('never collides with indexes a PUT on the collection supplied (R47)', () => {
    const put = parseCollection('{"1":{"a":"[ff15::1]"},"2":{"a":"[ff15::2]"},"4":{"a":"[ff15::4]"}}');
    const used = new Set(put.keys());
    assert.equal(nextFreeIndex(used), '3');
    used.add('3');
    assert.equal(nextFreeIndex(used), '5');
  });

  it('compares case-insensitively, so "A" in use keeps "a" from being handed out', () => {
    const allButA = new Set<string>();
    for (let i = 0; i < INDEX_SPACE_SIZE; i++) {
      const next = nextFreeIndex(allButA);
      assert.ok(next !== undefined);
      if (next === 'a') break;
      allButA.add(next.toUpperCase());
    }
    assert.equal(nextFreeIndex(allButA), 'a');
    allButA.add('A');
    assert.notEqual(nextFreeIndex(allButA), 'a');
  });

  it('hands out all 1332 distinct valid indexes, then undefined', () => {
    const used = new Set<string>();
    for (let i = 0; i < INDEX_SPACE_SIZE; i++) {
      const next = nextFreeIndex(used, i);
      assert.ok(next !== undefined && isValidIndex(next) && !used.has(next), String(next));
      assert.equal(next, next.toLowerCase());
      used.add(next);
    }
    assert.equal(used.size, INDEX_SPACE_SIZE);
    assert.equal(nextFreeIndex(used), undefined);
    assert.equal(nextFreeIndex(new Set([...used].map((s) => s.toUpperCase()))), undefined);
  });

  it('finds the last free index wherever it is', () => {
    const used = new Set<string>();
    for (let i = 0; i < INDEX_SPACE_SIZE; i++) used.add(nextFreeIndex(used)!);
    used.delete('q7');
    assert.equal(nextFreeIndex(used), 'q7');
    assert.equal(nextFreeIndex(used, 1000), 'q7');
  });

  it('starts at the hint and wraps, so a just-deleted index is not handed out again at once', () => {
    const used = new Set(['1', '2']);
    const last = nextFreeIndex(used)!; // '3', then deleted again
    assert.equal(nextFreeIndex(used, indexOrdinal(last) + 1), '4');
    assert.equal(
      nextFreeIndex(used, INDEX_SPACE_SIZE - 1 + INDEX_SPACE_SIZE),
      nextFreeIndex(used, INDEX_SPACE_SIZE - 1),
    );
    assert.equal(nextFreeIndex(new Set(['1']), INDEX_SPACE_SIZE), '2');
  });

  it('ignores entries of used that are not indexes', () => {
    assert.equal(nextFreeIndex(new Set(['', 'abc', '1-'])), '1');
  });

  it('rejects a hint that is not a non-negative integer', () => {
    for (const hint of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => nextFreeIndex(new Set(), hint), InvalidArgumentError);
    }
  });
});

describe('group-json: indexOrdinal', () => {
  it('gives each index its place in the allocation order, ignoring case', () => {
    assert.equal(indexOrdinal('1'), 0);
    assert.equal(indexOrdinal('99'), 98);
    assert.equal(indexOrdinal('Zz'), indexOrdinal('zz'));
    assert.equal(indexOrdinal('abc'), -1);
  });
});
