/**
 * @module cli/discover
 * `coap-group discover [GROUP-URI]`: multicast GET /.well-known/core (RFC 7252 §7.2, RFC 7390
 * §2.2) and a list of every node that answered with its links. Nodes whose links do not match
 * the query stay silent (RFC 6690 §4.1). When no node answers, it says so and exits 3, like a
 * group request nobody answered.
 */
import { parseArgs } from 'node:util';
import { parseLinks, parseUri } from '../entry/codec.js';
import { ALL_COAP_NODES_IPV4, CoapClient, type CoapUri } from '../index.js';
import { endpoint } from './output.js';
import type { Session } from './session.js';
import { Exit, integer, LOOPBACK, seconds, UsageError } from './usage.js';

const OPTIONS = {
  wait: { type: 'string' },
  iface: { type: 'string' },
  hops: { type: 'string' },
  json: { type: 'boolean' },
  query: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runDiscover(argv: string[], session: Session): Promise<number> {
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
      signal: session.signal,
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
    if (session.stopReason === 'closed-output') return Exit.OK; // the reader has what it wanted
    const target = endpoint({ address: uri.host, port: uri.port });
    const silent = s.endpoints === 0 && s.reason === 'window';
    const error = silent
      ? `no node answered discovery on ${target} within ${Number((s.elapsedMs / 1000).toFixed(1))} s`
      : undefined;
    const status = silent ? Exit.TIMEOUT : Exit.OK;
    if (values.json) {
      const summary = {
        nodes: s.endpoints,
        ms: Math.round(s.elapsedMs),
        reason: s.reason,
        target,
        exit: status,
      };
      process.stderr.write(`${JSON.stringify(error ? { ...summary, error } : summary)}\n`);
    } else if (error !== undefined) {
      const hint = `check --iface ${values.iface ?? LOOPBACK} and that the nodes joined the group${values.query ? '; nodes whose links do not match --query stay silent' : ''}`;
      process.stderr.write(`coap-group: ${error} (${hint})\n`);
    } else {
      process.stderr.write(
        `${s.endpoints} node${s.endpoints === 1 ? '' : 's'} answered in ${Math.round(s.elapsedMs)} ms\n`,
      );
    }
    return status;
  } finally {
    await client.close();
  }
}
