/**
 * @module cli/main
 * The `coap-group` command: dispatch, and the mapping of errors to one line and an exit code
 * (design.md §CLI contract). No stack trace is printed unless asked for (`--debug`,
 * NODE_DEBUG=coap). The CLI uses only the package's entry points (`index`, `entry/*`).
 *
 * Each command's module is imported when that command runs, and imports only the entry points
 * it needs: a one-shot `get` loads the client, not the server, OSCORE, the group configuration
 * or the resource directory (docs/performance.md, "Start-up of the command").
 */
import { readFileSync } from 'node:fs';
import { CoapError, type MethodName } from '../entry/common.js';
import { stackOf, systemErrorLine, systemErrorOf, systemHint } from './failure.js';
import { HELP } from './help.js';
import { Session } from './session.js';
import { Exit, printError, UsageError } from './usage.js';

const USAGE_CODES = new Set([
  'ERR_COAP_INVALID_URI',
  'ERR_COAP_UNSUPPORTED_SCHEME',
  'ERR_COAP_INVALID_ARGUMENT',
  'ERR_COAP_UNKNOWN_INTERFACE',
  'ERR_COAP_GROUP_SECURE_SCHEME',
  'ERR_COAP_GROUP_CONFIRMABLE',
  'ERR_COAP_GROUP_ETAG',
  'ERR_COAP_GROUP_SCOPE',
  'ERR_COAP_GROUP_NOT_MULTICAST',
  'ERR_COAP_GROUP_USE_GROUP',
  'ERR_COAP_GROUP_BROADCAST',
  'ERR_COAP_NO_MULTICAST_INTERFACE',
  'ERR_COAP_GROUP_JSON',
  'ERR_OSCORE_CONFIG',
  'ERR_OSCORE_NO_CONTEXT',
]);

/** The request commands and their methods (RFC 7252 §5.8, RFC 8132 §2-§3). */
const METHODS: Record<string, MethodName> = {
  get: 'GET',
  post: 'POST',
  put: 'PUT',
  delete: 'DELETE',
  fetch: 'FETCH',
  patch: 'PATCH',
  ipatch: 'iPATCH',
};

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const session = new Session(argv);
  await session.start();
  try {
    const status = await dispatch(session);
    return session.stopStatus ?? status;
  } catch (err) {
    // Stopped from outside (Ctrl-C, a closed pipe): what follows from that is not an error.
    return session.stopStatus ?? report(err, session.debug);
  } finally {
    session.finish();
  }
}

async function dispatch(session: Session): Promise<number> {
  const [command, ...rest] = session.argv;
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  const method = command === undefined ? undefined : METHODS[command];
  if (method !== undefined) {
    if (wantsHelp) return help('request');
    session.catchSignals();
    const { runRequest } = await import('./request.js');
    return await runRequest(method, rest, session);
  }
  switch (command) {
    case 'ping':
      if (wantsHelp) return help('ping');
      session.catchSignals();
      return await (await import('./ping.js')).runPing(rest, session);
    case 'discover':
      if (wantsHelp) return help('discover');
      session.catchSignals();
      return await (await import('./discover.js')).runDiscover(rest, session);
    case 'serve':
      if (wantsHelp) return help('serve');
      // A stop is what serve waits for: SIGTERM and SIGINT both end it cleanly (status 0).
      session.stopIsSuccess();
      session.catchSignals();
      return await (await import('./serve.js')).runServe(rest, session);
    case 'proxy':
      if (wantsHelp) return help('proxy');
      // Like serve: a stop is what it waits for.
      session.stopIsSuccess();
      session.catchSignals();
      return await (await import('./proxy.js')).runProxy(rest, session);
    case 'groups':
      return await (await import('./groups.js')).runGroups(rest, undefined, session.catchSignals());
    case 'keys': {
      const { KEYS_HELP, runKeys } = await import('./keys.js');
      if (wantsHelp) {
        process.stdout.write(`${KEYS_HELP}\n`);
        return Exit.OK;
      }
      return await runKeys(rest);
    }
    case 'demo':
      if (wantsHelp) return help('demo');
      // With --console the room runs until stopped, like serve: a stop is success.
      if (rest.includes('--console')) {
        session.stopIsSuccess();
        session.catchSignals();
      }
      return await (await import('./demo.js')).runDemo(rest, session);
    case 'console':
      if (wantsHelp) return help('console');
      session.stopIsSuccess();
      session.catchSignals();
      return await (await import('./console.js')).runConsole(rest, session);
    case 'rd':
      if (wantsHelp)
        return help(rest[0] === 'register-group' || rest[0] === 'lookup' ? `rd ${rest[0]}` : 'rd');
      // The directory itself, like serve, stops cleanly on a signal; its client commands do not.
      if (rest[0] !== 'register-group' && rest[0] !== 'lookup') session.stopIsSuccess();
      session.catchSignals();
      return await (await import('./rd.js')).runRd(rest);
    case '--version':
    case '-V':
      process.stdout.write(`${version()}\n`);
      return Exit.OK;
    case 'help':
    case '--help':
    case '-h':
      return help('main');
    case undefined:
      // No command is a usage error: the usage goes to stderr, and the status says so.
      process.stderr.write(`${HELP.main}\n`);
      return Exit.USAGE;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`, 'run coap-group --help');
  }
}

function help(which: string): number {
  process.stdout.write(`${HELP[which]}\n`);
  return Exit.OK;
}

/** The package version, from the package.json two levels up (src/cli or dist/cli). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function report(err: unknown, debug: boolean): number {
  const status = describe(err);
  if (debug) process.stderr.write(`${stackOf(err)}\n`);
  return status;
}

/** Prints the one line for `err` and returns the exit status. */
function describe(err: unknown): number {
  if (err instanceof UsageError) {
    printError(err.message, err.hint);
    return Exit.USAGE;
  }
  const code = (err as { code?: string }).code ?? '';
  if (code.startsWith('ERR_PARSE_ARGS')) {
    printError((err as Error).message.split('\n')[0] ?? 'bad arguments', 'see --help');
    return Exit.USAGE;
  }
  if (err instanceof CoapError) {
    const cause = systemErrorOf(err.cause)?.code;
    printError(err.message, cause !== undefined ? systemHint(cause) : undefined);
    if (USAGE_CODES.has(err.code)) return Exit.USAGE;
    // A name that does not exist is the user's to mend; a resolver that cannot answer is not.
    if (err.code === 'ERR_COAP_RESOLVE') {
      const cause = (err.cause as NodeJS.ErrnoException | undefined)?.code;
      return cause === 'ENOTFOUND' || cause === undefined ? Exit.USAGE : Exit.FAILURE;
    }
    if (err.code === 'ERR_COAP_TIMEOUT') return Exit.TIMEOUT;
    if (err.code === 'ERR_COAP_RESET') return Exit.RESPONSE_ERROR;
    if (err.code === 'ERR_OSCORE_UNPROTECTED') return Exit.RESPONSE_ERROR;
    return Exit.FAILURE;
  }
  const sys = systemErrorOf(err);
  if (sys !== undefined) {
    const { message, hint } = systemErrorLine(sys);
    printError(message, hint);
    return Exit.FAILURE;
  }
  const e = err as Error | undefined;
  printError(
    `unexpected failure: ${e instanceof Error ? `${e.name}: ${e.message}` : String(err)}`,
    'run again with --debug to see where',
  );
  return Exit.FAILURE;
}
