/**
 * Runs the code blocks of README.md and docs/*.md as a reader would. A block that is meant to run
 * is marked on the line before its fence with `<!-- readme-example: NAME -->` (README) or
 * `<!-- docs-example: NAME -->` (docs); `, after: OTHER` says it needs what block OTHER made
 * (files), and `, not run: WHY` keeps a block of commands out of the run, with the reason.
 * Blocks that are not code to run (formats, output, diagrams) are fenced as ```text or ```json;
 * a ```json block marked `<!-- docs-example: NAME, file: F -->` is the file F the examples use.
 *
 * TypeScript examples run against the package as a user installs it: `installPackage()` builds
 * dist/ into a temporary `node_modules/coap-group` (never touching the checkout's own dist/), so
 * `import ... from 'coap-group'` resolves through package.json `exports` exactly as written,
 * and they are type-checked there against the published `.d.ts`. Shell examples run in order in
 * ONE bash process of their own process group, so `npx coap-group` is what runs and a process
 * left behind is found.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './cli-run.js';

/** Fence languages that are code to run, and those that are data or output. */
export const RUN_LANGUAGES = new Set(['ts', 'sh']);
export const TEXT_LANGUAGES = new Set(['text', 'json']);

/** One fenced code block. */
export interface CodeBlock {
  readonly lang: string;
  readonly code: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** From the marker before the fence, if any. */
  readonly name: string | undefined;
  readonly after: string | undefined;
  readonly notRun: string | undefined;
  /** A data block that the examples read as this file. */
  readonly file: string | undefined;
}

/** Every fenced block of a Markdown text, with its marker (`kind` is readme-example or docs-example). */
export function codeBlocks(markdown: string, kind: 'readme-example' | 'docs-example'): CodeBlock[] {
  const lines = markdown.split('\n');
  const out: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    assert.ok(end > i, `unclosed fence at line ${i + 1}`);
    const marker = new RegExp(`^<!-- ${kind}: ([\\w-]+)((?:, [^>]*)?) -->$`).exec(lines[i - 1] ?? '');
    const extra = marker?.[2] ?? '';
    out.push({
      lang: open[1]!,
      code: `${lines.slice(i + 1, end).join('\n')}\n`,
      line: i + 1,
      name: marker?.[1],
      after: /, after: ([\w-]+)/.exec(extra)?.[1],
      notRun: /, not run: (.+)$/.exec(extra)?.[1],
      file: /, file: ([\w.-]+)/.exec(extra)?.[1],
    });
    i = end;
  }
  return out;
}

/** Asserts that every block either is marked to run (or not run, with a reason) or is text. */
export function assertClassified(file: string, blocks: readonly CodeBlock[]): void {
  for (const b of blocks) {
    const where = `${file}:${b.line}`;
    if (TEXT_LANGUAGES.has(b.lang)) {
      if (b.name !== undefined)
        assert.ok(
          b.file !== undefined,
          `${where}: a \`\`\`${b.lang} block is not run; mark it with file: NAME or drop its marker`,
        );
      continue;
    }
    assert.ok(
      RUN_LANGUAGES.has(b.lang),
      `${where}: fence the block as one of ${[...RUN_LANGUAGES, ...TEXT_LANGUAGES].join(', ')} (got "${b.lang}")`,
    );
    assert.ok(b.name !== undefined, `${where}: a \`\`\`${b.lang} block needs a marker saying how it is run`);
  }
}

/**
 * Builds the package into `<tmp>/node_modules/coap-group` (package.json + dist/), as `npm install`
 * would lay it out, and returns `<tmp>`, where examples import it by name.
 */
export function installPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'coap-group-docs-'));
  const pkg = join(dir, 'node_modules', 'coap-group');
  mkdirSync(pkg, { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(pkg, 'dist')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `building the package failed:\n${r.stdout}${r.stderr}`);
  // The console's browser scripts, as the build puts them beside the library.
  const web = spawnSync(
    process.execPath,
    [tsc, '-p', join('src', 'console', 'tsconfig.json'), '--outDir', join(pkg, 'dist', 'console')],
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(web.status, 0, `building the console failed:\n${web.stdout}${web.stderr}`);
  // Its dependencies, as npm would install them beside it (from this checkout's node_modules).
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    mkdirSync(dirname(join(dir, 'node_modules', dep)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(dir, 'node_modules', dep), 'dir');
  }
  return dir;
}

/** Type-checks TypeScript example files in `dir` against the installed package. */
export function typeCheck(dir: string, files: readonly string[]): void {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files,
    }),
  );
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `the examples do not type-check:\n${r.stdout}${r.stderr}`);
}

/** What an example printed. */
export interface Run {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a TypeScript example file with tsx; `cwd` is where its relative paths point. */
export function runTypeScript(file: string, cwd: string, timeoutMs: number): Promise<Run> {
  const tsx = import.meta.resolve('tsx');
  return collect(
    spawn(process.execPath, ['--import', tsx, file], { cwd, stdio: ['ignore', 'pipe', 'pipe'] }),
    timeoutMs,
  );
}

/**
 * Runs shell code in one `bash` process, in a process group of its own: `set -e` stops at the
 * first failing command (named on stderr). Resolves with what it printed and `leftover`: whether
 * any process of its group outlived it (they are then killed).
 */
export async function runShell(
  code: string,
  cwd: string,
  timeoutMs: number,
): Promise<Run & { leftover: boolean }> {
  const script = `set -e\ntrap 'echo "failed: $BASH_COMMAND" >&2' ERR\n${code}`;
  const child = spawn('bash', ['-c', script], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pgid = child.pid!;
  let leftover = false;
  // On bash's exit, before its pipes close (a process left behind would hold them open).
  child.once('exit', () => {
    try {
      process.kill(-pgid, 0);
      leftover = true;
      killGroup(pgid);
    } catch {
      // ESRCH: nothing of the group is left.
    }
  });
  const run = await collect(child, timeoutMs, () => killGroup(pgid));
  return { ...run, leftover };
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function collect(
  child: ReturnType<typeof spawn>,
  timeoutMs: number,
  onTimeout: () => void = () => child.kill('SIGKILL'),
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const limit = setTimeout(onTimeout, timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(limit);
      reject(err);
    });
    child.once('close', (status, signal) => {
      clearTimeout(limit);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** Reads a Markdown file of the repository. */
export function readDoc(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}
