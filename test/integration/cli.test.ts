/**
 * The `coap-group` command as scripts drive it (design.md §CLI contract): `serve` readiness and
 * SIGTERM, unicast and group requests with text and `--json` output, `discover`, exit statuses
 * 0/1/2/3, one-line usage errors that say how to mend them, and `--help`. Every child process is
 * killed in `after`. Nodes use 127.0.0.40-127.0.0.49; multicast is pinned to lo.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { exits, killAll, lines, runCli, runCommand, type ServeNode, startServe } from '../support/cli-run.js';
import { randomPort } from '../support/handles.js';

const T = { timeout: 30_000 };
const NODE = '127.0.0.40';
const SILENT = '127.0.0.42';
const GROUP = '224.0.1.187';

after(killAll);

/** Asserts an exit status, showing what the command printed when it differs. */

describe('a serve node driven by the CLI', () => {
  let node: ServeNode;
  let port = 0;
  let at = '';

  before(async () => {
    // A random port may be taken: try a few.
    for (let attempt = 0; ; attempt++) {
      port = randomPort();
      try {
        node = await startServe([
          '--bind',
          NODE,
          '--port',
          String(port),
          '--resource',
          '/light=off',
          '--multicast',
          '/light',
          '--leisure',
          '0.2',
        ]);
        break;
      } catch (err) {
        if (attempt >= 2 || !/cannot bind/.test((err as Error).message)) throw err;
      }
    }
    at = `${NODE}:${port}`;
  });

  after(async () => {
    await node?.stop();
  });

  it('prints exactly one ready line with its endpoint and groups', T, () => {
    assert.ok(node.ready.startsWith(`ready coap://${at} groups ${GROUP}:${port}`), node.ready);
    assert.equal(lines(node.output().stdout).filter((l) => l.startsWith('ready ')).length, 1);
  });

  it('gets /.well-known/core as link format', T, async () => {
    const r = await runCli(['get', `coap://${at}/.well-known/core`]);
    exits(r, 0);
    assert.match(r.stdout, /<\/light>/);
  });

  it('puts a value and reads it back', T, async () => {
    exits(await runCli(['put', `coap://${at}/light`, '--payload', 'on']), 0);
    const r = await runCli(['get', `coap://${at}/light`]);
    exits(r, 0);
    assert.equal(r.stdout, 'on\n');
  });

  it('exits 1 with the code and reason on stderr for a 4.04', T, async () => {
    const r = await runCli(['get', `coap://${at}/nope`]);
    exits(r, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^4\.04 Not Found/);
  });

  it('prints one JSON object with --json', T, async () => {
    const r = await runCli(['get', `coap://${at}/light`, '--json']);
    exits(r, 0);
    assert.equal(lines(r.stdout).length, 1);
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual([o.from, o.code, o.format, o.payload], [at, '2.05', 0, 'on']);
  });

  it('prints one line per group response and a summary on stderr', T, async () => {
    const r = await runCli(['get', `coap://${GROUP}:${port}/light`, '--iface', 'lo', '--wait', '1']);
    exits(r, 0);
    assert.deepEqual(lines(r.stdout), [`${at}  2.05 Content  on`]);
    assert.match(r.stderr, /^1 response from 1 endpoint in \d+ ms/);
  });

  it('prints NDJSON with the delay of each group response with --json', T, async () => {
    const r = await runCli([
      'get',
      `coap://${GROUP}:${port}/light`,
      '--iface',
      'lo',
      '--wait',
      '1',
      '--json',
    ]);
    exits(r, 0);
    const objects = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      objects.map((o) => [o.from, o.code, o.payload, typeof o.ms]),
      [[at, '2.05', 'on', 'number']],
    );
  });

  it('discovers the node and its /light', T, async () => {
    const r = await runCli(['discover', `coap://${GROUP}:${port}`, '--iface', 'lo', '--wait', '1']);
    exits(r, 0);
    assert.match(r.stdout, new RegExp(`^${at.replaceAll('.', '\\.')}  2\\.05 Content`, 'm'));
    assert.match(r.stdout, /^ +\/light\b/m);
  });

  it('exits 0 on SIGTERM', T, async () => {
    const r = await node.stop();
    exits(r, 0);
    assert.equal(lines(r.stdout).length, 1, r.stdout);
  });
});

describe('usage errors: exit 2 and one line that says how to mend it', { concurrency: 4 }, () => {
  const unicast = 'coap://127.0.0.41:5999/x';
  const group = `coap://${GROUP}:${randomPort()}/x`;
  const cases: Array<[string, string[], RegExp]> = [
    ['an unknown command', ['frob'], /unknown command "frob".*coap-group --help/],
    ['a missing URI', ['get'], /needs a URI.*e\.g\. coap-group get coap:\/\//],
    ['a bad URI', ['get', 'http://127.0.0.41/x'], /invalid CoAP URI.*only "coap" and "coaps"/],
    ['an unknown option', ['get', unicast, '--bogus'], /Unknown option '--bogus'.*--help/],
    [
      '--payload with --payload-file',
      ['put', unicast, '--payload', 'a', '--payload-file', 'package.json'],
      /--payload and --payload-file exclude each other/,
    ],
    ['--con to a group', ['get', group, '--con', '--iface', 'lo'], /Non-confirmable.*drop the CON flag/],
    ['a coaps group', ['get', `coaps://${GROUP}/x`, '--iface', 'lo'], /DTLS is unicast only.*use coap:\/\//],
    [
      'an unknown interface',
      ['get', group, '--iface', 'nosuchif'],
      /no network interface "nosuchif"; use one of: .*\blo\b/,
    ],
    [
      'serve --join of a unicast address',
      ['serve', '--bind', '127.0.0.41', '--port', String(randomPort()), '--join', '10.0.0.1'],
      /10\.0\.0\.1 is not a multicast address: give e\.g\. 224\.0\.1\.187/,
    ],
    [
      '--no-response 3',
      ['get', unicast, '--no-response', '3'],
      /classes are 2, 4 and 5.*e\.g\. --no-response 2,5/,
    ],
  ];
  for (const [what, args, hint] of cases) {
    it(`for ${what}`, T, async () => {
      const r = await runCli(args);
      exits(r, 2);
      assert.equal(r.stdout, '');
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, /^coap-group: /);
      assert.match(r.stderr, hint);
    });
  }
});

describe('timeouts', () => {
  it('exits 3 when a unicast request gets no answer within --timeout', T, async () => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, SILENT, () => r()));
    const { port } = s.address();
    await new Promise<void>((r) => s.close(() => r()));
    const r = await runCli(['get', `coap://${SILENT}:${port}/x`, '--timeout', '1']);
    exits(r, 3);
    assert.equal(lines(r.stderr).length, 1);
    assert.match(r.stderr, /no response from 127\.0\.0\.42/);
  });
});

describe('--help', { concurrency: 4 }, () => {
  for (const command of ['get', 'put', 'post', 'delete', 'discover', 'serve', 'demo']) {
    it(`coap-group ${command} --help exits 0 and prints its usage`, T, async () => {
      const r = await runCli([command, '--help']);
      exits(r, 0);
      assert.match(r.stdout, /^Usage: coap-group /);
    });
  }

  it('coap-group --help lists the commands', T, async () => {
    const r = await runCli(['--help']);
    exits(r, 0);
    assert.match(r.stdout, /Usage:/);
    for (const c of ['get|put|post|delete', 'discover', 'serve', 'demo']) assert.ok(r.stdout.includes(c), c);
  });

  it('npx coap-group --help works without a build step', T, async () => {
    const r = await runCommand('npm', ['exec', '--offline', '--', 'coap-group', '--help']);
    exits(r, 0);
    assert.match(r.stdout, /Usage:/);
  });
});
