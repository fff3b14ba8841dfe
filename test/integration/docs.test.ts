/**
 * Every code block of docs/*.md that is meant to run is run, as written (support/doc-examples.ts):
 * TypeScript against the package installed by name, shell through `npx coap-group` in one bash
 * process per document, in document order (a block marked `after: NAME` runs after NAME, in the
 * same directory). Blocks of formats and output are fenced ```text or ```json. Each document runs
 * in a fresh directory inside the checkout (so that `npx` finds the package), removed afterwards;
 * no process may outlive its shell. Nodes use 127.0.0.2 and port 5683, as the examples say, so
 * the file runs in a network namespace of its own, where nothing else listens.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { ROOT } from '../support/cli-run.js';
import {
  assertClassified,
  type CodeBlock,
  codeBlocks,
  installPackage,
  readDoc,
  runShell,
  runTypeScript,
  typeCheck,
} from '../support/doc-examples.js';
import { insideNetns, LOOPBACK_SETUP, runSelfInNetns } from '../support/netns.js';

const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((f) => `docs/${f}`);

/**
 * What an example must print, beyond exiting 0: a pattern that its stdout matches; or, with
 * `lines`, a pattern that exactly that many of its lines match (on stderr with `stderr`).
 */
type Expectation = RegExp | { readonly re: RegExp; readonly lines: number; readonly stderr?: true } | Printed;

/**
 * Stdout is exactly the ```text block that follows the example in the document, but for the
 * parts of it that `vary` names (literal text, and the pattern that stands for it).
 */
interface Printed {
  readonly printed: true;
  readonly vary?: readonly (readonly [string, string])[];
}

const PRINTED: Printed = { printed: true };

/** What some examples must print. */
const EXPECT: Record<string, Record<string, Expectation[]>> = {
  'docs/proxy.md': {
    // Through the proxy, one line per member, each from its member, then one node by unicast.
    'client-cli': [
      { re: /^127\.0\.0\.2:5683 {2}2\.05 Content {2}on$/, lines: 1 },
      { re: /^127\.0\.0\.3:5683 {2}2\.05 Content {2}off$/, lines: 1 },
      /^on$/m,
    ],
    // The gateway started by the proxy command: a unicast target, then the group as JSON.
    'gateway-cli': [/^on$/m, /"from":"127\.0\.0\.2:5683"/, /"reason":"window"/],
    'proxy-cli': [/^on$/m],
    'proxy-library': [PRINTED],
    'gateway-json': [PRINTED],
    // The index of the new membership is the node's to choose.
    'gateway-console': [{ printed: true, vary: [['coap-group/1', 'coap-group/\\w+']] }],
  },
  'docs/console.md': {
    demo: [
      /^console http:\/\/127\.0\.0\.1:8080\/console\/$/m,
      /^\{"hc":"\/hc\/","group":"coap:\/\/224\.0\.1\.187","rd":"coap:\/\/127\.0\.0\.5","wait":3,"maxWait":60,"iface":"127\.0\.0\.1"\}$/m,
      // The discovery through the gateway: the three nodes, each with its light.
      /("from":"127\.0\.0\.[234]:5683".*){3}/,
      /"responses":3,"endpoints":3/,
    ],
  },
  'docs/resource-directory.md': {
    cli: [
      // register-group prints the group's registration resource.
      /^coap:\/\/127\.0\.0\.50\/rd\/\d+$/m,
      // The endpoint lookup of room 3: the group and the two nodes of the room, not the hall's.
      { re: /base="/, lines: 3 },
      { re: /base="coap:\/\/239\.255\.0\.33"/, lines: 1 },
      { re: /base="coap:\/\/127\.0\.0\.51"/, lines: 1 },
      { re: /base="coap:\/\/127\.0\.0\.52"/, lines: 1 },
      // The resource lookup resolves the group's links against its multicast address.
      /^\{"href":"coap:\/\/239\.255\.0\.33\/light","rt":"light"\}$/m,
      // The group PUT is answered by exactly the two nodes of room 3.
      { re: /^\S+:\d+ {2}\d\.\d\d /, lines: 2 },
      { re: /^127\.0\.0\.51:5683 {2}2\.04 Changed$/, lines: 1 },
      { re: /^127\.0\.0\.52:5683 {2}2\.04 Changed$/, lines: 1 },
      // Every node registers and, stopped, deregisters; only room 3's join the group.
      { re: /rd: registered as coap:\/\/127\.0\.0\.50\/rd\/\d+$/, lines: 3, stderr: true },
      { re: /rd: joined group 239\.255\.0\.33:5683 for \/light$/, lines: 2, stderr: true },
      { re: /rd: removed coap:\/\/127\.0\.0\.50\/rd\/\d+$/, lines: 3, stderr: true },
    ],
    library: [
      /^2\.01\njoined 239\.255\.0\.34:5683\n127\.0\.0\.61 off\n\[ '\/rd\/1 lamp-1', '\/rd\/2 room3-lights' \]\n$/,
    ],
  },
  'docs/security.md': {
    library: [/^2\.05 hello 01$/m, /^127\.0\.0\.2 2\.05 hello 01$/m],
    cli: [/^127\.0\.0\.2:5683 {2}2\.05 Content {2}on$/m],
  },
  'docs/serve-config.md': {
    cli: [/^127\.0\.0\.2:5683 {2}2\.05 Content {2}off$/m, /rt="light"/],
  },
};

/**
 * Asserts that an example's output meets an expectation; `what` names the example, `next` is the
 * block after it in the document.
 */
function assertPrinted(
  e: Expectation,
  out: { stdout: string; stderr: string },
  what: string,
  next: CodeBlock | undefined,
): void {
  if ('printed' in e) {
    assert.equal(next?.lang, 'text', `${what} is followed by what it prints`);
    const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    let pattern = literal(next!.code);
    for (const [text, re] of e.vary ?? []) pattern = pattern.replace(literal(text), re);
    assert.match(out.stdout, new RegExp(`^${pattern}$`), `${what} printed:\n${out.stdout}`);
    return;
  }
  if (e instanceof RegExp) {
    assert.match(out.stdout, e, `${what} printed:\n${out.stdout}`);
    return;
  }
  const text = e.stderr ? out.stderr : out.stdout;
  const matching = text.split('\n').filter((l) => e.re.test(l));
  assert.equal(
    matching.length,
    e.lines,
    `${what}: ${e.lines} lines should match ${e.re} on ${e.stderr ? 'stderr' : 'stdout'}:\n${text}`,
  );
}

/** Resolves whether 127.0.0.2:5683 is free, i.e. no node was left serving there. */
function portFree(): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(5683, '127.0.0.2', () => s.close(() => resolve(true)));
  });
}

/** The blocks of a document in the order they run: each `after` block right after its dependency. */
function runOrder(blocks: readonly CodeBlock[]): CodeBlock[] {
  const run = blocks.filter((b) => b.name !== undefined && b.notRun === undefined && b.file === undefined);
  const ordered = run.filter((b) => b.after === undefined);
  for (const b of run.filter((x) => x.after !== undefined)) {
    const at = ordered.findIndex((x) => x.name === b.after);
    assert.ok(at >= 0, `${b.name} runs after ${b.after}, which is not a block that runs`);
    ordered.splice(at + 1, 0, b);
  }
  return ordered;
}

if (!insideNetns()) {
  test('docs examples, in a private network namespace', { timeout: 400_000 }, (t) =>
    runSelfInNetns(t, import.meta.filename, LOOPBACK_SETUP, { timeoutMs: 380_000 }),
  );
} else
  describe('docs examples', () => {
    let installed = '';
    const scratch = join(ROOT, '.tmp');

    before(() => {
      installed = installPackage();
      mkdirSync(scratch, { recursive: true });
    });
    after(() => {
      if (installed) rmSync(installed, { recursive: true, force: true });
    });

    it('marks every code block as run, not run (with a reason), or text', () => {
      for (const doc of DOCS) assertClassified(doc, codeBlocks(readDoc(doc), 'docs-example'));
    });

    it('type-checks every TypeScript example against the installed package', { timeout: 120_000 }, () => {
      const files: string[] = [];
      for (const doc of DOCS) {
        for (const b of codeBlocks(readDoc(doc), 'docs-example')) {
          if (b.lang !== 'ts' || b.notRun !== undefined) continue;
          const file = join(installed, `${doc.replace(/\W/g, '-')}-${b.name}.mts`);
          writeFileSync(file, b.code);
          files.push(file);
        }
      }
      assert.ok(files.length > 0);
      typeCheck(installed, files);
    });

    for (const doc of DOCS) {
      const all = codeBlocks(readDoc(doc), 'docs-example');
      const blocks = runOrder(all);
      if (blocks.length === 0) continue;
      it(`runs the examples of ${doc}`, { timeout: 180_000 }, async () => {
        const dir = mkdtempSync(join(scratch, 'docs-'));
        try {
          for (const b of all) if (b.file !== undefined) writeFileSync(join(dir, b.file), b.code);
          for (const b of blocks) {
            const what = `${doc} example ${b.name} (line ${b.line})`;
            let out: { stdout: string; stderr: string };
            if (b.lang === 'ts') {
              // Inside the installed tree, so that 'coap-group' resolves as it would for a user.
              const file = join(installed, `run-${b.name}.mts`);
              writeFileSync(file, b.code);
              const r = await runTypeScript(file, dir, 60_000);
              assert.equal(r.status, 0, `${what} failed:\n${r.stdout}${r.stderr}`);
              out = r;
            } else {
              const r = await runShell(b.code, dir, 120_000);
              assert.equal(r.leftover, false, `${what} left a process running`);
              assert.equal(r.status, 0, `${what} failed:\n${r.stdout}${r.stderr}`);
              out = r;
            }
            const next = all[all.indexOf(b) + 1];
            for (const e of EXPECT[doc]?.[b.name!] ?? []) assertPrinted(e, out, what, next);
            assert.ok(await portFree(), `${what} left a node on 127.0.0.2:5683`);
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  });
