/**
 * The resource directory from the command line, over UDP on 127.0.0.230-239 (multicast on lo,
 * pinned): `coap-group rd` prints its ready line; `serve --rd ... --join-rd-groups` nodes
 * register, then join a group a commissioning tool registers after they started (`rd
 * register-group`), answer one multicast request to it (and only they do), and leave it when it
 * is removed; `serve --rd auto` finds the directory by multicast (RFC 7390 §3.3); a stopped node
 * deregisters; `rd lookup` prints links and JSON; bad usage is one line and exit 2, a refusal
 * exit 1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { exits, killAll, lines, runCli, type ServeNode, startServe } from '../support/cli-run.js';
import { printed, startRd as startRdAt } from '../support/rd-run.js';

after(killAll);

const T = { timeout: 90_000 };
const RD = '127.0.0.230';
const GROUP = '239.255.0.44';

function startRd(extra: readonly string[] = []) {
  return startRdAt(RD, extra);
}

function node(address: string, port: number, rd: string, extra: readonly string[] = []): Promise<ServeNode> {
  return startServe([
    '--bind',
    address,
    '--port',
    String(port),
    '--leisure',
    '0.2',
    '--resource',
    '/light=off',
    '--multicast',
    '/light',
    '--rd',
    rd,
    ...extra,
  ]);
}

describe('coap-group rd and serve --rd', () => {
  it(
    'nodes join a group registered after they started, answer it, and leave it when removed',
    T,
    async () => {
      const { rd, port } = await startRd();
      const started: ServeNode[] = [];
      try {
        assert.match(rd.ready, new RegExp(`^ready coap://${RD}:${port} groups .*224\\.0\\.1\\.187:${port}`));
        const at = `coap://${RD}:${port}`;
        const room = ['127.0.0.231', '127.0.0.232'];
        for (const a of room)
          started.push(
            await node(a, port, at, ['--sector', 'room3', '--join-rd-groups', '--lifetime', '120']),
          );
        started.push(await node('127.0.0.233', port, at, ['--sector', 'room4', '--join-rd-groups']));
        for (const n of started)
          assert.match(await printed(n, /rd: registered as /), new RegExp(`${at}/rd/\\d+`));
        const eps = await runCli(['rd', 'lookup', at, 'ep', 'd=room3']);
        exits(eps, 0);
        assert.deepEqual(
          lines(eps.stdout).map((l) => /base="([^"]+)"/.exec(l)?.[1]),
          room.map((a) => `coap://${a}:${port}`),
        );
        // The commissioning tool (loopback is allowed by default) registers room 3's group.
        const reg = await runCli([
          'rd',
          'register-group',
          at,
          '--name',
          'room3-lights',
          '--base',
          `coap://${GROUP}:${port}`,
          '--sector',
          'room3',
          '--links',
          '</light>;rt=light',
        ]);
        exits(reg, 0);
        const location = reg.stdout.trim();
        assert.match(location, new RegExp(`^${at}/rd/\\d+$`));
        for (const n of started.slice(0, 2))
          await printed(n, new RegExp(`joined group ${GROUP}:${port} for /light`));
        const get = await runCli(['get', `coap://${GROUP}:${port}/light`, '--wait', '1.5']);
        exits(get, 0);
        assert.deepEqual(
          lines(get.stdout)
            .map((l) => l.split(' ')[0])
            .sort(),
          room.map((a) => `${a}:${port}`),
          'exactly the room answers',
        );
        assert.doesNotMatch(started[2]!.output().stderr, /joined group/);
        const json = await runCli(['rd', 'lookup', at, 'res', 'et=core.rd-group&d=room3', '--json']);
        exits(json, 0);
        assert.deepEqual(JSON.parse(json.stdout), { href: `coap://${GROUP}:${port}/light`, rt: 'light' });
        // Removed from the directory: the nodes leave the group.
        exits(await runCli(['delete', location]), 0);
        for (const n of started.slice(0, 2)) await printed(n, new RegExp(`left group ${GROUP}:${port}`));
        const none = await runCli(['get', `coap://${GROUP}:${port}/light`, '--wait', '1']);
        assert.equal(lines(none.stdout).length, 0);
        // A stopped node removes its registration.
        exits(await started[0]!.stop(), 0);
        assert.match(started[0]!.output().stderr, /rd: removed /);
        const left = await runCli(['rd', 'lookup', at, 'ep', 'd=room3']);
        assert.equal(lines(left.stdout).length, 1);
      } finally {
        for (const n of started) await n.stop();
        await rd.stop();
      }
    },
  );

  it('serve --rd auto finds the directory by multicast on its interface', T, async () => {
    const { rd, port } = await startRd();
    let n: ServeNode | undefined;
    try {
      n = await node('127.0.0.234', port, 'auto', ['--ep', 'lamp-auto']);
      assert.match(await printed(n, /rd: registered as /), new RegExp(`coap://${RD}:${port}/rd/\\d+`));
      const found = await runCli(['rd', 'lookup', `coap://224.0.1.187:${port}`, 'ep', 'ep=lamp-auto']);
      exits(found, 0);
      assert.match(found.stdout, /ep="lamp-auto"/);
    } finally {
      await n?.stop();
      await rd.stop();
    }
  });

  it(
    'refuses a group from someone who is not a commissioning tool: exit 1, nothing registered',
    T,
    async () => {
      const { rd, port } = await startRd(['--allow-ct-from', '127.0.0.239']);
      try {
        const at = `coap://${RD}:${port}`;
        const r = await runCli(['rd', 'register-group', at, '--name', 'g', '--base', `coap://${GROUP}`]);
        exits(r, 1);
        assert.match(
          r.stderr,
          /^coap-group: the registration failed: 4\.03 Forbidden \(registering a group needs a commissioning tool/,
        );
        assert.equal((await runCli(['rd', 'lookup', at, 'ep'])).stdout, '');
      } finally {
        await rd.stop();
      }
    },
  );

  it(
    'takes a commissioning tool named by its OSCORE identity: protected 2.01, unprotected 4.01',
    T,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'coap-rd-oscore-'));
      try {
        exits(await runCli(['keys', 'oscore', '--out', join(dir, 'keys')]), 0);
        const client = join(dir, 'keys', 'client.json');
        const kid = (JSON.parse(readFileSync(client, 'utf8')) as { oscore: Array<{ senderId: string }> })
          .oscore[0]!.senderId;
        const { rd, port } = await startRd([
          '--oscore',
          join(dir, 'keys', 'server.json'),
          '--allow-ct-from',
          kid,
        ]);
        try {
          const at = `coap://${RD}:${port}`;
          const group = ['rd', 'register-group', at, '--name', 'g', '--base', `coap://${GROUP}`];
          const plain = await runCli(group);
          exits(plain, 1);
          assert.match(
            plain.stderr,
            /4\.01 Unauthorized \(registering a group needs a commissioning tool: protect the request with OSCORE\)/,
          );
          assert.equal((await runCli(['rd', 'lookup', at, 'ep'])).stdout, '', 'nothing registered');
          const signed = await runCli([...group, '--oscore', client]);
          exits(signed, 0);
          const listed = await runCli(['rd', 'lookup', at, 'ep', 'et=core.rd-group']);
          assert.match(listed.stdout, /ep="g";base="coap:\/\/239\.255\.0\.44";et="core\.rd-group"/);
          // Only that identity may remove it: an unprotected DELETE is 4.01, and nothing changes.
          const location = signed.stdout.trim();
          exits(await runCli(['delete', location]), 1);
          exits(await runCli(['delete', location, '--oscore', client]), 0);
        } finally {
          await rd.stop();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  for (const [name, args, message] of [
    ['rd without --bind', ['rd'], /rd needs --bind ADDR/],
    [
      'rd with a bad --allow-ct-from',
      ['rd', '--bind', RD, '--allow-ct-from', 'room'],
      /--allow-ct-from room is neither/,
    ],
    [
      'rd with a KID but no keys',
      ['rd', '--bind', RD, '--allow-ct-from', '01'],
      /--allow-ct-from 01 is an OSCORE identity: it needs --oscore FILE/,
    ],
    [
      'serve --sector without --rd',
      ['serve', '--bind', '127.0.0.235', '--sector', 'x'],
      /--sector needs --rd URI\|auto/,
    ],
    [
      'serve --join-rd-groups without --multicast',
      ['serve', '--bind', '127.0.0.235', '--rd', 'auto', '--join-rd-groups'],
      /--join-rd-groups needs resources that take multicast/,
    ],
    [
      'serve --lifetime 0',
      ['serve', '--bind', '127.0.0.235', '--rd', 'auto', '--lifetime', '0'],
      /--lifetime 0 must be an integer from 1/,
    ],
    [
      'register-group with a unicast base',
      ['rd', 'register-group', 'coap://127.0.0.1', '--name', 'g', '--base', 'coap://127.0.0.9'],
      /--base coap:\/\/127\.0\.0\.9 is not coap:\/\/MULTICAST-ADDRESS/,
    ],
    [
      'register-group with bad links',
      [
        'rd',
        'register-group',
        'coap://127.0.0.1',
        '--name',
        'g',
        '--base',
        `coap://${GROUP}`,
        '--links',
        '</a',
      ],
      /--links is not link format/,
    ],
    [
      'lookup of neither ep nor res',
      ['rd', 'lookup', 'coap://127.0.0.1', 'groups'],
      /rd lookup needs the RD URI and ep or res/,
    ],
    ['an unknown rd command', ['rd', 'remove'], /unknown rd command "remove"/],
  ] as const) {
    it(`usage: ${name} is one line and exit 2`, T, async () => {
      const r = await runCli(args);
      exits(r, 2);
      assert.match(r.stderr, message);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});
