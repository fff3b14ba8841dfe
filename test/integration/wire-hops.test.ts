/**
 * How far a group request may travel, checked on the wire (RFC 7390 §5.4.2, §4; design.md
 * §Scope). In a private network namespace with two links, x0 (198.18.1.0/24, fd01::/64) and x1
 * (198.18.2.0/24, fd02::/64), `dumpcap` captures each link while the library and the CLI send
 * group requests: every one leaves on the interface chosen (`iface`, `--iface`) and on no other,
 * to the group it names, with IPv4 TTL and IPv6 hop limit 1 by default and N with `hops` /
 * `--hops N`. A scope wider than site-local (ff0e::) and an IPv4 TTL of 32 or more are refused
 * before anything is sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { CoapClient } from '../../src/index.js';
import { type Capture, type CapturedDatagram, captureUnavailable, startCapture } from '../support/capture.js';
import { type CliResult, killAll, runCli } from '../support/cli-run.js';
import { randomPort } from '../support/handles.js';
import { assertOnlyInterfaces, insideNetns, runSelfInNetns } from '../support/netns.js';

const T = { timeout: 30_000 };
const SETUP = [
  'ip link set lo up',
  'sysctl -qw net.ipv6.conf.default.accept_dad=0',
  'sysctl -qw net.ipv6.conf.all.accept_dad=0',
  'ip link add x0 type veth peer name y0',
  'ip link add x1 type veth peer name y1',
  ...['x0', 'y0', 'x1', 'y1'].map((i) => `ip link set ${i} up`),
  'ip addr add 198.18.1.1/24 dev x0',
  'ip addr add 198.18.2.1/24 dev x1',
  'ip addr add fd01::1/64 dev x0 nodad',
  'ip addr add fd02::1/64 dev x1 nodad',
];

if (!insideNetns()) {
  test('group requests leave on the chosen link with the chosen hop limit (captured)', {
    timeout: 120_000,
  }, (t) => {
    const why = captureUnavailable();
    if (why !== undefined) {
      process.stdout.write(`# SKIPPED (no packet capture): ${why}\n`);
      t.skip(why);
      return;
    }
    runSelfInNetns(t, import.meta.filename, SETUP, { probeSetup: true, timeoutMs: 110_000 });
  });
} else {
  describe('group requests on the wire', () => {
    const port = randomPort();
    let x0: Capture;
    let x1: Capture;

    before(async () => {
      // Nothing is sent before it is certain that only the namespace's own links exist.
      assertOnlyInterfaces(['lo', 'x0', 'y0', 'x1', 'y1']);
      x0 = await startCapture('x0');
      x1 = await startCapture('x1');
    });

    after(async () => {
      killAll();
      await x0?.stop();
      await x1?.stop();
    });

    /** What `action` put on each link, marker datagrams left out, only the test's port. */
    async function onTheWire(label: string, action: () => Promise<unknown>) {
      const from = [await x0.mark(`${label} start`), await x1.mark(`${label} start`)];
      await action();
      const to = [await x0.mark(`${label} end`), await x1.mark(`${label} end`)];
      const pick = (c: Capture, i: 0 | 1): CapturedDatagram[] =>
        c.datagrams.slice(from[i], to[i]).filter((d) => d.dstPort === port);
      return { x0: pick(x0, 0), x1: pick(x1, 1) };
    }

    function oneRequest(ds: readonly CapturedDatagram[], dst: string, hops: number): void {
      assert.equal(ds.length, 1, `one datagram: ${JSON.stringify(ds)}`);
      assert.equal(ds[0]!.dst, dst);
      assert.equal(ds[0]!.hops, hops, `TTL / hop limit of the request to ${dst}`);
      // A CoAP NON request (RFC 7390 §2.5): version 1, type 1, a GET.
      assert.equal(ds[0]!.payload[0]! >> 4, 0x5);
      assert.equal(ds[0]!.payload[1], 0x01);
    }

    async function libraryGroupGet(iface: string, uri: string, hops?: number): Promise<void> {
      const client = await CoapClient.create({ iface, ...(hops !== undefined ? { hops } : {}) });
      try {
        await client.group({ uri, window: 100 }).collect();
      } finally {
        await client.close();
      }
    }

    function cliGet(args: readonly string[]): Promise<CliResult> {
      return runCli(['get', ...args, '--wait', '0.2']);
    }

    it('library: TTL 1 by default, on the chosen interface only', T, async () => {
      const seen = await onTheWire('lib v4', () => libraryGroupGet('x0', `coap://239.255.0.1:${port}/x`));
      oneRequest(seen.x0, '239.255.0.1', 1);
      assert.deepEqual(seen.x1, [], 'nothing on the other link');
    });

    it('library: hops 3 gives TTL 3 and hop limit 3', T, async () => {
      const v4 = await onTheWire('lib v4 hops', () =>
        libraryGroupGet('x1', `coap://239.255.0.1:${port}/x`, 3),
      );
      oneRequest(v4.x1, '239.255.0.1', 3);
      assert.deepEqual(v4.x0, []);
      const v6 = await onTheWire('lib v6 hops', () =>
        libraryGroupGet('x1', `coap://[ff05::fd]:${port}/x`, 3),
      );
      oneRequest(v6.x1, 'ff05::fd', 3);
      assert.deepEqual(v6.x0, []);
    });

    it('library: hop limit 1 by default to ff05::fd and ff02::fd', T, async () => {
      const site = await onTheWire('lib ff05', () => libraryGroupGet('x0', `coap://[ff05::fd]:${port}/x`));
      oneRequest(site.x0, 'ff05::fd', 1);
      assert.deepEqual(site.x1, []);
      const link = await onTheWire('lib ff02', () =>
        libraryGroupGet('x0', `coap://[ff02::fd%25x1]:${port}/x`),
      );
      oneRequest(link.x1, 'ff02::fd', 1);
      assert.deepEqual(link.x0, [], 'the zone of the group names the link');
    });

    it('CLI: --iface chooses the link, --hops N sets TTL and hop limit', T, async () => {
      const plain = await onTheWire('cli v4', () =>
        cliGet([`coap://224.0.1.187:${port}/x`, '--iface', 'x1']),
      );
      oneRequest(plain.x1, '224.0.1.187', 1);
      assert.deepEqual(plain.x0, []);
      const hops = await onTheWire('cli v4 hops', () =>
        cliGet([`coap://239.255.0.1:${port}/x`, '--iface', '198.18.1.1', '--hops', '4']),
      );
      oneRequest(hops.x0, '239.255.0.1', 4);
      assert.deepEqual(hops.x1, []);
      const v6 = await onTheWire('cli v6 hops', () =>
        cliGet([`coap://[ff05::fd]:${port}/x`, '--iface', 'x0', '--hops', '2']),
      );
      oneRequest(v6.x0, 'ff05::fd', 2);
      assert.deepEqual(v6.x1, []);
      const found = await onTheWire('cli discover', () =>
        runCli([
          'discover',
          `coap://[ff02::fd%25x1]:${port}`,
          '--iface',
          'x1',
          '--hops',
          '2',
          '--wait',
          '0.2',
        ]),
      );
      assert.equal(found.x1.length, 1);
      assert.equal(found.x1[0]!.hops, 2);
      assert.deepEqual(found.x0, []);
    });

    it('refuses a scope wider than site-local, and IPv4 TTL 32, before sending anything', T, async () => {
      let results: CliResult[] = [];
      const seen = await onTheWire('refused', async () => {
        results = [
          await cliGet([`coap://[ff0e::fd]:${port}/x`, '--iface', 'x0']),
          await cliGet([`coap://239.255.0.1:${port}/x`, '--iface', 'x0', '--hops', '32']),
        ];
        const client = await CoapClient.create({ iface: 'x0' });
        try {
          await assert.rejects(client.group({ uri: `coap://[ff0e::fd]:${port}/x`, window: 100 }).collect(), {
            code: 'ERR_COAP_GROUP_SCOPE',
          });
        } finally {
          await client.close();
        }
      });
      for (const r of results) {
        assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /RFC 7390 §5\.4\.2/);
      }
      assert.deepEqual([...seen.x0, ...seen.x1], [], 'nothing was sent');
    });
  });
}
