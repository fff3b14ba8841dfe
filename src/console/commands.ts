/**
 * @module console/commands
 * The `coap-group` command line equivalent to what the console sends, so that an operator can
 * repeat it in a script (docs/console.md). Words are quoted for a POSIX shell when they need it.
 */

/** A word as a shell reads it back. */
export function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./[\]-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** `coap-group ARGS...`, quoted. */
export function commandLine(...args: ReadonlyArray<string | undefined>): string {
  return ['coap-group', ...args.filter((a): a is string => a !== undefined)].map(shellWord).join(' ');
}

/** `--iface IF` when the gateway has one (group requests leave on it). */
export function ifaceArgs(iface: string | undefined): string[] {
  return iface === undefined ? [] : ['--iface', iface];
}
