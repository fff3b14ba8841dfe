// The bench entry (`npm run bench`, which builds first): checks that dist/ is the build of src/
// as it is now, makes this process and every child load the library from dist/ (bench/use-dist.ts),
// then runs the bench (bench/main.ts).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const mtime = (p: string) => statSync(p, { throwIfNoEntry: false })?.mtimeMs;

/** The newest file or directory under `dir` (itself included) and its mtime. */
function newest(dir: string): [string, number] {
  let found: [string, number] = [dir, mtime(dir) ?? 0];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const n: [string, number] = e.isDirectory() ? newest(p) : [p, mtime(p) ?? 0];
    if (n[1] > found[1]) found = n;
  }
  return found;
}

/** Why dist/ is not the build of src/ as it is now, or undefined when it is. */
function staleBuild(): string | undefined {
  const built = mtime(join(root, 'dist', '.build-stamp'));
  if (built === undefined) return 'dist/ has not been built';
  const [path, time] = newest(join(root, 'src'));
  return time > built ? `${path} is newer than dist/` : undefined;
}

const stale = staleBuild();
if (stale !== undefined) {
  process.stderr.write(`bench: ${stale}; run npm run build first (npm run bench does)\n`);
  process.exit(2);
}
await import('./use-dist.js');
const lib = import.meta.resolve('../src/index.js');
if (lib !== new URL('../dist/index.js', import.meta.url).href) {
  process.stderr.write(`bench: the library would load from ${lib}, not dist/\n`);
  process.exit(2);
}
await import('./main.js');
