#!/usr/bin/env node
// The coap-group command. An installed package (no src/) runs the compiled command, bundled by
// the build into one file with V8's code cache (dist/command/, loaded by bin/load-command.cjs). A
// checkout runs it too when the build is current (its stamp, written by `npm run build`, is no
// older than anything the build reads: src/, the tsconfig files, its scripts, as its --if-stale
// decides), and else the TypeScript sources through tsx, so no build step is needed after an
// edit. The check costs about 170 stat calls; it runs at every start. This file is CommonJS:
// Node starts a CommonJS entry without its ES module loader, about 7 ms sooner.
'use strict';
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const root = join(__dirname, '..');
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

// What the build reads besides src/ (scripts/build.mjs lists the same).
const BUILD_INPUTS = [
  'tsconfig.json',
  'tsconfig.build.json',
  'scripts/build.mjs',
  'scripts/command-cache.cjs',
  'bin/load-command.cjs',
];

/** True when dist/ was built from src/ as it is now. */
function distIsCurrent() {
  const built = mtime(at('dist/.build-stamp'));
  if (built === undefined) return false;
  const inputs = BUILD_INPUTS.map((f) => mtime(at(f)) ?? 0);
  return Math.max(newest(at('src')), ...inputs) <= built;
}

/** `--debug` before any `--`, or NODE_DEBUG=coap: what asks the command for stack traces. */
function debugging() {
  const args = process.argv.slice(2);
  const end = args.indexOf('--');
  return (
    (end < 0 ? args : args.slice(0, end)).includes('--debug') || require('node:util').debuglog('coap').enabled
  );
}

async function loadMain() {
  if (mtime(at('src/cli/main.ts')) === undefined || distIsCurrent()) {
    // A stack trace should name the source files and lines. The bundle cannot (Node maps no
    // code compiled by a vm.Script), so a debugging run takes dist/cli/ module by module, with
    // the source maps; it starts slower.
    if (debugging()) {
      process.setSourceMapsEnabled(true);
      return (await import(pathToFileURL(at('dist/cli/main.js')).href)).main;
    }
    return require('./load-command.cjs').loadCommand(at('dist/command/coap-group.cjs')).exports.main;
  }
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
  return (await import(pathToFileURL(at('src/cli/main.ts')).href)).main;
}

loadMain().then(async (main) => {
  process.exitCode = await main(process.argv.slice(2));
  // Everything is closed by now; this only guards against a stray handle keeping the process up.
  setTimeout(() => process.exit(), 2000).unref();
});
