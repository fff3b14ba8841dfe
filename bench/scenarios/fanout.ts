// Group fan-out: N CoapServers (one child process, each on its own 127.0.x.y address with its own
// group socket) answer a multicast GET to 224.0.1.187 on lo after a Leisure of N/1000 s. Our
// client and node-coap's each collect the N responses from a child process of their own:
// the time until the last response arrived (median of the repetitions) and the collector's
// peak memory growth. In full mode each collector runs twice, in the order A B B A. N nodes need about 2N sockets: a size is skipped when `ulimit -n` is too low.
import { spawnSync } from 'node:child_process';
import type { BenchConfig } from '../config.js';
import type { CollectResult } from '../fanout/measure.js';
import { median } from '../load/stats.js';
import type { Row, SectionResult } from '../report/types.js';
import { runToEnd } from '../servers/run-to-end.js';
import { sibling } from '../servers/spawn.js';
import { startNodes } from './group-through.js';

const MB = 1024 * 1024;

function openFileLimit(): number {
  const r = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const v = r.stdout.trim();
  return v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v) || 1024;
}

export async function fanoutSection(cfg: BenchConfig, log: (s: string) => void): Promise<SectionResult> {
  const notes: string[] = [];
  const rows: Row[] = [];
  const limit = openFileLimit();
  for (const n of cfg.fanoutSizes) {
    const needed = 2 * n + 100;
    if (needed > limit) {
      notes.push(`N=${n}: skipped, needs about ${needed} file descriptors and ulimit -n is ${limit}`);
      continue;
    }
    const leisureMs = n; // N/1000 s
    const nodes = await startNodes(n, leisureMs, notes);
    if (nodes === undefined) continue;
    const results: Record<string, CollectResult | undefined> = {};
    try {
      const args = [String(nodes.port), String(n), String(leisureMs), String(cfg.fanoutReps)];
      const budget = 20_000 + cfg.fanoutReps * (2 * leisureMs + 3500);
      const files = { ours: '../fanout/collect-ours.ts', 'node-coap': '../fanout/collect-node-coap.ts' };
      // The nodes' process speeds up over its first few thousand requests (its code gets
      // optimised), so the collector that ran first saw later responses: 1.02-1.05x the Leisure
      // bound when second, 1.05-1.10x when first. Full mode runs them in the order A B B A and
      // pools the repetitions; quick mode runs A B.
      const order = cfg.quick
        ? (['ours', 'node-coap'] as const)
        : (['ours', 'node-coap', 'node-coap', 'ours'] as const);
      for (const col of order) {
        try {
          const r = await runToEnd<CollectResult>(sibling(import.meta.url, files[col]), args, budget, [
            '--expose-gc',
          ]);
          const before = results[col];
          results[col] =
            before === undefined
              ? r
              : {
                  times: [...before.times, ...r.times],
                  counts: [...before.counts, ...r.counts],
                  heapGrowth: Math.max(before.heapGrowth, r.heapGrowth),
                  rssGrowth: Math.max(before.rssGrowth, r.rssGrowth),
                };
          log(
            `  fanout N=${n} ${col.padEnd(9)} ${r.times.map((t) => t.toFixed(1)).join('/')} ms, responses ${r.counts.join('/')}, RSS +${(r.rssGrowth / MB).toFixed(1)} MB, heap +${(r.heapGrowth / MB).toFixed(2)} MB`,
          );
          if (r.counts.some((c) => c < n))
            notes.push(
              `N=${n} ${col}: only ${r.counts.join('/')} of ${n} responses before the window closed`,
            );
        } catch (err) {
          notes.push(`N=${n} ${col}: ${(err as Error).message}`);
        }
      }
      const mem = await nodes.memory();
      if (mem)
        notes.push(
          `N=${n}: the ${n} nodes' process: RSS ${(mem.rss / MB).toFixed(0)} MB, heap ${(mem.heapUsed / MB).toFixed(0)} MB`,
        );
    } finally {
      await nodes.stop();
    }
    const row = (what: string, unit: string, f: (r: CollectResult) => number) => ({
      scenario: `N=${n} ${what}`,
      unit,
      higherIsBetter: false,
      values: Object.fromEntries(['ours', 'node-coap'].map((c) => [c, results[c] ? f(results[c]!) : null])),
    });
    rows.push(
      row(`time to all responses (Leisure ${leisureMs} ms)`, 'ms', (r) => median(r.times)),
      row('collector peak RSS growth', 'MB', (r) => r.rssGrowth / MB),
      row('collector peak heap growth', 'MB', (r) => r.heapGrowth / MB),
    );
  }
  return {
    name: 'fanout',
    title: 'Group fan-out: multicast GET to N of our nodes on lo, collected by each client',
    columns: ['ours', 'node-coap'],
    rows,
    notes,
  };
}
