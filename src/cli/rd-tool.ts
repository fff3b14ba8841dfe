/**
 * @module cli/rd-tool
 * The commissioning tool's and the lookup client's side of a resource directory:
 * `rd register-group RD-URI --name NAME --base coap://GROUP` registers a group (RFC 9176
 * Appendix A: `et=core.rd-group`, a multicast `base`, the links its members offer) and prints
 * its registration resource; `rd lookup RD-URI ep|res [QUERY]` prints the links found
 * (RFC 9176 §6), one per line, or one JSON object per link with `--json`. RD-URI may be `auto`.
 */

import { formatLinks, formatUri, type Link, LinkFormatError, parseLinks, parseUri } from '../entry/codec.js';
import {
  CoapClient,
  type CoapResponse,
  findOptions,
  findRdInterfaces,
  isMulticast,
  Opt,
  type RdInterfaces,
} from '../index.js';
import { clientSecurity } from './oscore-config.js';
import { Exit, integer, LOOPBACK, parseCommand, seconds, UsageError } from './usage.js';

const COMMON = {
  oscore: { type: 'string' },
  iface: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function withClient<T>(
  values: { oscore?: string; iface?: string },
  rdUri: string,
  fn: (client: CoapClient, rd: RdInterfaces) => Promise<T>,
): Promise<T> {
  const security = clientSecurity(values.oscore);
  const client = await CoapClient.create({
    iface: values.iface ?? LOOPBACK,
    ...(security !== undefined ? { security } : {}),
  });
  try {
    return await fn(client, await findRdInterfaces(client, rdUri));
  } finally {
    await client.close();
  }
}

/** A 4.xx/5.xx answer: one line on stderr, exit 1. */
function failed(what: string, res: CoapResponse): number {
  const diag = res.text();
  process.stderr.write(
    `coap-group: the ${what} failed: ${res.codeString} ${res.reason}${diag ? ` (${diag})` : ''}\n`,
  );
  return Exit.RESPONSE_ERROR;
}

/** `rd register-group RD-URI --name NAME --base coap://GROUP [--sector NAME] [--links LINKFORMAT]`. */
export async function runRegisterGroup(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    'rd register-group',
    argv,
    {
      ...COMMON,
      name: { type: 'string' },
      base: { type: 'string' },
      sector: { type: 'string' },
      links: { type: 'string' },
      lifetime: { type: 'string' },
    },
    1,
  );
  const rdUri = positionals[0];
  if (rdUri === undefined)
    throw new UsageError('rd register-group needs the RD URI', 'e.g. coap://127.0.0.1 or auto');
  if (values.name === undefined)
    throw new UsageError('rd register-group needs --name NAME', 'the group name (ep)');
  if (values.base === undefined) {
    throw new UsageError(
      'rd register-group needs --base coap://GROUP',
      'the group multicast address, e.g. coap://239.255.0.4',
    );
  }
  const base = parseUri(values.base);
  if (base.hostKind === 'name' || !isMulticast(base.host) || base.path.length > 0 || base.query.length > 0) {
    throw new UsageError(
      `--base ${values.base} is not coap://MULTICAST-ADDRESS[:PORT]`,
      'e.g. --base coap://239.255.0.4',
    );
  }
  let links = '';
  if (values.links !== undefined) {
    try {
      links = formatLinks(parseLinks(values.links));
    } catch (err) {
      if (!(err instanceof LinkFormatError)) throw err;
      throw new UsageError(`--links is not link format: ${err.message}`, "e.g. --links '</light>;rt=light'");
    }
  }
  const lifetime = integer('lifetime', values.lifetime, 1, 4294967295);
  const timeout = seconds('timeout', values.timeout) ?? 10;
  return withClient(values, rdUri, async (client, rd) => {
    const query = [
      `ep=${values.name}`,
      ...(values.sector !== undefined ? [`d=${values.sector}`] : []),
      'et=core.rd-group',
      `base=${formatUri(base).replace(/\/$/, '')}`,
      ...(lifetime !== undefined ? [`lt=${lifetime}`] : []),
    ];
    const res = await client.request({
      uri: formatUri({ ...parseUri(rd.registration!), query }),
      method: 'POST',
      payload: Buffer.from(links),
      format: 40,
      timeout: timeout * 1000,
    });
    if (res.codeString !== '2.01') return failed('registration', res);
    const path = findOptions(res.options, Opt.LocationPath).map((o) => `/${o.value.toString()}`);
    process.stdout.write(`${rd.origin}${path.join('')}\n`);
    return Exit.OK;
  });
}

/** One link as a flat JSON object: `href`, then each attribute (repeats as an array). */
function linkJson(l: Link): string {
  const o: Record<string, unknown> = { href: l.href };
  for (const [k, v] of l.attributes) {
    const prev = o[k];
    o[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return JSON.stringify(o);
}

/** `rd lookup RD-URI ep|res [QUERY] [--json]`. */
export async function runLookup(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    'rd lookup',
    argv,
    { ...COMMON, json: { type: 'boolean' } },
    3,
  );
  const [rdUri, kind, query] = positionals;
  if (rdUri === undefined || (kind !== 'ep' && kind !== 'res')) {
    throw new UsageError(
      'rd lookup needs the RD URI and ep or res',
      "e.g. coap-group rd lookup coap://127.0.0.1 res 'rt=light'",
    );
  }
  const timeout = seconds('timeout', values.timeout) ?? 10;
  return withClient(values, rdUri, async (client, rd) => {
    const at = kind === 'ep' ? rd.lookupEp : rd.lookupRes;
    if (at === undefined) {
      process.stderr.write(`coap-group: ${rd.origin} offers no ${kind} lookup (rt=core.rd-lookup-${kind})\n`);
      return Exit.FAILURE;
    }
    const args = query === undefined || query === '' ? [] : query.split('&');
    const res = await client.request({
      uri: formatUri({ ...parseUri(at), query: args }),
      accept: 40,
      timeout: timeout * 1000,
    });
    if (res.codeString !== '2.05') return failed('lookup', res);
    for (const l of parseLinks(res.text()))
      process.stdout.write(`${values.json ? linkJson(l) : formatLinks([l])}\n`);
    return Exit.OK;
  });
}
