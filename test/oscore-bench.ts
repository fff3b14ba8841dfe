/**
 * Measures the cost of Group OSCORE (and OSCORE) on the memory transport, in one run: group
 * requests/s and responses/s to 3 members with and without the group mode, unicast requests/s
 * with and without OSCORE, and the bytes each protection adds to a message.
 *
 *   node --import tsx test/oscore-bench.ts [seconds-per-case]
 */
import { CoapClient } from '../src/client/client.js';
import type { MessageParts } from '../src/client/exchanger.js';
import { FakeRuntime } from '../src/fake-runtime.js';
import { encodeMessage } from '../src/message/encode.js';
import { MessageType } from '../src/message/types.js';
import { Opt } from '../src/options/registry.js';
import { OscoreClientSecurity } from '../src/oscore/endpoint/client.js';
import { parseOscoreConfig } from '../src/oscore/endpoint/config.js';
import { generateGroup, generateOscorePair } from '../src/oscore/endpoint/generate.js';
import { OscoreServerSecurity } from '../src/oscore/endpoint/server.js';
import { CoapServer } from '../src/server/server.js';
import { MemoryNetwork } from '../src/transport/memory.js';

const SECONDS = Number(process.argv[2] ?? 2);
const MEMBERS = 3;

async function setup(secured: boolean, kind: 'group' | 'unicast') {
  const rt = new FakeRuntime({ seed: 9 });
  const net = new MemoryNetwork({ runtime: rt });
  const files = generateGroup({ members: MEMBERS + 1 });
  const pair = generateOscorePair();
  const servers: CoapServer[] = [];
  for (let i = 1; i <= MEMBERS; i++) {
    const transport = net.createTransport({
      bind: [{ address: `192.0.2.${i}`, port: 5683 }],
      ipv4Interface: 'mem0',
    });
    const keys = kind === 'group' ? files[i]! : pair.server;
    const server = new CoapServer({
      transport,
      runtime: rt,
      leisure: 0,
      ...(secured
        ? { security: new OscoreServerSecurity(parseOscoreConfig(keys), { echo: false, runtime: rt }) }
        : {}),
    });
    server.resource('/light', { multicast: true }).get(() => ({ payload: 'on' }));
    await server.listen();
    servers.push(server);
  }
  const transport = net.createTransport({
    bind: [{ address: '192.0.2.100', port: 40000 }],
    ipv4Interface: 'mem0',
  });
  const keys = kind === 'group' ? files[0]! : pair.client;
  const client = await CoapClient.create({
    transport,
    runtime: rt,
    ...(secured ? { security: new OscoreClientSecurity(parseOscoreConfig(keys)) } : {}),
  });
  return {
    rt,
    client,
    async close() {
      await client.close();
      for (const s of servers) await s.close();
    },
  };
}

async function run(secured: boolean, kind: 'group' | 'unicast') {
  const s = await setup(secured, kind);
  let requests = 0;
  let responses = 0;
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    if (kind === 'group') {
      const rs = s.client.group({ uri: 'coap://224.0.1.187/light', limit: MEMBERS, window: 1000 });
      const p = rs.collect();
      while ((await Promise.race([p, null])) === null) await s.rt.advance(0);
      responses += (await p).length;
    } else {
      const p = s.client.request('coap://192.0.2.1/light');
      let done = false;
      p.then(() => (done = true));
      while (!done) await s.rt.advance(0);
      responses++;
    }
    requests++;
  }
  const secs = SECONDS;
  await s.close();
  return { requests: requests / secs, responses: responses / secs };
}

function sizes() {
  const files = generateGroup({ members: 2 });
  const pair = generateOscorePair();
  const g = new OscoreClientSecurity(parseOscoreConfig(files[0]!));
  const u = new OscoreClientSecurity(parseOscoreConfig(pair.client));
  const gs = new OscoreServerSecurity(parseOscoreConfig(files[1]!));
  const us = new OscoreServerSecurity(parseOscoreConfig(pair.server), { echo: false });
  const get: MessageParts = {
    code: 1,
    options: [{ number: Opt.UriPath, value: Buffer.from('light') }],
    payload: Buffer.alloc(0),
  };
  const wire = (parts: typeof get, type = MessageType.NON) =>
    encodeMessage({ type, messageId: 1, token: Buffer.alloc(8), ...parts }).length;
  const resp: MessageParts = {
    code: 0x45,
    options: [{ number: Opt.ContentFormat, value: Buffer.alloc(0) }],
    payload: Buffer.from('on'),
  };
  const out: string[] = [];
  for (const [name, c, sv, dest] of [
    ['Group OSCORE (group mode)', g, gs, { address: '224.0.1.187', port: 5683 }],
    ['OSCORE', u, us, { address: '192.0.2.1', port: 5683 }],
  ] as const) {
    const req = c.protect(get, dest, name === 'OSCORE' ? 'unicast' : 'group')!;
    const v = sv.open(
      { type: MessageType.NON, messageId: 1, token: Buffer.alloc(8), ...req.parts },
      {
        remote: { address: '192.0.2.100', port: 40000 },
        multicast: name !== 'OSCORE',
        group: undefined,
      },
    );
    if (v.kind !== 'opened') throw new Error(`not opened: ${v.kind}`);
    const sealed = v.opened.seal(resp);
    out.push(
      `${name}: request ${wire(get)} -> ${wire(req.parts)} bytes (+${wire(req.parts) - wire(get)}), ` +
        `response ${wire(resp)} -> ${wire(sealed)} bytes (+${wire(sealed) - wire(resp)})`,
    );
  }
  return out;
}

const results: string[] = [];
for (const kind of ['group', 'unicast'] as const) {
  const plain = await run(false, kind);
  const secured = await run(true, kind);
  const label = kind === 'group' ? `group GET to ${MEMBERS} members` : 'unicast GET';
  const prot = kind === 'group' ? 'Group OSCORE' : 'OSCORE';
  results.push(
    `${label}: plain ${plain.requests.toFixed(0)} req/s, ${plain.responses.toFixed(0)} resp/s; ` +
      `${prot} ${secured.requests.toFixed(0)} req/s, ${secured.responses.toFixed(0)} resp/s ` +
      `(${(plain.requests / secured.requests).toFixed(1)}x slower)`,
  );
}
for (const line of [...results, ...sizes()]) process.stdout.write(`${line}\n`);
