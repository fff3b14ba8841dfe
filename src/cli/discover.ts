/**
 * @module cli/discover
 * `coap-group discover [GROUP-URI]`: multicast GET /.well-known/core (RFC 7252 §7.2, RFC 7390
 * §2.2) and a list of every node that answered with its links. Nodes whose links do not match
 * the query stay silent (RFC 6690 §4.1).
 */
import { parseArgs } from 'node:util';
import { ALL_COAP_NODES_IPV4, CoapClient, type CoapUri, parseLinks, parseUri } from '../index.js';
import { endpoint } from './output.js';
import { integer, LOOPBACK, seconds, UsageError } from './usage.js';

const OPTIONS = {
  wait: { type: 'string' },
  iface: { type: 'string' },
  hops: { type: 'string' },
  json: { type: 'boolean' },
  query: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runDiscover(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${positionals[1]}`);
  const base = parseUri(positionals[0] ?? `coap://${ALL_COAP_NODES_IPV4}`);
  const uri: CoapUri = {
    ...base,
    path: ['.well-known', 'core'],
    query: [...base.query, ...(values.query ?? [])],
  };
  const wait = seconds('wait', values.wait);
  const hops = integer('hops', values.hops, 0, 255);
  const client = await CoapClient.create({
    iface: values.iface ?? LOOPBACK,
    ...(hops !== undefined ? { hops } : {}),
  });
  try {
    const responses = client.group({
      uri,
      accept: 40,
      ...(wait !== undefined ? { window: wait * 1000 } : {}),
    });
    for await (const r of responses) {
      let links: ReturnType<typeof parseLinks> = [];
      let error: string | undefined;
      try {
        links = r.ok ? parseLinks(r.text()) : [];
      } catch (err) {
        error = (err as Error).message;
      }
      if (values.json) {
        process.stdout.write(
          `${JSON.stringify({ from: endpoint(r.source), code: r.codeString, ms: Math.round(r.elapsedMs), links, ...(error ? { error } : {}) })}\n`,
        );
        continue;
      }
      process.stdout.write(
        `${endpoint(r.source)}  ${r.codeString} ${r.reason}  (${Math.round(r.elapsedMs)} ms)\n`,
      );
      for (const l of links) {
        const attrs = l.attributes
          .map(([k, v]) => (v === true ? k : `${k}=${/^\d+$/.test(v) ? v : JSON.stringify(v)}`))
          .join(' ');
        process.stdout.write(`    ${l.href}${attrs ? `  ${attrs}` : ''}\n`);
      }
      if (error) process.stdout.write(`    (unreadable link format: ${error})\n`);
    }
    const s = await responses.done;
    process.stderr.write(
      `${s.endpoints} node${s.endpoints === 1 ? '' : 's'} answered in ${Math.round(s.elapsedMs)} ms\n`,
    );
    return 0;
  } finally {
    await client.close();
  }
}
