/**
 * The Group Configuration resource on the wire (RFC 7390 §2.6.2): every method on the
 * collection and on one index, every error code design.md chose for what RFC 7390 leaves open
 * (R50), authorization by source address (RFC 7390 §2.6.2, §6.2), the change limit (5.03 with
 * Max-Age), the RFC's own example payloads, and the rule that a refused request changes
 * nothing: not the representation, not the state file, not the memberships. Real UDP on
 * 127.0.0.140-159 with random ports.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import type { CoapResponse } from '../../src/client/response.js';
import { FakeRuntime } from '../../src/fake-runtime.js';
import { attachGroupConfig, type GroupConfigOptions } from '../../src/group-config/attach.js';
import type { GroupConfig } from '../../src/group-config/config.js';
import { CidrAccessPolicy } from '../../src/group-config/policy.js';
import { FileGroupConfigStore, STATE_FILE_NAME } from '../../src/group-config/store.js';
import { parseCollection, parseMembership } from '../../src/group-json/index.js';
import type { MethodName } from '../../src/message/codes.js';
import { Opt } from '../../src/options/registry.js';
import { findOptions } from '../../src/options/values.js';
import { CoapServer } from '../../src/server/server.js';
import { ipv6ToBytes } from '../../src/util/ip.js';
import { nodeStoreFs } from '../../src/util/store-fs.js';
import { randomPort, trackHandles } from '../support/handles.js';

const T = { timeout: 20_000 };

/** No DNS from tests: every name lookup fails at once, as for an unknown name. */
const noDns = async (host: string): Promise<string[]> => {
  throw Object.assign(new Error(`no DNS in tests (${host})`), { code: 'ENOTFOUND' });
};

interface Node {
  server: CoapServer;
  config: GroupConfig;
  dir: string;
  base: string;
  port: number;
  clients: CoapClient[];
  client(bind?: string): Promise<CoapClient>;
  close(): Promise<void>;
}

async function node(address: string, options: GroupConfigOptions = {}): Promise<Node> {
  const port = randomPort();
  const server = new CoapServer({ bind: [address], port, joinAllCoapNodes: false, leisure: 0 });
  await server.listen();
  const dir = mkdtempSync(join(tmpdir(), 'coap-group-resource-'));
  const config = await attachGroupConfig(server, {
    store: dir,
    resolver: noDns,
    rateLimit: false,
    graceMs: 0,
    ...options,
  });
  const clients: CoapClient[] = [];
  return {
    server,
    config,
    dir,
    port,
    clients,
    base: `coap://${address}:${port}/coap-group`,
    async client(bind = '127.0.0.1') {
      const c = await CoapClient.create({ bind: [{ address: bind, port: 0 }], iface: '127.0.0.1' });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) await c.close();
      await config.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Req {
  method?: MethodName;
  path?: string;
  payload?: string;
  format?: number | null;
  accept?: number;
}

function send(c: CoapClient, n: Node, r: Req = {}): Promise<CoapResponse> {
  const format = r.format === null ? undefined : (r.format ?? (r.payload !== undefined ? 256 : undefined));
  return c.request({
    uri: `${n.base}${r.path ?? ''}`,
    method: r.method ?? 'GET',
    ...(r.payload !== undefined ? { payload: Buffer.from(r.payload) } : {}),
    ...(format !== undefined ? { format } : {}),
    ...(r.accept !== undefined ? { accept: r.accept } : {}),
  });
}

function locationPath(res: CoapResponse): string[] {
  return findOptions(res.options, Opt.LocationPath).map((o) => o.value.toString());
}

/** Everything a request could change: the representation, the state file, the memberships. */
function snapshot(n: Node): string {
  const memberships = n.server
    .memberships()
    .map((m) => `${m.group}:${m.port}x${m.refs}`)
    .sort();
  const file = readFileSync(join(n.dir, STATE_FILE_NAME), 'utf8');
  return JSON.stringify({ doc: n.config.document(), file, memberships, leaving: n.config.status().leaving });
}

/** R44: "a" compared by meaning (address bytes and port), "n" ignoring case. */
function meaning(doc: string): unknown {
  const out: Record<string, unknown> = {};
  for (const [i, m] of parseCollection(doc)) {
    out[i] = {
      n: m.n && `${m.n.host}:${m.n.port ?? ''}`,
      a:
        m.a &&
        `${m.a.family === 6 ? ipv6ToBytes(m.a.address).toString('hex') : m.a.address}:${m.a.port ?? ''}`,
    };
  }
  return out;
}

const G = (k: number) => `239.255.14.${k}`;

describe('/coap-group methods', () => {
  it(
    'is listed in /.well-known/core as </coap-group>;rt="core.gp";ct=256, without the index route',
    T,
    async () => {
      const done = trackHandles();
      const n = await node('127.0.0.140');
      const c = await n.client();
      const res = await c.request(`coap://127.0.0.140:${n.port}/.well-known/core`);
      assert.match(res.text(), /<\/coap-group>;rt="core\.gp";ct=256/);
      assert.doesNotMatch(res.text(), /:index/);
      await n.close();
      await done();
    },
  );

  it(
    'answers GET with {} when empty, then POST, GET, PUT and DELETE on the collection and on indexes',
    T,
    async () => {
      const done = trackHandles();
      const n = await node('127.0.0.141');
      const c = await n.client();
      const empty = await send(c, n);
      assert.equal(empty.codeString, '2.05');
      assert.equal(empty.format, 256);
      assert.equal(empty.text(), '{}');

      const created = await send(c, n, { method: 'POST', payload: `{"a":"${G(1)}:${n.port}"}` });
      assert.equal(created.codeString, '2.01');
      assert.deepEqual(locationPath(created), ['coap-group', '1']);
      const second = await send(c, n, {
        method: 'POST',
        payload: `{"n":"lights.example.com","a":"${G(2)}"}`,
      });
      assert.deepEqual(locationPath(second), ['coap-group', '2']);

      const one = await send(c, n, { path: '/1' });
      assert.equal(one.codeString, '2.05');
      assert.equal(one.format, 256);
      assert.equal(one.text(), `{"a":"${G(1)}:${n.port}"}`);
      assert.equal(
        (await send(c, n)).text(),
        `{"1":{"a":"${G(1)}:${n.port}"},"2":{"n":"lights.example.com","a":"${G(2)}"}}`,
      );

      const updated = await send(c, n, { method: 'PUT', path: '/2', payload: `{"a":"${G(3)}"}` });
      assert.equal(updated.codeString, '2.04');
      assert.equal((await send(c, n, { path: '/2' })).text(), `{"a":"${G(3)}"}`);

      const made = await send(c, n, { method: 'PUT', path: '/Zz', payload: `{"a":"${G(4)}"}` });
      assert.equal(made.codeString, '2.01', 'PUT to an unknown index creates it (RFC 7252 §5.8.3, R48)');
      assert.equal((await send(c, n, { path: '/ZZ' })).text(), `{"a":"${G(4)}"}`, 'indexes ignore case');

      const deleted = await send(c, n, { method: 'DELETE', path: '/2' });
      assert.equal(deleted.codeString, '2.02');
      assert.equal(
        (await send(c, n, { method: 'DELETE', path: '/2' })).codeString,
        '2.02',
        'DELETE is idempotent',
      );
      assert.equal((await send(c, n, { path: '/2' })).codeString, '4.04');

      const replaced = await send(c, n, {
        method: 'PUT',
        payload: `{"7":{"a":"${G(7)}"},"a1":{"a":"${G(8)}"}}`,
      });
      assert.equal(replaced.codeString, '2.04');
      assert.equal((await send(c, n)).text(), `{"7":{"a":"${G(7)}"},"a1":{"a":"${G(8)}"}}`);
      assert.equal((await send(c, n, { method: 'PUT', payload: '{}' })).codeString, '2.04');
      assert.equal((await send(c, n)).text(), '{}');
      await n.close();
      await done();
    },
  );

  it(
    'hands out indexes that never collide with PUT-supplied ones and does not reuse a deleted one at once',
    T,
    async () => {
      const n = await node('127.0.0.142');
      const c = await n.client();
      await send(c, n, {
        method: 'PUT',
        payload: `{"1":{"a":"${G(1)}"},"2":{"a":"${G(2)}"},"4":{"a":"${G(4)}"}}`,
      });
      const post = async () =>
        locationPath(await send(c, n, { method: 'POST', payload: `{"a":"${G(9)}"}` }))[1];
      assert.equal(await post(), '3');
      assert.equal(await post(), '5');
      await send(c, n, { method: 'DELETE', path: '/5' });
      assert.equal(await post(), '6', 'a client holding /coap-group/5 must not update a new membership');
      await n.close();
    },
  );

  it('takes the RFC 7390 example payloads and gives them back with the same meaning', T, async () => {
    const n = await node('127.0.0.143');
    const c = await n.client();
    // §2.6.2.2
    const post = await send(c, n, {
      method: 'POST',
      payload:
        '{ "n": "All-Devices.floor1.west.bldg6.example.com",\n  "a": "[ff15::4200:f7fe:ed37:abcd]:4567" }',
    });
    assert.equal(post.codeString, '2.01');
    const index = locationPath(post)[1]!;
    // §2.6.2.5
    assert.deepEqual(
      parseMembership((await send(c, n, { path: `/${index}` })).payload),
      parseMembership(
        '{"n":"All-Devices.floor1.west.bldg6.example.com","a":"[ff15::4200:f7fe:ed37:abcd]:4567"}',
      ),
    );
    // §2.6.2.7
    const put = await send(c, n, {
      method: 'PUT',
      path: `/${index}`,
      payload: '{"n": "All-My-Devices.floor1.west.bldg6.example.com",\n "a": "[ff15::4200:f7fe:ed37:abcd]"}',
    });
    assert.equal(put.codeString, '2.04');
    // §2.6.2.4, written to the collection and read back
    const all =
      '{ "8" :{ "a": "[ff15::4200:f7fe:ed37:14ca]" },\n "11":{ "n": "sensors.floor1.west.bldg6.example.com",\n "a": "[ff15::4200:f7fe:ed37:25cb]" },\n "12":{ "n": "All-Devices.floor1.west.bldg6.example.com",\n "a": "[ff15::4200:f7fe:ed37:abcd]:4567" }\n }';
    assert.equal((await send(c, n, { method: 'PUT', payload: all })).codeString, '2.04');
    assert.deepEqual(meaning((await send(c, n)).text()), meaning(all));
    // §2.6.2.6, both examples; and the four membership objects of §2.6.2.1
    const two =
      '{ "1":{ "a": "[ff15::4200:f7fe:ed37:1234]" },\n "2":{ "a": "[ff15::4200:f7fe:ed37:5678]" }\n }';
    assert.equal((await send(c, n, { method: 'PUT', payload: two })).codeString, '2.04');
    assert.deepEqual(meaning((await send(c, n)).text()), meaning(two));
    assert.equal((await send(c, n, { method: 'PUT', payload: '{}' })).codeString, '2.04');
    for (const example of [
      '{ "n": "All-Devices.floor1.west.bldg6.example.com", "a": "[ff15::4200:f7fe:ed37:abcd]:4567" }',
      '{ "n": "sensors.floor2.east.bldg6.example.com" }',
      '{ "n": "coap-test", "a": "224.0.1.187:56789" }',
      '{ "a": "[ff15::c0a7:15:c001]" }',
    ]) {
      const r = await send(c, n, { method: 'POST', payload: example });
      assert.equal(r.codeString, '2.01', example);
      const back = await send(c, n, { path: `/${locationPath(r)[1]}` });
      assert.deepEqual(parseMembership(back.payload), parseMembership(example));
    }
    // The IPv6 groups cannot be joined on an IPv4-only node: kept, and status says why.
    const st = n.config.status().entries.find((e) => e.group === 'ff15::c0a7:15:c001');
    assert.equal(st?.state, 'join-failed');
    assert.match(String(st?.reason), /IPv6/);
    await n.close();
  });
});

describe('/coap-group errors change nothing', () => {
  it(
    'answers 4.00, 4.15, 4.05, 4.06 and 4.04 and leaves representation, file and memberships alone',
    T,
    async () => {
      const done = trackHandles();
      const n = await node('127.0.0.144');
      const c = await n.client();
      await send(c, n, {
        method: 'PUT',
        payload: `{"1":{"a":"${G(1)}:${n.port}"},"2":{"n":"x.example","a":"${G(2)}"}}`,
      });
      const before = snapshot(n);
      const cases: Array<[Req, string, RegExp?]> = [
        [{ method: 'POST', payload: '{"a":' }, '4.00', /not valid JSON/],
        [{ method: 'POST', payload: '{"a":"10.0.0.1"}' }, '4.00', /not a multicast address/],
        [{ method: 'POST', payload: '{"a":"239.1.1.1","x":"y"}' }, '4.00', /unknown member "x"/],
        [{ method: 'POST', payload: '{}' }, '4.00', /needs "a", "n" or both/],
        [{ method: 'POST', payload: '[]' }, '4.00'],
        [{ method: 'POST', payload: '', format: 256 }, '4.00'],
        [{ method: 'PUT', payload: '{"abc":{"a":"239.1.1.1"}}' }, '4.00', /not 1 or 2/],
        [
          { method: 'PUT', payload: '{"a":{"a":"239.1.1.1"},"A":{"a":"239.1.1.2"}}' },
          '4.00',
          /case-insensitive/,
        ],
        [{ method: 'PUT', payload: '{"1":{"a":"239.1.1.1"},"1":{"a":"239.1.1.2"}}' }, '4.00', /duplicate/],
        [{ method: 'PUT', path: '/1', payload: '{"a":"[ff15::1"}' }, '4.00'],
        [{ method: 'PUT', path: '/abc', payload: '{"a":"239.1.1.1"}' }, '4.00', /not a group index/],
        [{ method: 'POST', payload: '{"a":"239.1.1.1"}', format: 50 }, '4.15', /256/],
        [{ method: 'POST', payload: '{"a":"239.1.1.1"}', format: 0 }, '4.15'],
        [{ method: 'PUT', payload: '{}', format: null }, '4.15'],
        [{ method: 'POST', format: null }, '4.15', /256/],
        [{ method: 'PUT', path: '/1', format: null }, '4.15'],
        [{ method: 'DELETE' }, '4.05'],
        [{ method: 'POST', path: '/1', payload: '{"a":"239.1.1.1"}' }, '4.05'],
        [{ method: 'FETCH', payload: '{}' }, '4.05'],
        [{ method: 'iPATCH', path: '/1', payload: '{}' }, '4.05'],
        [{ accept: 50 }, '4.06', /256/],
        [{ path: '/1', accept: 0 }, '4.06'],
        [{ path: '/9' }, '4.04'],
        [{ path: '/abc' }, '4.04', /not a group index/],
        [{ method: 'DELETE', path: '/abc' }, '4.04'],
        [{ path: '/1/x' }, '4.04'],
      ];
      for (const [r, code, diag] of cases) {
        const res = await send(c, n, r);
        assert.equal(res.codeString, code, `${r.method ?? 'GET'} ${r.path ?? ''} ${r.payload ?? ''}`);
        if (diag) assert.match(res.text(), diag);
        assert.equal(snapshot(n), before, `${r.method ?? 'GET'} ${r.path ?? ''} changed something`);
      }
      await n.close();
      await done();
    },
  );

  it('answers 5.00 when the state cannot be saved, and changes nothing', T, async () => {
    const port = randomPort();
    const server = new CoapServer({ bind: ['127.0.0.145'], port, joinAllCoapNodes: false });
    await server.listen();
    const dir = mkdtempSync(join(tmpdir(), 'coap-group-resource-'));
    let broken = false;
    const store = new FileGroupConfigStore(dir, {
      fs: {
        ...nodeStoreFs,
        rename: (a, b) =>
          broken
            ? Promise.reject(Object.assign(new Error('x'), { code: 'ENOSPC' }))
            : nodeStoreFs.rename(a, b),
      },
    });
    const config = await attachGroupConfig(server, { store, rateLimit: false, graceMs: 0 });
    const c = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }] });
    const base = `coap://127.0.0.145:${port}/coap-group`;
    await c.request({ uri: base, method: 'POST', payload: `{"a":"${G(1)}:${port}"}`, format: 256 });
    const before = [
      config.document(),
      readFileSync(join(dir, STATE_FILE_NAME), 'utf8'),
      server.memberships(),
    ];
    broken = true;
    for (const r of [
      { method: 'POST' as const, payload: `{"a":"${G(2)}:${port}"}` },
      { method: 'PUT' as const, payload: '{}' },
      { method: 'DELETE' as const, uri: `${base}/1` },
    ]) {
      const res = await c.request({ uri: r.uri ?? base, method: r.method, format: 256, payload: r.payload });
      assert.equal(res.codeString, '5.00');
      assert.equal(res.text(), 'the group configuration could not be saved; nothing changed');
      assert.deepEqual(
        [config.document(), readFileSync(join(dir, STATE_FILE_NAME), 'utf8'), server.memberships()],
        before,
      );
    }
    assert.match(config.status().warnings.at(-1) ?? '', /ENOSPC/);
    await c.close();
    await config.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ignores multicast requests to /coap-group: the interface is unicast only', T, async () => {
    const n = await node('127.0.0.146');
    n.server.resource('/light', { multicast: true }).get(() => ({ payload: 'on' }));
    const group = `239.255.14.146`;
    await n.server.join(`${group}:${n.port}`);
    const probe = async (path: string) => {
      const c = await n.client();
      const got: string[] = [];
      for await (const r of c.group({ uri: `coap://${group}:${n.port}${path}`, window: 400 }))
        got.push(r.codeString);
      return got;
    };
    assert.deepEqual(await probe('/light'), ['2.05'], 'the group reaches the node');
    assert.deepEqual(await probe('/coap-group'), []);
    await n.close();
  });
});

describe('/coap-group authorization', () => {
  it(
    'refuses changes from a source outside the allow-list with 4.03, and takes them from inside it',
    T,
    async () => {
      const done = trackHandles();
      const n = await node('127.0.0.150', { policy: new CidrAccessPolicy({ writers: ['127.0.0.151/32'] }) });
      const allowed = await n.client('127.0.0.151');
      const denied = await n.client('127.0.0.152');
      assert.equal(
        (await send(allowed, n, { method: 'POST', payload: `{"a":"${G(1)}:${n.port}"}` })).codeString,
        '2.01',
      );
      const before = snapshot(n);
      for (const r of [
        { method: 'POST' as const, payload: `{"a":"${G(2)}"}` },
        { method: 'PUT' as const, payload: '{}' },
        { method: 'PUT' as const, path: '/1', payload: `{"a":"${G(3)}"}` },
        { method: 'DELETE' as const, path: '/1' },
        { method: 'PUT' as const, payload: 'not even JSON' },
      ]) {
        const res = await send(denied, n, r);
        assert.equal(res.codeString, '4.03', `${r.method} ${r.path ?? ''}`);
        assert.equal(snapshot(n), before);
      }
      assert.equal((await send(denied, n)).codeString, '2.05', 'reading is allowed by default');
      assert.equal((await send(allowed, n, { method: 'DELETE', path: '/1' })).codeString, '2.02');
      await n.close();
      await done();
    },
  );

  it(
    'answers 4.01 when the policy says unauthenticated, and 4.03 to a reader outside the readers',
    T,
    async () => {
      const n = await node('127.0.0.153', {
        policy: {
          authorizeRead: (req) => (req.source.address === '127.0.0.154' ? 'allow' : 'forbidden'),
          authorizeWrite: async () => 'unauthenticated' as const,
        },
      });
      const c = await n.client('127.0.0.155');
      assert.equal((await send(c, n, { method: 'POST', payload: `{"a":"${G(1)}"}` })).codeString, '4.01');
      assert.equal((await send(c, n)).codeString, '4.03');
      assert.equal((await send(c, n, { path: '/1' })).codeString, '4.03');
      const reader = await n.client('127.0.0.154');
      assert.equal((await send(reader, n)).text(), '{}');
      await n.close();
    },
  );
});

describe('/coap-group change limit', () => {
  it('answers 5.03 with Max-Age once the burst is spent, changes nothing, and recovers', T, async () => {
    const rt = new FakeRuntime();
    const n = await node('127.0.0.156', { runtime: rt, rateLimit: { burst: 2, perSecond: 0.25 } });
    const c = await n.client();
    for (let i = 0; i < 3; i++) {
      // Refused before the limit is consulted, so they spend no token.
      assert.equal((await send(c, n, { method: 'POST', payload: 'oops' })).codeString, '4.00');
    }
    assert.equal(
      (await send(c, n, { method: 'POST', payload: `{"a":"${G(1)}:${n.port}"}` })).codeString,
      '2.01',
    );
    assert.equal(
      (await send(c, n, { method: 'POST', payload: `{"a":"${G(2)}:${n.port}"}` })).codeString,
      '2.01',
    );
    const before = snapshot(n);
    const limited = await send(c, n, { method: 'PUT', payload: '{}' });
    assert.equal(limited.codeString, '5.03');
    assert.equal(limited.maxAge, 4, 'seconds until a token is back');
    assert.match(limited.text(), /try again in 4 s/);
    assert.equal(snapshot(n), before);
    assert.equal((await send(c, n, { method: 'DELETE', path: '/1' })).codeString, '5.03');
    assert.equal((await send(c, n)).codeString, '2.05', 'reads are not limited');
    await rt.advance(3000);
    const still = await send(c, n, { method: 'PUT', payload: '{}' });
    assert.equal(still.maxAge, 1);
    await rt.advance(1000);
    assert.equal((await send(c, n, { method: 'PUT', payload: '{}' })).codeString, '2.04');
    assert.equal(n.config.document(), '{}');
    await n.close();
  });
});
