/**
 * Tests of the bench's regression guard (bench/guard.ts): it checks only figures that do not
 * depend on the machine's speed, fails on a regression, and its allocation count sees bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  ECHO_RATIO_LIMIT,
  FANOUT_HEAP_RATIO_LIMIT,
  guardChecks,
  PIPELINE_BYTES_LIMIT,
} from '../../bench/guard.js';
import { bytesPer } from '../../bench/pipeline/server.js';
import type { SectionResult } from '../../bench/report/types.js';

const T = { timeout: 10_000 };

function sections(bytes: number, ours: number, echo: number): SectionResult[] {
  const row = (scenario: string, unit: string, values: Record<string, number | null>) => ({
    scenario,
    unit,
    higherIsBetter: false,
    values,
  });
  return [
    {
      name: 'pipeline',
      title: '',
      columns: ['ours'],
      rows: [
        row('GET CON heap allocated per request', 'B', { ours: bytes }),
        row('GET CON CPU', 'µs', { ours: 1 }),
      ],
      notes: [],
    },
    {
      name: 'fanout',
      title: '',
      columns: ['ours', 'node-coap'],
      rows: [
        row('N=10 collector peak heap growth', 'MB', { ours: 100, 'node-coap': 1 }),
        row('N=100 collector peak heap growth', 'MB', { ours: bytes / 1000, 'node-coap': 1 }),
      ],
      notes: [],
    },
    {
      name: 'server',
      title: '',
      columns: ['ours', 'raw echo'],
      rows: [
        row('GET CON x1 throughput', 'req/s', { ours: 1, 'raw echo': 100 }),
        row('GET CON x1 server CPU per request', 'µs', { ours, 'raw echo': echo }),
      ],
      notes: [],
    },
  ];
}

describe('bench regression guard', () => {
  it('passes figures within the limits and checks nothing measured in time alone', T, () => {
    const checks = guardChecks(sections(1500, 12, 10));
    assert.deepEqual(
      checks.map((c) => [c.what, c.ok]),
      [
        ['pipeline GET CON heap allocated per request', true],
        ["server CPU per request / raw echo's, median of 1.20", true],
        ["fanout N=100 collector peak heap growth / node-coap's", true],
      ],
    );
    assert.equal(checks[1]!.value, 1.2);
  });

  it('fails bytes over the limit and a CPU ratio over the limit', T, () => {
    const checks = guardChecks(sections(PIPELINE_BYTES_LIMIT + 1, ECHO_RATIO_LIMIT * 10 + 1, 10));
    assert.ok((PIPELINE_BYTES_LIMIT + 1) / 1000 > FANOUT_HEAP_RATIO_LIMIT);
    assert.deepEqual(
      checks.map((c) => c.ok),
      [false, false, false],
    );
  });

  it('skips figures that were not measured', T, () => {
    const s = sections(Number.NaN, 12, 10);
    (s.find((x) => x.name === 'server')!.rows[1]!.values as Record<string, number | null>)['raw echo'] = null;
    assert.deepEqual(guardChecks(s), []);
  });

  it('counts the heap bytes a call allocates', T, () => {
    // A forced GC before each round, as the bench child has with --expose-gc.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const keep: Uint8Array[] = [];
    const bytes = bytesPer(
      () =>
        keep.push(new Uint8Array(new ArrayBuffer(0)), ...Array.from({ length: 8 }, () => new Uint8Array(0))),
      100,
      3,
      gc,
      () => process.memoryUsage().heapUsed,
    );
    assert.ok(bytes > 9 * 32, `${bytes} bytes per call`);
    assert.ok(
      bytesPer(
        () => {},
        100,
        3,
        gc,
        () => process.memoryUsage().heapUsed,
      ) < 64,
    );
  });
});
