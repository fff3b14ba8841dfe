/**
 * Block-wise transfer over real UDP (RFC 7959). On host loopback (127.0.0.190-192): 100 kB and
 * 1 MB GET and PUT round trips, byte-exact, and a server whose Block1 buffer stays within its
 * limits when many bodies are begun and abandoned. In a private network namespace: a group GET
 * of a 3000-byte resource from three nodes on 127.0.0.2-4 (multicast pinned to 127.0.0.1)
 * yields one complete body per node (RFC 7959 §2.8, RFC 7390 §2.8).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { encodeBlock } from '../../src/entry/codec.js';
import { Code, Opt } from '../../src/index.js';
import { CoapServer } from '../../src/server/server.js';
import { body } from '../support/bw-mem.js';
import { eventually, leakCheck, udpRawPeer } from '../support/bw-udp.js';
import { killAll, runCli, type ServeNode, startServe } from '../support/cli-run.js';
import { runGroupTestsInNetns } from '../support/group-netns.js';
import { randomPort } from '../support/handles.js';
import { assertOnlyInterfaces, insideNetns, LOOPBACK_SETUP } from '../support/netns.js';

const T = { timeout: 60_000 };

/** ASCII text of `n` bytes, lines numbered by their offset so a misplaced block shows. */
function ascii(n: number, tag: string): string {
  let s = '';
  while (s.length < n) s += `${tag}${String(s.length).padStart(6, '0')} block-wise line\n`;
  return `${s.slice(0, n - 1)}.`; // no final newline: the CLI adds one after text
}

if (!insideNetns()) {
  describe('block-wise round trips over UDP on loopback', () => {
    const SERVER = '127.0.0.190';
    const port = randomPort();
    const base = `coap://${SERVER}:${port}`;
    const MAX_BODIES = 8;
    let server: CoapServer | undefined;
    let client: CoapClient | undefined;
    let stored = Buffer.alloc(0);
    let checkHandles: () => Promise<void> = async () => {};

    before(async () => {
      checkHandles = leakCheck();
      server = new CoapServer({
        bind: [SERVER],
        port,
        joinAllCoapNodes: false,
        discovery: false,
        block1: { maxBodies: MAX_BODIES, idleMs: 500 },
      });
      server
        .resource('/file')
        .get(() => ({ payload: stored, format: 42 }))
        .put((req) => {
          stored = Buffer.from(req.payload);
          return { code: '2.04' };
        });
      const gen = new Map([100_000, 1 << 20].map((n) => [String(n), body(n, 7)]));
      server.resource('/gen').get((req) => ({ payload: gen.get(req.query[0] ?? '') ?? Buffer.alloc(0) }));
      await server.listen();
      client = await CoapClient.create({ bind: [{ address: '127.0.0.191', port: 0 }] });
    });

    after(async () => {
      await client?.close();
      await server?.close();
      await checkHandles();
    });

    for (const size of [100_000, 1 << 20]) {
      it(`GETs a ${size}-byte body byte-exact`, T, async () => {
        const res = await client!.request(`${base}/gen?${size}`);
        assert.equal(res.codeString, '2.05');
        assert.equal(res.payload.length, size);
        assert.ok(res.payload.equals(body(size, 7)));
      });

      it(`PUTs a ${size}-byte body and GETs it back byte-exact`, T, async () => {
        const data = body(size, 11);
        const put = await client!.request({ uri: `${base}/file`, method: 'PUT', payload: data });
        assert.equal(put.codeString, '2.04');
        assert.ok(stored.equals(data), 'the server reassembled the body exactly');
        const get = await client!.request(`${base}/file`);
        assert.ok(get.payload.equals(data));
        assert.deepEqual(server!.stats()!.block1, { bodies: 0, bytes: 0 });
      });
    }

    it('holds at most maxBodies abandoned bodies, then frees them after idleMs', T, async () => {
      const peer = await udpRawPeer('127.0.0.192');
      try {
        const codes: number[] = [];
        for (let i = 0; i < 30; i++) {
          const res = await peer.request(
            {
              code: 3,
              options: [
                { number: Opt.UriPath, value: Buffer.from('file') },
                { number: Opt.Block1, value: encodeBlock({ num: 0, more: true, szx: 6 }) },
                { number: Opt.RequestTag, value: Buffer.from([i]) },
              ],
              payload: body(1024, i),
            },
            { address: SERVER, port },
          );
          codes.push(res.code);
          assert.ok(server!.stats()!.block1.bodies <= MAX_BODIES);
        }
        assert.equal(codes.filter((c) => c === Code.Continue).length, MAX_BODIES);
        assert.equal(codes.filter((c) => c === Code.ServiceUnavailable).length, 30 - MAX_BODIES);
        assert.deepEqual(server!.stats()!.block1, { bodies: MAX_BODIES, bytes: MAX_BODIES * 1024 });
        await eventually(() => server!.stats()!.block1.bodies === 0, 'abandoned bodies dropped');
        assert.equal(server!.stats()!.block1.bytes, 0);
      } finally {
        await peer.close();
      }
    });
  });

  describe('the CLI: put --payload-file and get --block-size against serve', () => {
    let dir = '';
    let node: ServeNode | undefined;
    const port = randomPort();
    const base = `coap://127.0.0.193:${port}`;
    const cli = (args: string[]) => runCli([...args, '--source', '127.0.0.194'], 30_000);

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'coap-bw-cli-'));
      writeFileSync(join(dir, 'file.txt'), ascii(5000, 'f'));
      writeFileSync(join(dir, 'upload.txt'), ascii(3000, 'u'));
      const file = `/file=@${join(dir, 'file.txt')}`;
      node = await startServe(
        ['--bind', '127.0.0.193', '--port', String(port), '--no-default-groups'].concat([
          '--resource',
          file,
          '--resource',
          '/note=empty',
        ]),
      );
    });

    after(async () => {
      await node?.stop();
      killAll();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('get --block-size 64 prints a 5000-byte @FILE resource exactly', T, async () => {
      const r = await cli(['get', `${base}/file`, '--block-size', '64']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, readFileSync(join(dir, 'file.txt'), 'utf8'));
    });

    it('put --payload-file uploads 3000 bytes block-wise; get prints them back', T, async () => {
      const put = await cli([
        'put',
        `${base}/note`,
        '--payload-file',
        join(dir, 'upload.txt'),
        '--block-size',
        '256',
      ]);
      assert.equal(put.code, 0, put.stderr);
      const get = await cli(['get', `${base}/note`]);
      assert.equal(get.code, 0, get.stderr);
      assert.equal(get.stdout.replace(/\n$/, ''), readFileSync(join(dir, 'upload.txt'), 'utf8'));
    });
  });

  test('group GET of a large resource, in a private network namespace', { timeout: 120_000 }, (t) =>
    runGroupTestsInNetns(t, import.meta.filename, LOOPBACK_SETUP),
  );
} else {
  describe('group GET of a 3000-byte resource from three nodes over UDP', () => {
    const NODES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
    const port = randomPort();
    const servers: CoapServer[] = [];
    let client: CoapClient | undefined;
    let checkHandles: () => Promise<void> = async () => {};

    before(async () => {
      assertOnlyInterfaces(['lo']);
      checkHandles = leakCheck();
      for (const [i, address] of NODES.entries()) {
        const s = new CoapServer({ bind: [address], port, iface: '127.0.0.1', leisure: 0.2 });
        s.resource('/big', { multicast: true }).get(() => ({ payload: body(3000, i) }));
        servers.push(s);
        await s.listen();
      }
      client = await CoapClient.create({ iface: '127.0.0.1', bind: [{ address: '127.0.0.1', port: 0 }] });
    });

    after(async () => {
      await client?.close();
      for (const s of servers) await s.close();
      await checkHandles();
    });

    it('yields one complete 3000-byte body from each node', T, async () => {
      const rs = client!.group({ uri: `coap://224.0.1.187:${port}/big`, window: 1500 });
      const got = await rs.collect();
      assert.deepEqual(got.map((r) => r.source.address).sort(), NODES);
      for (const r of got) {
        const i = NODES.indexOf(r.source.address);
        assert.equal(r.payload.length, 3000);
        assert.ok(r.payload.equals(body(3000, i)), `${r.source.address} sent its own body whole`);
      }
    });

    it('yields complete bodies when every node is asked for 256-byte blocks', T, async () => {
      const rs = client!.group({ uri: `coap://224.0.1.187:${port}/big`, window: 1500, blockSize: 256 });
      const got = await rs.collect();
      assert.equal(got.length, 3);
      for (const r of got) assert.ok(r.payload.equals(body(3000, NODES.indexOf(r.source.address))));
    });
  });
}
