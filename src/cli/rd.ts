/**
 * @module cli/rd
 * `coap-group rd`: an RFC 9176 resource directory that knows groups (its Appendix A), with its
 * registrations kept in `--state DIR`; commissioning tools (`--allow-ct-from`, loopback by
 * default) may register groups and for other addresses. Prints one `ready ` line when bound and
 * its state loaded (writing `--pid-file` just before, so that the file too means ready), and
 * exits cleanly on SIGTERM or SIGINT, removing the file (design.md §CLI contract).
 * `rd register-group` and `rd lookup` are the commissioning tool's and the lookup client's side
 * (cli/rd-tool).
 */

import { parseToolSpec, type ToolSpec } from '../entry/rd.js';
import {
  attachResourceDirectory,
  CoapServer,
  InvalidArgumentError,
  type ResourceDirectory,
  type ServerOptions,
} from '../index.js';
import { serverSecurity } from './oscore-config.js';
import { endpoint } from './output.js';
import { removePidFile, writePidFile } from './pid-file.js';
import { runLookup, runRegisterGroup } from './rd-tool.js';
import { Exit, integer, parseCommand, seconds, UsageError } from './usage.js';

const OPTIONS = {
  bind: { type: 'string', multiple: true },
  port: { type: 'string' },
  iface: { type: 'string' },
  state: { type: 'string' },
  'start-empty': { type: 'boolean' },
  'allow-ct-from': { type: 'string', multiple: true },
  oscore: { type: 'string' },
  leisure: { type: 'string' },
  'max-registrations': { type: 'string' },
  'no-simple-registration': { type: 'boolean' },
  'pid-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function tools(values: readonly string[] | undefined, oscore: string | undefined): ToolSpec[] | undefined {
  if (values === undefined) return undefined;
  return values.map((v) => {
    let spec: ToolSpec;
    try {
      spec = parseToolSpec(v);
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      throw new UsageError(
        `--allow-ct-from ${v} is neither an address prefix nor an OSCORE identity`,
        'e.g. --allow-ct-from 192.0.2.0/24 or --allow-ct-from 01 (a hex KID, with --oscore)',
      );
    }
    if ('kid' in spec && oscore === undefined) {
      throw new UsageError(`--allow-ct-from ${v} is an OSCORE identity: it needs --oscore FILE`);
    }
    return spec;
  });
}

/** `coap-group rd ...`: the directory itself, or one of its client commands. */
export async function runRd(argv: string[]): Promise<number> {
  if (argv[0] === 'register-group') return runRegisterGroup(argv.slice(1));
  if (argv[0] === 'lookup') return runLookup(argv.slice(1));
  if (argv[0] !== undefined && !argv[0].startsWith('-')) {
    throw new UsageError(`unknown rd command ${JSON.stringify(argv[0])}`, 'see coap-group rd --help');
  }
  const { values } = parseCommand('rd', argv, OPTIONS);
  if (values.bind === undefined)
    throw new UsageError('rd needs --bind ADDR', 'e.g. coap-group rd --bind 127.0.0.1');
  if (values['start-empty'] && values.state === undefined) {
    throw new UsageError('--start-empty needs --state DIR', 'e.g. --state ./rd-state --start-empty');
  }
  const commissioningTools = tools(values['allow-ct-from'], values.oscore);
  const port = integer('port', values.port, 0, 65535);
  const maxRegistrations = integer('max-registrations', values['max-registrations'], 1, 1_000_000);
  const leisure = seconds('leisure', values.leisure);
  const security = serverSecurity(values.oscore);
  const options: ServerOptions = {
    bind: values.bind,
    ...(values.iface !== undefined ? { iface: values.iface } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(leisure !== undefined ? { leisure } : {}),
    ...(security !== undefined ? { security } : {}),
  };
  const server = new CoapServer(options);
  const info = await server.listen();
  const pidFile = values['pid-file'];
  let rd: ResourceDirectory | undefined;
  try {
    rd = await attachResourceDirectory(server, {
      ...(values.state !== undefined ? { store: values.state } : {}),
      startEmpty: values['start-empty'] === true,
      ...(commissioningTools !== undefined ? { commissioningTools } : {}),
      ...(maxRegistrations !== undefined ? { limits: { maxRegistrations } } : {}),
      simpleRegistration: values['no-simple-registration'] !== true,
    });
    // Last, so that the file appears only once the directory answers, and no failure leaves it.
    if (pidFile !== undefined) writePidFile(pidFile);
  } catch (err) {
    await rd?.close();
    await server.close();
    throw err;
  }
  for (const w of [...info.warnings, ...rd.warnings()]) process.stderr.write(`coap-group: warning: ${w}\n`);
  const uris = info.endpoints.map((e) => `coap://${endpoint(e)}`).join(' ');
  const groups =
    server
      .memberships()
      .map((g) => endpoint({ address: g.group, port: g.port }))
      .join(',') || '-';
  process.stdout.write(`ready ${uris} groups ${groups}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  try {
    await rd.close();
    await server.close();
  } finally {
    if (pidFile !== undefined) removePidFile(pidFile);
  }
  return Exit.OK;
}
