// Our server's own work per request, without the kernel (bench/pipeline/server.ts), in a child
// run with --expose-gc: heap bytes allocated per request, which do not depend on the machine's
// speed or load (the regression guard, bench/guard.ts, checks them), and CPU time per request.
import type { BenchConfig } from '../config.js';
import type { PipelineFigures } from '../pipeline/server.js';
import type { Row, SectionResult } from '../report/types.js';
import { runToEnd } from '../servers/run-to-end.js';
import { sibling } from '../servers/spawn.js';

export async function pipelineSection(cfg: BenchConfig, log: (s: string) => void): Promise<SectionResult> {
  const notes: string[] = [];
  const rows: Row[] = [];
  try {
    const r = await runToEnd<{ con: PipelineFigures; non: PipelineFigures }>(
      sibling(import.meta.url, '../pipeline/run-server.ts'),
      [String(cfg.quick ? 50_000 : 200_000)],
      60_000,
      ['--expose-gc'],
    );
    for (const [type, f] of [
      ['CON', r.con],
      ['NON', r.non],
    ] as const) {
      log(
        `  pipeline ${type} ${f.cpuUs.toFixed(2)} µs/req, ${f.bytes.toFixed(0)} B/req, answered ${f.answered}`,
      );
      if (f.answered !== 1) notes.push(`${type}: ${f.answered} responses per request, not 1`);
      const row = (what: string, unit: string, v: number) => ({
        scenario: `GET ${type} ${what}`,
        unit,
        higherIsBetter: false,
        values: { ours: v },
      });
      rows.push(row('heap allocated per request', 'B', f.bytes), row('CPU per request', 'µs', f.cpuUs));
    }
  } catch (err) {
    notes.push((err as Error).message);
  }
  return {
    name: 'pipeline',
    title: 'Server pipeline in one process (no sockets): decode, dedup, route, handler, encode',
    columns: ['ours'],
    rows,
    notes,
  };
}
