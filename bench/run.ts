// The bench entry (`npm run bench`): builds dist/ when src/ changed since the last build
// (scripts/build.mjs --if-stale), makes this process and every child load the library from dist/
// (bench/use-dist.ts), then runs the bench (bench/main.ts).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const build = spawnSync(
  process.execPath,
  [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url)), '--if-stale'],
  { stdio: 'inherit' },
);
if (build.status !== 0) {
  process.stderr.write('bench: the build failed; the bench measures dist/ and needs it\n');
  process.exit(2);
}
await import('./use-dist.js');
const lib = import.meta.resolve('../src/index.js');
if (lib !== new URL('../dist/index.js', import.meta.url).href) {
  process.stderr.write(`bench: the library would load from ${lib}, not dist/\n`);
  process.exit(2);
}
await import('./main.js');
