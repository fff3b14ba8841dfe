// Time to all N responses of a group GET (N = 10 and 100 of our nodes on lo, Leisure N/1000 s,
// as in the fan-out section), collected directly by our client and through an intermediary (the
// CoAP proxy or the HTTP gateway, in a child process of its own) by the collector given.
import type { BenchConfig } from '../config.js';
import type { CollectResult } from '../fanout/measure.js';
import { median } from '../load/stats.js';
import type { Row } from '../report/types.js';
import { runToEnd } from '../servers/run-to-end.js';
import { type Child, sibling, spawnTs } from '../servers/spawn.js';

const SIZES = [10, 100];

/** N of our nodes in a child process, with a Leisure of `leisureMs`; undefined (and a note) if they did not start. */
export async function startNodes(n: number, leisureMs: number, notes: string[]): Promise<Child | undefined> {
  try {
    return await spawnTs(
      `${n} nodes`,
      sibling(import.meta.url, '../servers/group-nodes.ts'),
      [String(n), String(leisureMs / 1000)],
      [],
      60_000,
    );
  } catch (err) {
    notes.push(`N=${n}: nodes did not start: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/** The intermediary: its column name, its child process, and the collector that goes through it. */
export interface Through {
  readonly column: string;
  readonly child: Child;
  /** A collector script, relative to bench/scenarios; args: PORT NODES_PORT N LEISURE_MS REPS. */
  readonly collector: string;
}

/** One row per group size: the median time to all responses, through `via` and direct. */
export async function groupTimeRows(
  cfg: BenchConfig,
  via: Through,
  log: (s: string) => void,
  notes: string[],
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const n of SIZES) {
    const leisureMs = n;
    const nodes = await startNodes(n, leisureMs, notes);
    if (nodes === undefined) continue;
    const results: Record<string, CollectResult | undefined> = {};
    try {
      const budget = 20_000 + cfg.fanoutReps * (2 * leisureMs + 4500);
      const reps = String(cfg.fanoutReps);
      const runs = [
        ['direct', '../fanout/collect-ours.ts', [String(nodes.port), String(n), String(leisureMs), reps]],
        [
          via.column,
          via.collector,
          [String(via.child.port), String(nodes.port), String(n), String(leisureMs), reps],
        ],
      ] as const;
      for (const [col, file, args] of runs) {
        try {
          const r = await runToEnd<CollectResult>(sibling(import.meta.url, file), args, budget, [
            '--expose-gc',
          ]);
          results[col] = r;
          log(
            `  ${via.column} N=${n} ${col.padEnd(7)} ${r.times.map((t) => t.toFixed(1)).join('/')} ms, responses ${r.counts.join('/')}`,
          );
          if (r.counts.some((c) => c < n))
            notes.push(
              `N=${n} ${col}: only ${r.counts.join('/')} of ${n} responses before the window closed`,
            );
        } catch (err) {
          notes.push(`N=${n} ${col}: ${(err as Error).message}`);
        }
      }
    } finally {
      await nodes.stop();
    }
    rows.push({
      scenario: `N=${n} time to all responses (Leisure ${leisureMs} ms)`,
      unit: 'ms',
      higherIsBetter: false,
      values: Object.fromEntries(
        [via.column, 'direct'].map((c) => [c, results[c] ? median(results[c]!.times) : null]),
      ),
    });
  }
  return rows;
}
