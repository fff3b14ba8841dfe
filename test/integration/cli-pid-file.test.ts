/**
 * `--pid-file` of the long-running commands that a script waits for (docs/resource-directory.md
 * does): the file appears only once the process is ready, for `serve --rd` only after the
 * directory answered, holds the process's own ID, and is left behind neither by a stop nor by
 * a start that fails. Over UDP on 127.0.0.226-228 (ports of the system's choosing).
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { exits, killAll, lines, runCli, startCli } from '../support/cli-run.js';
import { startRd as startRdAt } from '../support/rd-run.js';

after(killAll);

const T = { timeout: 60_000 };
const RD = '127.0.0.226';

function startRd(extra: readonly string[] = []) {
  return startRdAt(RD, extra);
}

describe('--pid-file of rd and serve --rd', () => {
  it('rd --pid-file holds its ID once ready and is removed on SIGTERM', T, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coap-rd-pid-'));
    const pidFile = join(dir, 'rd.pid');
    try {
      const { rd } = await startRd(['--pid-file', pidFile]);
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      process.kill(pid, 0); // the directory's own process
      exits(await rd.stop(), 0);
      assert.equal(existsSync(pidFile), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rd whose state does not load exits after binding and leaves no --pid-file', T, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coap-rd-pid-'));
    const pidFile = join(dir, 'rd.pid');
    try {
      mkdirSync(join(dir, 'state'));
      writeFileSync(join(dir, 'state', 'rd.json'), '{ not json');
      const r = await runCli([
        'rd',
        '--bind',
        RD,
        '--port',
        '0',
        '--state',
        join(dir, 'state'),
        '--pid-file',
        pidFile,
      ]);
      assert.notEqual(r.code, 0, r.stderr);
      assert.match(r.stderr, /^coap-group: the resource directory state .*rd\.json is corrupt/);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.equal(existsSync(pidFile), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    'serve --rd writes its --pid-file only once ready, after the directory answered, and removes it',
    T,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'coap-rd-pid-'));
      const pidFile = join(dir, 'node.pid');
      // A "directory" that holds its answer: the node's first request to it shows that the
      // node is bound and asking, and not yet ready. Then every request gets 4.04 (RFC 7252
      // §5.2.1: a piggybacked response, same Message ID and token), and the node serves anyway.
      const fake = dgram.createSocket('udp4');
      await new Promise<void>((r) => fake.bind(0, '127.0.0.228', () => r()));
      let node: ReturnType<typeof startCli> | undefined;
      try {
        const asked = new Promise<void>((resolve) => fake.once('message', () => resolve()));
        let answering = false;
        fake.on('message', (msg, from) => {
          if (!answering || msg.length < 4) return;
          const tkl = msg[0]! & 0x0f;
          const ack = Buffer.concat([
            Buffer.from([0x60 | tkl, 0x84, msg[2]!, msg[3]!]),
            msg.subarray(4, 4 + tkl),
          ]);
          fake.send(ack, from.port, from.address);
        });
        node = startCli(
          [
            'serve',
            '--bind',
            '127.0.0.227',
            '--port',
            '0',
            '--no-default-groups',
            '--rd',
            `coap://127.0.0.228:${fake.address().port}`,
            '--pid-file',
            pidFile,
          ],
          60_000,
        );
        await Promise.race([asked, node.done.then((r) => assert.fail(`serve exited: ${JSON.stringify(r)}`))]);
        assert.equal(existsSync(pidFile), false, 'the pid file appeared before the node was ready');
        answering = true;
        await node.waitFor('stdout', /^ready /m);
        assert.equal(Number(readFileSync(pidFile, 'utf8').trim()), node.pid);
        node.kill('SIGTERM');
        exits(await node.done, 0);
        assert.equal(existsSync(pidFile), false, 'removed on exit');
      } finally {
        node?.kill('SIGKILL');
        fake.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
