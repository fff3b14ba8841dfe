// Server throughput: the neutral load client against our server, node-coap's, libcoap's and a
// raw dgram echo (the ceiling), each in its own process. GET /bench/hello, CON and NON, 1 and 64
// requests in flight: responses per second and p50/p99 latency (of the round with the best
// throughput).
import type { BenchConfig } from '../config.js';
import { LOAD_CASES as CASES, caseLabel, type LoadCase } from '../load/cases.js';
import { type LoadResult, runLoad } from '../load/client.js';
import type { SectionResult } from '../report/types.js';
import { findLibcoap, LIBCOAP_MISSING, startLibcoap } from '../servers/libcoap.js';
import { type Child, sibling, spawnTs } from '../servers/spawn.js';

interface Target {
  readonly column: string;
  readonly host: string;
  start(cfg: BenchConfig): Promise<Child>;
}

const TARGETS: readonly Target[] = [
  {
    column: 'ours',
    host: '127.0.0.11',
    start: (cfg) =>
      spawnTs(
        'ours',
        sibling(import.meta.url, '../servers/ours.ts'),
        ['127.0.0.11'],
        // One profile per thread (tsx's loader runs in a worker): profile-top picks the busiest.
        cfg.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${cfg.profileDir}/server-ours`] : [],
      ),
  },
  {
    column: 'node-coap',
    host: '127.0.0.12',
    start: () => spawnTs('node-coap', sibling(import.meta.url, '../servers/node-coap.ts'), ['127.0.0.12']),
  },
  { column: 'libcoap', host: '127.0.0.13', start: () => startLibcoap('127.0.0.13') },
  {
    column: 'raw echo',
    host: '127.0.0.14',
    start: () => spawnTs('raw echo', sibling(import.meta.url, '../servers/echo.ts'), ['127.0.0.14']),
  },
];

const label = (c: LoadCase) => `GET ${caseLabel(c)}`;

export async function serverSection(cfg: BenchConfig, log: (s: string) => void): Promise<SectionResult> {
  const results = new Map<string, Map<string, LoadResult>>();
  const notes: string[] = [];
  const running: Array<{ target: Target; child: Child }> = [];
  try {
    // Every server is up for the whole section (idle ones cost nothing); the scenarios run in
    // interleaved rounds, each round in another server order, so drifting machine load spreads
    // evenly. The best round of each (server, scenario) is kept.
    for (const t of TARGETS) {
      if (t.column === 'libcoap' && findLibcoap() === undefined) {
        notes.push(LIBCOAP_MISSING);
        log(LIBCOAP_MISSING);
        continue;
      }
      try {
        running.push({ target: t, child: await t.start(cfg) });
        results.set(t.column, new Map());
      } catch (err) {
        notes.push(`${t.column}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    // Each server once under load before anything is measured, so that no scenario measures
    // code before V8 optimised it: in quick mode the first scenario's warm-up alone left our
    // server at up to 2.5x the echo's CPU per request in that scenario, against 1.0-1.3x when warm.
    for (const { target: t, child } of running) {
      await runLoad({
        host: t.host,
        port: child.port,
        confirmable: true,
        inFlight: 64,
        warmupMs: 0,
        durationMs: cfg.quick ? 600 : 1000,
        serverPid: child.proc.pid,
      });
    }
    for (let round = 0; round < cfg.rounds; round++) {
      const order = running.map((_, i) => running[(i + round) % running.length]!);
      for (const c of CASES) {
        for (const { target: t, child } of order) {
          const r = await runLoad({
            host: t.host,
            port: child.port,
            ...c,
            warmupMs: cfg.warmupMs,
            durationMs: cfg.durationMs,
            serverPid: child.proc.pid,
          });
          log(
            `  server ${t.column.padEnd(9)} ${label(c).padEnd(14)} ${Math.round(r.reqPerSec)} req/s  p50 ${r.p50Us.toFixed(0)} µs  p99 ${r.p99Us.toFixed(0)} µs  server CPU ${r.serverCpuUs?.toFixed(1) ?? '?'} µs/req  lost ${r.lost}  errors ${r.errors}`,
          );
          if (r.lost > 0 || r.errors > 0 || r.exhausted) {
            notes.push(
              `${t.column} ${label(c)} round ${round + 1}: ${r.lost} lost, ${r.errors} non-2.05${r.exhausted ? ', request pool exhausted' : ''}`,
            );
          }
          const byCase = results.get(t.column)!;
          const best = byCase.get(label(c));
          if (best === undefined || r.reqPerSec > best.reqPerSec) byCase.set(label(c), r);
        }
      }
    }
  } finally {
    for (const { child } of running) await child.stop();
  }
  const columns = ['ours', 'node-coap', 'libcoap', 'raw echo'];
  const pick = (col: string, c: string, f: (r: LoadResult) => number) => {
    const r = results.get(col)?.get(c);
    return r === undefined || !Number.isFinite(f(r)) ? null : f(r);
  };
  const rows = CASES.flatMap((c) => {
    const l = label(c);
    const row = (what: string, unit: string, higher: boolean, f: (r: LoadResult) => number) => ({
      scenario: `${l} ${what}`,
      unit,
      higherIsBetter: higher,
      values: Object.fromEntries(columns.map((col) => [col, pick(col, l, f)])),
    });
    return [
      row('throughput', 'req/s', true, (r) => r.reqPerSec),
      row('p50', 'µs', false, (r) => r.p50Us),
      row('p99', 'µs', false, (r) => r.p99Us),
      row('server CPU per request', 'µs', false, (r) => r.serverCpuUs ?? Number.NaN),
    ];
  });
  return {
    name: 'server',
    title: 'Server: neutral load client -> server (separate processes), GET /bench/hello',
    columns,
    rows,
    notes,
  };
}
