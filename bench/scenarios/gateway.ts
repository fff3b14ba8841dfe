// The HTTP gateway: the time to all N responses of a group GET (N = 10 and 100 of our nodes on
// lo, Leisure N/1000 s, as in the fan-out section) collected directly by our client, and through
// our gateway by fetch reading server-sent events (the gateway in a child process of its own,
// the nodes in another). The difference is what HTTP and the gateway add: about one round trip
// to the gateway, and the events' encoding.
import type { BenchConfig } from '../config.js';
import type { CollectResult } from '../fanout/measure.js';
import { median } from '../load/stats.js';
import type { Row, SectionResult } from '../report/types.js';
import { runToEnd } from '../servers/run-to-end.js';
import { type Child, sibling, spawnTs } from '../servers/spawn.js';

const SIZES = [10, 100];

export async function gatewaySection(cfg: BenchConfig, log: (s: string) => void): Promise<SectionResult> {
  const notes: string[] = [];
  const rows: Row[] = [];
  let gateway: Child;
  try {
    gateway = await spawnTs('gateway', sibling(import.meta.url, '../servers/gateway.ts'), []);
  } catch (err) {
    notes.push(`the gateway did not start: ${(err as Error).message.split('\n')[0]}`);
    return { name: 'gateway', title: 'HTTP gateway', columns: ['gateway', 'direct'], rows, notes };
  }
  try {
    for (const n of SIZES) {
      const leisureMs = n;
      let nodes: Child;
      try {
        nodes = await spawnTs(
          `${n} nodes`,
          sibling(import.meta.url, '../servers/group-nodes.ts'),
          [String(n), String(leisureMs / 1000)],
          [],
          60_000,
        );
      } catch (err) {
        notes.push(`N=${n}: nodes did not start: ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      const results: Record<string, CollectResult | undefined> = {};
      try {
        const budget = 20_000 + cfg.fanoutReps * (2 * leisureMs + 4500);
        const reps = String(cfg.fanoutReps);
        const runs = [
          ['direct', '../fanout/collect-ours.ts', [String(nodes.port), String(n), String(leisureMs), reps]],
          [
            'gateway',
            '../gateway/collect-gateway.ts',
            [String(gateway.port), String(nodes.port), String(n), String(leisureMs), reps],
          ],
        ] as const;
        for (const [col, file, args] of runs) {
          try {
            const r = await runToEnd<CollectResult>(sibling(import.meta.url, file), args, budget, [
              '--expose-gc',
            ]);
            results[col] = r;
            log(
              `  gateway N=${n} ${col.padEnd(7)} ${r.times.map((t) => t.toFixed(1)).join('/')} ms, responses ${r.counts.join('/')}`,
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
          ['gateway', 'direct'].map((c) => [c, results[c] ? median(results[c]!.times) : null]),
        ),
      });
    }
    const mem = await gateway.memory();
    if (mem) notes.push(`the gateway's process after the runs: RSS ${(mem.rss / 1024 / 1024).toFixed(0)} MB`);
  } finally {
    await gateway.stop();
  }
  notes.push(
    'gateway: fetch of text/event-stream, from sending the HTTP request to the N-th response event; direct: our client, from group() to the N-th response',
  );
  return {
    name: 'gateway',
    title: 'HTTP gateway: multicast GET to N of our nodes on lo, through the gateway and direct',
    columns: ['gateway', 'direct'],
    rows,
    notes,
  };
}
