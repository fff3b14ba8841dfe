/**
 * Observe over real UDP (RFC 7641). On host loopback (127.0.0.200-203): our client observing
 * our server as it calls notify(), and the CLI's `get --observe --wait` against `serve
 * --resource /c=#counter`. In a private network namespace: a group observation of three nodes on
 * 127.0.0.2-4 (groupcomm-bis §3.7) whose values change, every change tagged by its source, and
 * every node deregistered afterwards (RFC 7641 §3.6), also when the client closes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import type { GroupResponse } from '../../src/client/group.js';
import { CoapServer } from '../../src/server/server.js';
import { eventually, leakCheck } from '../support/bw-udp.js';
import { killAll, lines, runCli, startServe } from '../support/cli-run.js';
import { runGroupTestsInNetns } from '../support/group-netns.js';
import { randomPort } from '../support/handles.js';
import { assertOnlyInterfaces, insideNetns, LOOPBACK_SETUP } from '../support/netns.js';

const T = { timeout: 30_000 };

if (!insideNetns()) {
  describe('unicast observe over UDP on loopback', () => {
    const SERVER = '127.0.0.200';
    const port = randomPort();
    let value = 0;
    let server: CoapServer | undefined;
    let client: CoapClient | undefined;
    let checkHandles: () => Promise<void> = async () => {};

    before(async () => {
      checkHandles = leakCheck();
      server = new CoapServer({ bind: [SERVER], port, joinAllCoapNodes: false });
      server.resource('/v', { obs: true }).get(() => ({ payload: String(value) }));
      await server.listen();
      client = await CoapClient.create({ bind: [{ address: '127.0.0.201', port: 0 }] });
    });

    after(async () => {
      await client?.close();
      await server?.close();
      await checkHandles();
    });

    it(
      'yields the registration response and one notification per notify(), then deregisters',
      T,
      async () => {
        const seen: string[] = [];
        const sequence: number[] = [];
        for await (const r of client!.observe(`coap://${SERVER}:${port}/v`)) {
          seen.push(r.text());
          sequence.push(r.observe!);
          if (seen.length === 4) break;
          value++;
          assert.equal(server!.notify('/v'), 1);
        }
        assert.deepEqual(seen, ['0', '1', '2', '3']);
        for (let i = 1; i < sequence.length; i++) assert.ok(sequence[i]! > sequence[i - 1]!);
        await eventually(() => server!.stats()!.observers === 0, 'the observer deregistered');
        assert.equal(client!.stats().tokens, 0);
      },
    );

    it('ends the observation when its AbortSignal aborts', T, async () => {
      const ac = new AbortController();
      let n = 0;
      for await (const _ of client!.observe({ uri: `coap://${SERVER}:${port}/v`, signal: ac.signal })) {
        if (++n === 2) ac.abort();
        else server!.notify('/v');
      }
      assert.equal(n, 2);
      await eventually(() => server!.stats()!.observers === 0, 'the observer deregistered');
    });
  });

  describe('the CLI: get --observe against serve --resource /c=#counter', () => {
    after(() => killAll());

    it('prints several lines with increasing counter values within --wait 3', T, async () => {
      const port = randomPort();
      const node = await startServe([
        '--bind',
        '127.0.0.202',
        '--port',
        String(port),
        '--no-default-groups',
        '--resource',
        '/c=#counter',
      ]);
      try {
        const r = await runCli(
          ['get', `coap://127.0.0.202:${port}/c`, '--observe', '--wait', '3', '--source', '127.0.0.203'],
          20_000,
        );
        assert.equal(r.code, 0, r.stderr);
        const values = lines(r.stdout).map((l) => {
          const m = /^127\.0\.0\.202:\d+ {2}2\.05 Content {2}(\d+)$/.exec(l);
          assert.ok(m, `unexpected line: ${l}`);
          return Number(m[1]);
        });
        assert.ok(values.length >= 2, `only ${values.length} line(s):\n${r.stdout}`);
        for (let i = 1; i < values.length; i++) assert.ok(values[i]! > values[i - 1]!, values.join(' '));
      } finally {
        await node.stop();
      }
    });
  });

  test('group observe, in a private network namespace', { timeout: 120_000 }, (t) =>
    runGroupTestsInNetns(t, import.meta.filename, LOOPBACK_SETUP),
  );
} else {
  describe('group observe of three nodes over UDP (groupcomm-bis §3.7)', () => {
    const NODES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
    const port = randomPort();
    const values = NODES.map((_, i) => `n${i}:0`);
    const servers: CoapServer[] = [];
    let client: CoapClient | undefined;
    let checkHandles: () => Promise<void> = async () => {};

    before(async () => {
      assertOnlyInterfaces(['lo']);
      checkHandles = leakCheck();
      for (const [i, address] of NODES.entries()) {
        const s = new CoapServer({ bind: [address], port, iface: '127.0.0.1', leisure: 0.2 });
        s.resource('/v', { multicast: true, obs: true }).get(() => ({ payload: values[i]! }));
        servers.push(s);
        await s.listen();
      }
      client = await CoapClient.create({ iface: '127.0.0.1', bind: [{ address: '127.0.0.1', port: 0 }] });
    });

    after(async () => {
      await client?.close();
      for (const s of servers) await s.close();
      await checkHandles();
    });

    it('shows every node’s changes tagged by source, and deregisters every node', T, async () => {
      const ac = new AbortController();
      const got: GroupResponse[] = [];
      const want = NODES.length * 3;
      for await (const r of client!.group({
        uri: `coap://224.0.1.187:${port}/v`,
        observe: true,
        signal: ac.signal,
      })) {
        got.push(r);
        // Every node registered, then every node notified: change each node's value, one round at
        // a time (a notification waits a Leisure, and a newer state would replace it meanwhile).
        const round = got.length / NODES.length;
        if (round === 1 || round === 2) {
          for (const [i, s] of servers.entries()) {
            values[i] = `n${i}:${round}`;
            s.notify('/v');
          }
        }
        if (got.length === want) ac.abort();
      }
      for (const [i, address] of NODES.entries()) {
        const texts = got.filter((r) => r.source.address === address).map((r) => r.text());
        assert.deepEqual(texts, [`n${i}:0`, `n${i}:1`, `n${i}:2`], address);
      }
      for (const [i, s] of servers.entries()) {
        await eventually(() => s.stats()!.observers === 0, `${NODES[i]} deregistered`);
      }
    });

    it('deregisters every node when the observing client closes (RFC 7641 §3.6)', T, async () => {
      const other = await CoapClient.create({
        iface: '127.0.0.1',
        bind: [{ address: '127.0.0.1', port: 0 }],
      });
      const rs = other.group({ uri: `coap://224.0.1.187:${port}/v`, observe: true });
      let answered = 0;
      for await (const _ of rs) if (++answered === NODES.length) break;
      // Leaving the loop deregisters too; observe again and close instead.
      for (const [i, s] of servers.entries()) {
        await eventually(() => s.stats()!.observers === 0, `${NODES[i]} deregistered after break`);
      }
      const again = other.group({ uri: `coap://224.0.1.187:${port}/v`, observe: true });
      let registered = 0;
      const loop = (async () => {
        for await (const _ of again) registered++;
      })();
      // The client deregisters the members it heard from: wait for every first response.
      await eventually(() => registered === NODES.length, 'every node answered');
      await other.close();
      await loop;
      assert.equal((await again.done).reason, 'closed');
      for (const [i, s] of servers.entries()) {
        await eventually(() => s.stats()!.observers === 0, `${NODES[i]} deregistered by close()`);
      }
    });
  });
}
