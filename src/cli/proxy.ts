/**
 * @module cli/proxy
 * `coap-group proxy`: a CoAP forward and reverse proxy (RFC 7252 §5.7) that also forwards to
 * groups for allow-listed clients (RFC 7390 §2.9, draft-ietf-core-groupcomm-proxy). Group
 * forwarding is on when `--allow-groups-from` or `--reverse` is given; forwarded group requests
 * leave on `--iface` (default: the interface of the first `--bind`, loopback for 127.0.0.0/8)
 * with `--hops`. Prints one
 * `ready ...` line once every socket is bound (extensions, cli/proxy-extensions, add theirs),
 * and exits cleanly, status 0, on SIGTERM or SIGINT (design.md §CLI contract).
 */
import type { ParseArgsConfig } from 'node:util';
import {
  type AllowEntry,
  CoapError,
  CoapProxy,
  type ProxyMembership,
  type ProxyOptions,
  type ReverseRoute,
} from '../index.js';
import { serverSecurity } from './oscore-config.js';
import { removePidFile, writePidFile } from './pid-file.js';
import { PROXY_EXTENSIONS, type ProxyArgValues, type StartedExtension } from './proxy-extensions.js';
import { socketUri } from './serve-addresses.js';
import type { Session } from './session.js';
import { logServerErrors } from './trace.js';
import { integer, LOOPBACK, parseCommand, seconds, UsageError } from './usage.js';

/** The proxy's own options. */
const OWN = {
  bind: { type: 'string', multiple: true },
  port: { type: 'string' },
  iface: { type: 'string' },
  hops: { type: 'string' },
  'allow-groups-from': { type: 'string', multiple: true },
  reverse: { type: 'string', multiple: true },
  'cache-size': { type: 'string' },
  'max-timeout': { type: 'string' },
  members: { type: 'string', multiple: true },
  'learn-members': { type: 'boolean' },
  oscore: { type: 'string' },
  'pid-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The options of `coap-group proxy`, its extensions' (cli/proxy-extensions) included. */
export const PROXY_OPTIONS: NonNullable<ParseArgsConfig['options']> = Object.assign(
  {},
  OWN,
  ...PROXY_EXTENSIONS.map((e) => e.options),
);

const KID = /^kid:((?:[0-9a-fA-F]{2})*)(?:@((?:[0-9a-fA-F]{2})*))?$/;

/** `CIDR[=GROUP-URI]` or `kid:HEX[@IDCONTEXT][=GROUP-URI]`. */
function allowEntry(spec: string): AllowEntry {
  const eq = spec.indexOf('=');
  const who = eq < 0 ? spec : spec.slice(0, eq);
  const groups = eq < 0 ? {} : { groups: [spec.slice(eq + 1)] };
  const kid = KID.exec(who);
  if (kid === null) return { from: who, ...groups };
  return {
    kid: kid[1]!.toLowerCase(),
    ...(kid[2] !== undefined ? { idContext: kid[2].toLowerCase() } : {}),
    ...groups,
  };
}

function reverseRoute(spec: string): ReverseRoute {
  const eq = spec.indexOf('=');
  if (eq < 0)
    throw new UsageError(`--reverse ${spec} has no group`, 'e.g. --reverse /room3=coap://239.255.0.3');
  return { path: spec.slice(0, eq), group: spec.slice(eq + 1) };
}

function membership(specs: readonly string[] | undefined, learn: boolean): ProxyMembership | undefined {
  if (learn) {
    if (specs !== undefined)
      throw new UsageError('--members and --learn-members exclude each other', 'give one of them');
    return 'learned';
  }
  if (specs === undefined) return undefined;
  const out: Record<string, string[]> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq < 0)
      throw new UsageError(
        `--members ${spec} lists no member`,
        'e.g. --members coap://239.255.0.3=10.0.0.2,10.0.0.3',
      );
    out[spec.slice(0, eq)] = spec
      .slice(eq + 1)
      .split(',')
      .filter((m) => m !== '');
  }
  return out;
}

/** The library options for the command line. */
function optionsOf(values: ProxyArgValues): ProxyOptions {
  const bind = values.bind as string[] | undefined;
  if (bind === undefined)
    throw new UsageError(
      'proxy needs --bind ADDR',
      'the address clients reach the proxy on, e.g. --bind 127.0.0.1',
    );
  const allow = (values['allow-groups-from'] as string[] | undefined)?.map(allowEntry);
  const reverse = (values.reverse as string[] | undefined)?.map(reverseRoute);
  const members = membership(values.members as string[] | undefined, values['learn-members'] === true);
  const maxTimeout = seconds('max-timeout', values['max-timeout'] as string | undefined);
  if (maxTimeout !== undefined && !Number.isInteger(maxTimeout))
    throw new UsageError(`--max-timeout ${maxTimeout} must be whole seconds`, 'e.g. --max-timeout 60');
  const grouped = allow !== undefined || reverse !== undefined;
  if (!grouped && (members !== undefined || maxTimeout !== undefined))
    throw new UsageError(
      '--members, --learn-members and --max-timeout need group forwarding',
      'add --allow-groups-from CIDR',
    );
  const port = integer('port', values.port as string | undefined, 0, 65535);
  const hops = integer('hops', values.hops as string | undefined, 0, 255);
  const cacheSize = integer('cache-size', values['cache-size'] as string | undefined, 0, 1_000_000);
  const security = serverSecurity(values.oscore as string | undefined);
  // A loopback address other than 127.0.0.1 belongs to no interface by name: lo is 127.0.0.1's.
  const first = bind[0]!;
  const iface =
    (values.iface as string | undefined) ??
    (first.startsWith('127.') ? LOOPBACK : first === '::1' ? 'lo' : first);
  return {
    bind,
    ...(grouped ? { iface } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(hops !== undefined ? { hops } : {}),
    ...(cacheSize !== undefined ? { cache: { entries: cacheSize } } : {}),
    ...(security !== undefined ? { security } : {}),
    ...(grouped
      ? {
          groups: {
            allow: allow ?? [],
            ...(reverse !== undefined ? { reverse } : {}),
            ...(maxTimeout !== undefined ? { maxTimeout } : {}),
            ...(members !== undefined ? { membership: members } : {}),
          },
        }
      : {}),
  };
}

export async function runProxy(argv: string[], session: Session): Promise<number> {
  const { values } = parseCommand('proxy', argv, PROXY_OPTIONS);
  const v = values as ProxyArgValues;
  const options = optionsOf(v);
  for (const e of PROXY_EXTENSIONS) e.check?.(v);
  if (options.groups !== undefined && options.groups.allow?.length === 0)
    process.stderr.write('coap-group: note: no --allow-groups-from: every client gets 4.01 for a group\n');
  let proxy: CoapProxy;
  try {
    proxy = new CoapProxy(options);
  } catch (err) {
    if (err instanceof CoapError && err.code === 'ERR_COAP_INVALID_ARGUMENT')
      throw new UsageError(
        err.message.replace(/^allow\[\d+\]/, '--allow-groups-from').replace(/^reverse\[\d+\]/, '--reverse'),
        'see coap-group proxy --help',
      );
    throw err;
  }
  const offErrors = logServerErrors((line) => session.note(line), session.debug);
  const started: StartedExtension[] = [];
  const pidFile = v['pid-file'] as string | undefined;
  const stop = async () => {
    for (const s of started.reverse()) await s.close();
    await proxy.close();
    offErrors();
  };
  let ready: string;
  try {
    const info = await proxy.listen();
    ready = info.endpoints.map(socketUri).join(' ');
    const context = {
      proxy,
      options,
      note: (line: string) => process.stderr.write(`coap-group: note: ${line}\n`),
    };
    for (const e of PROXY_EXTENSIONS) {
      const s = await e.start(v, context);
      if (s !== undefined) {
        started.push(s);
        ready += ` ${s.ready}`;
      }
    }
    if (pidFile !== undefined) writePidFile(pidFile);
  } catch (err) {
    await stop();
    throw err;
  }
  process.stdout.write(`ready ${ready}\n`);
  await new Promise<void>((resolve) => {
    if (session.signal.aborted) resolve();
    else session.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    await stop();
  } finally {
    if (pidFile !== undefined) removePidFile(pidFile);
  }
  return 0;
}
