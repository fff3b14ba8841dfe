/**
 * docs/resource-directory.md's examples are executed, so they cannot rot: the library example
 * as a module, and the command-line example line by line (`npx coap-group` run as
 * `node bin/coap-group.js`; `&` starts a job that is waited for until it prints `ready`, and
 * `kill %N ...` stops jobs with SIGTERM and expects them to exit cleanly).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');
const DOC = readFileSync(join(ROOT, 'docs/resource-directory.md'), 'utf8');
const jobs: ChildProcess[] = [];
after(() => {
  for (const j of jobs) j.kill('SIGKILL');
});

function example(name: string): string {
  const start = DOC.indexOf(`<!-- rd-example: ${name} -->`);
  assert.ok(start >= 0, `docs/resource-directory.md has no example ${name}`);
  const m = /```\w*\n([\s\S]*?)```/.exec(DOC.slice(start));
  assert.ok(m, `example ${name} has no code block`);
  return m[1]!;
}

/** Splits a command line into words, honouring single and double quotes. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

interface Job {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

function startJob(args: string[], cwd: string): Promise<Job> {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  jobs.push(child);
  const job: Job = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((r) => child.once('exit', (code) => r(code))),
  };
  child.stderr!.on('data', (d: Buffer) => (job.stderr += d.toString()));
  return new Promise((resolveJob, reject) => {
    const limit = setTimeout(
      () => reject(new Error(`no ready line in time: ${args.join(' ')}\n${job.stderr}`)),
      30_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      job.stdout += d.toString();
      if (/^ready /m.test(job.stdout)) {
        clearTimeout(limit);
        resolveJob(job);
      }
    });
    void job.exited.then((code) => {
      clearTimeout(limit);
      reject(new Error(`${args.join(' ')} exited with ${code} before ready: ${job.stderr}`));
    });
  });
}

/** Runs the example; returns each foreground command's stdout, and the jobs by number. */
async function runCliExample(cwd: string): Promise<{ outputs: string[]; jobs: Job[] }> {
  const lines = example('cli')
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.length > 0);
  const started: Job[] = [];
  const outputs: string[] = [];
  for (const line of lines) {
    if (line.startsWith('kill ')) {
      for (const ref of line.slice(5).trim().split(/\s+/)) {
        const job = started[Number(ref.replace('%', '')) - 1];
        assert.ok(job, `${line}: no job ${ref}`);
        job.child.kill('SIGTERM');
        assert.equal(await job.exited, 0, `${ref} exits cleanly on SIGTERM\n${job.stderr}`);
      }
      continue;
    }
    const background = line.endsWith('&');
    const w = words(line.replace(/&$/, '').trim());
    assert.deepEqual(w.slice(0, 2), ['npx', 'coap-group'], `unexpected line: ${line}`);
    const args = [join(ROOT, 'bin/coap-group.js'), ...w.slice(2)];
    if (background) {
      started.push(await startJob(args, cwd));
      continue;
    }
    const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `${line}\n${r.stderr}`);
    outputs.push(r.stdout);
  }
  return { outputs, jobs: started };
}

describe('docs/resource-directory.md examples', () => {
  it('runs the command-line example', { timeout: 120_000 }, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'coap-rd-docs-'));
    try {
      const { outputs, jobs: started } = await runCliExample(cwd);
      const [registered, eps, res, put] = outputs;
      assert.match(registered ?? '', /^coap:\/\/127\.0\.0\.50\/rd\/\d+\n$/);
      assert.deepEqual(
        (eps ?? '')
          .trim()
          .split('\n')
          .map((l) => /base="([^"]+)"/.exec(l)?.[1]),
        ['coap://239.255.0.33', 'coap://127.0.0.51', 'coap://127.0.0.52'],
      );
      assert.deepEqual(JSON.parse(res ?? ''), { href: 'coap://239.255.0.33/light', rt: 'light' });
      assert.deepEqual((put ?? '').trim().split('\n').sort(), [
        '127.0.0.51:5683  2.04 Changed',
        '127.0.0.52:5683  2.04 Changed',
      ]);
      const [, n51, n52, n53] = started;
      for (const n of [n51!, n52!]) {
        assert.match(n.stderr, /rd: registered as coap:\/\/127\.0\.0\.50\/rd\/\d+/);
        assert.match(n.stderr, /rd: joined group 239\.255\.0\.33:5683 for \/light/);
        assert.match(n.stderr, /rd: removed coap:\/\/127\.0\.0\.50\/rd\/\d+/, 'deregistered when it stopped');
      }
      assert.doesNotMatch(n53!.stderr, /joined group/, 'the hall is not in room 3');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('runs the library example', { timeout: 60_000 }, () => {
    const dir = join(ROOT, '.tmp');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'rd-library.mts');
    writeFileSync(
      file,
      example('library').replaceAll("from 'coap-group'", `from '${join(ROOT, 'src/index.ts')}'`),
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 50_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      '2.01',
      'joined 239.255.0.34:5683',
      '127.0.0.61 off',
      "[ '/rd/1 lamp-1', '/rd/2 room3-lights' ]",
    ]);
  });
});
