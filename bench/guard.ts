// The regression guard (`npm run bench -- --quick` in CI): checks on the figures of the same run
// that do not depend on the machine's speed or load, so that a slower or busier machine cannot
// fail them and a real regression does. No absolute time: heap bytes allocated per request
// (counted after a forced GC, bench/pipeline/server.ts), the group collector's peak heap growth
// as a ratio to node-coap's, and our server's CPU per request as a ratio to the raw echo's (each
// pair measured seconds apart on the same machine), with generous margins.
// A failed check makes the bench exit with status 1.
import type { SectionResult } from './report/types.js';

export interface GuardCheck {
  readonly what: string;
  readonly value: number;
  readonly limit: number;
  readonly unit: string;
  readonly ok: boolean;
}

/** Heap bytes one request may allocate in the server pipeline (about 1.5 KB today). */
export const PIPELINE_BYTES_LIMIT = 2048;
/**
 * The fan-out collector's peak heap growth over node-coap's, at the largest N measured (about
 * 0.9x at N = 1000 today). A ratio, since at the small N of quick mode one collection's fixed
 * costs (its timers, the sampling itself) weigh as much as its responses.
 */
export const FANOUT_HEAP_RATIO_LIMIT = 2;
/**
 * The median over the server scenarios of our server's CPU per request over the raw echo's
 * (0.8-1.4 today; the target is 1.3). The median, because one scenario's ratio swings from
 * 0.4 to 3.0 in quick runs on a busy machine, while a regression in our server moves all of
 * them.
 */
export const ECHO_RATIO_LIMIT = 2.5;

const find = (sections: readonly SectionResult[], name: string) => sections.find((s) => s.name === name);

export function guardChecks(sections: readonly SectionResult[]): GuardCheck[] {
  const checks: GuardCheck[] = [];
  const check = (what: string, value: number | null | undefined, limit: number, unit: string) => {
    if (value == null || !Number.isFinite(value)) return;
    checks.push({ what, value, limit, unit, ok: value <= limit });
  };
  for (const r of find(sections, 'pipeline')?.rows ?? []) {
    if (r.unit === 'B') check(`pipeline ${r.scenario}`, r.values.ours, PIPELINE_BYTES_LIMIT, 'B');
  }
  const ratios: number[] = [];
  for (const r of find(sections, 'server')?.rows ?? []) {
    if (!r.scenario.endsWith('server CPU per request')) continue;
    const ours = r.values.ours;
    const echo = r.values['raw echo'];
    if (ours != null && echo != null && echo > 0 && Number.isFinite(ours / echo)) ratios.push(ours / echo);
  }
  if (ratios.length > 0) {
    const sorted = [...ratios].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    check(
      `server CPU per request / raw echo's, median of ${ratios.map((x) => x.toFixed(2)).join(', ')}`,
      median,
      ECHO_RATIO_LIMIT,
      'x',
    );
  }
  const heap = (find(sections, 'fanout')?.rows ?? []).filter((r) =>
    r.scenario.endsWith('collector peak heap growth'),
  );
  const largest = heap.at(-1);
  const ours = largest?.values.ours;
  const peer = largest?.values['node-coap'];
  if (largest !== undefined && ours != null && peer != null && peer > 0)
    check(`fanout ${largest.scenario} / node-coap's`, ours / peer, FANOUT_HEAP_RATIO_LIMIT, 'x');
  return checks;
}

export function renderGuard(checks: readonly GuardCheck[]): string {
  const lines = checks.map(
    (c) =>
      `- ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}: ${c.unit === 'x' ? c.value.toFixed(2) : Math.round(c.value)} ${c.unit} (limit ${c.limit} ${c.unit})`,
  );
  return ['### Regression guard (figures that do not depend on the machine speed)', '', ...lines].join('\n');
}
