/**
 * Runs the `coap-group` CLI as child processes (`node bin/coap-group.cjs ...`, no build step) for
 * the integration tests. Every child has a hard time limit and is tracked, so `killAll()` in an
 * `after` hook ends whatever a failed test left running. `startServe` waits for the one `ready`
 * line of `serve` (design.md §CLI contract) and `stop()` ends the node with SIGTERM.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root, where the CLI runs. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The CLI entry point. */
export const BIN = fileURLToPath(new URL('../../bin/coap-group.cjs', import.meta.url));

/** How a child process ended and what it printed. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const children = new Set<ChildProcess>();

function track(child: ChildProcess, timeoutMs: number): Promise<CliResult> & { output(): CliResult } {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  children.add(child);
  // The hard limit: a child that outlives it is killed, and the test sees signal SIGKILL.
  const limit = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(limit);
      children.delete(child);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(limit);
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return Object.assign(done, { output: () => ({ code: null, signal: null, stdout, stderr }) });
}

/** Runs any command from the repository root; resolves when it exits (killed after `timeoutMs`). */
export function runCommand(
  command: string,
  args: readonly string[],
  timeoutMs = 20_000,
  env?: NodeJS.ProcessEnv,
): Promise<CliResult> {
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(env !== undefined ? { env: { ...process.env, ...env } } : {}),
  });
  return track(child, timeoutMs);
}

/** Runs `node bin/coap-group.cjs ...args`, with `env` added to the environment. */
export function runCli(
  args: readonly string[],
  timeoutMs = 20_000,
  env?: NodeJS.ProcessEnv,
): Promise<CliResult> {
  return runCommand(process.execPath, [BIN, ...args], timeoutMs, env);
}

/** A CLI command running in the background, for tests that signal it. */
export interface RunningCli {
  readonly pid: number;
  /** Resolves once `stream` has printed text matching `pattern` (rejects when the command exits first). */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** Resolves when it has exited. */
  readonly done: Promise<CliResult>;
}

/** Starts `node bin/coap-group.cjs ...args` (killed after `timeoutMs`). */
export function startCli(args: readonly string[], timeoutMs = 30_000): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const done = track(child, timeoutMs);
  return {
    pid: child.pid!,
    done,
    kill: (signal) => child.kill(signal),
    waitFor: (stream, pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(done.output()[stream])) return;
          child[stream]?.off('data', check);
          resolve();
        };
        child[stream]?.on('data', check);
        check();
        done.then(() =>
          reject(new Error(`exited before printing ${pattern}: ${JSON.stringify(done.output())}`)),
        );
      }),
  };
}

/** A running `coap-group serve`. */
export interface ServeNode {
  /** The `ready ...` line. */
  readonly ready: string;
  /** What it printed so far. */
  output(): CliResult;
  /** Sends SIGTERM and resolves when it has exited (SIGKILL if it takes longer than 5 s). */
  stop(): Promise<CliResult>;
  /** Sends SIGKILL (a crash: nothing runs on the way out) and resolves when it has exited. */
  kill(): Promise<CliResult>;
}

/**
 * Starts `coap-group serve ...args` (or another long-running `command`, such as `rd`) and
 * resolves once it prints its `ready` line. Rejects, with what it printed, when it exits first
 * or is not ready within `timeoutMs` (it is then killed). `prefix` runs it through another
 * command that ends by exec'ing it, such as `ip netns exec NS` (so the signals of `stop()` reach
 * the node itself).
 */
export async function startServe(
  args: readonly string[],
  timeoutMs = 15_000,
  command = 'serve',
  prefix: readonly string[] = [],
): Promise<ServeNode> {
  const argv = [...prefix, process.execPath, BIN, command, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = track(child, 120_000);
  const ready = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const limit = setTimeout(() => fail('no ready line in time'), timeoutMs);
    const onData = () => {
      const line = run
        .output()
        .stdout.split('\n')
        .find((l) => l.startsWith('ready '));
      if (line === undefined || settled) return;
      settled = true;
      clearTimeout(limit);
      child.stdout?.off('data', onData);
      resolve(line);
    };
    function fail(why: string): void {
      if (settled) return;
      settled = true;
      clearTimeout(limit);
      child.stdout?.off('data', onData);
      child.kill('SIGKILL');
      const o = run.output();
      reject(new Error(`${command} ${args.join(' ')}: ${why}\nstdout: ${o.stdout}\nstderr: ${o.stderr}`));
    }
    child.stdout?.on('data', onData);
    run.then(
      () => fail('exited before it was ready'),
      (err: Error) => fail(err.message),
    );
  });
  let stopping: Promise<CliResult> | undefined;
  return {
    ready,
    output: run.output,
    stop: () => {
      if (stopping) return stopping;
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 5_000);
      stopping = run.finally(() => clearTimeout(hard));
      return stopping;
    },
    kill: () => {
      child.kill('SIGKILL');
      stopping ??= run;
      return stopping;
    },
  };
}

/** Kills every child still running (for `after` hooks). */
export function killAll(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
}

/** The non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}

/** Asserts that a command exited with `code`, showing its output when it did not. */
export function exits(r: CliResult, code: number): void {
  assert.equal(
    r.code,
    code,
    `exit ${r.code} (signal ${r.signal}), wanted ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
  );
}
