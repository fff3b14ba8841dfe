/**
 * libcoap's client through `coap-group proxy` (RFC 7252 §5.7; `coap-client-notls -P`, which
 * sends Proxy-Uri and Hop-Limit 16) to three kinds of origin server on host loopback: our node,
 * libcoap's `coap-server-notls` and a node-coap server. Checks answers, the proxy's cache
 * (a second GET is not forwarded, a PUT makes the entry stale), Block2 passed through
 * (libcoap's 1500-byte /example_data) and an Observe registration relayed (libcoap's /time).
 * Skipped, with the reason printed, when the libcoap programs are not installed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoapServer } from '../../src/server/server.js';
import { killAll, type ServeNode, startServe } from '../support/cli-run.js';
import { randomPort } from '../support/handles.js';
import { libcoapClient, libcoapMissing, startLibcoapServer } from '../support/peer-libcoap.js';
import { closeNodeCoapServer, type NodeCoapServer, startNodeCoapServer } from '../support/peer-node-coap.js';
import type { Peer, RunResult } from '../support/peer-process.js';

const T = { timeout: 30_000 };
const missing = libcoapMissing();
if (missing !== undefined) process.stdout.write(`# SKIPPED (libcoap through the proxy): ${missing}\n`);

/** coap-client-notls 4.3.1 ends its output with a newline when the payload has none. */
const printed = (r: RunResult) => r.stdout.replace(/\n$/, '');

describe('coap-client-notls -P through coap-group proxy', { skip: missing }, () => {
  const PROXY = '127.0.0.90';
  const OURS = '127.0.0.91';
  const LIBCOAP = '127.0.0.92';
  const NODE_COAP = '127.0.0.93';
  const port = randomPort();
  const proxyUri = `coap://${PROXY}:${port}`;
  let proxy: ServeNode | undefined;
  let ours: CoapServer | undefined;
  let libcoap: Peer | undefined;
  let nodeCoap: NodeCoapServer | undefined;
  let hellos = 0;
  let value = 'v1';
  let nodeCoapHits = 0;

  const via = (uri: string, extra: readonly string[] = []) => libcoapClient([...extra, '-P', proxyUri, uri]);

  before(async () => {
    ours = new CoapServer({ bind: [OURS], port });
    ours.resource('/hello').get(() => ({ payload: `hello ${++hellos}`, maxAge: 30 }));
    ours
      .resource('/value')
      .get(() => ({ payload: value, maxAge: 30 }))
      .put((req) => {
        value = req.text();
        return { code: '2.04' };
      });
    await ours.listen();
    libcoap = await startLibcoapServer({ address: LIBCOAP, port });
    nodeCoap = await startNodeCoapServer({ address: NODE_COAP, port }, (req, res) => {
      nodeCoapHits++;
      if (req.url === '/hello' && req.method === 'GET') {
        res.setOption('Content-Format', 'text/plain');
        res.end('world');
      } else {
        res.code = '4.04';
        res.end();
      }
    });
    proxy = await startServe(['--bind', PROXY, '--port', String(port)], 20_000, 'proxy');
  });

  after(async () => {
    await proxy?.stop();
    await ours?.close();
    await libcoap?.stop();
    await closeNodeCoapServer(nodeCoap);
    killAll();
  });

  it('reaches our node, and answers the second GET from its cache', T, async () => {
    const a = await via(`coap://${OURS}:${port}/hello`);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(printed(a), 'hello 1');
    const b = await via(`coap://${OURS}:${port}/hello`);
    assert.equal(printed(b), 'hello 1', 'the stored 2.05');
    assert.equal(hellos, 1, 'the node answered once');
  });

  it('forwards a PUT, after which the stored GET is stale', T, async () => {
    assert.equal(printed(await via(`coap://${OURS}:${port}/value`)), 'v1');
    const put = await via(`coap://${OURS}:${port}/value`, ['-m', 'put', '-e', 'v2']);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(printed(await via(`coap://${OURS}:${port}/value`)), 'v2');
  });

  it('reaches coap-server-notls, Block2 passed through', T, async () => {
    const root = await via(`coap://${LIBCOAP}:${port}/`);
    assert.match(printed(root), /libcoap/);
    const big = await via(`coap://${LIBCOAP}:${port}/example_data`);
    assert.equal(big.code, 0, big.stderr);
    assert.equal(Buffer.byteLength(printed(big)), 1500, 'libcoap asked for every block through the proxy');
  });

  it('relays the notifications of coap-server-notls /time (RFC 7641 through a proxy)', T, async () => {
    // -s 3: observe for 3 s; libcoap's /time changes every second.
    const r = await via(`coap://${LIBCOAP}:${port}/time`, ['-s', '3', '-B', '6']);
    const lines = printed(r)
      .split(/(?<=\d\d:\d\d:\d\d)/)
      .filter((l) => l.trim() !== '');
    assert.ok(lines.length >= 2, `notifications: ${JSON.stringify(r.stdout)}`);
    assert.equal(new Set(lines).size, lines.length, 'each a new time');
  });

  it('reaches a node-coap server', T, async () => {
    const r = await via(`coap://${NODE_COAP}:${port}/hello`);
    assert.equal(printed(r), 'world');
    const missingPath = await via(`coap://${NODE_COAP}:${port}/nope`);
    assert.match(missingPath.stderr + missingPath.stdout, /4\.04/);
    assert.equal(nodeCoapHits, 2);
  });
});
