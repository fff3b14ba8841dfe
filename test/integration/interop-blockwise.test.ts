/**
 * Block-wise transfer (RFC 7959) and Observe (RFC 7641) against other implementations, on host
 * loopback only (127.0.0.210-217): libcoap 4.3's coap-client-notls and coap-server-notls, and
 * node-coap (the `coap` devDependency). The libcoap cases are skipped, with the reason printed,
 * when its programs are not installed.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as coap from 'coap';
import { CoapClient } from '../../src/client/client.js';
import { CoapServer } from '../../src/server/server.js';
import { leakCheck } from '../support/bw-udp.js';
import { killAll, type ServeNode, startServe } from '../support/cli-run.js';
import { randomPort } from '../support/handles.js';
import { libcoapClient, libcoapMissing, startLibcoapServer } from '../support/peer-libcoap.js';
import {
  closeNodeCoapServer,
  type NodeCoapServer,
  nodeCoapRequest,
  startNodeCoapServer,
} from '../support/peer-node-coap.js';
import type { Peer } from '../support/peer-process.js';

const T = { timeout: 30_000 };
const missing = libcoapMissing();
if (missing !== undefined) process.stdout.write(`# SKIPPED (libcoap block-wise interop): ${missing}\n`);

/** ASCII text of `n` bytes that shows a misplaced block: each line says where it starts. */
function text(n: number): string {
  let s = '';
  while (s.length < n) s += `${String(s.length).padStart(6, '0')} block-wise interop line\n`;
  return s.slice(0, n - 1).concat('.');
}

describe('coap-client-notls against coap-group serve', { skip: missing }, () => {
  const NODE = '127.0.0.210';
  const port = randomPort();
  const base = `coap://${NODE}:${port}`;
  let dir = '';
  let big = '';
  let node: ServeNode | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coap-bw-interop-'));
    big = join(dir, 'big.txt');
    writeFileSync(big, text(5000));
    writeFileSync(join(dir, 'upload.txt'), text(3000).toUpperCase());
    node = await startServe([
      '--bind',
      NODE,
      '--port',
      String(port),
      '--no-default-groups',
      '--resource',
      `/big=@${big}`,
      '--resource',
      '/note=empty',
      '--resource',
      '/c=#counter',
    ]);
  });

  after(async () => {
    await node?.stop();
    killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('-b 64 GET of a 5000-byte @FILE resource prints exactly the file', T, async () => {
    const r = await libcoapClient(['-b', '64', `${base}/big`]);
    assert.equal(r.code, 0, r.stderr);
    // coap-client-notls 4.3.1 adds a newline after a payload that does not end with one.
    assert.equal(r.stdout.replace(/\n$/, ''), readFileSync(big, 'utf8'));
  });

  it('-m put -b 256 -f FILE stores the whole file; our GET returns it', T, async () => {
    const file = join(dir, 'upload.txt');
    const put = await libcoapClient(['-m', 'put', '-b', '256', '-f', file, `${base}/note`]);
    assert.equal(put.code, 0, put.stderr);
    const client = await CoapClient.create({ bind: [{ address: '127.0.0.211', port: 0 }] });
    try {
      const res = await client.request(`${base}/note`);
      assert.equal(res.codeString, '2.05');
      assert.ok(res.payload.equals(readFileSync(file)), `got ${res.payload.length} bytes`);
    } finally {
      await client.close();
    }
  });

  it('-s 3 observing a #counter prints at least 2 increasing values', T, async () => {
    // -v 6 logs every PDU with its payload (`... c:2.05 ... :: '7'`): the bare payloads run together.
    const r = await libcoapClient(['-v', '6', '-s', '3', `${base}/c`], 20_000);
    const log = `${r.stdout}\n${r.stderr}`;
    const values = [...log.matchAll(/c:2\.05 .*\[ Observe:\d+.*:: '(\d+)'/g)].map((m) => Number(m[1]));
    assert.ok(values.length >= 2, `printed: ${JSON.stringify(r.stdout)} ${r.stderr}`);
    for (let i = 1; i < values.length; i++) assert.ok(values[i]! > values[i - 1]!, values.join(' '));
  });
});

describe('our client against coap-server-notls', { skip: missing }, () => {
  const SERVER = '127.0.0.212';
  const port = randomPort();
  const base = `coap://${SERVER}:${port}`;
  let server: Peer | undefined;
  let client: CoapClient | undefined;
  let checkHandles: () => Promise<void> = async () => {};

  before(async () => {
    checkHandles = leakCheck();
    server = await startLibcoapServer({ address: SERVER, port });
    client = await CoapClient.create({ bind: [{ address: '127.0.0.213', port: 0 }] });
  });

  after(async () => {
    await client?.close();
    await server?.stop();
    await checkHandles();
  });

  it('GETs the 1500-byte /example_data block-wise', T, async () => {
    const res = await client!.request(`${base}/example_data`);
    assert.equal(res.codeString, '2.05');
    assert.equal(res.payload.length, 1500);
    assert.match(res.text(), /^a123456789b123456789/);
  });

  it('GETs /example_data in 64-byte blocks just the same', T, async () => {
    const whole = await client!.request(`${base}/example_data`);
    const small = await client!.request({ uri: `${base}/example_data`, blockSize: 64 });
    assert.ok(small.payload.equals(whole.payload));
  });

  it('PUTs 3000 bytes in 256-byte blocks to /example_data; a GET returns them', T, async () => {
    const data = Buffer.from(text(3000));
    const put = await client!.request({
      uri: `${base}/example_data`,
      method: 'PUT',
      payload: data,
      blockSize: 256,
    });
    assert.ok(put.ok, put.codeString);
    const get = await client!.request(`${base}/example_data`);
    assert.ok(get.payload.equals(data), `got ${get.payload.length} bytes`);
  });

  it('observes /time and gets at least 2 notifications', T, async () => {
    const seen: string[] = [];
    for await (const r of client!.observe(`${base}/time`)) {
      assert.equal(r.codeString, '2.05');
      seen.push(r.text());
      if (seen.length === 3) break; // the registration response and 2 notifications
    }
    assert.equal(seen.length, 3);
    assert.equal(new Set(seen).size, 3, `each notification shows a new time: ${seen.join(' | ')}`);
  });
});

describe('node-coap and block-wise transfer', () => {
  const OURS = '127.0.0.214';
  const THEIRS = '127.0.0.215';
  const port = randomPort();
  const data = Buffer.from(text(5000));
  let ours: CoapServer | undefined;
  let theirs: NodeCoapServer | undefined;
  let socket: dgram.Socket | undefined;
  let agent: coap.Agent | undefined;

  before(async () => {
    ours = new CoapServer({ bind: [OURS], port, joinAllCoapNodes: false });
    ours.resource('/big').get(() => ({ payload: data, format: 0 }));
    await ours.listen();
    // node-coap answers with Block2 by itself when the payload is 1024 bytes or more.
    theirs = await startNodeCoapServer({ address: THEIRS, port }, (_req, res) => res.end(data));
    socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket!.bind(0, '127.0.0.216', () => r()));
    agent = new coap.Agent({ socket });
  });

  after(async () => {
    agent?.close();
    await new Promise<void>((r) => {
      try {
        socket?.close(() => r());
      } catch {
        r(); // already closed by the agent
      }
    });
    await closeNodeCoapServer(theirs);
    await ours?.close();
  });

  it('a node-coap GET of our 5000-byte resource returns it whole', T, async () => {
    const res = await nodeCoapRequest(agent!, { hostname: OURS, port, pathname: '/big' });
    assert.equal(res.code, '2.05');
    assert.ok(res.payload.equals(data), `got ${res.payload.length} bytes`);
  });

  it('our GET of a node-coap server’s 5000-byte payload returns it whole', T, async () => {
    const client = await CoapClient.create({ bind: [{ address: '127.0.0.217', port: 0 }] });
    try {
      const res = await client.request(`coap://${THEIRS}:${port}/big`);
      assert.equal(res.codeString, '2.05');
      assert.ok(res.payload.equals(data), `got ${res.payload.length} bytes`);
    } finally {
      await client.close();
    }
  });
});
