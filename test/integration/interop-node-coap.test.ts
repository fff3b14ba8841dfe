/**
 * Unicast interop with node-coap (the `coap` npm package), on host loopback only: our CoapClient
 * against a node-coap server, and a node-coap client against our CoapServer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as coap from 'coap';
import { parseLinks } from '../../src/entry/codec.js';
import { CoapClient, CoapServer } from '../../src/index.js';
import { randomPort } from '../support/handles.js';
import {
  closeNodeCoapServer,
  type NodeCoapServer,
  nodeCoapRequest,
  startNodeCoapServer,
} from '../support/peer-node-coap.js';

describe('our client against a node-coap server', () => {
  const SERVER = '127.0.0.80';
  const port = randomPort();
  const base = `coap://${SERVER}:${port}`;
  let server: NodeCoapServer | undefined;
  let client: CoapClient | undefined;
  let stored = 'empty';
  const seen: Array<{ method: string; confirmable: boolean }> = [];

  before(async () => {
    server = await startNodeCoapServer({ address: SERVER, port }, (req, res) => {
      seen.push({ method: req.method, confirmable: isCon(req) });
      if (req.url === '/hello' && req.method === 'GET') {
        res.setOption('Content-Format', 'text/plain');
        res.end('world');
      } else if (req.url === '/store' && req.method === 'PUT') {
        stored = req.payload.toString();
        res.code = '2.04';
        res.end();
      } else if (req.url === '/store' && req.method === 'GET') {
        res.setOption('Content-Format', 'text/plain');
        res.end(stored);
      } else {
        res.code = '4.04';
        res.end();
      }
    });
    client = await CoapClient.create({ bind: [{ address: '127.0.0.82', port: 0 }] });
  });

  after(async () => {
    await client?.close();
    await closeNodeCoapServer(server);
  });

  it('reads a payload with GET', { timeout: 20_000 }, async () => {
    const res = await client!.request(`${base}/hello`);
    assert.equal(res.codeString, '2.05');
    assert.equal(res.format, 0);
    assert.equal(res.text(), 'world');
  });

  it('changes a resource with PUT and reads it back', { timeout: 20_000 }, async () => {
    const put = await client!.request({ uri: `${base}/store`, method: 'PUT', payload: 'stored value' });
    assert.equal(put.codeString, '2.04');
    assert.equal(stored, 'stored value');
    const get = await client!.request(`${base}/store`);
    assert.equal(get.codeString, '2.05');
    assert.equal(get.text(), 'stored value');
  });

  it('gets 4.04 Not Found for an unknown path', { timeout: 20_000 }, async () => {
    const res = await client!.request(`${base}/nope`);
    assert.equal(res.codeString, '4.04');
    assert.equal(res.ok, false);
  });

  it('gets a response to a NON request', { timeout: 20_000 }, async () => {
    const before = seen.length;
    const res = await client!.request({ uri: `${base}/hello`, confirmable: false });
    assert.equal(res.codeString, '2.05');
    assert.equal(res.text(), 'world');
    assert.deepEqual(seen.slice(before), [{ method: 'GET', confirmable: false }]);
  });
});

/** Whether node-coap saw a CON request (its IncomingMessage keeps the raw packet). */
function isCon(req: coap.IncomingMessage): boolean {
  return (req as unknown as { _packet?: { confirmable?: boolean } })._packet?.confirmable === true;
}

describe('a node-coap client against our server', () => {
  const NODE = '127.0.0.81';
  const port = randomPort();
  let server: CoapServer | undefined;
  let agent: coap.Agent | undefined;
  let light = 'off';

  before(async () => {
    server = new CoapServer({ bind: [NODE], port, joinAllCoapNodes: false });
    server
      .resource('/light', { rt: 'light', ct: 0 })
      .get(() => ({ payload: light, format: 0 }))
      .put((req) => {
        light = req.text();
        return { code: '2.04' };
      });
    server.resource('/temp', { rt: 'temperature', ct: 0 }).get(() => ({ payload: '21', format: 0 }));
    await server.listen();
    agent = new coap.Agent({ type: 'udp4' });
  });

  after(async () => {
    agent?.close();
    await server?.close();
  });

  const req = (r: Omit<Parameters<typeof nodeCoapRequest>[1], 'hostname' | 'port'>) =>
    nodeCoapRequest(agent!, { hostname: NODE, port, ...r });

  it('discovers /.well-known/core in link format', { timeout: 20_000 }, async () => {
    const res = await req({ pathname: '/.well-known/core' });
    assert.equal(res.code, '2.05');
    assert.equal(res.format, 'application/link-format');
    const hrefs = parseLinks(res.payload.toString()).map((l) => l.href);
    assert.ok(hrefs.includes('/light'), res.payload.toString());
    assert.ok(hrefs.includes('/temp'), res.payload.toString());
  });

  it('filters /.well-known/core?rt=light', { timeout: 20_000 }, async () => {
    const res = await req({ pathname: '/.well-known/core', query: 'rt=light' });
    assert.equal(res.code, '2.05');
    assert.deepEqual(
      parseLinks(res.payload.toString()).map((l) => l.href),
      ['/light'],
    );
  });

  it('changes /light with PUT, then reads it with GET', { timeout: 20_000 }, async () => {
    const put = await req({ pathname: '/light', method: 'PUT', payload: 'on', format: 'text/plain' });
    assert.equal(put.code, '2.04');
    const get = await req({ pathname: '/light' });
    assert.equal(get.code, '2.05');
    assert.equal(get.format, 'text/plain');
    assert.equal(get.payload.toString(), 'on');
  });

  it('gets a response to a NON request', { timeout: 20_000 }, async () => {
    const res = await req({ pathname: '/temp', confirmable: false });
    assert.equal(res.code, '2.05');
    assert.equal(res.payload.toString(), '21');
    assert.deepEqual(res.from, { address: NODE, port });
  });

  it('gets 4.04 for an unknown path', { timeout: 20_000 }, async () => {
    const res = await req({ pathname: '/nope' });
    assert.equal(res.code, '4.04');
  });
});
