/**
 * The HTTP gateway examples of docs/proxy.md run as written, against the package installed by
 * name (support/doc-examples.ts), and print what the document says they print. They use
 * 127.0.0.2 and port 5683 and send to All CoAP Nodes on lo, so the file runs in a network
 * namespace of its own.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { codeBlocks, installPackage, readDoc, runTypeScript, typeCheck } from '../support/doc-examples.js';
import { insideNetns, LOOPBACK_SETUP, runSelfInNetns } from '../support/netns.js';

const DOC = 'docs/proxy.md';
const BLOCKS = codeBlocks(readDoc(DOC), 'docs-example');

/** The example `name` and the ```text block right after it (what it prints). */
function example(name: string): { code: string; printed: string } {
  const i = BLOCKS.findIndex((b) => b.name === name);
  assert.ok(i >= 0, `${DOC} has no example ${name}`);
  const printed = BLOCKS[i + 1];
  assert.equal(printed?.lang, 'text', `${name} is followed by what it prints`);
  return { code: BLOCKS[i]!.code, printed: printed.code };
}

if (!insideNetns()) {
  test(
    'the HTTP gateway examples of docs/proxy.md, in a private network namespace',
    { timeout: 300_000 },
    (t) => runSelfInNetns(t, import.meta.filename, LOOPBACK_SETUP, { timeoutMs: 280_000 }),
  );
} else {
  describe('the HTTP gateway examples of docs/proxy.md', () => {
    let installed = '';
    before(() => {
      installed = installPackage();
    });
    after(() => {
      if (installed) rmSync(installed, { recursive: true, force: true });
    });

    const run = async (name: string): Promise<{ stdout: string; printed: string }> => {
      const { code, printed } = example(name);
      const file = join(installed, `${name}.mts`);
      writeFileSync(file, code);
      typeCheck(installed, [file]);
      const r = await runTypeScript(file, installed, 60_000);
      assert.equal(r.status, 0, `${name} failed:\n${r.stdout}${r.stderr}`);
      return { stdout: r.stdout, printed };
    };

    it('gateway-json prints the two members and the summary', { timeout: 120_000 }, async () => {
      const { stdout, printed } = await run('gateway-json');
      assert.equal(stdout, printed);
    });

    it('gateway-console prints the discovery events and the /coap-group round trip', {
      timeout: 120_000,
    }, async () => {
      const { stdout, printed } = await run('gateway-console');
      // The index of the new membership is the node's to choose.
      const pattern = printed
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace('coap-group/1', 'coap-group/\\w+');
      assert.match(stdout, new RegExp(`^${pattern}$`));
    });
  });
}
