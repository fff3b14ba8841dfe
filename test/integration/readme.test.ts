/**
 * The README's examples run as a reader runs them (support/doc-examples.ts): the library example
 * imports 'coap-group' by name from the package installed in a temporary node_modules, and every
 * shell block runs, in order, in ONE bash process, as `npx coap-group ...`, in a scratch directory
 * inside the checkout. Afterwards no process of that shell may be left and 127.0.0.2:5683 must be
 * free. The examples use fixed addresses and port 5683, so the file runs in a network namespace
 * of its own, where nothing else listens.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { ROOT } from '../support/cli-run.js';
import {
  assertClassified,
  codeBlocks,
  installPackage,
  readDoc,
  runShell,
  runTypeScript,
  typeCheck,
} from '../support/doc-examples.js';
import { insideNetns, LOOPBACK_SETUP, runSelfInNetns } from '../support/netns.js';

const README = readDoc('README.md');
const BLOCKS = codeBlocks(README, 'readme-example');

function block(name: string) {
  const b = BLOCKS.find((x) => x.name === name);
  assert.ok(b, `README has no example ${name}`);
  return b;
}

/** Resolves whether 127.0.0.2:5683 is free, i.e. no node was left serving there. */
function portFree(): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(5683, '127.0.0.2', () => s.close(() => resolve(true)));
  });
}

if (!insideNetns()) {
  test('README examples, in a private network namespace', { timeout: 400_000 }, (t) =>
    runSelfInNetns(t, import.meta.filename, LOOPBACK_SETUP, { timeoutMs: 380_000 }),
  );
} else {
  describe('README examples', () => {
    let installed = '';

    before(() => {
      installed = installPackage();
    });
    after(() => {
      if (installed) rmSync(installed, { recursive: true, force: true });
    });

    it('marks every code block as run, not run (with a reason), or text', () => {
      assertClassified('README.md', BLOCKS);
    });

    it('has the quick start it promises: npm start is the demo, npm test the suite', () => {
      const quick = block('quick-start');
      assert.match(quick.code, /npm install && npm start/);
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      };
      assert.match(pkg.scripts.start ?? '', /coap-group(\.c?js)? demo$/);
      assert.match(pkg.scripts.test ?? '', /scripts\/test\.mjs$/);
      assert.ok(existsSync(join(ROOT, 'test/integration/demo.test.ts')));
    });

    it('runs the library example as written, importing coap-group by name', {
      timeout: 120_000,
    }, async () => {
      const file = join(installed, 'readme-library.mts');
      writeFileSync(file, block('library').code);
      typeCheck(installed, [file]);
      const r = await runTypeScript(file, installed, 30_000);
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /^2\.05 off$/m);
      assert.match(r.stdout, /^127\.0\.0\.2 2\.04 \d+ ms$/m);
      assert.match(r.stdout, /responses: 1,\s+endpoints: 1/);
      assert.ok(await portFree());
    });

    it('runs every shell block in order in one shell, and leaves no node behind', {
      timeout: 200_000,
    }, async () => {
      const shell = BLOCKS.filter((b) => b.lang === 'sh' && b.notRun === undefined);
      assert.deepEqual(
        shell.map((b) => b.name),
        ['cli', 'groups', 'proxy'],
      );
      const scratch = join(ROOT, '.tmp');
      mkdirSync(scratch, { recursive: true });
      // Inside the checkout, so that npx finds coap-group as the project's own package.
      const dir = mkdtempSync(join(scratch, 'readme-'));
      try {
        const r = await runShell(shell.map((b) => b.code).join(''), dir, 180_000);
        const out = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
        assert.equal(r.leftover, false, `a process outlived the shell\n${out}`);
        assert.equal(r.status, 0, out);
        assert.ok(await portFree(), `a node is still bound to 127.0.0.2:5683\n${out}`);
        assert.equal(existsSync(join(dir, 'node.pid')), false, 'serve removes its --pid-file on exit');
        // cli: discovery, the PUT's code, one group response, the node found by discover.
        assert.match(r.stdout, /<\/light>;/, out);
        assert.match(r.stderr, /^2\.04 Changed$/m, out);
        assert.match(r.stdout, /^127\.0\.0\.2:5683 {2}2\.05 Content {2}on$/m, out);
        assert.match(r.stdout, /^127\.0\.0\.2:5683 {2}2\.05 Content {2}\(\d+ ms\)$/m, out);
        // groups: added, listed, removed; the node kept them in ./node-state.
        assert.match(r.stdout, /^added index 1 \(\/coap-group\/1\)$/m, out);
        assert.match(r.stdout, /^1 +239\.255\.0\.3 +room3\.example$/m, out);
        assert.match(r.stdout, /^removed index 1$/m, out);
        assert.ok(existsSync(join(dir, 'node-state')), out);
        // proxy: the group through the proxy (its line and a summary naming the proxy), then over HTTP.
        assert.match(
          r.stderr,
          /^1 response from 1 endpoint in \d+ ms \(224\.0\.1\.187:5683 via coap:\/\/127\.0\.0\.10/m,
          out,
        );
        assert.match(r.stdout, /"from":"127\.0\.0\.2:5683"/, out);
        assert.match(r.stdout, /"reason":"window"/, out);
        // Nothing went wrong on the way, and no node warned about its port.
        assert.doesNotMatch(r.stderr, /failed:|warning|note:|Error/, out);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
