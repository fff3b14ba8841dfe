/**
 * `coap-group groups ...`, the CLI client of the Group Configuration resource (RFC 7390 §2.6.2),
 * run in-process against a node on 127.0.0.170-179: list/add/update/remove/replace, the table
 * and `--json` output, exit 1 for 4.xx/5.xx answers, and usage errors (exit 2 in `main`) that
 * say in one line how to mend them, raised before anything is sent.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type GroupsIo, runGroups } from '../../src/cli/groups.js';
import { UsageError } from '../../src/cli/usage.js';
import { FakeRuntime } from '../../src/fake-runtime.js';
import { attachGroupConfig, type GroupConfigOptions } from '../../src/group-config/attach.js';
import type { GroupConfig } from '../../src/group-config/config.js';
import { CidrAccessPolicy } from '../../src/group-config/policy.js';
import { CoapServer } from '../../src/server/server.js';
import { randomPort, trackHandles } from '../support/handles.js';

const T = { timeout: 20_000 };

/** No DNS from tests: every name lookup fails at once, as for an unknown name. */
const noDns = async (host: string): Promise<string[]> => {
  throw Object.assign(new Error(`no DNS in tests (${host})`), { code: 'ENOTFOUND' });
};

async function node(address: string, options: GroupConfigOptions = {}) {
  const port = randomPort();
  const server = new CoapServer({ bind: [address], port, joinAllCoapNodes: false });
  await server.listen();
  const config: GroupConfig = await attachGroupConfig(server, {
    resolver: noDns,
    rateLimit: false,
    graceMs: 0,
    ...options,
  });
  return {
    config,
    uri: `coap://${address}:${port}`,
    port,
    async close() {
      await config.close();
      await server.close();
    },
  };
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: GroupsIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await runGroups(argv, io);
  return { code, out, err };
}

async function usage(argv: string[], message: RegExp): Promise<void> {
  await assert.rejects(runGroups(argv, { out: () => {}, err: () => {} }), (e: unknown) => {
    assert.ok(e instanceof UsageError, `${argv.join(' ')}: ${String(e)}`);
    assert.match(e.message, message, argv.join(' '));
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

describe('coap-group groups', () => {
  it('lists, adds, updates, removes and replaces, with a table by default', T, async () => {
    const done = trackHandles();
    const n = await node('127.0.0.170');
    assert.deepEqual(await run(['list', n.uri]), { code: 0, out: 'no group memberships\n', err: '' });
    assert.deepEqual(await run(['add', n.uri, '--address', '239.255.17.1']), {
      code: 0,
      out: 'added index 1 (/coap-group/1)\n',
      err: '',
    });
    assert.equal(
      (await run(['add', n.uri, '--name', 'Lights.Example.com:6000'])).out,
      'added index 2 (/coap-group/2)\n',
    );
    assert.equal(
      (await run(['add', n.uri, '--name', 'all.example.com', '--address', '[FF15::00AB]:4567'])).code,
      0,
    );
    assert.equal(
      (await run(['list', n.uri])).out,
      [
        'INDEX  ADDRESS          NAME',
        '1      239.255.17.1     -',
        '2      -                lights.example.com:6000',
        '3      [ff15::ab]:4567  all.example.com',
        '',
      ].join('\n'),
    );
    assert.equal((await run(['update', n.uri, '2', '--address', '239.255.17.2'])).out, 'updated index 2\n');
    assert.equal((await run(['update', n.uri, 'Q9', '--address', '239.255.17.3'])).out, 'created index q9\n');
    assert.equal((await run(['remove', n.uri, '3'])).out, 'removed index 3\n');
    assert.equal(
      n.config.document(),
      '{"1":{"a":"239.255.17.1"},"2":{"a":"239.255.17.2"},"q9":{"a":"239.255.17.3"}}',
    );

    const dir = mkdtempSync(join(tmpdir(), 'coap-group-cli-'));
    const file = join(dir, 'groups.json');
    writeFileSync(file, '{ "8": {"a": "239.255.17.8"}, "11": {"n": "sensors.example.com"} }\n');
    assert.equal(
      (await run(['replace', n.uri, '--file', file])).out,
      'replaced all memberships: 2 now (/coap-group)\n',
    );
    assert.equal(n.config.document(), '{"8":{"a":"239.255.17.8"},"11":{"n":"sensors.example.com"}}');
    rmSync(dir, { recursive: true, force: true });
    await n.close();
    await done();
  });

  it('prints one JSON object per command with --json', T, async () => {
    const n = await node('127.0.0.171');
    const from = n.uri.slice('coap://'.length);
    const json = async (argv: string[]) => JSON.parse((await run([...argv, '--json'])).out);
    assert.deepEqual(await json(['add', n.uri, '--address', '239.255.17.1:5690']), {
      from,
      code: '2.01',
      index: '1',
      location: '/coap-group/1',
    });
    assert.deepEqual(await json(['list', n.uri]), {
      from,
      code: '2.05',
      groups: [{ index: '1', a: '239.255.17.1:5690' }],
    });
    assert.deepEqual(await json(['update', n.uri, '1', '--name', 'x.example']), {
      from,
      code: '2.04',
      index: '1',
    });
    assert.deepEqual(await json(['remove', n.uri, '1']), { from, code: '2.02', index: '1' });
    assert.deepEqual(await json(['list', n.uri]), { from, code: '2.05', groups: [] });
    await n.close();
  });

  it('exits 1 on a 4.xx or 5.xx answer, saying why (and when to retry)', T, async () => {
    const rt = new FakeRuntime();
    const n = await node('127.0.0.172', {
      policy: new CidrAccessPolicy({ writers: ['127.0.0.173/32'] }),
      rateLimit: { burst: 1, perSecond: 0.1 },
      runtime: rt,
    });
    const denied = await run(['add', n.uri, '--address', '239.255.17.1', '--source', '127.0.0.174']);
    assert.deepEqual(denied, {
      code: 1,
      out: '',
      err: 'coap-group: 4.03 Forbidden: not allowed to change the group configuration\n',
    });
    const deniedJson = await run(['remove', n.uri, '1', '--source', '127.0.0.174', '--json']);
    assert.equal(deniedJson.code, 1);
    assert.equal(JSON.parse(deniedJson.out).code, '4.03');
    assert.equal((await run(['add', n.uri, '--address', '239.255.17.1', '--source', '127.0.0.173'])).code, 0);
    const limited = await run(['add', n.uri, '--address', '239.255.17.2', '--source', '127.0.0.173']);
    assert.equal(limited.code, 1);
    assert.match(limited.err, /^coap-group: 5\.03 Service Unavailable: .* \(try again in 10 s\)\n$/);
    const limitedJson = await run(['remove', n.uri, '1', '--source', '127.0.0.173', '--json']);
    assert.equal(JSON.parse(limitedJson.out).retryAfter, 10);
    assert.equal((await run(['update', n.uri, '99', '--address', '239.255.17.3'])).code, 1);
    await n.close();
  });

  it('talks to the resource at the NODE-URI path when one is given', T, async () => {
    const n = await node('127.0.0.175', { path: '/cfg/gp' });
    assert.equal(
      (await run(['add', `${n.uri}/cfg/gp`, '--address', '239.255.17.5'])).out,
      'added index 1 (/cfg/gp/1)\n',
    );
    assert.equal((await run(['list', n.uri])).code, 1, '/coap-group is not there: 4.04');
    await n.close();
  });

  it('gives up after --timeout when nobody answers', T, async () => {
    await assert.rejects(run(['list', `coap://127.0.0.176:${randomPort()}`, '--timeout', '0.3']), {
      code: 'ERR_COAP_TIMEOUT',
    });
  });

  it('rejects usage mistakes in one line, before sending anything', T, async () => {
    const uri = 'coap://127.0.0.177:9';
    const dir = mkdtempSync(join(tmpdir(), 'coap-group-cli-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"1":{"a":"10.0.0.1"}}');
    await usage([], /groups needs a command/);
    await usage(['show', uri], /unknown groups command "show"/);
    await usage(['list'], /needs a NODE-URI/);
    await usage(['list', 'http://x'], /./);
    await usage(['list', 'coaps://127.0.0.1'], /coaps is not supported/);
    await usage(['list', 'coap://239.255.17.1'], /is a group: \/coap-group is configured one node at a time/);
    await usage(['list', `${uri}/coap-group?x=1`], /no query/);
    await usage(['list', uri, 'extra'], /unexpected argument "extra"/);
    await usage(['add', uri], /needs --address or --name/);
    await usage(['add', uri, '--address', '10.1.2.3'], /--address: "10\.1\.2\.3" is not a multicast address/);
    await usage(['add', uri, '--address', 'lights.example.com'], /a host name belongs in "n"/);
    await usage(['add', uri, '--name', '239.1.2.3'], /--name: .*IP addresses belong in "a"/);
    await usage(['add', uri, '--file', bad], /groups add does not take --file/);
    await usage(['update', uri, '--address', '239.1.2.3'], /needs an INDEX/);
    await usage(
      ['update', uri, 'abc', '--address', '239.1.2.3'],
      /INDEX "abc" is not 1 or 2 letters or digits/,
    );
    await usage(['remove', uri], /needs an INDEX/);
    await usage(['remove', uri, '1', '--address', '239.1.2.3'], /does not take --address/);
    await usage(['replace', uri], /needs --file/);
    await usage(['replace', uri, '--file', join(dir, 'missing.json')], /cannot read --file .*ENOENT/);
    await usage(['replace', uri, '--file', bad], /--file .*bad\.json: .*not a multicast address/);
    await usage(['list', uri, '--bogus'], /--bogus/);
    await usage(['list', uri, '--timeout', 'soon'], /--timeout soon is not a number of seconds/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints its help with --help', { timeout: 30_000 }, async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Usage: coap-group groups COMMAND NODE-URI/);
  });
});
