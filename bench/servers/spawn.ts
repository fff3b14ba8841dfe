// Parent side of the bench children: starts a process, waits (bounded) for its "ready <port>" line,
// asks it for its memory, and stops it with SIGTERM, then SIGKILL if it lingers. Every child is
// also killed when the bench process exits, whatever the reason.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Child {
  readonly name: string;
  readonly port: number;
  readonly proc: ChildProcess;
  /** The child's memory, as its `mem` reply reports it (bytes). */
  memory(): Promise<{ rss: number; heapUsed: number; peakRss: number } | undefined>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const p of live) p.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const p of live) p.kill('SIGKILL');
      process.exit(130);
    });
  }
}

/** The path of a file next to `base` (an import.meta.url). */
export function sibling(base: string, rel: string): string {
  return fileURLToPath(new URL(rel, base));
}

/**
 * How a bench child runs: its own TypeScript under tsx, the library from dist/ (bench/use-dist.ts),
 * as in the bench process.
 */
export const CHILD_LOADER: readonly string[] = [
  '--import',
  'tsx',
  '--import',
  new URL('../use-dist.ts', import.meta.url).href,
];

/** Runs a TypeScript bench child (see CHILD_LOADER). */
export function spawnTs(
  name: string,
  file: string,
  args: readonly string[],
  nodeFlags: readonly string[] = [],
  timeoutMs?: number,
  env?: NodeJS.ProcessEnv,
): Promise<Child> {
  return startChild(name, process.execPath, [...nodeFlags, ...CHILD_LOADER, file, ...args], timeoutMs, env);
}

/** Starts `command` (with `env`, default this process's), resolves once it printed `ready <port>` (rejects after `timeoutMs`). */
export function startChild(
  name: string,
  command: string,
  args: readonly string[],
  timeoutMs = 20_000,
  env?: NodeJS.ProcessEnv,
): Promise<Child> {
  hookExit();
  const proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(env ? { env } : {}) });
  live.add(proc);
  proc.on('exit', () => live.delete(proc));
  let stderr = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  proc.stdout!.setEncoding('utf8');
  const lines: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  let buf = '';
  proc.stdout!.on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const nextLine = (ms: number) =>
    new Promise<string | undefined>((resolve) => {
      const l = lines.shift();
      if (l !== undefined) return resolve(l);
      const t = setTimeout(() => {
        const i = waiters.indexOf(w);
        if (i >= 0) waiters.splice(i, 1);
        resolve(undefined);
      }, ms);
      const w = (line: string) => {
        clearTimeout(t);
        resolve(line);
      };
      waiters.push(w);
    });
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  return new Promise<Child>((resolve, reject) => {
    const fail = (why: string) => {
      void stop();
      reject(new Error(`${name}: ${why}${stderr ? `\n${stderr.trim()}` : ''}`));
    };
    proc.once('error', (e) => fail(e.message));
    proc.once('exit', (code, sig) => fail(`exited (${code ?? sig}) before it was ready`));
    void (async () => {
      // Bounded: at most 50 lines before the ready line.
      const deadline = Date.now() + timeoutMs;
      for (let i = 0; i < 50 && Date.now() < deadline; i++) {
        const line = await nextLine(deadline - Date.now());
        if (line === undefined) break;
        const m = /^ready (\d+)/.exec(line);
        if (m) {
          proc.removeAllListeners('exit');
          proc.on('exit', () => live.delete(proc));
          const memory = async () => {
            proc.stdin!.write('mem\n');
            for (let j = 0; j < 5; j++) {
              const l = await nextLine(2000);
              if (l === undefined) return undefined;
              if (l.startsWith('mem ')) return JSON.parse(l.slice(4));
            }
            return undefined;
          };
          resolve({ name, port: Number(m[1]), proc, memory, stop });
          return;
        }
      }
      fail('not ready in time');
    })();
  });
}
