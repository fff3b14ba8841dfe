/**
 * @module cli/console
 * `coap-group console`: the commissioning console (docs/console.md, RFC 7390 §3.6) on its own,
 * an HTTP-to-CoAP gateway for the local link that serves it. It listens on loopback unless
 * `--http-bind` says otherwise, sends group requests on `--iface` (default loopback) with hop
 * limit 1, forwards to loopback and the subnets of that interface only, takes group requests
 * from loopback clients only, and runs until stopped (SIGINT or SIGTERM, status 0). Prints one
 * line, `console URL`, when it serves; `--pid-file` is written just before it.
 */
import { type HttpGateway, InvalidArgumentError, startHttpGateway } from '../index.js';
import { removePidFile, writePidFile } from './pid-file.js';
import type { Session } from './session.js';
import { integer, LOOPBACK, parseCommand, UsageError } from './usage.js';

const OPTIONS = {
  'http-port': { type: 'string' },
  'http-bind': { type: 'string' },
  'http-allow-target': { type: 'string', multiple: true },
  'http-host-name': { type: 'string', multiple: true },
  iface: { type: 'string' },
  group: { type: 'string' },
  rd: { type: 'string' },
  wait: { type: 'string' },
  'pid-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What a console gateway is started with. */
export interface ConsoleSettings {
  readonly port: number;
  readonly host: string;
  readonly iface: string;
  readonly group?: string | undefined;
  readonly rd?: string | undefined;
  readonly wait?: number | undefined;
  readonly targets?: string[] | undefined;
  readonly hostnames?: string[] | undefined;
}

/**
 * Starts a gateway serving the console.
 * @throws UsageError for a bad setting, in the command line's words.
 */
export async function startConsoleGateway(s: ConsoleSettings): Promise<HttpGateway> {
  try {
    return await startHttpGateway({
      port: s.port,
      host: s.host,
      iface: s.iface,
      ...(s.targets !== undefined ? { targets: s.targets } : {}),
      ...(s.hostnames !== undefined ? { hostnames: s.hostnames } : {}),
      console: {
        ...(s.group !== undefined ? { group: s.group } : {}),
        ...(s.rd !== undefined ? { rd: s.rd } : {}),
        ...(s.wait !== undefined ? { wait: s.wait } : {}),
      },
    });
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    throw new UsageError(
      err.message
        .replace(/^console\.(group|rd|wait) /, '--$1 ')
        .replace(/^targets: /, '--http-allow-target: ')
        .replace(/^port /, '--http-port '),
      'see coap-group console --help',
    );
  }
}

/** Waits until the run is stopped from outside. */
export function untilStopped(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export async function runConsole(argv: string[], session: Session): Promise<number> {
  const { values } = parseCommand('console', argv, OPTIONS);
  const wait = integer('wait', values.wait, 1, 60);
  const gateway = await startConsoleGateway({
    port: integer('http-port', values['http-port'], 0, 65535) ?? 8080,
    host: values['http-bind'] ?? LOOPBACK,
    iface: values.iface ?? LOOPBACK,
    group: values.group,
    rd: values.rd,
    wait,
    targets: values['http-allow-target'],
    hostnames: values['http-host-name'],
  });
  const pidFile = values['pid-file'];
  try {
    if (pidFile !== undefined) writePidFile(pidFile);
    process.stdout.write(`console ${gateway.address!.origin}/console/\n`);
    await untilStopped(session.signal);
  } finally {
    await gateway.close();
    if (pidFile !== undefined) removePidFile(pidFile);
  }
  return 0;
}
