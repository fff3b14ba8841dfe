// Runs a bench child (TypeScript under tsx, the library from dist/: spawn.ts CHILD_LOADER) to
// completion (bounded: SIGTERM at the deadline, SIGKILL 2 s later) and returns its last stdout
// line parsed as JSON.
import { spawn } from 'node:child_process';
import { CHILD_LOADER } from './spawn.js';

export function runToEnd<T>(
  file: string,
  args: readonly string[],
  timeoutMs: number,
  nodeFlags: readonly string[] = [],
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const proc = spawn(process.execPath, [...nodeFlags, ...CHILD_LOADER, file, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const kill = () => proc.kill('SIGKILL');
    process.once('exit', kill);
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      out = (out + d).slice(-100_000);
    });
    proc.stderr.setEncoding('utf8').on('data', (d: string) => {
      err = (err + d).slice(-4000);
    });
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      proc.kill('SIGTERM');
      killer = setTimeout(kill, 2000);
    }, timeoutMs);
    proc.on('error', (e) => reject(e));
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      process.off('exit', kill);
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(
          new Error(
            `${file} ended (${code ?? signal}) without a result${err ? `: ${err.trim().split('\n').pop()}` : ''}`,
          ),
        );
      }
    });
  });
}
