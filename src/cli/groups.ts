/**
 * @module cli/groups
 * `coap-group groups list|add|update|remove|replace NODE-URI ...`: a client for one node's Group
 * Configuration resource (RFC 7390 §2.6.2), over unicast only. Memberships are checked here
 * with the same codec the node uses (RFC 7390 §2.6.2.1), so a typo is a usage error (exit 2)
 * before anything is sent; a 4.xx/5.xx answer is exit 1 (design.md §CLI contract). The node
 * answers a DELETE of an index it does not have with 2.02, as DELETE is idempotent (RFC 7252
 * §5.8.4), so `remove` reads the entry first and reports the 4.04 of a mistyped index (after
 * the DELETE, so that a refusal still says why).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  formatCollection,
  formatMembership,
  GroupJsonError,
  isValidIndex,
  type MembershipCollection,
  normaliseIndex,
  parseCollection,
  parseGroupAddress,
  parseGroupName,
  type parseMembership,
  parseUri,
} from '../entry/codec.js';
import {
  CoapClient,
  type CoapUri,
  ContentFormat,
  isMulticast,
  resolveHost,
  systemResolver,
} from '../index.js';
import { type GroupsIo, report, type Sub } from './groups-report.js';
import { clientSecurity } from './oscore-config.js';
import { Exit, seconds, UsageError } from './usage.js';

/**
 * A group membership object (RFC 7390 §2.6.2.1). Named through the codec because the index's
 * `Membership` is the transport's type of the same name.
 */
type GroupMembership = ReturnType<typeof parseMembership>;

export type { GroupsIo } from './groups-report.js';

export const GROUPS_HELP = `Usage: coap-group groups COMMAND NODE-URI [options]

  list NODE-URI                                  show the node's group memberships
  add NODE-URI --address A[:PORT] | --name HOST[:PORT]
                                                 create a membership (both may be given; "a" wins)
  update NODE-URI INDEX --address ... | --name ...
                                                 replace (or create) the membership at INDEX
  remove NODE-URI INDEX                          delete the membership at INDEX (4.04, exit 1,
                                                 when the node has none there)
  replace NODE-URI --file F.json                 replace all memberships with F.json ('-': stdin),
                                                 e.g. {"1":{"a":"239.1.2.3"},"2":{"n":"lights.example.com"}}

  --json               one JSON object on stdout instead of text
  --source ADDR        local address to send from
  --timeout SECONDS    give up after this long
  --oscore FILE        protect the requests with the OSCORE key file FILE (docs/security.md)
NODE-URI is the node's unicast URI, e.g. coap://127.0.0.2; a path (coap://node/cfg/groups) names
the resource, default /coap-group. Changes need the node's permission (serve --allow-config-from,
or serve --config-controller with --oscore).`;

const OPTIONS = {
  address: { type: 'string' },
  name: { type: 'string' },
  file: { type: 'string' },
  json: { type: 'boolean' },
  source: { type: 'string' },
  timeout: { type: 'string' },
  oscore: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SUBS: readonly Sub[] = ['list', 'add', 'update', 'remove', 'replace'];
/** Positionals after NODE-URI, and the options each command takes. */
const SHAPE: Record<Sub, { index: boolean; options: readonly string[] }> = {
  list: { index: false, options: [] },
  add: { index: false, options: ['address', 'name'] },
  update: { index: true, options: ['address', 'name'] },
  remove: { index: true, options: [] },
  replace: { index: false, options: ['file'] },
};
const SPECIFIC = ['address', 'name', 'file'] as const;

const processIo: GroupsIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

function usageHint(sub: Sub | undefined): string {
  switch (sub) {
    case 'add':
      return 'e.g. coap-group groups add coap://127.0.0.2 --address 239.1.2.3';
    case 'update':
      return 'e.g. coap-group groups update coap://127.0.0.2 3 --address 239.1.2.4:5683';
    case 'remove':
      return 'e.g. coap-group groups remove coap://127.0.0.2 3';
    case 'replace':
      return 'e.g. coap-group groups replace coap://127.0.0.2 --file groups.json';
    default:
      return 'e.g. coap-group groups list coap://127.0.0.2; see coap-group groups --help';
  }
}

/** The membership given by --address and --name, checked with the node's own codec. */
function membershipFrom(values: { address?: string; name?: string }, sub: Sub): GroupMembership {
  if (values.address === undefined && values.name === undefined) {
    throw new UsageError(`groups ${sub} needs --address or --name`, usageHint(sub));
  }
  const checked = <T>(flag: string, read: () => T): T => {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof GroupJsonError)) throw err;
      throw new UsageError(
        `--${flag}: ${err.message.replace(/^group (address|name): /, '')}`,
        usageHint(sub),
      );
    }
  };
  const m: GroupMembership = {};
  if (values.name !== undefined) m.n = checked('name', () => parseGroupName(values.name!));
  if (values.address !== undefined) m.a = checked('address', () => parseGroupAddress(values.address!));
  return m;
}

function readCollection(file: string): MembershipCollection {
  let text: Buffer;
  try {
    text = readFileSync(file === '-' ? 0 : file);
  } catch (err) {
    throw new UsageError(`cannot read --file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return parseCollection(text);
  } catch (err) {
    if (err instanceof GroupJsonError) {
      throw new UsageError(
        `--file ${file}: ${err.message}`,
        'the file is one JSON object of index to membership',
      );
    }
    throw err;
  }
}

/** The node URI, unicast and `coap`, with the resource path (default /coap-group). */
async function nodeUri(text: string | undefined, sub: Sub): Promise<CoapUri> {
  if (text === undefined) throw new UsageError(`groups ${sub} needs a NODE-URI`, usageHint(sub));
  let uri: CoapUri;
  try {
    uri = parseUri(text);
  } catch (err) {
    throw new UsageError((err as Error).message, 'e.g. coap://127.0.0.2 or coap://[::1]:5683');
  }
  if (uri.scheme !== 'coap') {
    throw new UsageError(`${text}: coaps is not supported yet`, 'use a coap:// URI');
  }
  if (uri.query.length > 0) throw new UsageError(`${text}: a NODE-URI has no query`, usageHint(sub));
  const address = await resolveHost(uri.host, systemResolver);
  if (isMulticast(address)) {
    throw new UsageError(
      `${text} is a group: /coap-group is configured one node at a time, over unicast (RFC 7390 §2.6.2)`,
      'give the node’s own address, e.g. coap://127.0.0.2',
    );
  }
  return { ...uri, path: uri.path.length === 0 ? ['coap-group'] : uri.path };
}

/** Runs `coap-group groups ...` (argv without `groups`); resolves with the exit code. */
export async function runGroups(
  argv: string[],
  io: GroupsIo = processIo,
  signal?: AbortSignal,
): Promise<number> {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(
      (err as Error).message.split('\n')[0] ?? 'bad arguments',
      'see coap-group groups --help',
    );
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(`${GROUPS_HELP}\n`);
    return Exit.OK;
  }
  const [subText, uriText, ...rest] = positionals;
  if (subText === undefined) throw new UsageError('groups needs a command', usageHint(undefined));
  if (!SUBS.includes(subText as Sub)) {
    throw new UsageError(
      `unknown groups command ${JSON.stringify(subText)}`,
      'use list, add, update, remove or replace',
    );
  }
  const sub = subText as Sub;
  const shape = SHAPE[sub];
  for (const o of SPECIFIC) {
    if (values[o] !== undefined && !shape.options.includes(o)) {
      throw new UsageError(`groups ${sub} does not take --${o}`, usageHint(sub));
    }
  }
  let index: string | undefined;
  if (shape.index) {
    const raw = rest.shift();
    if (raw === undefined) throw new UsageError(`groups ${sub} needs an INDEX`, usageHint(sub));
    if (!isValidIndex(raw)) {
      throw new UsageError(
        `INDEX ${JSON.stringify(raw)} is not 1 or 2 letters or digits`,
        'take it from coap-group groups list NODE-URI',
      );
    }
    index = normaliseIndex(raw);
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`, usageHint(sub));
  if (sub === 'replace' && values.file === undefined) {
    throw new UsageError('groups replace needs --file F.json', usageHint(sub));
  }
  const timeout = seconds('timeout', values.timeout);
  // Everything the user typed is checked before any socket is opened.
  const membership = sub === 'add' || sub === 'update' ? membershipFrom(values, sub) : undefined;
  const collection = sub === 'replace' ? readCollection(values.file!) : undefined;
  const uri = await nodeUri(uriText, sub);
  const target: CoapUri = index === undefined ? uri : { ...uri, path: [...uri.path, index] };

  const security = clientSecurity(values.oscore);
  const client = await CoapClient.create({
    ...(values.source !== undefined ? { bind: [{ address: values.source, port: 0 }] } : {}),
    ...(security !== undefined ? { security } : {}),
  });
  try {
    const payload =
      membership !== undefined
        ? formatMembership(membership)
        : collection !== undefined
          ? formatCollection(collection)
          : undefined;
    const common = {
      uri: target,
      ...(timeout !== undefined ? { timeout: timeout * 1000 } : {}),
      ...(signal !== undefined ? { signal } : {}),
    };
    const context = { uri, index, count: collection?.size, json: values.json === true };
    // Read first: the node answers a DELETE of a missing index with 2.02 too.
    const entry =
      sub === 'remove' ? await client.request({ ...common, accept: ContentFormat.CoapGroupJson }) : undefined;
    const res = await client.request({
      ...common,
      method: sub === 'list' ? 'GET' : sub === 'add' ? 'POST' : sub === 'remove' ? 'DELETE' : 'PUT',
      ...(payload !== undefined
        ? { payload: Buffer.from(payload), format: ContentFormat.CoapGroupJson }
        : {}),
      ...(sub === 'list' ? { accept: ContentFormat.CoapGroupJson } : {}),
    });
    // A refused DELETE says why (4.01, 4.03, 5.03); an accepted one of nothing is the 4.04 read.
    if (res.ok && entry?.codeString === '4.04') return report(io, sub, entry, context);
    return report(io, sub, res, context);
  } finally {
    await client.close();
  }
}
