/**
 * The console on the command line, inside a private network namespace whose only interface is
 * `lo`: `coap-group console` serves it on loopback and prints its URL, stops cleanly on SIGTERM
 * (status 0, its PID file removed), and refuses a bad setting in one line (status 2);
 * `coap-group demo --console` leaves a room running (its nodes found through the gateway by
 * multicast and in its resource directory) and prints the console's URL; `--console` of the
 * gateway's extension options needs `--http-port`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, test } from 'node:test';
import { HTTP_GATEWAY_EXTENSION, httpGatewayOptions } from '../../src/cli/http-gateway.js';
import { UsageError } from '../../src/cli/usage.js';
import { BIN, runCli } from '../support/cli-run.js';
import { insideNetns, LOOPBACK_SETUP, runSelfInNetns } from '../support/netns.js';

const T = { timeout: 60_000 };

function consoleUrl(stdout: string): string {
  const m = /^console (http:\/\/127\.0\.0\.1:\d+\/console\/)$/m.exec(stdout);
  assert.ok(m, `no console line in:\n${stdout}`);
  return m[1]!;
}

describe('--console of the gateway extension', () => {
  it('serves the console with the gateway, and needs --http-port', () => {
    const o = httpGatewayOptions({ 'http-port': '0', console: true }, { options: { iface: '127.0.0.1' } });
    assert.equal(o?.console, true);
    assert.equal(httpGatewayOptions({ 'http-port': '0' }, { options: {} })?.console, undefined);
    assert.throws(
      () => HTTP_GATEWAY_EXTENSION.check({ console: true }),
      (e: unknown) => e instanceof UsageError && e.message === '--console needs --http-port N',
    );
  });
});

/** A long-running command: its output so far, a wait for a line, and its end. */
function spawnCli(args: readonly string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  void done.then(() => clearTimeout(killer));
  return {
    child,
    done,
    output: () => ({ stdout, stderr }),
    /** Resolves with stdout once it matches `re`; rejects when the command exits first. */
    waitFor: async (re: RegExp): Promise<string> => {
      for (let i = 0; i < 400; i++) {
        if (re.test(stdout)) return stdout;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${re} from coap-group ${args.join(' ')}:\n${stdout}${stderr}`);
    },
  };
}

if (!insideNetns()) {
  test('the console on the command line, in a private network namespace', { timeout: 150_000 }, (t) =>
    runSelfInNetns(t, import.meta.filename, LOOPBACK_SETUP, { timeoutMs: 140_000 }),
  );
} else
  describe('the console on the command line', () => {
    it('coap-group console serves it on loopback until SIGTERM', T, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'console-cli-'));
      const pid = join(dir, 'console.pid');
      const cli = spawnCli(['console', '--http-port', '0', '--rd', 'coap://127.0.0.9', '--pid-file', pid]);
      try {
        const url = consoleUrl(await cli.waitFor(/^console /m));
        assert.ok(existsSync(pid));
        const config = (await (await fetch(`${url}config.json`)).json()) as Record<string, unknown>;
        assert.equal(config.rd, 'coap://127.0.0.9');
        assert.equal(config.iface, '127.0.0.1');
        assert.match(await (await fetch(url)).text(), /<title>coap-group console<\/title>/);
        cli.child.kill('SIGTERM');
        assert.equal(await cli.done, 0);
        assert.equal(existsSync(pid), false);
        assert.equal(cli.output().stderr, '');
      } finally {
        cli.child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('coap-group proxy --http-port N --console serves it beside the proxy', T, async () => {
      const cli = spawnCli([
        'proxy',
        '--bind',
        '127.0.0.10',
        '--allow-groups-from',
        '127.0.0.0/8',
        '--http-port',
        '0',
        '--console',
      ]);
      try {
        const ready = await cli.waitFor(/^ready coap:\/\/127\.0\.0\.10:5683 http:\/\/\S+\/hc\/$/m);
        const hc = /(http:\/\/\S+)\/hc\/$/m.exec(ready)![1]!;
        assert.match(await (await fetch(`${hc}/console/`)).text(), /<title>coap-group console<\/title>/);
        const config = (await (await fetch(`${hc}/console/config.json`)).json()) as Record<string, unknown>;
        assert.equal(config.iface, '127.0.0.1');
        cli.child.kill('SIGTERM');
        assert.equal(await cli.done, 0);
      } finally {
        cli.child.kill('SIGKILL');
      }
    });

    it('refuses a bad setting in one line, status 2', T, async () => {
      const r = await runCli(['console', '--http-port', '0', '--group', 'coap://127.0.0.2']);
      assert.equal(r.code, 2);
      assert.equal(
        r.stderr,
        'coap-group: --group "coap://127.0.0.2" is not a coap:// URI with a multicast address, e.g. coap://224.0.1.187 (see coap-group console --help)\n',
      );
    });

    it('coap-group demo --console leaves the room running and prints the URL', T, async () => {
      const cli = spawnCli(['demo', '--console', '--http-port', '0', '--nodes', '3', '--leisure', '0.2']);
      try {
        const url = consoleUrl(await cli.waitFor(/^console /m));
        const origin = new URL(url).origin;
        const found = await fetch(`${origin}/hc/coap://224.0.1.187/.well-known/core?rt=light`, {
          headers: { 'Multicast-Timeout': '1', Accept: 'application/json' },
        });
        const doc = (await found.json()) as { responses: Array<{ from: string }> };
        assert.deepEqual(doc.responses.map((r) => r.from).sort(), [
          '127.0.0.2:5683',
          '127.0.0.3:5683',
          '127.0.0.4:5683',
        ]);
        const eps = await (await fetch(`${origin}/hc/coap://127.0.0.5/rd-lookup/ep`)).text();
        assert.equal(eps.match(/ep="lamp-\d"/g)?.length, 3);
        cli.child.kill('SIGINT');
        assert.equal(await cli.done, 0);
      } finally {
        cli.child.kill('SIGKILL');
      }
    });
  });
