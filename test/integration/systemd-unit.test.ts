/**
 * The systemd unit shipped in the package (systemd/coap-group.service, docs/deployment.md
 * §Running as a service) and the configuration files of docs/deployment.md. The unit passes
 * `systemd-analyze verify` where systemd is installed; its keys are checked everywhere; and its
 * command line is run as systemd would run it, inside a private network namespace with an eth0
 * and an eth1: first with the unit's default options, then with the /etc/default/coap-group of
 * the guide, against the same state directory, each stopped with the unit's KillSignal.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, test } from 'node:test';
import { killAll, ROOT, runCli, startServe } from '../support/cli-run.js';
import { codeBlocks, readDoc } from '../support/doc-examples.js';
import { assertOnlyInterfaces, insideNetns, runSelfInNetns } from '../support/netns.js';

const T = { timeout: 60_000 };
const UNIT = join(ROOT, 'systemd', 'coap-group.service');
const SETUP = [
  'ip link set lo up',
  'sysctl -qw net.ipv6.conf.default.accept_dad=0',
  'sysctl -qw net.ipv6.conf.all.accept_dad=0',
  'ip link add eth0 type veth peer name p0',
  'ip link add eth1 type veth peer name p1',
  ...['eth0', 'p0', 'eth1', 'p1'].map((i) => `ip link set ${i} up`),
  'ip addr add 198.18.5.1/24 dev eth0',
  'ip addr add fd12:3456:789a::1/64 dev eth0 nodad',
  'ip addr add 198.18.6.1/24 dev eth1',
];

/** The keys this unit may use, by section (systemd.unit(5), systemd.service(5), systemd.exec(5)). */
const KNOWN: Record<string, readonly string[]> = {
  Unit: ['Description', 'Documentation', 'Wants', 'After'],
  Service: [
    ...['Type', 'Environment', 'EnvironmentFile', 'ExecStart', 'KillSignal', 'Restart', 'RestartSec'],
    ...['StateDirectory', 'DynamicUser', 'CapabilityBoundingSet', 'AmbientCapabilities', 'NoNewPrivileges'],
    ...['ProtectSystem', 'ProtectHome', 'PrivateTmp', 'PrivateDevices', 'ProtectKernelTunables'],
    ...['ProtectKernelModules', 'ProtectControlGroups', 'RestrictAddressFamilies', 'LockPersonality'],
    'SystemCallArchitectures',
  ],
  Install: ['WantedBy'],
};

/** The unit as section -> key -> values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const head = /^\[(\w+)\]$/.exec(line);
    if (head) {
      section = new Map();
      out.set(head[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(section && eq > 0, `line ${i + 1} is neither a section nor a key: ${raw}`);
    const key = line.slice(0, eq);
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

/** `Environment="K=V"` values as a record. */
function environment(values: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    values.map((v) => {
      const kv = v.replace(/^"(.*)"$/, '$1');
      return [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)];
    }),
  );
}

/**
 * The serve arguments of ExecStart as systemd expands them (systemd.service(5) §Command lines):
 * `${VAR}` is one word, `$VAR` splits at whitespace.
 */
function serveArgs(execStart: string, env: Record<string, string>): string[] {
  const words = execStart.split(/\s+/).flatMap((w) => {
    const braced = /^\$\{(\w+)\}$/.exec(w);
    if (braced) return [env[braced[1]!] ?? ''];
    const bare = /^\$(\w+)$/.exec(w);
    if (bare) return (env[bare[1]!] ?? '').split(/\s+/).filter((x) => x.length > 0);
    return [w];
  });
  assert.deepEqual(
    words.slice(0, 3),
    ['/usr/bin/env', 'coap-group', 'serve'],
    'ExecStart runs coap-group serve',
  );
  return words.slice(3);
}

/** The text of the ```text block of docs/deployment.md that is the file `name`. */
function guideFile(name: string): string {
  const block = codeBlocks(readDoc('docs/deployment.md'), 'docs-example').find((b) => b.file === name);
  assert.ok(block, `docs/deployment.md has no file ${name}`);
  return block.code;
}

if (!insideNetns()) {
  test(
    'the systemd unit and the deployment guide files (private network namespace)',
    { timeout: 150_000 },
    (t) => runSelfInNetns(t, import.meta.filename, SETUP, { probeSetup: true, timeoutMs: 140_000 }),
  );
} else {
  const dir = mkdtempSync(join(tmpdir(), 'coap-group-unit-'));
  after(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const service = unit.get('Service')!;
  const one = (key: string) => service.get(key)?.[0];

  describe('systemd/coap-group.service', () => {
    it('is shipped in the package', () => {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
      assert.ok(pkg.files.includes('systemd'), 'package.json files lists systemd');
    });

    it('passes systemd-analyze verify', (t) => {
      const r = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8', timeout: 30_000 });
      if (r.error) {
        const why = `systemd-analyze is not installed (${r.error.message}); the keys are checked below`;
        process.stdout.write(`# SKIPPED: ${why}\n`);
        t.skip(why);
        return;
      }
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '', 'no warning either');
    });

    it('has only known keys, and those a stoppable, unprivileged node with kept state needs', () => {
      assert.deepEqual([...unit.keys()], ['Unit', 'Service', 'Install']);
      for (const [name, keys] of unit) {
        for (const k of keys.keys())
          assert.ok(KNOWN[name]!.includes(k), `[${name}] ${k} is not a key this unit knows`);
      }
      assert.equal(one('Type'), 'exec');
      assert.equal(one('KillSignal'), 'SIGTERM');
      assert.equal(one('Restart'), 'on-failure', 'a node stopped with status 0 stays stopped');
      assert.equal(one('StateDirectory'), 'coap-group');
      assert.match(one('ExecStart') ?? '', /--state \$\{STATE_DIRECTORY\}/);
      assert.equal(one('DynamicUser'), 'yes');
      assert.equal(one('CapabilityBoundingSet'), '');
      assert.equal(one('EnvironmentFile'), '-/etc/default/coap-group');
      for (const family of ['AF_INET', 'AF_INET6', 'AF_NETLINK'])
        assert.ok(one('RestrictAddressFamilies')?.split(' ').includes(family), family);
      assert.equal(unit.get('Install')!.get('WantedBy')?.[0], 'multi-user.target');
    });

    it('runs as systemd runs it, stops with status 0 on its KillSignal, and keeps its state', T, async () => {
      assertOnlyInterfaces(['lo', 'eth0', 'p0', 'eth1', 'p1']);
      const state = join(dir, 'state');
      const defaults = { ...environment(service.get('Environment') ?? []), STATE_DIRECTORY: state };
      const first = await startServe(serveArgs(one('ExecStart')!, defaults));
      assert.match(
        first.ready,
        /^ready coap:\/\/127\.0\.0\.1:5683 coap:\/\/\[::1\]:5683 groups 224\.0\.1\.187:5683/,
      );
      const add = await runCli(['groups', 'add', 'coap://127.0.0.1', '--address', '239.255.0.3']);
      assert.equal(add.code, 0, add.stderr);
      assert.equal((await first.stop()).code, 0, 'SIGTERM ends the node with status 0');

      // /etc/default/coap-group of the guide: KEY=VALUE lines.
      const file = Object.fromEntries(
        guideFile('coap-group.env')
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      const second = await startServe(serveArgs(one('ExecStart')!, { ...defaults, ...file }));
      for (const uri of [
        'coap://198.18.5.1:5683',
        'coap://198.18.6.1:5683',
        'coap://[fd12:3456:789a::1]:5683',
      ])
        assert.ok(second.ready.includes(` ${uri} `), `${uri} in ${second.ready}`);
      assert.match(
        second.ready,
        / groups 224\.0\.1\.187:5683,\[ff02::fd\]:5683,\[ff05::fd\]:5683,239\.255\.0\.3:5683$/,
      );
      const light = await runCli(['get', 'coap://198.18.6.1/light']);
      assert.deepEqual([light.code, light.stdout], [0, 'off\n'], light.stderr);
      assert.equal((await second.stop()).code, 0);
    });
  });

  describe('docs/deployment.md files', () => {
    it('the nftables rules are accepted by nft -c', (t) => {
      const file = join(dir, 'coap-group.nft');
      writeFileSync(file, guideFile('coap-group.nft'));
      const r = spawnSync('nft', ['-c', '-f', file], { encoding: 'utf8', timeout: 30_000 });
      if (r.error) {
        const why = `nftables is not installed (${r.error.message})`;
        process.stdout.write(`# SKIPPED: ${why}\n`);
        t.skip(why);
        return;
      }
      assert.equal(r.status, 0, r.stderr);
    });
  });
}
