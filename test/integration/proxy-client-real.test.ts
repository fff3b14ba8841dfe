/**
 * The client and the CLI through `coap-group proxy` itself (draft-ietf-core-groupcomm-proxy), over
 * UDP in a network namespace of its own whose only interface is lo: members on 127.0.0.2-4, the
 * proxy on 127.0.0.10. One proxied group GET yields each member's response with its source from
 * Reply-From; a member slower than the Multicast-Timeout is not relayed; a group observation
 * through the proxy ends with an Early Stop Request and the proxy deregisters the members;
 * Group-ETag revalidation is answered with 2.03 and the stored set is yielded again; Group OSCORE
 * goes end to end through the proxy, which holds no group keys (every first contact's Echo
 * challenge answered through it); the proxy's 4.01 and 5.01 end the request with
 * ProxyAnswerError; `coap-group get --proxy` prints the members' lines.
 *
 * It needs the `proxy` command (src/cli/proxy.ts); a checkout without it skips, saying so.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import type { GroupResponse } from '../../src/client/group.js';
import { ProxyAnswerError } from '../../src/client/proxy-answer-error.js';
import { Opt } from '../../src/options/registry.js';
import { findOption } from '../../src/options/values.js';
import { OscoreClientSecurity } from '../../src/oscore/endpoint/client.js';
import { parseOscoreConfig } from '../../src/oscore/endpoint/config.js';
import { generateGroup } from '../../src/oscore/endpoint/generate.js';
import { OscoreServerSecurity } from '../../src/oscore/endpoint/server.js';
import { CoapServer } from '../../src/server/server.js';
import { killAll, lines, ROOT, runCli, type ServeNode, startServe } from '../support/cli-run.js';
import { randomPort } from '../support/handles.js';
import { assertOnlyInterfaces, insideNetns, LOOPBACK_SETUP, runSelfInNetns } from '../support/netns.js';

const T = { timeout: 30_000 };
const MEMBERS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const PROXY_HOST = '127.0.0.10';
const GROUP = '224.0.1.187';
const HAS_PROXY = existsSync(join(ROOT, 'src/cli/proxy.ts'));

const sources = (rs: readonly GroupResponse[]) => rs.map((r) => `${r.source.address}=${r.text()}`).sort();

/** Collects a group request, returning its responses or the error it ended with. */
async function outcome(rs: AsyncIterable<GroupResponse>): Promise<GroupResponse[] | Error> {
  const out: GroupResponse[] = [];
  try {
    for await (const r of rs) out.push(r);
    return out;
  } catch (err) {
    return err as Error;
  }
}

if (!HAS_PROXY) {
  test('the client through coap-group proxy', {
    skip: 'needs the coap-group proxy command (src/cli/proxy.ts)',
  }, () => {});
} else if (!insideNetns()) {
  test('the client through coap-group proxy, in a private network namespace', { timeout: 180_000 }, (t) =>
    runSelfInNetns(t, import.meta.filename, LOOPBACK_SETUP),
  );
} else {
  describe('the client through coap-group proxy', () => {
    const port = randomPort();
    const securePort = port + 1;
    const proxyPort = port + 2;
    const files = generateGroup({ members: 4, addresses: [`${GROUP}:${securePort}`] });
    const values = ['on1', 'on2', 'on3'];
    const servers: CoapServer[] = [];
    const clients: CoapClient[] = [];
    let proxy: ServeNode;
    let bare: ServeNode;
    const proxyUri = `coap://${PROXY_HOST}:${proxyPort}`;

    const client = async (o: Parameters<typeof CoapClient.create>[0] = {}): Promise<CoapClient> => {
      const c = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }], proxy: proxyUri, ...o });
      clients.push(c);
      return c;
    };

    before(async () => {
      assertOnlyInterfaces(['lo']);
      for (const [i, address] of MEMBERS.entries()) {
        const plain = new CoapServer({ bind: [address], port, iface: '127.0.0.1', leisure: 0.3 });
        plain.resource('/light', { multicast: true, obs: true }).get(() => ({ payload: values[i]! }));
        // Only the third member is slow: it answers after the Multicast-Timeout of 1 s.
        plain.resource('/slow', { multicast: true }).get(async () => {
          if (i === 2) await new Promise((r) => setTimeout(r, 2500));
          return { payload: `slow${i + 1}` };
        });
        await plain.listen();
        servers.push(plain);
        const secure = new CoapServer({
          bind: [address],
          port: securePort,
          iface: '127.0.0.1',
          leisure: 0.3,
          security: new OscoreServerSecurity(parseOscoreConfig(files[i + 1]!)),
        });
        secure
          .resource('/light', { multicast: true, protected: true })
          .get(() => ({ payload: `secret${i + 1}` }));
        await secure.listen();
        servers.push(secure);
      }
      proxy = await startServe(
        [
          '--bind',
          PROXY_HOST,
          '--port',
          String(proxyPort),
          '--iface',
          '127.0.0.1',
          '--allow-groups-from',
          '127.0.0.1/32',
          '--members',
          `coap://${GROUP}:${port}=${MEMBERS.join(',')}`,
        ],
        15_000,
        'proxy',
      );
      bare = await startServe(['--bind', '127.0.0.11', '--port', String(proxyPort)], 15_000, 'proxy');
    });

    after(async () => {
      for (const c of clients) await c.close();
      for (const s of servers) await s.close();
      await proxy?.stop();
      await bare?.stop();
      await killAll();
    });

    it('yields three responses, each with its member from Reply-From', T, async () => {
      const c = await client();
      const rs = c.group({ uri: `coap://${GROUP}:${port}/light`, window: 1000 });
      const got = await rs.collect();
      assert.deepEqual(sources(got), ['127.0.0.2=on1', '127.0.0.3=on2', '127.0.0.4=on3']);
      assert.ok(got.every((r) => r.via?.address === PROXY_HOST && r.source.port === port));
      assert.equal((await rs.done).reason, 'window');
    });

    it('does not get the response of a member slower than the Multicast-Timeout', T, async () => {
      const c = await client();
      const got = await c.group({ uri: `coap://${GROUP}:${port}/slow`, window: 1000 }).collect();
      assert.deepEqual(sources(got), ['127.0.0.2=slow1', '127.0.0.3=slow2']);
    });

    it(
      'observes the group through the proxy; leaving the loop stops it, and the members are let go',
      T,
      async () => {
        const c = await client();
        const seen: string[] = [];
        for await (const r of c.group({
          uri: `coap://${GROUP}:${port}/light`,
          observe: true,
          window: 5000,
        })) {
          seen.push(`${r.source.address}=${r.text()}`);
          if (seen.length === 3) {
            values[0] = 'changed';
            servers[0]!.notify('/light');
          }
          if (seen.length === 4) break;
        }
        values[0] = 'on1';
        assert.equal(seen[3], '127.0.0.2=changed');
        // After the Early Stop Request the proxy has freed its group token: each member's next
        // notification draws a Reset, which deregisters it (RFC 7641 §3.6).
        const plain = servers.filter((_, i) => i % 2 === 0);
        await new Promise((r) => setTimeout(r, 200));
        for (const s of plain) s.notify('/light');
        for (let i = 0; i < 100 && plain.some((s) => s.stats()!.observers > 0); i++)
          await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(
          plain.map((s) => s.stats()!.observers),
          [0, 0, 0],
        );
      },
    );

    it('revalidates the stored set with Group-ETag: 2.03, and the set is yielded again', T, async () => {
      const c = await client();
      const uri = `coap://${GROUP}:${port}/light`;
      const first = await c.group({ uri, window: 1000, revalidate: true }).collect();
      assert.equal(first.length, 3);
      assert.ok(
        first.some((r) => findOption(r.options, Opt.GroupETag) !== undefined),
        'the proxy tagged the set',
      );
      const rs = c.group({ uri, window: 1000, revalidate: true });
      const again = await rs.collect();
      assert.equal((await rs.done).reason, 'revalidated');
      assert.deepEqual(sources(again), sources(first));
      assert.ok(again.every((r) => r.revalidated));
    });

    it('carries Group OSCORE end to end: members and client verify, the proxy holds no keys', T, async () => {
      const c = await client({ security: new OscoreClientSecurity(parseOscoreConfig(files[0]!)) });
      const got = await c.group({ uri: `coap://${GROUP}:${securePort}/light`, window: 2000 }).collect();
      assert.deepEqual(sources(got), ['127.0.0.2=secret1', '127.0.0.3=secret2', '127.0.0.4=secret3']);
      const again = await c.group({ uri: `coap://${GROUP}:${securePort}/light`, window: 2000 }).collect();
      assert.equal(again.length, 3);
    });

    it(
      'ends with ProxyAnswerError: 4.01 for a client not allow-listed, 5.01 without group forwarding',
      T,
      async () => {
        const other = await client({ bind: [{ address: '127.0.0.20', port: 0 }] });
        const refused = await outcome(other.group({ uri: `coap://${GROUP}:${port}/light`, window: 1000 }));
        assert.ok(refused instanceof ProxyAnswerError, String(refused));
        assert.equal(refused.response.codeString, '4.01');
        const c = await client({ proxy: `coap://127.0.0.11:${proxyPort}` });
        const none = await outcome(c.group({ uri: `coap://${GROUP}:${port}/light`, window: 1000 }));
        assert.ok(none instanceof ProxyAnswerError, String(none));
        assert.equal(none.response.codeString, '5.01');
      },
    );

    it('prints the members’ lines with coap-group get --proxy', T, async () => {
      const r = await runCli([
        'get',
        `coap://${GROUP}:${port}/light`,
        '--proxy',
        proxyUri,
        '--wait',
        '1',
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const from = lines(r.stdout).map((l) => (JSON.parse(l) as { from: string }).from);
      assert.deepEqual(
        from.sort(),
        MEMBERS.map((m) => `${m}:${port}`),
      );
    });
  });
}
