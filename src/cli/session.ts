/**
 * @module cli/session
 * One run of a command: the global flags (`--verbose`, `--debug`) and how the run is stopped
 * from outside. SIGINT (Ctrl-C) and SIGTERM abort the command's signal so that it closes its
 * sockets cleanly, and the run then exits 130 or 143 (128 + the signal number, as shells do);
 * `serve` treats both as a requested stop and exits 0. A closed stdout or stderr (`| head`)
 * stops the run too, quietly, with status 0: the reader has what it wanted.
 */
import { debuglog } from 'node:util';
import { announceWaits } from './trace.js';

/** Why a run was stopped from outside. */
export type StopReason = 'SIGINT' | 'SIGTERM' | 'closed-output';

const FLAGS = new Set(['--verbose', '--debug']);

/** A running command's context. */
export class Session {
  readonly verbose: boolean;
  /** Stack traces on failures: `--debug`, or NODE_DEBUG=coap. */
  readonly debug: boolean;
  /** The arguments without the global flags. */
  readonly argv: string[];
  readonly #abort = new AbortController();
  #reason: StopReason | undefined;
  #stopIsSuccess = false;
  readonly #cleanups: Array<() => void> = [];

  constructor(argv: readonly string[]) {
    // Global flags may stand anywhere before a `--`.
    const end = argv.indexOf('--');
    const head = end < 0 ? argv : argv.slice(0, end);
    this.verbose = head.includes('--verbose');
    this.debug = head.includes('--debug') || debuglog('coap').enabled;
    this.argv = [...head.filter((a) => !FLAGS.has(a)), ...(end < 0 ? [] : argv.slice(end))];
  }

  /** Aborted when the run is stopped from outside. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get stopReason(): StopReason | undefined {
    return this.#reason;
  }

  /**
   * The exit status of a run stopped from outside, or undefined. For a command that runs until
   * stopped (`serve`, after `stopIsSuccess()`), a stop is success: 0.
   */
  get stopStatus(): number | undefined {
    if (this.#reason !== undefined && this.#stopIsSuccess) return 0;
    switch (this.#reason) {
      case 'SIGINT':
        return 130;
      case 'SIGTERM':
        return 143;
      case 'closed-output':
        return 0;
      default:
        return undefined;
    }
  }

  /** Writes a `coap-group: ...` line to stderr (dropped once stderr is closed). */
  note(line: string): void {
    if (this.#reason !== 'closed-output') process.stderr.write(`coap-group: ${line}\n`);
  }

  /** Installs the output handlers and the stderr traces (`--verbose` loads the codec for them). */
  async start(): Promise<void> {
    const onOutputError = () => this.stop('closed-output');
    process.stdout.on('error', onOutputError);
    process.stderr.on('error', onOutputError);
    this.#cleanups.push(announceWaits((l) => this.note(l)));
    if (this.verbose) {
      const { traceMessages } = await import('./trace-messages.js');
      this.#cleanups.push(traceMessages((l) => this.note(l)));
    }
  }

  /**
   * Turns SIGINT and SIGTERM into an abort of `signal`, for commands that close cleanly on it.
   * Other commands keep the default: the signal ends the process.
   */
  catchSignals(): AbortSignal {
    const onSignal = (signal: NodeJS.Signals) => this.stop(signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
    // `once`: a second Ctrl-C finds no handler and ends the process at once.
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    this.#cleanups.push(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
    return this.#abort.signal;
  }

  /** Removes the handlers. The output error handlers stay: a write may still fail after the run. */
  finish(): void {
    for (const c of this.#cleanups.splice(0)) c();
  }

  /** Declares that this command runs until stopped, so that a stop ends it with status 0. */
  stopIsSuccess(): void {
    this.#stopIsSuccess = true;
  }

  stop(reason: StopReason): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#abort.abort();
  }
}
