/**
 * The command line beyond the basics of cli.test.ts: `--version`, no command, `fetch`, `patch`,
 * `ipatch` and `ping`; the response code of a PUT; `groups remove` of a missing index; durations
 * that must be above 0; a group nobody answers (exit 3, also with `--json`); a closed stdout
 * (`| head`); Ctrl-C (130) and SIGTERM; `serve --pid-file`, the note of a node on another port
 * than 5683, and `/coap-group` from the very first answer; `--verbose` and NODE_DEBUG=coap.
 * Nodes use 127.0.0.50-127.0.0.59 on random ports; multicast is pinned to lo.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoapClient } from '../../src/index.js';
import {
  BIN,
  exits,
  killAll,
  lines,
  ROOT,
  runCli,
  runCommand,
  type ServeNode,
  startCli,
  startServe,
} from '../support/cli-run.js';
import { randomPort } from '../support/handles.js';

const T = { timeout: 40_000 };
const NODE = '127.0.0.50';
const GROUP = '224.0.1.187';

after(killAll);

/** A port on `address` that nothing listens on (bound once, then closed). */
async function silentPort(address: string): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts serve on a random port, trying another when the port is taken. */
async function serveOn(
  address: string,
  extra: readonly string[],
): Promise<{ node: ServeNode; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = randomPort();
    try {
      return { node: await startServe(['--bind', address, '--port', String(port), ...extra]), port };
    } catch (err) {
      if (attempt >= 2 || !/cannot bind/.test((err as Error).message)) throw err;
    }
  }
}

describe('a node and the request commands', () => {
  let node: ServeNode;
  let port = 0;
  let at = '';
  const dir = mkdtempSync(join(tmpdir(), 'coap-group-cli-'));
  const pidFile = join(dir, 'node.pid');

  before(async () => {
    ({ node, port } = await serveOn(NODE, [
      '--resource',
      '/light=off',
      '--multicast',
      '/light',
      '--leisure',
      '0.2',
      '--pid-file',
      pidFile,
    ]));
    at = `${NODE}:${port}`;
  });
  after(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serve --pid-file holds the node’s own process ID once it is ready', T, () => {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    assert.ok(Number.isInteger(pid) && pid > 0);
    process.kill(pid, 0); // the process exists
  });

  it('serve on another port than 5683 says where its discovery is', T, () => {
    assert.match(
      node.output().stderr,
      new RegExp(
        `^coap-group: note: this node answers discovery on port ${port}, not 5683: find it with coap-group discover coap://224\\.0\\.1\\.187:${port}$`,
        'm',
      ),
    );
  });

  it('put prints the response code on stderr, and nothing on stdout', T, async () => {
    const r = await runCli(['put', `coap://${at}/light`, '--payload', 'on']);
    exits(r, 0);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '2.04 Changed\n');
  });

  for (const [command, method] of [
    ['fetch', 'FETCH'],
    ['patch', 'PATCH'],
    ['ipatch', 'iPATCH'],
  ] as const) {
    it(`${command} sends ${method} (a value resource answers 4.05)`, T, async () => {
      const r = await runCli([command, `coap://${at}/light`, '--payload', 'x', '--verbose']);
      exits(r, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `^coap-group: sent CON ${method} mid=0x[0-9a-f]{4} token=[0-9a-f]+ Uri-Path="light" Content-Format=0 1 B to ${at.replaceAll('.', '\\.')}$`,
          'm',
        ),
      );
      assert.match(r.stderr, /^coap-group: received ACK 4\.05 Method Not Allowed mid=/m);
      assert.match(r.stderr, /^4\.05 Method Not Allowed/m);
    });
  }

  it('--verbose shows each message sent and received, one line each', T, async () => {
    const r = await runCli(['get', `coap://${at}/light`, '--verbose']);
    exits(r, 0);
    const trace = lines(r.stderr);
    assert.equal(trace.length, 2, r.stderr);
    assert.match(
      trace[0]!,
      /^coap-group: sent CON GET mid=0x[0-9a-f]{4} token=[0-9a-f]{2,16} Uri-Path="light" 0 B to /,
    );
    assert.match(
      trace[1]!,
      /^coap-group: received ACK 2\.05 Content mid=0x[0-9a-f]{4} token=[0-9a-f]+ Content-Format=0 \d+ B from /,
    );
  });

  it('NODE_DEBUG=coap logs each message through util.debuglog', T, async () => {
    const r = await runCli(['get', `coap://${at}/light`], 20_000, { NODE_DEBUG: 'coap' });
    exits(r, 0);
    assert.match(
      r.stderr,
      /^COAP \d+: sent CON GET mid=0x[0-9a-f]{4} token=[0-9a-f]+ Uri-Path="light" 0 B to /m,
    );
    assert.match(r.stderr, /^COAP \d+: received ACK 2\.05 Content .* from 127\.0\.0\.50:\d+$/m);
  });

  it('ping gets an answer from a node', T, async () => {
    const r = await runCli(['ping', `coap://${at}`]);
    exits(r, 0);
    assert.match(r.stdout, new RegExp(`^${at.replaceAll('.', '\\.')} answered in \\d+ ms\\n$`));
  });

  it('groups remove of an index the node does not have reports the 4.04, exit 1', T, async () => {
    const r = await runCli(['groups', 'remove', `coap://${at}`, '7']);
    exits(r, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'coap-group: 4.04 Not Found: no group membership has index "7"\n');
  });

  it('a closed stdout ends a group request quietly (| head)', T, async () => {
    const script = `"${process.execPath}" "${BIN}" get coap://${GROUP}:${port}/light --iface lo --wait 1 | head -n 0; echo "status \${PIPESTATUS[0]}"`;
    const r = await runCommand('bash', ['-c', script]);
    exits(r, 0);
    assert.equal(r.stdout, 'status 0\n');
    assert.equal(r.stderr, '');
  });

  it('Ctrl-C ends an observation cleanly with status 130', T, async () => {
    const c = startCli(['get', `coap://${at}/light`, '--observe']);
    await c.waitFor('stdout', /2\.05 Content/);
    c.kill('SIGINT');
    const r = await c.done;
    exits(r, 130);
    assert.equal(r.stderr, '');
  });

  it('Ctrl-C ends a group observation with its summary and status 130', T, async () => {
    const c = startCli(['get', `coap://${GROUP}:${port}/light`, '--observe', '--iface', 'lo']);
    await c.waitFor('stdout', /2\.05 Content/);
    c.kill('SIGINT');
    const r = await c.done;
    exits(r, 130);
    assert.match(r.stderr, /^1 response from 1 endpoint in \d+ ms \(224\.0\.1\.187:\d+, interrupted\)\n$/);
  });
});

describe('stopping a command from outside', () => {
  it('Ctrl-C ends a unicast request still waiting: 130; SIGTERM: 143', T, async () => {
    const port = await silentPort('127.0.0.51');
    for (const [signal, status] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      const c = startCli(['get', `coap://127.0.0.51:${port}/x`, '--verbose']);
      await c.waitFor('stderr', /sent CON GET/);
      c.kill(signal);
      const r = await c.done;
      exits(r, status);
      assert.equal(lines(r.stderr).length, 1, r.stderr); // the trace line, no error
    }
  });

  it('serve exits 0 on SIGINT as on SIGTERM, and removes its --pid-file', T, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coap-group-cli-'));
    const pidFile = join(dir, 'node.pid');
    try {
      const { port } = await serveOn('127.0.0.52', ['--pid-file', pidFile, '--no-default-groups']);
      assert.ok(existsSync(pidFile));
      const pid = Number(readFileSync(pidFile, 'utf8'));
      // The node of serveOn; signal it by the ID in the file, as a script would.
      process.kill(pid, 'SIGINT');
      const r = await waitExit(pid);
      assert.equal(r, true, `node ${pid} on port ${port} is still running`);
      assert.equal(existsSync(pidFile), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Resolves true once process `pid` is gone (polled, bounded to 10 s). */
async function waitExit(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('/coap-group from the first answer on', () => {
  it('answers 2.05 to requests sent during start-up and the instant ready is read', T, async () => {
    const address = '127.0.0.53';
    const port = randomPort();
    const client = await CoapClient.create();
    try {
      const uri = `coap://${address}:${port}/coap-group`;
      // Sent before the node exists: Confirmable, so retransmitted until it answers.
      const early = [client.request(uri), client.request(uri)];
      const node = await startServe(['--bind', address, '--port', String(port), '--no-default-groups']);
      const instant = await client.request(uri);
      assert.equal(instant.codeString, '2.05');
      for (const r of await Promise.all(early)) assert.equal(r.codeString, '2.05');
      exits(await node.stop(), 0);
    } finally {
      await client.close();
    }
  });
});

describe('a group nobody answers', () => {
  const group = () => `coap://${GROUP}:${randomPort()}/light`;

  it('says so on stderr and exits 3', T, async () => {
    const r = await runCli(['get', group(), '--iface', 'lo', '--wait', '0.5']);
    exits(r, 3);
    assert.equal(r.stdout, '');
    assert.equal(lines(r.stderr).length, 1);
    assert.match(
      r.stderr,
      /^coap-group: no response from the group 224\.0\.1\.187:\d+ within \d+(?:\.\d+)? s \(check that the nodes joined the group on --iface lo .*\)\n$/,
    );
  });

  it('with --json, the summary on stderr is a JSON object with the status and the error', T, async () => {
    const r = await runCli(['get', group(), '--iface', 'lo', '--wait', '0.5', '--json']);
    exits(r, 3);
    assert.equal(r.stdout, '');
    const o = JSON.parse(r.stderr) as Record<string, unknown>;
    assert.deepEqual([o.responses, o.endpoints, o.reason, o.exit], [0, 0, 'window', 3]);
    assert.match(String(o.error), /^no response from the group 224\.0\.1\.187:\d+ within \d+(?:\.\d+)? s$/);
  });

  it('exits 0 when --no-response disclaimed some answers: silence may be success', T, async () => {
    const r = await runCli([
      'put',
      group(),
      '--payload',
      'on',
      '--iface',
      'lo',
      '--wait',
      '0.5',
      '--no-response',
      '2',
    ]);
    exits(r, 0);
    assert.match(
      r.stderr,
      /^0 responses from 0 endpoints in \d+ ms \(224\.0\.1\.187:\d+; 2\.xx responses were not wanted, so silence may mean success\)\n$/,
    );
  });

  it('discover exits 3 when no node answers', T, async () => {
    const r = await runCli(['discover', `coap://${GROUP}:${randomPort()}`, '--iface', 'lo', '--wait', '0.5']);
    exits(r, 3);
    assert.match(
      r.stderr,
      /^coap-group: no node answered discovery on 224\.0\.1\.187:\d+ within \d+(?:\.\d+)? s \(check --iface lo/,
    );
  });
});

describe('the command line itself', { concurrency: 4 }, () => {
  it('--version prints the package version', T, async () => {
    const r = await runCli(['--version']);
    exits(r, 0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(r.stdout, `${pkg.version}\n`);
  });

  it('runs from bin/coap-group.js too, where links made before the CommonJS entry point', T, async () => {
    const r = await runCommand(process.execPath, [join(ROOT, 'bin', 'coap-group.js'), '--version'], 20_000);
    exits(r, 0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(r.stdout, `${pkg.version}\n`);
  });

  it('no command prints the usage on stderr and exits 2', T, async () => {
    const r = await runCli([]);
    exits(r, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^coap-group: CoAP group communication/);
    assert.match(r.stderr, /coap-group ping URI/);
  });

  const unicast = 'coap://127.0.0.54:5999/x';
  for (const [what, args, message] of [
    ['--wait 0', ['get', `coap://${GROUP}:5999/x`, '--wait', '0'], /--wait 0 must be more than 0 seconds/],
    ['--wait=-1', ['get', `coap://${GROUP}:5999/x`, '--wait=-1'], /--wait -1 must be more than 0 seconds/],
    ['--timeout 0', ['get', unicast, '--timeout', '0'], /--timeout 0 must be more than 0 seconds/],
    [
      'serve --leisure 0',
      ['serve', '--bind', '127.0.0.54', '--leisure', '0'],
      /--leisure 0 must be more than 0 seconds/,
    ],
    ['discover --wait 0', ['discover', '--wait', '0'], /--wait 0 must be more than 0 seconds/],
    ['ping of a group', ['ping', `coap://${GROUP}`], /is a group: a ping is Confirmable/],
    ['ping without a URI', ['ping'], /ping needs a URI/],
  ] as const) {
    it(`rejects ${what} in one line, exit 2`, T, async () => {
      const r = await runCli(args);
      exits(r, 2);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, message);
    });
  }

  it('ping exits 3 when nothing answers within --timeout', T, async () => {
    const port = await silentPort('127.0.0.55');
    const r = await runCli(['ping', `coap://127.0.0.55:${port}`, '--timeout', '0.5']);
    exits(r, 3);
    assert.match(r.stderr, /^coap-group: no response from 127\.0\.0\.55:\d+ within 0\.5 s \(/);
  });

  for (const command of ['ping', 'fetch', 'patch', 'ipatch']) {
    it(`coap-group ${command} --help prints its usage`, T, async () => {
      const r = await runCli([command, '--help']);
      exits(r, 0);
      assert.match(r.stdout, /^Usage: coap-group /);
    });
  }
});
