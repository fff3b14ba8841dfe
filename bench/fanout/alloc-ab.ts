// A/B of our fan-out collector's allocation per response: a base build (a copy of an older
// dist/) against dist/, each collecting from the same N nodes (bench/servers/group-nodes.ts) in
// its own child (alloc-ours.ts), in interleaved rounds, the order rotated each round. Bytes, not
// times: on the shared machine they do not depend on the load. Usage:
//   cp -r dist /tmp/base                   # before a change
//   node scripts/build.mjs && node --import tsx bench/fanout/alloc-ab.ts --base=/tmp/base [--n=1000] [--rounds=3] [--reps=3]
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { median } from '../load/stats.js';
import { runToEnd } from '../servers/run-to-end.js';
import { sibling, spawnTs } from '../servers/spawn.js';
import '../use-dist.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const base = arg('base');
if (base === undefined || !existsSync(resolve(base, 'index.js'))) {
  process.stderr.write(
    'usage: node --import tsx bench/fanout/alloc-ab.ts --base=DIR (a copy of an older dist/)\n',
  );
  process.exit(2);
}
const n = Math.min(4000, Math.max(1, Number(arg('n') ?? 1000)));
const rounds = Math.min(20, Math.max(1, Number(arg('rounds') ?? 3)));
const reps = Math.min(10, Math.max(1, Number(arg('reps') ?? 3)));

interface AllocResult {
  readonly allocated: number[];
  readonly kept: number[];
  readonly counts: number[];
}

const nodes = await spawnTs(
  `${n} nodes`,
  sibling(import.meta.url, '../servers/group-nodes.ts'),
  [String(n), String(n / 1000)],
  [],
  120_000,
);
const all: Record<'base' | 'dist', { allocated: number[]; kept: number[] }> = {
  base: { allocated: [], kept: [] },
  dist: { allocated: [], kept: [] },
};
const show = (xs: readonly number[]) => xs.map((b) => b.toFixed(0)).join(' ');
try {
  for (let r = 0; r < rounds; r++) {
    for (const build of r % 2 === 0 ? (['base', 'dist'] as const) : (['dist', 'base'] as const)) {
      // The child reads COAP_BENCH_DIST (bench/use-dist.ts) to load another build.
      if (build === 'base') process.env.COAP_BENCH_DIST = resolve(base);
      else delete process.env.COAP_BENCH_DIST;
      const x = await runToEnd<AllocResult>(
        sibling(import.meta.url, './alloc-ours.ts'),
        [String(nodes.port), String(n), String(n), String(reps)],
        20_000 + (reps + 1) * (2 * n + 3500),
        ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'],
      );
      all[build].allocated.push(...x.allocated);
      all[build].kept.push(...x.kept);
      process.stdout.write(
        `${build.padEnd(4)} allocated ${show(x.allocated)} B/response, kept ${show(x.kept)}, responses ${x.counts.join('/')}\n`,
      );
    }
  }
  for (const build of ['base', 'dist'] as const)
    process.stdout.write(
      `${build.padEnd(4)} median: allocated ${median(all[build].allocated).toFixed(0)} B/response, kept ${median(all[build].kept).toFixed(0)}\n`,
    );
} finally {
  delete process.env.COAP_BENCH_DIST;
  await nodes.stop();
}
