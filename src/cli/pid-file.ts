/**
 * @module cli/pid-file
 * `--pid-file FILE` of the long-running commands (`serve`, `rd`): the process writes its own ID
 * once it is ready, as the last step before its `ready` line, and removes the file when it
 * stops. So a script can wait for the file to know the process serves, and stop the process
 * itself with `kill $(cat FILE)`; a signal to a background `npx` job reaches only the wrapper.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { UsageError } from './usage.js';

/** Writes this process's ID to `file`; an unwritable path is a usage error. */
export function writePidFile(file: string): void {
  try {
    writeFileSync(file, `${process.pid}\n`);
  } catch (err) {
    throw new UsageError(
      `cannot write --pid-file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      'give a path in a writable directory',
    );
  }
}

/** Removes `file`, unless another process has written its own ID there since. */
export function removePidFile(file: string): void {
  try {
    if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file);
  } catch {
    // Already gone: nothing to clean up.
  }
}
