/**
 * System errors on the command line are one line with a hint and exit 4, never a stack trace,
 * unless asked for with `--debug` or NODE_DEBUG=coap. The case: an IPv6 group request where no
 * route exists (`coap://[ff02::fd%25lo]/light` in a namespace that has only lo, where Linux has
 * no IPv6 multicast route), whose send fails with ENETUNREACH. Runs in a private namespace, so
 * nothing can leave it whatever the host's routes say.
 */
import assert from 'node:assert/strict';
import { after, describe, it, test } from 'node:test';
import { exits, killAll, lines, runCli } from '../support/cli-run.js';
import { assertOnlyInterfaces, insideNetns, LOOPBACK_SETUP, runSelfInNetns } from '../support/netns.js';

const T = { timeout: 30_000 };
const URI = 'coap://[ff02::fd%25lo]/light';

/** A stack frame line, as Node prints them. */
const FRAME = /^\s+at /m;

if (!insideNetns()) {
  test('CLI errors, in a private network namespace (lo only)', { timeout: 120_000 }, (t) =>
    runSelfInNetns(t, import.meta.filename, LOOPBACK_SETUP),
  );
} else {
  after(killAll);

  describe('a group request with no route to its group', () => {
    it('runs where only lo exists', () => assertOnlyInterfaces(['lo']));

    it('fails in one line with a hint, exit 4, and no stack trace', T, async () => {
      const r = await runCli(['get', URI, '--wait', '1']);
      exits(r, 4);
      assert.equal(r.stdout, '');
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(
        r.stderr,
        /^coap-group: cannot send to \[ff02::fd%lo\]:5683: ENETUNREACH \(no route to that network: check --iface and the routes; .*\)\n$/,
      );
      assert.doesNotMatch(r.stderr, FRAME);
    });

    it('adds the stack trace with --debug', T, async () => {
      const r = await runCli(['get', URI, '--wait', '1', '--debug']);
      exits(r, 4);
      assert.match(r.stderr, /^coap-group: cannot send to \[ff02::fd%lo\]:5683: ENETUNREACH/);
      assert.match(r.stderr, /^Error: send ENETUNREACH/m);
      assert.match(r.stderr, FRAME);
    });

    it('adds the stack trace with NODE_DEBUG=coap', T, async () => {
      const r = await runCli(['get', URI, '--wait', '1'], 20_000, { NODE_DEBUG: 'coap' });
      exits(r, 4);
      assert.match(r.stderr, /^COAP \d+: sent NON GET /m);
      assert.match(r.stderr, FRAME);
    });

    it('discover of that group fails the same way', T, async () => {
      const r = await runCli(['discover', 'coap://[ff02::fd%25lo]', '--wait', '1']);
      exits(r, 4);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, /^coap-group: cannot send to \[ff02::fd%lo\]:5683: ENETUNREACH \(/);
    });
  });

  describe('a stack trace', () => {
    // The command runs bundled (docs/architecture.md, "The package"); a stack trace must still
    // lead to the source files. Nothing listens on port 9 here: the request times out.
    it('names the TypeScript files and lines of our frames', T, async () => {
      const r = await runCli(['get', 'coap://127.0.0.1:9/x', '--timeout', '1', '--debug']);
      exits(r, 3);
      assert.match(r.stderr, /^coap-group: no response from 127\.0\.0\.1:9 within 1000 ms$/m);
      assert.match(r.stderr, /^\s+at .*[/\\]src[/\\]client[/\\]unicast-exchange\.ts:\d+:\d+\)$/m);
    });
  });
}
