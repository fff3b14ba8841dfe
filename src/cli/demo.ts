/**
 * @module cli/demo
 * `coap-group demo` (and `npm start`): a room of N nodes on 127.0.0.2.. on this machine, all in
 * All CoAP Nodes on the loopback interface. A controller discovers them with one multicast GET,
 * switches every light on with one multicast PUT, reads them back with one multicast GET, and
 * prints each node's answer with its delay: the spread is Leisure at work (RFC 7252 §8.2).
 * Nothing is sent beyond loopback: every socket is on 127.0.0.0/8 and multicast is pinned to lo.
 */
import { parseArgs } from 'node:util';
import { ALL_COAP_NODES_IPV4, CoapClient, CoapServer, type GroupResponse } from '../index.js';
import { endpoint } from './output.js';
import { addValueResource } from './serve.js';
import { integer, seconds, UsageError } from './usage.js';

const OPTIONS = {
  nodes: { type: 'string' },
  leisure: { type: 'string' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const LOOPBACK_IFACE = '127.0.0.1';

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function row(r: GroupResponse, text: string): string {
  return `   ${endpoint(r.source).padEnd(16)} ${r.codeString} ${r.reason.padEnd(8)} ${text.padEnd(26)} after ${String(Math.round(r.elapsedMs)).padStart(5)} ms`;
}

export async function runDemo(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument ${positionals[0]}`, 'see coap-group demo --help');
  const n = integer('nodes', values.nodes, 1, 250) ?? 5;
  const leisure = seconds('leisure', values.leisure) ?? 2;
  const port = integer('port', values.port, 1, 65535) ?? 5683;
  const window = (leisure + 0.5) * 1000;
  const group = `coap://${ALL_COAP_NODES_IPV4}:${port}`;
  const nodes: CoapServer[] = [];
  let client: CoapClient | undefined;
  try {
    for (let i = 0; i < n; i++) {
      const node = new CoapServer({ bind: [`127.0.0.${i + 2}`], port, iface: LOOPBACK_IFACE, leisure });
      addValueResource(node, '/light', 'off', { rt: 'light', title: `Light ${i + 1}`, multicast: true });
      await node.listen();
      nodes.push(node);
    }
    say(
      `coap-group demo: ${n} node${n === 1 ? '' : 's'} on 127.0.0.2-127.0.0.${n + 1} port ${port}, all in All CoAP Nodes (${ALL_COAP_NODES_IPV4}) on the loopback interface; Leisure ${leisure} s`,
    );
    client = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }], iface: LOOPBACK_IFACE });

    say();
    say(`1. Discover the lights: one multicast GET ${group}/.well-known/core?rt=light`);
    const found = await client.group({ uri: `${group}/.well-known/core?rt=light`, window }).collect();
    for (const r of found) say(row(r, r.text()));
    say(`   ${found.length} node${found.length === 1 ? '' : 's'} answered`);

    say();
    say(`2. Switch every light on: one multicast PUT ${group}/light "on"`);
    const put = await client.group({ uri: `${group}/light`, method: 'PUT', payload: 'on', window }).collect();
    for (const r of put) say(row(r, ''));
    say(`   ${put.length} node${put.length === 1 ? '' : 's'} confirmed`);

    say();
    say(`3. Read them back: one multicast GET ${group}/light`);
    const got = await client.group({ uri: `${group}/light`, window }).collect();
    for (const r of got) say(row(r, JSON.stringify(r.text())));
    const on = got.filter((r) => r.text() === 'on').length;
    const delays = got.map((r) => r.elapsedMs);
    const spread = delays.length > 1 ? Math.max(...delays) - Math.min(...delays) : 0;
    say();
    say(
      `${on} of ${n} lights are on. The answers were spread over ${Math.round(spread)} ms by each node's random Leisure delay (RFC 7252 §8.2).`,
    );
    return on === n ? 0 : 1;
  } finally {
    await client?.close();
    await Promise.all(nodes.map((s) => s.close()));
  }
}
