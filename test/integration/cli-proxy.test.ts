/**
 * `coap-group get URI --proxy coap://PROXY` over UDP on loopback (draft-ietf-core-groupcomm-proxy
 * §5.1, §5.5): a group request through a proxy prints the same lines as a direct one, each from
 * the member its Reply-From names, and `--json` the same objects; `--wait` is the
 * Multicast-Timeout; the proxy's refusal is one line with a hint and exit 1; a unicast request
 * goes through the proxy with Proxy-Uri; a bad proxy URI is a usage error. The proxy is the test
 * double of test/support/test-group-proxy.ts, in this process; members are in-process servers.
 * Addresses 127.0.0.241-127.0.0.244; multicast pinned to lo.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { Opt } from '../../src/options/registry.js';
import { decodeUint, findOption } from '../../src/options/values.js';
import { systemRuntime } from '../../src/runtime.js';
import { CoapServer } from '../../src/server/server.js';
import { UdpTransport } from '../../src/transport/udp.js';
import { exits, killAll, lines, runCli } from '../support/cli-run.js';
import { randomPort } from '../support/handles.js';
import { forwardingMessenger, installTestProxy, type TestProxy } from '../support/test-group-proxy.js';

const T = { timeout: 30_000 };
const PROXY_HOST = '127.0.0.241';
const MEMBERS = ['127.0.0.242', '127.0.0.243', '127.0.0.244'];
const GROUP = '224.0.1.187';

after(killAll);

interface Setup {
  port: number;
  proxyPort: number;
  proxy: TestProxy;
  members: CoapServer[];
  close(): Promise<void>;
}

/** Three members on `port` and a proxy; retried on another port when one is taken. */
async function setup(allow = true): Promise<Setup> {
  for (let attempt = 0; ; attempt++) {
    const port = randomPort();
    const proxyPort = randomPort();
    const closers: Array<() => Promise<void>> = [];
    const members: CoapServer[] = [];
    try {
      for (const [i, address] of MEMBERS.entries()) {
        const s = new CoapServer({ bind: [address], port, iface: '127.0.0.1', leisure: 0.2 });
        s.resource('/light', { multicast: true, obs: true }).get(() => ({ payload: `on${i + 1}` }));
        await s.listen();
        members.push(s);
        closers.push(() => s.close());
      }
      const transport = await UdpTransport.create({
        bind: [{ address: PROXY_HOST, port: 0 }],
        ipv4Interface: '127.0.0.1',
      });
      const forwarder = await CoapClient.create({ messenger: forwardingMessenger(transport, systemRuntime) });
      closers.push(async () => {
        await forwarder.close();
        await forwarder.messenger.close();
      });
      const server = new CoapServer({ bind: [PROXY_HOST], port: proxyPort, joinAllCoapNodes: false });
      const proxy = installTestProxy(server, forwarder, allow ? {} : { allow: () => false });
      await server.listen();
      closers.push(() => server.close());
      return {
        port,
        proxyPort,
        proxy,
        members,
        async close() {
          for (const c of closers.reverse()) await c();
        },
      };
    } catch (err) {
      for (const c of closers.reverse()) await c();
      if (attempt >= 2) throw err;
    }
  }
}

describe('the CLI through a proxy', () => {
  let s: Setup;
  before(async () => {
    s = await setup();
  });
  after(async () => {
    await s?.close();
  });

  it(
    'prints one line per member, as a direct request does, with --wait as Multicast-Timeout',
    T,
    async () => {
      const r = await runCli([
        'get',
        `coap://${GROUP}:${s.port}/light`,
        '--proxy',
        `coap://${PROXY_HOST}:${s.proxyPort}`,
        '--wait',
        '1',
      ]);
      exits(r, 0);
      assert.deepEqual(
        lines(r.stdout).sort(),
        MEMBERS.map((m, i) => `${m}:${s.port}  2.05 Content  on${i + 1}`),
      );
      assert.match(
        r.stderr,
        new RegExp(
          `3 responses from 3 endpoints in \\d+ ms \\(${GROUP}:${s.port} via coap://${PROXY_HOST}:${s.proxyPort}\\)`,
        ),
      );
      const req = s.proxy.requests.at(-1)!.message;
      assert.equal(decodeUint(findOption(req.options, Opt.MulticastTimeout)!.value), 1);
    },
  );

  it('prints NDJSON with from = the member', T, async () => {
    const r = await runCli([
      'get',
      `coap://${GROUP}:${s.port}/light`,
      '--proxy',
      `coap://${PROXY_HOST}:${s.proxyPort}`,
      '--wait',
      '1',
      '--json',
    ]);
    exits(r, 0);
    const objects = lines(r.stdout).map(
      (l) => JSON.parse(l) as { from: string; code: string; payload: string },
    );
    assert.deepEqual(
      objects.map((o) => `${o.from} ${o.code} ${o.payload}`).sort(),
      MEMBERS.map((m, i) => `${m}:${s.port} 2.05 on${i + 1}`),
    );
    const summary = JSON.parse(lines(r.stderr).at(-1)!) as { responses: number; proxy: string; exit: number };
    assert.equal(summary.responses, 3);
    assert.equal(summary.proxy, `coap://${PROXY_HOST}:${s.proxyPort}`);
  });

  it(
    'observes the group through the proxy until --wait, then the proxy deregisters the members',
    T,
    async () => {
      const r = await runCli([
        'get',
        `coap://${GROUP}:${s.port}/light`,
        '--proxy',
        `coap://${PROXY_HOST}:${s.proxyPort}`,
        '--observe',
        '--wait',
        '2',
      ]);
      exits(r, 0);
      assert.deepEqual(
        lines(r.stdout).sort(),
        MEMBERS.map((m, i) => `${m}:${s.port}  2.05 Content  on${i + 1}`),
      );
      // The Early Stop Request reached the proxy, which deregistered every member (RFC 7641 §3.6).
      for (let i = 0; i < 50 && s.members.some((m) => m.stats()!.observers > 0); i++)
        await new Promise((done) => setTimeout(done, 20));
      assert.deepEqual(
        s.members.map((m) => m.stats()!.observers),
        [0, 0, 0],
      );
      assert.equal(s.proxy.stops.length, 1);
    },
  );

  it('sends a unicast request through the proxy', T, async () => {
    const r = await runCli([
      'get',
      `coap://${MEMBERS[1]}:${s.port}/light`,
      '--proxy',
      `coap://${PROXY_HOST}:${s.proxyPort}`,
    ]);
    exits(r, 0);
    assert.equal(r.stdout.trim(), 'on2');
    assert.equal(
      findOption(s.proxy.requests.at(-1)!.message.options, Opt.ProxyUri)?.value.toString(),
      `coap://${MEMBERS[1]}:${s.port}/light`,
    );
  });

  it('refuses a proxy URI that is not coap://host[:port], exit 2', T, async () => {
    const r = await runCli(['get', `coap://${GROUP}:${s.port}/light`, '--proxy', 'http://127.0.0.241/']);
    exits(r, 2);
    assert.match(
      r.stderr,
      /^coap-group: proxy "http:\/\/127\.0\.0\.241\/" is not a coap:\/\/ URI; give it as coap:\/\/HOST\[:PORT\]/m,
    );
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  });
});

describe('the CLI refused by a proxy', () => {
  let s: Setup;
  before(async () => {
    s = await setup(false);
  });
  after(async () => {
    await s?.close();
  });

  it('says what the proxy answered and how to mend it, exit 1', T, async () => {
    const r = await runCli([
      'get',
      `coap://${GROUP}:${s.port}/light`,
      '--proxy',
      `coap://${PROXY_HOST}:${s.proxyPort}`,
      '--wait',
      '1',
    ]);
    exits(r, 1);
    assert.equal(r.stdout, '');
    const line = lines(r.stderr);
    assert.equal(line.length, 1, r.stderr);
    assert.match(
      line[0]!,
      /^coap-group: the proxy 127\.0\.0\.241:\d+ answered 4\.01 Unauthorized itself: this client is not allow-listed/,
    );
    assert.match(line[0]!, /--allow-groups-from/);
  });
});
