/**
 * Child processes for interop tests: run a peer program to completion with a hard time limit, or
 * start a long-running peer and wait for a readiness line. Every process is killed when the test
 * is done (SIGTERM, then SIGKILL if it lingers), and every wait is bounded.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

/** Why `program` cannot be run here (not on PATH), or undefined when it can. */
export function missingProgram(program: string): string | undefined {
  const r = spawnSync('which', [program], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim() !== '') return undefined;
  return `${program} is not installed (which ${program} found nothing; apt-get install libcoap3-bin)`;
}

/** What a finished process printed. */
export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the time limit killed it. */
  readonly timedOut: boolean;
}

/** Runs `program` to completion without blocking the event loop; SIGKILL after `timeoutMs`. */
export function runProgram(program: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code, signal, timedOut });
    });
  });
}

/** A long-running peer process. */
export interface Peer {
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout and stderr, the last 64 KiB of each). */
  output(): string;
  /** Stops it: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** A line on stdout or stderr that says the peer is ready. */
  ready: RegExp;
  /** How long to wait for it, ms. */
  timeoutMs: number;
  cwd?: string;
}

const KEEP = 64 * 1024;

/** Starts `program` and resolves once a line matching `ready` appears; kills it on any failure. */
export async function startPeer(program: string, args: readonly string[], o: StartOptions): Promise<Peer> {
  const child = spawn(program, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
  });
  let out = '';
  let err = '';
  let exited = child.exitCode !== null || child.signalCode !== null;
  const exit = new Promise<void>((resolve) =>
    child.once('close', () => {
      exited = true;
      resolve();
    }),
  );
  const peer: Peer = {
    child,
    output: () => `${out}${err}`,
    stop: async (graceMs = 2000) => {
      // A process that never started (spawn error) has no pid and nothing to stop.
      if (exited || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (o.ready.test(out) || o.ready.test(err)) resolve();
    };
    child.stdout!.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-KEEP);
      check();
    });
    child.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-KEEP);
      check();
    });
    child.once('error', reject);
    child.once('close', (code, signal) =>
      reject(new Error(`${program} exited (${code ?? signal}) before it was ready:\n${out}${err}`)),
    );
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${program} was not ready within ${o.timeoutMs} ms:\n${out}${err}`)),
      o.timeoutMs,
    );
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (e) {
    await peer.stop(500);
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return peer;
}

/** Stops every peer, in parallel; never throws. */
export async function stopAll(peers: Iterable<Peer | undefined>): Promise<void> {
  await Promise.all([...peers].map((p) => p?.stop().catch(() => {})));
}
