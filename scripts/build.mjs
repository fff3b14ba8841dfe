// The build (`npm run build`; also npm's `prepare`, so `npm ci`, `npm pack`, `npm publish` and a
// git install all get dist/): a clean tsc build of src/ into dist/, the Node types reference in
// the entry's declarations, the console's browser scripts, the command bundled, and a stamp that tells bin/coap-group.cjs the build is current.
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
// and bin/coap-group.cjs goes on running the sources.
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
  // bin/coap-group.cjs lists the same.
  const inputs = [
    'tsconfig.json',
    'tsconfig.build.json',
    'scripts/build.mjs',
    'scripts/command-cache.cjs',
    'bin/load-command.cjs',
  ].map((f) => mtime(join(root, f)));
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

// The command as one CommonJS file (dist/command/coap-group.cjs) and V8's code cache for it:
// Node 20 loads ES modules a file at a time and compiles each anew at every start, and a one-shot
// `get` needs 71 of them. esbuild joins them; each command's module still runs only when its
// command does (the dynamic imports of cli/main). The code reads its own URL to find
// package.json and dist/console/: the bundle sits as deep as dist/cli/, so the paths hold. The
// library stays as tsc emits it. See docs/performance.md, "Start-up of the command".
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write(
    'build: esbuild is not installed; run npm install (it installs the devDependencies)\n',
  );
  process.exit(1);
}
const command = join(dist, 'command', 'coap-group.cjs');
// The packages the command uses (structured-headers, for the gateway) are in the bundle too: a
// dynamic import() left in it would need a module loader for the vm.Script that runs it, and
// Node 20 gives none to code that comes from a code cache. Their licences go at its end.
const bundled = await esbuild.build({
  entryPoints: [join(dist, 'cli', 'main.js')],
  outfile: command,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  define: { 'import.meta.url': '__moduleUrl' },
  banner: { js: "const __moduleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Whitespace and syntax only: a third smaller to read and hash at every start, and names
  // stay as they are. No source map: Node maps nothing that a vm.Script compiles, so for stack
  // traces (--debug) bin/coap-group.cjs runs dist/cli/ with its maps instead.
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
  logLevel: 'warning',
});
const packages = new Set(
  Object.keys(bundled.metafile.inputs).flatMap(
    (f) => f.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1] ?? [],
  ),
);
const licences = [...packages].sort().map((name) => {
  const text = readFileSync(join(root, 'node_modules', name, 'LICENSE'), 'utf8').trim();
  return `\n/*! ${name}, bundled into this file:\n\n${text.replaceAll('*/', '* /')}\n*/\n`;
});
writeFileSync(command, readFileSync(command, 'utf8') + licences.join(''));
// The cache, from a run of the bundle (scripts/command-cache.cjs). Without it the command works,
// only starts slower, so a failure here is a warning.
const warm = spawnSync(process.execPath, [join(root, 'scripts', 'command-cache.cjs'), command], {
  stdio: ['ignore', 'ignore', 'pipe'],
  timeout: 30_000,
});
if (warm.status !== 0) {
  process.stderr.write(
    `build: warning: no code cache for the command: ${warm.stderr?.toString().trim() || warm.error?.message}\n`,
  );
}

const stamp = join(dist, '.build-stamp');
writeFileSync(stamp, `built from src/ as it was at ${started.toISOString()}\n`);
utimesSync(stamp, started, started);
process.stderr.write(`build: dist/ built in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s\n`);
