// A/B of two builds of our server, with the raw echo as the yardstick, in one run: each build in
// its own child process (the base from a copy of an older dist/, the other from dist/), driven by
// the neutral load client in interleaved rounds, the order rotated each round. On a shared
// machine wall-clock figures swing between runs; the server's CPU time per request, and the
// ratios of builds measured seconds apart in the same round, swing much less. Usage:
//   cp -r dist /tmp/base                   # before a change
//   node --import tsx bench/ab.ts --base=/tmp/base [--rounds=6] [--ms=1500]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOAD_CASES as CASES, caseLabel } from './load/cases.js';
import { type LoadResult, runLoad } from './load/client.js';
import { median } from './load/stats.js';
import { type Child, sibling, spawnTs } from './servers/spawn.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const base = arg('base');
if (base === undefined || !existsSync(resolve(base, 'index.js'))) {
  process.stderr.write('usage: node --import tsx bench/ab.ts --base=DIR (a copy of an older dist/)\n');
  process.exit(2);
}
const rounds = Math.min(50, Math.max(1, Number(arg('rounds') ?? 6)));
const durationMs = Math.min(10_000, Math.max(200, Number(arg('ms') ?? 1500)));

const build = spawnSync(
  process.execPath,
  [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url)), '--if-stale'],
  { stdio: 'inherit' },
);
if (build.status !== 0) process.exit(2);

interface Target {
  readonly name: string;
  readonly host: string;
  child?: Child;
}
const targets: Target[] = [
  { name: 'base', host: '127.0.0.21' },
  { name: 'new', host: '127.0.0.22' },
  { name: 'echo', host: '127.0.0.23' },
];
const log = (s: string) => process.stderr.write(`${s}\n`);
const loadStart = loadavg();
const samples = new Map<string, LoadResult[]>();
const key = (t: string, c: string) => `${t}|${c}`;
try {
  const ours = sibling(import.meta.url, './servers/ours.ts');
  targets[0]!.child = await spawnTs('base', ours, [targets[0]!.host], [], undefined, {
    ...process.env,
    COAP_BENCH_DIST: resolve(base),
  });
  targets[1]!.child = await spawnTs('new', ours, [targets[1]!.host]);
  targets[2]!.child = await spawnTs('echo', sibling(import.meta.url, './servers/echo.ts'), [
    targets[2]!.host,
  ]);
  for (let round = 0; round < rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
    for (const c of CASES) {
      for (const t of order) {
        const r = await runLoad({
          host: t.host,
          port: t.child!.port,
          ...c,
          warmupMs: 300,
          durationMs,
          serverPid: t.child!.proc.pid,
        });
        const k = key(t.name, caseLabel(c));
        samples.set(k, [...(samples.get(k) ?? []), r]);
        log(
          `round ${round + 1} ${caseLabel(c).padEnd(7)} ${t.name.padEnd(5)} ${Math.round(r.reqPerSec)} req/s  CPU ${r.serverCpuUs?.toFixed(1)} µs/req  p99 ${r.p99Us.toFixed(0)} µs  lost ${r.lost}`,
        );
      }
    }
  }
} finally {
  for (const t of targets) await t.child?.stop();
}

// Per scenario: the median of each server's CPU per request and req/s, and the median over the
// rounds of each round's ratio (both measured within seconds of each other).
const cpu = (t: string, c: string) => samples.get(key(t, c))!.map((r) => r.serverCpuUs ?? Number.NaN);
const rps = (t: string, c: string) => samples.get(key(t, c))!.map((r) => r.reqPerSec);
const ratios = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]!));
const f = (n: number, d = 1) => n.toFixed(d);
console.log(
  `A/B, ${rounds} rounds of ${durationMs} ms; load average ${loadStart.map((l) => f(l, 2)).join(' ')} at the start, ${loadavg()
    .map((l) => f(l, 2))
    .join(' ')} at the end`,
);
console.log(
  '| scenario | base CPU µs/req | new CPU µs/req | echo CPU µs/req | new/base CPU | base/echo CPU | new/echo CPU | base req/s | new req/s | echo req/s | new/base req/s |',
);
console.log('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
for (const c of CASES) {
  const l = caseLabel(c);
  const [b, n, e] = ['base', 'new', 'echo'].map((t) => cpu(t, l)) as [number[], number[], number[]];
  const [rb, rn, re] = ['base', 'new', 'echo'].map((t) => rps(t, l)) as [number[], number[], number[]];
  console.log(
    `| ${l} | ${f(median(b))} | ${f(median(n))} | ${f(median(e))} | ${f(ratios(n, b), 2)} | ${f(ratios(b, e), 2)} | ${f(ratios(n, e), 2)} | ${f(median(rb), 0)} | ${f(median(rn), 0)} | ${f(median(re), 0)} | ${f(ratios(rn, rb), 2)} |`,
  );
}
