/**
 * @module cli/serve
 * `coap-group serve`: one CoAP node with value resources, group memberships and discovery.
 * Every resource, `/coap-group` included, is in place before the first socket is bound, so no
 * request ever finds one missing. Prints exactly one `ready ...` line once every socket is bound,
 * every group joined and, with `--rd`, the node registered and in its directory groups (and
 * writes `--pid-file` just before, so that the file too means ready), and exits cleanly, status
 * 0, on SIGTERM or SIGINT (design.md §CLI contract). A handler that fails is logged on stderr.
 */
import { readFileSync } from 'node:fs';
import { resolveInterface, UdpTransport } from '../entry/transport.js';
import {
  type AccessPolicy,
  attachGroupConfig,
  CidrAccessPolicy,
  CoapServer,
  type GroupConfig,
  IdentityAccessPolicy,
  parseController,
  type ResourceOptions,
  type SecureResourceOptions,
  type ServerOptions,
} from '../index.js';
import { serverSecurity } from './oscore-config.js';
import { endpoint } from './output.js';
import { removePidFile, writePidFile } from './pid-file.js';
import { interfaceAddresses, socketUri, watchAddresses } from './serve-addresses.js';
import { readServeConfig } from './serve-config.js';
import { checkServeRd, RD_SERVE_OPTIONS, type ServeRd, startServeRd } from './serve-rd.js';
import type { Session } from './session.js';
import { logServerErrors } from './trace.js';
import { integer, LOOPBACK, parseCommand, seconds, UsageError } from './usage.js';

const OPTIONS = {
  bind: { type: 'string', multiple: true },
  port: { type: 'string' },
  iface: { type: 'string', multiple: true },
  join: { type: 'string', multiple: true },
  'no-default-groups': { type: 'boolean' },
  leisure: { type: 'string' },
  resource: { type: 'string', multiple: true },
  multicast: { type: 'string', multiple: true },
  config: { type: 'string' },
  state: { type: 'string' },
  'allow-config-from': { type: 'string', multiple: true },
  'start-empty': { type: 'boolean' },
  oscore: { type: 'string' },
  'require-oscore': { type: 'boolean' },
  'pairwise-responses': { type: 'boolean' },
  'config-controller': { type: 'string', multiple: true },
  'pid-file': { type: 'string' },
  ...RD_SERVE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

/** The port RFC 7390 §2.3 expects discovery on (All CoAP Nodes). */
const COAP_PORT = 5683;

/**
 * Adds a value resource: GET reads the value, PUT replaces it (RFC 7252 §5.8.1, §5.8.3) and
 * notifies observers (RFC 7641). Special values: `@FILE` serves a file's bytes (block-wise when
 * large), `#counter` an observable counter and `#clock` an observable clock, both ticking every
 * second. Returns a function that stops the ticking.
 */
export function addValueResource(
  server: CoapServer,
  path: string,
  initial: string,
  options: ResourceOptions & SecureResourceOptions,
): () => void {
  if (initial.startsWith('@')) {
    const file = initial.slice(1);
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch (err) {
      throw new UsageError(
        `--resource ${path}=@${file}: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
    server.resource(path, { ct: 42, sz: body.length, ...options }).get(() => ({ payload: body, format: 42 }));
    return () => {};
  }
  let value = initial;
  let tick: NodeJS.Timeout | undefined;
  if (initial === '#counter' || initial === '#clock') {
    let n = 0;
    const next = () => (initial === '#counter' ? String(n++) : new Date().toISOString());
    value = next();
    tick = setInterval(() => {
      value = next();
      server.notify(path);
    }, 1000);
  }
  server
    .resource(path, { ct: 0, obs: true, ...options })
    .get(() => ({ payload: value, format: 0 }))
    .put((req) => {
      value = req.text();
      server.notify(path);
      return { code: '2.04' };
    });
  return () => clearInterval(tick);
}

export async function runServe(argv: string[], session: Session): Promise<number> {
  const { values } = parseCommand('serve', argv, OPTIONS);
  if (values['start-empty'] && values.state === undefined) {
    throw new UsageError('--start-empty needs --state DIR', 'e.g. --state ./state --start-empty');
  }
  let policy: AccessPolicy;
  try {
    // Default: loopback only may change /coap-group; anyone may read it (RFC 7390 §2.6.2).
    const writers = values['allow-config-from'];
    const addresses = new CidrAccessPolicy(writers !== undefined ? { writers } : {});
    const controllers = values['config-controller'];
    if (controllers !== undefined && values.oscore === undefined) {
      throw new UsageError('--config-controller needs --oscore FILE', 'controllers are OSCORE identities');
    }
    // With controllers named, only they may change the configuration: unprotected changes get
    // 4.01, and an address allow-list applies only if given explicitly.
    policy =
      controllers === undefined
        ? addresses
        : new IdentityAccessPolicy({
            controllers: controllers.map(parseController),
            ...(writers !== undefined ? { unprotectedFallback: addresses } : {}),
          });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `${(err as Error).message.replace(/^writers: /, '--allow-config-from: ').replace(/^controllers\[0\]\./, '--config-controller ')}`,
      'give one CIDR per --allow-config-from and one hex KID[@IDCONTEXT] per --config-controller',
    );
  }
  // Several --iface: a node on several links, joining its groups on each (RFC 7390 §4.1).
  const ifaceNames = values.iface ?? [LOOPBACK];
  const names = ifaceNames.map((n) => resolveInterface(n).name ?? n);
  const bind = values.bind ?? interfaceAddresses(names);
  if (bind.length === 0)
    throw new UsageError(`interface ${ifaceNames.join(', ')} has no address to bind`, 'give --bind ADDR');
  const config = values.config !== undefined ? readServeConfig(values.config) : { resources: [] };
  const leisure = seconds('leisure', values.leisure) ?? config.leisure;
  const port = integer('port', values.port, 0, 65535);
  if ((values['require-oscore'] || values['pairwise-responses']) && values.oscore === undefined) {
    const flag = values['require-oscore'] ? '--require-oscore' : '--pairwise-responses';
    throw new UsageError(`${flag} needs --oscore FILE`, 'e.g. --oscore keys/server.json');
  }
  const security = serverSecurity(values.oscore, {
    pairwiseResponses: values['pairwise-responses'] === true,
  });
  const options: ServerOptions = {
    ...(security !== undefined ? { security } : {}),
    ...(values['require-oscore'] ? { requireProtection: true } : {}),
    bind,
    iface: ifaceNames,
    joinAllCoapNodes: !values['no-default-groups'],
    groups: [...(config.join ?? []), ...(values.join ?? [])],
    ...(port !== undefined ? { port } : {}),
    ...(leisure !== undefined ? { leisure } : {}),
  };
  const server = new CoapServer(options);
  const multicast = new Set(values.multicast ?? []);
  const groupPaths = [...multicast, ...config.resources.filter((r) => r.multicast).map((r) => r.path)];
  checkServeRd(values, groupPaths);
  const stops: Array<() => void> = [];
  const declared = new Set<string>();
  let groupConfig: GroupConfig | undefined;
  let info: Awaited<ReturnType<CoapServer['listen']>>;
  // Logged for the node's whole life: a failing handler is otherwise only a 5.00 on the wire.
  const offErrors = logServerErrors((line) => session.note(line), session.debug);
  try {
    for (const r of config.resources) {
      stops.push(
        addValueResource(server, r.path, r.value, {
          ...(r.rt ? { rt: r.rt } : {}),
          ...(r.title ? { title: r.title } : {}),
          ...(r.multicast !== undefined ? { multicast: r.multicast } : {}),
        }),
      );
      declared.add(r.path);
    }
    for (const spec of values.resource ?? []) {
      const eq = spec.indexOf('=');
      const path = eq < 0 ? spec : spec.slice(0, eq);
      if (!path.startsWith('/'))
        throw new UsageError(`--resource ${spec}: the path must start with /`, 'e.g. --resource /light=off');
      stops.push(addValueResource(server, path, eq < 0 ? '' : spec.slice(eq + 1), {}));
      declared.add(path);
    }
    for (const path of multicast) {
      if (!declared.has(path) && path !== '/.well-known/core') {
        throw new UsageError(
          `--multicast ${path} names no resource`,
          `declare it with --resource ${path}=VALUE`,
        );
      }
      server.resource(path, { multicast: true });
    }
    // Before the sockets: /coap-group answers from the first request on, and a state that
    // cannot be used stops the node before it binds anything (RFC 7390 §2.6.2).
    groupConfig = await attachGroupConfig(server, {
      ...(values.state !== undefined ? { store: values.state } : {}),
      startEmpty: values['start-empty'] === true,
      policy,
      beforeListen: true,
    });
    info = await server.listen();
    // Before 'ready': a restarted node is back in its /coap-group groups.
    await groupConfig.refresh();
  } catch (err) {
    // Counters and clocks already tick: stop them, or the process would not exit.
    for (const stop of stops) stop();
    offErrors();
    await groupConfig?.close();
    await server.close();
    throw err;
  }
  for (const w of info.warnings) process.stderr.write(`coap-group: warning: ${w}\n`);
  const status = groupConfig.status();
  for (const w of status.warnings) process.stderr.write(`coap-group: warning: ${w}\n`);
  for (const e of status.entries) {
    if (e.state !== 'joined') {
      process.stderr.write(`coap-group: warning: /coap-group entry ${e.index} is not joined: ${e.reason}\n`);
    }
  }
  const bound = info.endpoints[0]?.port ?? COAP_PORT;
  if (bound !== COAP_PORT && options.joinAllCoapNodes) {
    // RFC 7390 §2.3 expects discovery on 5683; this node takes group requests on its own port only.
    process.stderr.write(
      `coap-group: note: this node answers discovery on port ${bound}, not ${COAP_PORT}: find it with coap-group discover coap://224.0.1.187:${bound}\n`,
    );
  }
  // Registered with the resource directory and in its groups before 'ready' (when reachable).
  // The PID file is the last thing written, so that it appears only once the node is ready and
  // no failure can leave it behind.
  const pidFile = values['pid-file'];
  let rd: ServeRd | undefined;
  try {
    rd = await startServeRd(server, values, groupPaths);
    if (pidFile !== undefined) writePidFile(pidFile);
  } catch (err) {
    for (const stop of stops) stop();
    await rd?.close();
    await groupConfig.close();
    await server.close();
    offErrors();
    throw err;
  }
  const uris = info.endpoints.map(socketUri).join(' ');
  // One entry per group, however many interfaces it is joined on.
  const groups =
    [...new Set(server.memberships().map((g) => endpoint({ address: g.group, port: g.port })))].join(',') ||
    '-';
  // Without --bind the addresses follow the interfaces: one that appears later is served too.
  const transport = server.messenger.transport;
  const unwatch =
    values.bind === undefined && transport instanceof UdpTransport
      ? watchAddresses(transport, names, port ?? COAP_PORT, (line) =>
          process.stderr.write(`coap-group: note: ${line}\n`),
        )
      : () => {};
  process.stdout.write(`ready ${uris} groups ${groups}\n`);
  await new Promise<void>((resolve) => {
    if (session.signal.aborted) resolve();
    else session.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  unwatch();
  try {
    for (const stop of stops) stop();
    await rd.close();
    await groupConfig.close();
    await server.close();
    offErrors();
  } finally {
    if (pidFile !== undefined) removePidFile(pidFile);
  }
  return 0;
}
