// Where our fan-out collector's bytes go: N nodes (bench/servers/group-nodes.ts), and a
// sampling heap profile of one warm collection of their N responses (alloc-profile-child.ts),
// with the library from dist/ (or from COAP_BENCH_DIST, a copy of another build). Usage:
//   node --import tsx bench/fanout/alloc-profile.ts [N] [ROWS]
import { spawnSync } from 'node:child_process';
import { CHILD_LOADER, sibling, spawnTs } from '../servers/spawn.js';
import '../use-dist.js';

const n = Math.min(4000, Math.max(1, Number(process.argv[2] ?? 1000)));
const rows = Math.max(1, Number(process.argv[3] ?? 30));
const nodes = await spawnTs(
  `${n} nodes`,
  sibling(import.meta.url, '../servers/group-nodes.ts'),
  [String(n), String(n / 1000)],
  [],
  120_000,
);
try {
  const child = sibling(import.meta.url, './alloc-profile-child.ts');
  const r = spawnSync(
    process.execPath,
    [...CHILD_LOADER, child, String(nodes.port), String(n), String(n), String(rows)],
    { encoding: 'utf8', timeout: 60_000 + 6 * n },
  );
  process.stdout.write(r.stdout);
  if (r.status !== 0)
    process.stderr.write(`the profile did not finish (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}\n`);
} finally {
  await nodes.stop();
}
