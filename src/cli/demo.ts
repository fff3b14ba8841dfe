/**
 * @module cli/demo
 * `coap-group demo` (and `npm start`): a room of N nodes on 127.0.0.2.. on this machine, all in
 * All CoAP Nodes on the loopback interface. A controller discovers them with one multicast GET,
 * switches every light on with one multicast PUT, reads them back with one multicast GET, and
 * prints each node's answer with its delay: the spread is Leisure at work (RFC 7252 §8.2).
 * Then it commissions a room group on half of the nodes through their /coap-group resource
 * (RFC 7390 §2.6.2) and shows that a request to that group reaches only those nodes. Last, it
 * locks every door with one Group OSCORE-protected multicast PUT and shows that an unsigned one
 * is ignored (demo-secure), and commissions room 4 through a resource directory whose nodes join
 * the group by themselves (demo-rd, RFC 9176 Appendix A).
 * With `--console` the room is left running for the browser instead (demo-console).
 * Nothing is sent beyond loopback: every socket is on 127.0.0.0/8 and multicast is pinned to lo.
 */
import {
  ALL_COAP_NODES_IPV4,
  attachGroupConfig,
  CoapClient,
  CoapServer,
  ContentFormat,
  type GroupConfig,
  type GroupResponse,
} from '../index.js';
import { runDemoConsole } from './demo-console.js';
import { runRdSteps } from './demo-rd.js';
import { addLock, demoKeys, runSecureSteps, SECURE_GROUP } from './demo-secure.js';
import { endpoint } from './output.js';
import { addValueResource } from './serve.js';
import type { Session } from './session.js';
import { integer, parseCommand, seconds, UsageError } from './usage.js';

const OPTIONS = {
  nodes: { type: 'string' },
  leisure: { type: 'string' },
  port: { type: 'string' },
  console: { type: 'boolean' },
  'http-port': { type: 'string' },
  'pid-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const LOOPBACK_IFACE = '127.0.0.1';
/** An administratively scoped group (RFC 2365 site-local) for the room. */
const ROOM_GROUP = '239.255.0.3';

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function row(r: GroupResponse, text: string): string {
  return `   ${endpoint(r.source).padEnd(16)} ${r.codeString} ${r.reason.padEnd(8)} ${text.padEnd(26)} after ${String(Math.round(r.elapsedMs)).padStart(5)} ms`;
}

export async function runDemo(argv: string[], session: Session): Promise<number> {
  const { values } = parseCommand('demo', argv, OPTIONS);
  const n = integer('nodes', values.nodes, 1, 250) ?? 5;
  const leisure = seconds('leisure', values.leisure) ?? 2;
  const port = integer('port', values.port, 1, 65535) ?? 5683;
  const httpPort = integer('http-port', values['http-port'], 0, 65535);
  for (const [flag, given] of [
    ['http-port', httpPort],
    ['pid-file', values['pid-file']],
  ] as const)
    if (given !== undefined && !values.console)
      throw new UsageError(`--${flag} needs --console`, 'e.g. coap-group demo --console --http-port 8080');
  if (values.console)
    return runDemoConsole(
      { nodes: n, leisure, port, httpPort: httpPort ?? 8080, pidFile: values['pid-file'] },
      session,
    );
  const window = (leisure + 0.5) * 1000;
  const group = `coap://${ALL_COAP_NODES_IPV4}:${port}`;
  const nodes: CoapServer[] = [];
  const configs: GroupConfig[] = [];
  let client: CoapClient | undefined;
  let plain: CoapClient | undefined;
  const keys = demoKeys(n);
  try {
    for (let i = 0; i < n; i++) {
      const node = new CoapServer({
        bind: [`127.0.0.${i + 2}`],
        port,
        iface: LOOPBACK_IFACE,
        leisure,
        security: keys.node(i),
      });
      addValueResource(node, '/light', 'off', { rt: 'light', title: `Light ${i + 1}`, multicast: true });
      await node.listen();
      await addLock(node);
      nodes.push(node);
      configs.push(await attachGroupConfig(node));
    }
    say(
      `coap-group demo: ${n} node${n === 1 ? '' : 's'} on 127.0.0.2-127.0.0.${n + 1} port ${port}, all in All CoAP Nodes (${ALL_COAP_NODES_IPV4}) and a Group OSCORE group (${SECURE_GROUP}) on the loopback interface; Leisure ${leisure} s`,
    );
    const bind = [{ address: '127.0.0.1', port: 0 }];
    // Steps 1-5 are plain CoAP; the controller's client protects every request or sends none.
    client = await CoapClient.create({ bind, iface: LOOPBACK_IFACE, security: keys.controller });
    plain = await CoapClient.create({ bind, iface: LOOPBACK_IFACE });

    say();
    say(`1. Discover the lights: one multicast GET ${group}/.well-known/core?rt=light`);
    const found = await plain.group({ uri: `${group}/.well-known/core?rt=light`, window }).collect();
    for (const r of found) say(row(r, r.text()));
    say(`   ${found.length} node${found.length === 1 ? '' : 's'} answered`);

    say();
    say(`2. Switch every light on: one multicast PUT ${group}/light "on"`);
    const put = await plain.group({ uri: `${group}/light`, method: 'PUT', payload: 'on', window }).collect();
    for (const r of put) say(row(r, ''));
    say(`   ${put.length} node${put.length === 1 ? '' : 's'} confirmed`);

    say();
    say(`3. Read them back: one multicast GET ${group}/light`);
    const got = await plain.group({ uri: `${group}/light`, window }).collect();
    for (const r of got) say(row(r, JSON.stringify(r.text())));
    const on = got.filter((r) => r.text() === 'on').length;
    const delays = got.map((r) => r.elapsedMs);
    const spread = delays.length > 1 ? Math.max(...delays) - Math.min(...delays) : 0;
    say(
      `   ${on} of ${n} lights are on; the answers were spread over ${Math.round(spread)} ms by each node's random Leisure delay (RFC 7252 §8.2).`,
    );

    const room = nodes.slice(0, Math.ceil(n / 2));
    const roomGroup = `${ROOM_GROUP}:${port}`;
    say();
    say(
      `4. Commission room 3: POST {"a":"${roomGroup}"} to /coap-group on ${room.length} of the ${n} nodes (RFC 7390 §2.6.2)`,
    );
    for (const node of room) {
      const at = node.endpoints[0]!;
      const res = await plain.request({
        uri: `coap://${at.address}:${at.port}/coap-group`,
        method: 'POST',
        payload: JSON.stringify({ n: 'room3.lights', a: roomGroup }),
        format: ContentFormat.CoapGroupJson,
      });
      const where = res.options
        .filter((o) => o.number === 8)
        .map((o) => o.value.toString())
        .join('/');
      say(
        `   ${`${at.address}:${at.port}`.padEnd(16)} ${res.codeString} ${res.reason.padEnd(8)} Location-Path /${where}`,
      );
    }

    say();
    say(`5. Switch off room 3 only: one multicast PUT coap://${roomGroup}/light "off"`);
    const off = await plain
      .group({ uri: `coap://${roomGroup}/light`, method: 'PUT', payload: 'off', window })
      .collect();
    for (const r of off) say(row(r, ''));
    const expected = new Set(room.map((s) => s.endpoints[0]!.address));
    const onlyRoom = off.length === room.length && off.every((r) => expected.has(r.source.address));
    say(
      `   ${off.length} node${off.length === 1 ? '' : 's'} answered: ${onlyRoom ? 'exactly the commissioned ones' : 'NOT the commissioned set'}.`,
    );
    const secure = await runSecureSteps({
      say,
      row,
      secured: client,
      plain,
      nodes: n,
      port,
      leisure,
      window,
    });
    const directory = await runRdSteps({ say, row, controller: plain, nodes, port, window });
    say();
    say(
      `Done: ${n} nodes discovered, switched and read back with one multicast request each; room 3 commissioned over CoAP and addressed on its own; doors locked with Group OSCORE, and an unsigned command ignored; room 4 commissioned through a resource directory, its nodes joining by themselves.`,
    );
    return on === n && onlyRoom && secure && directory ? 0 : 1;
  } finally {
    await client?.close();
    await plain?.close();
    for (const c of configs) await c.close();
    await Promise.all(nodes.map((s) => s.close()));
  }
}
