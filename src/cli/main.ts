/**
 * @module cli/main
 * The `coap-group` command: dispatch, and the mapping of errors to one line and an exit code
 * (design.md §CLI contract). The CLI uses only what `index` exports.
 */
import { CoapError } from '../index.js';
import { runDemo } from './demo.js';
import { runDiscover } from './discover.js';
import { runGroups } from './groups.js';
import { HELP } from './help.js';
import { KEYS_HELP, runKeys } from './keys.js';
import { runRd } from './rd.js';
import { runRequest } from './request.js';
import { runServe } from './serve.js';
import { Exit, printError, UsageError } from './usage.js';

const USAGE_CODES = new Set([
  'ERR_COAP_INVALID_URI',
  'ERR_COAP_INVALID_ARGUMENT',
  'ERR_COAP_UNKNOWN_INTERFACE',
  'ERR_COAP_GROUP_SECURE_SCHEME',
  'ERR_COAP_GROUP_CONFIRMABLE',
  'ERR_COAP_GROUP_ETAG',
  'ERR_COAP_GROUP_SCOPE',
  'ERR_COAP_GROUP_NOT_MULTICAST',
  'ERR_COAP_GROUP_USE_GROUP',
  'ERR_COAP_NO_MULTICAST_INTERFACE',
  'ERR_COAP_GROUP_JSON',
  'ERR_OSCORE_CONFIG',
]);

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const wantsHelp = rest.includes('--help') || rest.includes('-h');
    switch (command) {
      case 'get':
      case 'put':
      case 'post':
      case 'delete':
        if (wantsHelp) return help('request');
        return await runRequest(command.toUpperCase() as 'GET', rest);
      case 'discover':
        if (wantsHelp) return help('discover');
        return await runDiscover(rest);
      case 'serve':
        if (wantsHelp) return help('serve');
        return await runServe(rest);
      case 'groups':
        return await runGroups(rest);
      case 'keys':
        if (wantsHelp) {
          process.stdout.write(`${KEYS_HELP}\n`);
          return Exit.OK;
        }
        return await runKeys(rest);
      case 'demo':
        if (wantsHelp) return help('demo');
        return await runDemo(rest);
      case 'rd':
        if (wantsHelp)
          return help(rest[0] === 'register-group' || rest[0] === 'lookup' ? `rd ${rest[0]}` : 'rd');
        return await runRd(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        return help('main');
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`, 'run coap-group --help');
    }
  } catch (err) {
    return report(err);
  }
}

function help(which: string): number {
  process.stdout.write(`${HELP[which]}\n`);
  return Exit.OK;
}

function report(err: unknown): number {
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
    printError(err.message);
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
  printError(`unexpected failure: ${(err as Error)?.stack ?? String(err)}`);
  return Exit.FAILURE;
}
