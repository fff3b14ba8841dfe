/**
 * Groups across a multicast router (RFC 7390 §4.1, §4.2, §5.3, §5.4.2), in named namespaces:
 * a client subnet and two member subnets joined by a router running Debian's `smcroute`, which
 * forwards 239.255.0.0/24 and ff05::fd from the client's side to both member subnets.
 *
 *   client c0 198.18.10.2 fd10::2 <-> r0 [router] r1 <-> m1 198.18.11.2 fd11::2
 *                                                 r2 <-> m2 198.18.12.2 fd12::2
 *
 * Unicast through the router is checked everywhere (the topology itself). The multicast checks
 * need the kernel's multicast routing (CONFIG_IP_MROUTE, CONFIG_IPV6_MROUTE): where
 * /proc/net/ip_mr_vif is missing they are skipped with that reason printed. There: the default
 * hop limit 1 keeps a group request on the client's link; `--hops 2` crosses the router for
 * 239.255.x.x and ff05::fd; ff02::fd never crosses; a group the router does not forward stays
 * behind; block-wise follow-ups and `/coap-group` work across the router.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { type CliResult, killAll, runCli, type ServeNode, startServe } from '../support/cli-run.js';
import { codeBlocks, readDoc } from '../support/doc-examples.js';
import { assertOnlyInterfaces } from '../support/netns.js';
import { inNamespace, insideTopology, runSelfInTopology, type TopologySpec } from '../support/topology.js';

const T = { timeout: 40_000 };
const FORWARDED = '239.255.0.1';
const NOT_FORWARDED = '239.255.1.1';
const MEMBERS = { m1: ['198.18.11.2', 'fd11::2'], m2: ['198.18.12.2', 'fd12::2'] } as const;

const SPEC: TopologySpec = {
  namespaces: ['client', 'router', 'm1', 'm2'],
  links: [
    [
      { ns: 'client', name: 'c0', addresses: ['198.18.10.2/24', 'fd10::2/64'] },
      { ns: 'router', name: 'r0', addresses: ['198.18.10.1/24', 'fd10::1/64'] },
    ],
    [
      { ns: 'router', name: 'r1', addresses: ['198.18.11.1/24', 'fd11::1/64'] },
      { ns: 'm1', name: 'm0', addresses: ['198.18.11.2/24', 'fd11::2/64'] },
    ],
    [
      { ns: 'router', name: 'r2', addresses: ['198.18.12.1/24', 'fd12::1/64'] },
      { ns: 'm2', name: 'm0', addresses: ['198.18.12.2/24', 'fd12::2/64'] },
    ],
  ],
  after: {
    router: [
      'sysctl -qw net.ipv4.ip_forward=1',
      'sysctl -qw net.ipv6.conf.all.forwarding=1',
      // Multicast from a source on another subnet must pass the reverse-path check.
      'sysctl -qw net.ipv4.conf.all.rp_filter=0',
    ],
    client: ['ip route add default via 198.18.10.1', 'ip -6 route add default via fd10::1'],
    m1: ['ip route add default via 198.18.11.1', 'ip -6 route add default via fd11::1'],
    m2: ['ip route add default via 198.18.12.1', 'ip -6 route add default via fd12::1'],
  },
};

/** Why multicast cannot be routed here, or undefined when it can. */
function multicastRoutingUnavailable(): string | undefined {
  for (const [file, option] of [
    ['/proc/net/ip_mr_vif', 'CONFIG_IP_MROUTE'],
    ['/proc/net/ip6_mr_vif', 'CONFIG_IPV6_MROUTE'],
  ] as const) {
    if (!existsSync(file)) {
      return `the kernel has no multicast routing (${option} is off: ${file} is missing), so smcroute cannot install routes`;
    }
  }
  const r = spawnSync('smcrouted', ['-v'], { encoding: 'utf8' });
  if (r.error) return `smcroute is not installed (apt-get install smcroute): ${r.error.message}`;
  return undefined;
}

if (!insideTopology()) {
  test('groups across a multicast router (named namespaces, smcroute)', { timeout: 240_000 }, (t) =>
    runSelfInTopology(t, import.meta.filename, SPEC, 'client', 230_000),
  );
} else {
  const dir = mkdtempSync(join(tmpdir(), 'coap-group-routed-'));
  const big = randomBytes(2500);
  const nodes: ServeNode[] = [];
  const noRouting = multicastRoutingUnavailable();
  if (noRouting !== undefined)
    process.stdout.write(`# SKIPPED (multicast through the router): ${noRouting}\n`);

  const get = (uri: string, ...more: string[]): Promise<CliResult> =>
    runCli(['get', uri, '--iface', 'c0', '--wait', '1.5', ...more], 30_000);

  /** The responders of a group request's text output, sorted. */
  const responders = (r: CliResult): string[] =>
    r.stdout
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => l.split('  ')[0]!)
      .sort();

  before(async () => {
    // Nothing is sent before it is certain that only the namespace's own link exists.
    assertOnlyInterfaces(['lo', 'c0']);
    writeFileSync(join(dir, 'big.bin'), big);
    for (const m of ['m1', 'm2'] as const) {
      nodes.push(
        await startServe(
          [
            ...['--iface', 'm0', '--leisure', '0.2', '--join', FORWARDED, '--join', NOT_FORWARDED],
            ...['--resource', `/light=${m}`, '--multicast', '/light'],
            ...['--resource', `/big=@${join(dir, 'big.bin')}`, '--multicast', '/big'],
            ...['--allow-config-from', '198.18.10.0/24'],
          ],
          20_000,
          'serve',
          inNamespace(m),
        ),
      );
    }
  });

  after(async () => {
    for (const n of nodes) await n.stop();
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('unicast through the router', () => {
    it('reaches every member by IPv4 and IPv6', T, async () => {
      for (const [m, addresses] of Object.entries(MEMBERS)) {
        for (const a of addresses) {
          const r = await runCli(['get', `coap://${a.includes(':') ? `[${a}]` : a}/light`]);
          assert.deepEqual([r.code, r.stdout], [0, `${m}\n`], r.stderr);
        }
      }
    });
  });

  describe('multicast through the router', { skip: noRouting }, () => {
    let router: ChildProcess | undefined;

    before(async () => {
      const conf = join(dir, 'smcroute.conf');
      // The very configuration docs/deployment.md gives.
      const block = codeBlocks(readDoc('docs/deployment.md'), 'docs-example').find(
        (b) => b.file === 'smcroute.conf',
      );
      assert.ok(block, 'docs/deployment.md gives smcroute.conf');
      writeFileSync(conf, block.code);
      const ident = `cg-${process.pid}`;
      const args = [
        '-n',
        '-f',
        conf,
        '-i',
        ident,
        '-u',
        join(dir, 'smcroute.sock'),
        '-P',
        join(dir, 'smcroute.pid'),
      ];
      const argv = [...inNamespace('router'), 'smcrouted', ...args];
      router = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
      // Ready once it answers on its socket (bounded).
      for (let i = 0; i < 100; i++) {
        const r = spawnSync(
          'ip',
          [...inNamespace('router').slice(1), 'smcroutectl', '-u', join(dir, 'smcroute.sock'), 'show'],
          {
            encoding: 'utf8',
            timeout: 5_000,
          },
        );
        if (r.status === 0) return;
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.fail('smcrouted did not start');
    });

    // The namespace's deletion ends it too, should this not.
    after(() => void router?.kill('SIGTERM'));

    it('keeps a group request with the default hop limit 1 on the client link', T, async () => {
      const r = await get(`coap://${FORWARDED}/light`);
      assert.equal(r.code, 3, `no member answers: ${r.stdout}`);
    });

    it('crosses the router with --hops 2, for 239.255.x.x and ff05::fd', T, async () => {
      const v4 = await get(`coap://${FORWARDED}/light`, '--hops', '2');
      assert.deepEqual(responders(v4), ['198.18.11.2:5683', '198.18.12.2:5683'], v4.stderr);
      const v6 = await get('coap://[ff05::fd]/light', '--hops', '2');
      assert.deepEqual(responders(v6), ['[fd11::2]:5683', '[fd12::2]:5683'], v6.stderr);
    });

    it('never forwards ff02::fd, nor a group the router is not configured for', T, async () => {
      assert.equal((await get('coap://[ff02::fd%25c0]/light', '--hops', '2')).code, 3);
      assert.equal((await get(`coap://${NOT_FORWARDED}/light`, '--hops', '2')).code, 3);
    });

    it('completes block-wise bodies by unicast follow-ups through the router', T, async () => {
      const r = await get(`coap://${FORWARDED}/big`, '--hops', '2', '--json');
      const answers = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { from: string; payloadBase64: string });
      assert.deepEqual(answers.map((a) => a.from).sort(), ['198.18.11.2:5683', '198.18.12.2:5683']);
      for (const a of answers) assert.ok(Buffer.from(a.payloadBase64, 'base64').equals(big), a.from);
    });

    it(
      'configures a member through /coap-group across the router, and reaches it on that group',
      T,
      async () => {
        const add = await runCli(['groups', 'add', 'coap://198.18.11.2', '--address', '239.255.0.7']);
        assert.equal(add.code, 0, add.stderr);
        const r = await get('coap://239.255.0.7/light', '--hops', '2');
        assert.deepEqual(responders(r), ['198.18.11.2:5683'], r.stderr);
      },
    );
  });
}
