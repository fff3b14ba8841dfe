// The build (`npm run build`; also npm's `prepare`, so `npm ci`, `npm pack`, `npm publish` and a
// git install all get dist/): a clean tsc build of src/ into dist/, the Node types reference in
// the entry's declarations, the console's browser scripts, and a stamp that tells bin/coap-group.js the build is current.
// `--if-stale` (prepare, the bench) builds only when something the build reads is newer than the
// stamp. npm also runs prepare when `npm exec coap-group` in the checkout first links it: a
// rebuild there would empty dist/ under a running command for nothing.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
// Taken before tsc reads anything: a source saved while tsc runs is then newer than the stamp,
// and bin/coap-group.js goes on running the sources.
const started = new Date();

const mtime = (p) => statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0;
/** The newest mtime of `dir` and everything in it (a directory's changes when a file goes). */
function newest(dir) {
  let t = mtime(dir);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : mtime(p));
  }
  return t;
}

if (process.argv.includes('--if-stale')) {
  const built = statSync(join(dist, '.build-stamp'), { throwIfNoEntry: false })?.mtimeMs;
  const inputs = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs'].map((f) =>
    mtime(join(root, f)),
  );
  if (built !== undefined && Math.max(newest(join(root, 'src')), ...inputs) <= built) {
    process.stderr.write('build: dist/ is current\n');
    process.exit(0);
  }
}

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  process.stderr.write(
    'build: TypeScript is not installed; run npm install (it installs the devDependencies)\n',
  );
  process.exit(1);
}

// Clean: a module removed from src/ must not linger in dist/ (and in the package).
rmSync(dist, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
// The console's browser scripts (src/console, with the DOM's types) into dist/console/, as ES
// modules the gateway serves as they are: no bundler, nothing fetched at run time.
const web = spawnSync(process.execPath, [tsc, '-p', join(root, 'src', 'console', 'tsconfig.json')], {
  stdio: 'inherit',
});
if (web.status !== 0) process.exit(web.status ?? 1);

// The declarations name Buffer, KeyObject and other Node types. A consumer's tsconfig need not
// list "node" in `types` (TypeScript 6 and later default `types` to []), so each entry point
// (the root and every subpath of package.json `exports`) says it itself. tsc does not emit such
// a directive unless the source carries one (TypeScript 5.5 and later), and it belongs to the
// package, not to src/. See docs/architecture.md, "The package".
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const target of Object.values(pkg.exports)) {
  if (typeof target !== 'object' || target.types === undefined) continue;
  const entry = join(root, target.types);
  writeFileSync(entry, `/// <reference types="node" />\n${readFileSync(entry, 'utf8')}`);
}

const stamp = join(dist, '.build-stamp');
writeFileSync(stamp, `built from src/ as it was at ${started.toISOString()}\n`);
utimesSync(stamp, started, started);
process.stderr.write(`build: dist/ built in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s\n`);
