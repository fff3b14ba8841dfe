#!/usr/bin/env node
// The coap-group command. In a checkout it runs the TypeScript sources through tsx, so no build
// step is needed; an installed package (no src/) runs the compiled dist/.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import(new URL('../dist/cli/main.js', import.meta.url).href));
}
process.exitCode = await main(process.argv.slice(2));
// Everything is closed by now; this only guards against a stray handle keeping the process up.
setTimeout(() => process.exit(), 2000).unref();
