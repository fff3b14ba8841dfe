/**
 * The resource directory over IPv6 multicast (RFC 7390 §3.3, RFC 9176 §4.1, Appendix A), inside
 * a private network namespace with a veth pair v0/v1 (IPv6 multicast does not work on lo): the
 * directory on fd99::1 answers discovery on site-local All CoAP Nodes (ff05::fd); a node on
 * fd99::2 started with `--rd auto` finds it there, registers, and joins the site-local group
 * [ff05::1234] that a commissioning tool registers for its sector; one multicast GET to that
 * group reaches it, and the node on fd99::3 in another sector stays out.
 */
import assert from 'node:assert/strict';
import { after, describe, it, test } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { parseLinks } from '../../src/link-format/index.js';
import { killAll, runCli, type ServeNode, startServe } from '../support/cli-run.js';
import { randomPort } from '../support/handles.js';
import { assertOnlyInterfaces, IPV6_SETUP, insideNetns, runSelfInNetns } from '../support/netns.js';
import { printed } from '../support/rd-run.js';

const T = { timeout: 90_000 };

if (!insideNetns()) {
  test(
    'the resource directory over IPv6 multicast, in a private network namespace',
    { timeout: 180_000 },
    (t) => runSelfInNetns(t, import.meta.filename, IPV6_SETUP, { probeSetup: true, timeoutMs: 170_000 }),
  );
} else {
  after(killAll);
  describe('resource directory over IPv6 on v0', () => {
    it('is discovered on ff05::fd, and a node joins the site-local group of its sector', T, async () => {
      // Nothing is sent before it is certain that only the namespace's own links exist.
      assertOnlyInterfaces(['lo', 'v0', 'v1']);
      const port = randomPort();
      const started: ServeNode[] = [];
      const client = await CoapClient.create({ iface: 'v0', bind: [{ address: 'fd99::6', port: 0 }] });
      try {
        const rd = await startServe(
          [
            '--bind',
            'fd99::1',
            '--port',
            String(port),
            '--iface',
            'v0',
            '--leisure',
            '0.2',
            '--allow-ct-from',
            'fd99::/64',
          ],
          15_000,
          'rd',
        );
        started.push(rd);
        const found = await client
          .group({ uri: `coap://[ff05::fd]:${port}/.well-known/core?rt=core.rd*`, window: 1000 })
          .collect();
        assert.deepEqual(
          found.map((r) => r.source.address),
          ['fd99::1'],
        );
        assert.deepEqual(
          parseLinks(found[0]!.text()).map((l) => l.href),
          ['/rd', '/rd-lookup/ep', '/rd-lookup/res'],
        );
        const node = (address: string, sector: string) =>
          startServe([
            '--bind',
            address,
            '--port',
            String(port),
            '--iface',
            'v0',
            '--leisure',
            '0.2',
            '--resource',
            '/light=off',
            '--multicast',
            '/light',
            '--rd',
            'auto',
            '--sector',
            sector,
            '--join-rd-groups',
          ]);
        const inRoom = await node('fd99::2', 'r1');
        started.push(inRoom);
        const outside = await node('fd99::3', 'r2');
        started.push(outside);
        await printed(inRoom, new RegExp(`rd: registered as coap://\\[fd99::1\\]:${port}/rd/\\d+`));
        const reg = await runCli([
          'rd',
          'register-group',
          `coap://[fd99::1]:${port}`,
          '--name',
          'r1-lights',
          '--base',
          `coap://[ff05::1234]:${port}`,
          '--sector',
          'r1',
          '--links',
          '</light>',
          '--iface',
          'v0',
        ]);
        assert.equal(reg.code, 0, reg.stderr);
        await printed(inRoom, new RegExp(`joined group \\[ff05::1234\\]:${port} for /light`));
        const answers = await client
          .group({ uri: `coap://[ff05::1234]:${port}/light`, window: 1000 })
          .collect();
        assert.deepEqual(
          answers.map((r) => r.source.address),
          ['fd99::2'],
        );
        assert.doesNotMatch(outside.output().stderr, /joined group/);
      } finally {
        await client.close();
        for (const n of started.reverse()) await n.stop();
      }
    });
  });
}
