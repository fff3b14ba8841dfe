// Runs the test suites with node:test through tsx. `node scripts/test.mjs` runs unit and
// integration tests; `node scripts/test.mjs robust` runs the robustness suite; other arguments
// select suites or files.
//
// Every async test has a timeout of its own (test/unit/architecture.test.ts checks it).
// `--test-timeout` is the backstop above them: Node 20 applies it to each test file as a whole,
// so a file that hangs outside any test (a handle left open) still ends.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
/** The longest a test file may run: longer than the slowest (pack.test.ts, about 2-5 min). */
const FILE_TIMEOUT_MS = 20 * 60_000;
const args = process.argv.slice(2);
const suites = args.length > 0 ? args : ['unit', 'integration'];
const files = [];
for (const s of suites) {
  const p = join(root, 'test', s);
  let st;
  try {
    st = statSync(p);
  } catch {
    st = statSync(s);
  }
  if (st.isDirectory()) {
    for (const f of readdirSync(p).sort()) if (f.endsWith('.test.ts')) files.push(join(p, f));
  } else files.push(s);
}
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    `--test-timeout=${FILE_TIMEOUT_MS}`,
    '--test-reporter=spec',
    ...files,
  ],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
