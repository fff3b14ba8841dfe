/**
 * The README's examples are executed, so they cannot rot: the library example as a module, and
 * the command-line example line by line (`npx coap-group` run as `node bin/coap-group.js`).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function example(name: string): string {
  const start = README.indexOf(`<!-- readme-example: ${name} -->`);
  assert.ok(start >= 0, `README has no example ${name}`);
  const m = /```\w*\n([\s\S]*?)```/.exec(README.slice(start));
  assert.ok(m, `example ${name} has no code block`);
  return m[1]!;
}

function waitForReady(child: ChildProcess): Promise<string> {
  return new Promise((resolveReady, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('ready '));
      if (line) resolveReady(line);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before ready: ${out}`)));
  });
}

/** Runs a README shell example line by line; returns the stdout of each foreground command. */
async function runCliExample(name: string, cwd: string): Promise<string[]> {
  const lines = example(name)
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.length > 0);
  let server: ChildProcess | undefined;
  const outputs: string[] = [];
  try {
    for (const line of lines) {
      if (line === 'kill %1') {
        assert.ok(server, 'kill %1 without a background job');
        const exited = new Promise<number | null>((r) => server!.once('exit', (code) => r(code)));
        server.kill('SIGTERM');
        assert.equal(await exited, 0, 'serve exits cleanly on SIGTERM');
        server = undefined;
        continue;
      }
      const background = line.endsWith('&');
      const words = line.replace(/&$/, '').trim().split(/\s+/);
      assert.deepEqual(words.slice(0, 2), ['npx', 'coap-group'], `unexpected README line: ${line}`);
      const args = [join(ROOT, 'bin/coap-group.js'), ...words.slice(2)];
      if (background) {
        server = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
        await waitForReady(server);
        continue;
      }
      const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 0, `${line}\n${r.stderr}`);
      outputs.push(r.stdout);
    }
  } finally {
    server?.kill('SIGKILL');
  }
  return outputs;
}

describe('README examples', () => {
  it('runs the library example', { timeout: 30_000 }, () => {
    const dir = join(ROOT, '.tmp');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'readme-library.mts');
    writeFileSync(
      file,
      example('library').replaceAll("from 'coap-group'", `from '${join(ROOT, 'src/index.ts')}'`),
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 25_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^2\.05 off$/m);
    assert.match(r.stdout, /^127\.0\.0\.2 2\.04 \d+ ms$/m);
    assert.match(r.stdout, /responses: 1,\s+endpoints: 1/);
  });

  it('runs the command-line example', { timeout: 60_000 }, async () => {
    const [links, , group, discover] = await runCliExample('cli', ROOT);
    assert.match(links ?? '', /<\/light>;rt|<\/light>;ct/);
    assert.match(group ?? '', /^127\.0\.0\.2:5683 {2}2\.05 Content {2}on$/m);
    assert.match(discover ?? '', /127\.0\.0\.2:5683/);
  });

  it('runs the group configuration example', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coap-group-readme-'));
    try {
      const [added, listed, removed] = await runCliExample('groups', dir);
      assert.match(added ?? '', /1/);
      assert.match(listed ?? '', /239\.255\.0\.3/);
      assert.match(listed ?? '', /room3\.example/);
      assert.ok(removed !== undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
