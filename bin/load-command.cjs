// Loads the bundled command (dist/command/coap-group.cjs) with V8's code cache beside it
// (coap-group.cjs.cache), which the build writes after running `--help` and a `get` once. With
// the cache V8 neither parses the 800 KB bundle nor compiles the functions a request runs: a
// one-shot `get` starts in about 1.4x the time of `node -e 0` instead of 1.6x (docs/performance.md,
// "Start-up of the command"). A cache V8 rejects (another Node version or other V8 flags) only
// costs that time back; a missing one too. The bundle has no dynamic import(): a vm.Script has no
// module loader for one.
'use strict';
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname } = require('node:path');
const vm = require('node:vm');

// The CommonJS wrapper, on the bundle's first line so that its line numbers stay as they are.
// Strict, as the ES modules it was made of: the bundle's own "use strict" comes after its first
// line (the build's banner), where it is no directive.
const HEAD = "(function (exports, require, module, __filename, __dirname) {'use strict';";
const TAIL = '\n})';

/**
 * Compiles and runs the bundle at `file`; returns its exports and the compiled script (from which
 * the build takes the cache with `script.createCachedData()`).
 */
function loadCommand(file) {
  let cachedData;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(HEAD + readFileSync(file, 'utf8') + TAIL, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports, script };
}

module.exports = { loadCommand };
