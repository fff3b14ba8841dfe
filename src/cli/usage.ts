/**
 * @module cli/usage
 * CLI errors and exit codes (design.md §CLI contract): 0 success, 1 a 4.xx/5.xx or Reset for a
 * unicast request, 2 a usage error, 3 no response in time (a unicast timeout, or a group request
 * that nobody answered), 4 any other failure (sockets, network); 130 and 143 when SIGINT or
 * SIGTERM stopped a command (session.ts).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/**
 * The default multicast interface of the CLI: loopback, named by its address because the
 * interface is `lo` on Linux and `lo0` elsewhere. Never the default route (design.md).
 */
export const LOOPBACK = '127.0.0.1';

export const Exit = Object.freeze({ OK: 0, RESPONSE_ERROR: 1, USAGE: 2, TIMEOUT: 3, FAILURE: 4 } as const);

/** A usage error: one line saying what is wrong and how to mend it; exit 2. */
export class UsageError extends Error {
  readonly hint: string;
  constructor(message: string, hint = '') {
    super(message);
    this.hint = hint;
  }
}

/** Writes an error line to stderr. */
export function printError(message: string, hint?: string): void {
  process.stderr.write(`coap-group: ${message}${hint ? ` (${hint})` : ''}\n`);
}

/** Parses a duration in seconds given on the command line: a number above 0. */
export function seconds(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${name} ${text} is not a number of seconds`, `e.g. --${name} 2.5`);
  // Zero or less would end before anything could happen (or, for Leisure, defeat it).
  if (n <= 0) throw new UsageError(`--${name} ${text} must be more than 0 seconds`, `e.g. --${name} 2.5`);
  return n;
}

/** Parses a non-negative integer option. */
export function integer(
  name: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} ${text} must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** Parses a command's arguments strictly; extra positionals beyond `maxPositionals` are a usage error. */
export function parseCommand<T extends ParseArgsConfig['options']>(
  command: string,
  argv: string[],
  options: T,
  maxPositionals = 0,
): {
  values: ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>>['values'];
  positionals: string[];
} {
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  if (positionals.length > maxPositionals) {
    throw new UsageError(
      `unexpected argument ${positionals[maxPositionals]}`,
      `see coap-group ${command} --help`,
    );
  }
  return { values, positionals };
}
