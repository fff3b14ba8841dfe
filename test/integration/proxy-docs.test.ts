/**
 * The CoAP proxy examples of docs/proxy.md run as written (support/doc-examples.ts) and print
 * what the document says: the library example against the package installed by name, the command
 * line example in bash through `npx coap-group` (with libcoap's client through the proxy). They
 * use 127.0.0.2, 127.0.0.3, 127.0.0.10 and port 5683 and send to All CoAP Nodes on lo, so the file
 * runs in a network namespace of its own.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { ROOT } from '../support/cli-run.js';
import {
  codeBlocks,
  installPackage,
  readDoc,
  runShell,
  runTypeScript,
  typeCheck,
} from '../support/doc-examples.js';
import { insideNetns, LOOPBACK_SETUP, runSelfInNetns } from '../support/netns.js';
import { libcoapMissing } from '../support/peer-libcoap.js';

const DOC = 'docs/proxy.md';
const BLOCKS = codeBlocks(readDoc(DOC), 'docs-example');

function block(name: string): { code: string; index: number } {
  const index = BLOCKS.findIndex((b) => b.name === name);
  assert.ok(index >= 0, `${DOC} has no example ${name}`);
  return { code: BLOCKS[index]!.code, index };
}

if (!insideNetns()) {
  test(
    'the CoAP proxy examples of docs/proxy.md, in a private network namespace',
    { timeout: 300_000 },
    (t) => runSelfInNetns(t, import.meta.filename, LOOPBACK_SETUP, { timeoutMs: 280_000 }),
  );
} else {
  describe('the CoAP proxy examples of docs/proxy.md', () => {
    let installed = '';
    before(() => {
      installed = installPackage();
    });
    after(() => {
      if (installed) rmSync(installed, { recursive: true, force: true });
    });

    it('proxy-library prints what the document shows', { timeout: 120_000 }, async () => {
      const { code, index } = block('proxy-library');
      const printed = BLOCKS[index + 1];
      assert.equal(printed?.lang, 'text', 'the example is followed by what it prints');
      const file = join(installed, 'proxy-library.mts');
      writeFileSync(file, code);
      typeCheck(installed, [file]);
      const r = await runTypeScript(file, installed, 60_000);
      assert.equal(r.status, 0, `failed:\n${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, printed!.code);
    });

    it('proxy-cli reaches a node through the proxy with libcoap', {
      timeout: 120_000,
      skip: libcoapMissing(),
    }, async () => {
      const scratch = join(ROOT, '.tmp');
      mkdirSync(scratch, { recursive: true });
      const dir = mkdtempSync(join(scratch, 'proxy-docs-'));
      try {
        const r = await runShell(block('proxy-cli').code, dir, 100_000);
        assert.equal(r.leftover, false, 'no process outlives the example');
        assert.equal(r.status, 0, `failed:\n${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /^on$/m);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
