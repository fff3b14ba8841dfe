/**
 * Membership follows the Group Configuration resource (RFC 7390 §2.6.2.1, §2.6.2.6): after a
 * change the node is in the new groups before the answer is sent, and out of the removed ones
 * after the grace period, which also absorbs a remove-then-add (RFC 7390 §6.2). Checked with real
 * multicast on the loopback interface: a group request reaches the node, or no longer does.
 * Also: sharing with All CoAP Nodes and application joins (R41), name-only entries (RFC 7390
 * §2.6.2.2), and a restarted node back in exactly its groups. 127.0.0.160-169, random ports,
 * groups 239.255.16.x on lo only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { FakeRuntime } from '../../src/fake-runtime.js';
import { attachGroupConfig, type GroupConfigOptions } from '../../src/group-config/attach.js';
import type { GroupConfig } from '../../src/group-config/config.js';
import { GroupStateError } from '../../src/group-config/errors.js';
import { decodeState } from '../../src/group-config/state-file.js';
import { STATE_FILE_NAME } from '../../src/group-config/store.js';
import { formatCollection } from '../../src/group-json/index.js';
import { CoapServer } from '../../src/server/server.js';
import { randomPort, trackHandles } from '../support/handles.js';

const T = { timeout: 30_000 };

/** No DNS from tests: every name lookup fails at once, as for an unknown name. */
const noDns = async (host: string): Promise<string[]> => {
  throw Object.assign(new Error(`no DNS in tests (${host})`), { code: 'ENOTFOUND' });
};
const G = (k: number) => `239.255.16.${k}`;

interface Node {
  server: CoapServer;
  config: GroupConfig;
  rt: FakeRuntime;
  port: number;
  base: string;
  close(): Promise<void>;
}

async function node(
  address: string,
  dir: string,
  options: GroupConfigOptions = {},
  serverOptions: { port?: number; joinAllCoapNodes?: boolean } = {},
): Promise<Node> {
  const port = serverOptions.port ?? randomPort();
  const rt = new FakeRuntime();
  const server = new CoapServer({
    bind: [address],
    port,
    leisure: 0,
    joinAllCoapNodes: serverOptions.joinAllCoapNodes ?? false,
  });
  server.resource('/light', { multicast: true }).get(() => ({ payload: 'on' }));
  await server.listen();
  const config = await attachGroupConfig(server, {
    store: dir,
    resolver: noDns,
    rateLimit: false,
    runtime: rt,
    ...options,
  });
  return {
    server,
    config,
    rt,
    port,
    base: `coap://${address}:${port}/coap-group`,
    async close() {
      await config.close();
      await server.close();
    },
  };
}

/** Sends one group GET /light to `group` from a fresh client on lo, and lists who answered. */
async function probe(group: string, port: number): Promise<string[]> {
  const c = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }], iface: '127.0.0.1' });
  try {
    const from: string[] = [];
    for await (const r of c.group({ uri: `coap://${group}:${port}/light`, window: 400 })) {
      from.push(r.source.address);
    }
    return from;
  } finally {
    await c.close();
  }
}

async function change(base: string, method: 'POST' | 'PUT' | 'DELETE', path = '', payload?: string) {
  const c = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }] });
  try {
    const res = await c.request({
      uri: `${base}${path}`,
      method,
      ...(payload !== undefined ? { payload, format: 256 } : {}),
    });
    return {
      code: res.codeString,
      location: res.options.filter((o) => o.number === 8).map((o) => String(o.value)),
    };
  } finally {
    await c.close();
  }
}

function groupsOf(server: CoapServer): string[] {
  return server
    .memberships()
    .map((m) => `${m.group}:${m.port}x${m.refs}`)
    .sort();
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'coap-group-members-'));
}

describe('group configuration drives multicast membership', () => {
  it('joins before answering, keeps the group through the grace period, then really leaves', T, async () => {
    const done = trackHandles();
    const dir = tempDir();
    const n = await node('127.0.0.160', dir);
    const g = G(1);
    assert.deepEqual(await probe(g, n.port), [], 'not a member yet');
    const made = await change(n.base, 'POST', '', `{"a":"${g}:${n.port}"}`);
    assert.equal(made.code, '2.01');
    assert.deepEqual(groupsOf(n.server), [`${g}:${n.port}x1`]);
    assert.deepEqual(await probe(g, n.port), ['127.0.0.160']);
    assert.equal(n.config.status().entries[0]?.state, 'joined');

    assert.equal((await change(n.base, 'DELETE', '/1')).code, '2.02');
    assert.equal(n.config.document(), '{}', 'the resource changes at once');
    assert.deepEqual(n.config.status().leaving, [{ group: g, port: n.port }]);
    assert.deepEqual(await probe(g, n.port), ['127.0.0.160'], 'still joined during the grace period');
    await n.rt.advance(2000);
    assert.deepEqual(groupsOf(n.server), []);
    assert.deepEqual(await probe(g, n.port), [], 'left after the grace period');
    await n.close();
    rmSync(dir, { recursive: true, force: true });
    await done();
  });

  it(
    'does not leave and rejoin when a group is removed and added back within the grace period',
    T,
    async () => {
      const dir = tempDir();
      const n = await node('127.0.0.161', dir);
      const t = n.server.messenger.transport;
      const calls: string[] = [];
      const join = t.join.bind(t);
      const leave = t.leave.bind(t);
      t.join = (group, port, iface) => {
        calls.push(`join ${group}`);
        return join(group, port, iface);
      };
      t.leave = (group, port, iface) => {
        calls.push(`leave ${group}`);
        return leave(group, port, iface);
      };
      const g = G(2);
      await change(n.base, 'PUT', '', `{"1":{"a":"${g}:${n.port}"}}`);
      await change(n.base, 'DELETE', '/1');
      await n.rt.advance(1500);
      await change(n.base, 'POST', '', `{"a":"${g}:${n.port}"}`);
      await change(n.base, 'PUT', '', '{}');
      await change(n.base, 'PUT', '', `{"9":{"a":"${g}:${n.port}"}}`);
      await n.rt.advance(10_000);
      assert.deepEqual(calls, [`join ${g}`]);
      assert.deepEqual(await probe(g, n.port), ['127.0.0.161']);
      await n.close();
      assert.deepEqual(calls, [`join ${g}`, `leave ${g}`], 'close leaves');
      rmSync(dir, { recursive: true, force: true });
    },
  );

  it('PUT on the collection joins the new groups and leaves those no longer present', T, async () => {
    const dir = tempDir();
    const n = await node('127.0.0.162', dir, { graceMs: 0 });
    const p = n.port;
    await change(n.base, 'PUT', '', `{"1":{"a":"${G(3)}:${p}"},"2":{"a":"${G(4)}:${p}"}}`);
    assert.deepEqual(groupsOf(n.server), [`${G(3)}:${p}x1`, `${G(4)}:${p}x1`]);
    await change(n.base, 'PUT', '', `{"3":{"a":"${G(4)}:${p}"},"4":{"a":"${G(5)}:${p}"}}`);
    assert.deepEqual(
      groupsOf(n.server),
      [`${G(4)}:${p}x1`, `${G(5)}:${p}x1`],
      'grace 0: left within the request',
    );
    assert.deepEqual(await probe(G(3), p), []);
    assert.deepEqual(await probe(G(5), p), ['127.0.0.162']);
    await n.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never drops a group that All CoAP Nodes, the application or another entry still holds', T, async () => {
    const dir = tempDir();
    const n = await node('127.0.0.163', dir, {}, { joinAllCoapNodes: true });
    const p = n.port;
    const acn = `224.0.1.187:${p}`;
    const app = `${G(6)}:${p}`;
    await n.server.join(app);
    assert.deepEqual(groupsOf(n.server), [`${acn}x1`, `${app}x1`]);
    await change(n.base, 'PUT', '', `{"1":{"a":"${acn}"},"2":{"a":"${acn}"},"3":{"a":"${app}"}}`);
    assert.deepEqual(
      groupsOf(n.server),
      [`${acn}x2`, `${app}x2`],
      'one reference for all entries of a group',
    );
    await change(n.base, 'DELETE', '/1');
    assert.deepEqual(n.config.status().leaving, [], 'entry 2 still wants the group');
    await change(n.base, 'PUT', '', '{}');
    await n.rt.advance(2000);
    assert.deepEqual(groupsOf(n.server), [`${acn}x1`, `${app}x1`]);
    assert.deepEqual(await probe('224.0.1.187', p), ['127.0.0.163']);
    assert.deepEqual(await probe(G(6), p), ['127.0.0.163']);
    await n.close();
    assert.deepEqual(groupsOf(n.server), [], 'the server closed every socket');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('name-only entries (RFC 7390 §2.6.2.2)', () => {
  it('joins what the name resolves to, keeps an entry that does not resolve, and says why', T, async () => {
    const dir = tempDir();
    const answers = new Map<string, string[]>([
      ['lights.example.com', [G(7)]],
      ['unicast.example.com', ['192.0.2.7']],
    ]);
    const resolver = async (host: string) => {
      const a = answers.get(host);
      if (a === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return a;
    };
    const n = await node('127.0.0.164', dir, { resolver });
    const p = n.port;
    assert.equal((await change(n.base, 'POST', '', `{"n":"lights.example.com:${p}"}`)).code, '2.01');
    assert.equal((await change(n.base, 'POST', '', `{"n":"sensors.example.com:${p}"}`)).code, '2.01');
    assert.equal((await change(n.base, 'POST', '', `{"n":"unicast.example.com:${p}"}`)).code, '2.01');
    assert.equal(
      n.config.document(),
      `{"1":{"n":"lights.example.com:${p}"},"2":{"n":"sensors.example.com:${p}"},"3":{"n":"unicast.example.com:${p}"}}`,
      'every entry is kept',
    );
    assert.deepEqual(groupsOf(n.server), [`${G(7)}:${p}x1`]);
    const st = n.config.status().entries.map((e) => [e.index, e.state, e.group, e.reason]);
    assert.deepEqual(st, [
      ['1', 'joined', G(7), undefined],
      ['2', 'unresolved', undefined, 'cannot resolve sensors.example.com: ENOTFOUND'],
      [
        '3',
        'unresolved',
        undefined,
        'unicast.example.com resolves to only 192.0.2.7, not a multicast address',
      ],
    ]);
    assert.deepEqual(await probe(G(7), p), ['127.0.0.164']);

    answers.set('sensors.example.com', [G(8)]);
    await n.config.refresh();
    assert.equal(n.config.status().entries[1]?.state, 'joined');
    assert.deepEqual(groupsOf(n.server), [`${G(7)}:${p}x1`, `${G(8)}:${p}x1`]);

    // "a" wins over "n": the name is not even looked up.
    answers.clear();
    await change(n.base, 'PUT', '/1', `{"n":"lights.example.com","a":"${G(9)}:${p}"}`);
    assert.equal(n.config.status().entries[0]?.group, G(9));
    await n.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('persistence across restarts', () => {
  it('brings a restarted node back into exactly its groups, with the same representation', T, async () => {
    const dir = tempDir();
    const resolver = async () => [G(11)];
    const a = await node('127.0.0.165', dir, { resolver, graceMs: 0 });
    const p = a.port;
    await change(a.base, 'POST', '', `{"a":"${G(10)}:${p}"}`);
    await change(a.base, 'POST', '', `{"n":"room.example.com:${p}"}`);
    await change(a.base, 'PUT', '/x7', `{"a":"${G(12)}:${p}"}`);
    await change(a.base, 'DELETE', '/x7');
    const doc = a.config.document();
    const groups = groupsOf(a.server);
    assert.deepEqual(groups, [`${G(10)}:${p}x1`, `${G(11)}:${p}x1`]);
    await a.close();

    const b = await node('127.0.0.165', dir, { resolver }, { port: randomPort() });
    assert.equal(b.config.document(), doc);
    assert.deepEqual(groupsOf(b.server), groups);
    assert.deepEqual(await probe(G(10), p), ['127.0.0.165']);
    assert.deepEqual(await probe(G(12), p), []);
    // The allocator position survived too: no index is handed out twice.
    assert.deepEqual((await change(b.base, 'POST', '', `{"a":"${G(13)}:${p}"}`)).location, [
      'coap-group',
      '3',
    ]);
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has on disk, after many acknowledged changes, exactly the last acknowledged state', T, async () => {
    const dir = tempDir();
    const n = await node('127.0.0.166', dir, { graceMs: 0 });
    const p = n.port;
    let seed = 7;
    const rand = (k: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % k;
    };
    for (let i = 0; i < 25; i++) {
      const g = `${G(20 + rand(5))}:${p}`;
      const r = rand(4);
      const res =
        r === 0
          ? await change(n.base, 'POST', '', `{"a":"${g}"}`)
          : r === 1
            ? await change(n.base, 'PUT', `/${1 + rand(6)}`, `{"a":"${g}"}`)
            : r === 2
              ? await change(n.base, 'DELETE', `/${1 + rand(6)}`)
              : await change(n.base, 'PUT', '', rand(3) === 0 ? '{}' : `{"${1 + rand(6)}":{"a":"${g}"}}`);
      assert.match(res.code, /^2\./);
      const file = join(dir, STATE_FILE_NAME);
      assert.equal(formatCollection(decodeState(readFileSync(file), file).groups), n.config.document());
    }
    await n.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start on a corrupt state file, and starts empty only when told to', T, async () => {
    const dir = tempDir();
    writeFileSync(join(dir, STATE_FILE_NAME), '{"version":1,"next":0,"groups":[["1",{"a":"10.0.0.1"}]]}');
    const server = new CoapServer({ bind: ['127.0.0.167'], port: randomPort(), joinAllCoapNodes: false });
    await server.listen();
    await assert.rejects(attachGroupConfig(server, { store: dir }), (e: unknown) => {
      assert.ok(e instanceof GroupStateError);
      assert.equal(e.code, 'ERR_COAP_GROUP_STATE_CORRUPT');
      assert.equal(e.path, join(dir, STATE_FILE_NAME));
      assert.match(e.message, /is corrupt: .*not a multicast address.*start empty/);
      return true;
    });
    assert.equal(
      server.resources().some((r) => r.path === '/coap-group'),
      false,
      'nothing registered',
    );
    assert.deepEqual(server.memberships(), []);

    const config = await attachGroupConfig(server, { store: dir, startEmpty: true });
    assert.equal(config.document(), '{}');
    assert.match(
      config.status().warnings[0] ?? '',
      /^started empty: .*moved to .*coap-group\.json\.corrupt-/,
    );
    const files = readdirSync(dir).sort();
    assert.equal(files.length, 2);
    assert.equal(files[0], STATE_FILE_NAME);
    assert.match(files[1]!, /\.corrupt-/);
    await config.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('checks its options before doing anything, and needs a listening server', T, async () => {
    const server = new CoapServer({ bind: ['127.0.0.168'], port: randomPort(), joinAllCoapNodes: false });
    await assert.rejects(attachGroupConfig(server), { code: 'ERR_COAP_NOT_LISTENING' });
    await server.listen();
    for (const bad of [
      { path: 'coap-group' },
      { path: '/a//b' },
      { path: '/a/:x' },
      { graceMs: -1 },
      { maxEntries: 0 },
      { maxEntries: 2000 },
      { rateLimit: { burst: 0 } },
      { policy: {} as never },
    ]) {
      await assert.rejects(
        attachGroupConfig(server, bad),
        { code: 'ERR_COAP_INVALID_ARGUMENT' },
        JSON.stringify(bad),
      );
    }
    const config = await attachGroupConfig(server, { path: '/cfg/groups' });
    await assert.rejects(attachGroupConfig(server, { path: '/cfg/groups' }), /already served/);
    const c = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }] });
    const port = server.endpoints[0]!.port;
    const res = await c.request({
      uri: `coap://127.0.0.168:${port}/cfg/groups`,
      method: 'POST',
      payload: `{"a":"${G(30)}:${port}"}`,
      format: 256,
    });
    assert.deepEqual(
      res.options.filter((o) => o.number === 8).map((o) => String(o.value)),
      ['cfg', 'groups', '1'],
    );
    await c.close();
    await config.close();
    const gone = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }] });
    assert.equal(
      (await gone.request(`coap://127.0.0.168:${port}/cfg/groups`)).codeString,
      '4.04',
      'close unregisters',
    );
    await gone.close();
    await server.close();
  });
});
