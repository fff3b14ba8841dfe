#!/usr/bin/env node
// The coap-group command. An installed package (no src/) runs the compiled dist/. A checkout runs
// dist/ too when the build is current (its stamp, written by `npm run build`, is no older than
// anything the build reads: src/, the tsconfig files, scripts/build.mjs, as its --if-stale
// decides), and else the TypeScript sources through tsx, so no build step is needed after an
// edit. The check costs about 170 stat calls; it runs at every start.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = (p) => join(root, p);
const mtime = (p) => statSync(p, { throwIfNoEntry: false })?.mtimeMs;

// The newest mtime of `dir` and everything in it; a directory's changes when a file in it is
// removed or renamed.
function newest(dir) {
  let t = mtime(dir) ?? 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : (mtime(p) ?? 0));
  }
  return t;
}

/** True when dist/ was built from src/ as it is now. */
function distIsCurrent() {
  const built = mtime(at('dist/.build-stamp'));
  if (built === undefined) return false;
  const inputs = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs'].map((f) => mtime(at(f)) ?? 0);
  return Math.max(newest(at('src')), ...inputs) <= built;
}

let main;
if (mtime(at('src/cli/main.ts')) === undefined || distIsCurrent()) {
  ({ main } = await import(pathToFileURL(at('dist/cli/main.js')).href));
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(
      'coap-group: src/ is newer than dist/ and tsx is not installed: run npm run build (or npm install)\n',
    );
    process.exit(4);
  }
  register();
  ({ main } = await import(pathToFileURL(at('src/cli/main.ts')).href));
}
process.exitCode = await main(process.argv.slice(2));
// Everything is closed by now; this only guards against a stray handle keeping the process up.
setTimeout(() => process.exit(), 2000).unref();
