/**
 * Runs a test file inside a private network namespace (`unshare -rn`), where the only network is
 * what the setup commands create. Multicast tests run there, so nothing they send can reach a
 * real network whatever the host's routes say.
 *
 * Pattern:
 *   if (!insideNetns()) test('...in a private network namespace', (t) => runSelfInNetns(t, import.meta.filename, SETUP));
 *   else { ...the real tests... }
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import type { TestContext } from 'node:test';

const ENV = 'COAP_GROUP_NETNS';

/** Setup for IPv4 multicast on lo. */
export const LOOPBACK_SETUP = ['ip link set lo up'];

/** Setup for IPv6 multicast: a veth pair (IPv6 multicast does not work on lo), DAD off. */
export const IPV6_SETUP = [
  'ip link set lo up',
  'sysctl -qw net.ipv6.conf.default.accept_dad=0',
  'sysctl -qw net.ipv6.conf.all.accept_dad=0',
  'ip link add v0 type veth peer name v1',
  'ip link set v0 up',
  'ip link set v1 up',
  ...[1, 2, 3, 4, 5, 6].map((i) => `ip addr add fd99::${i}/64 dev v0 nodad`),
];

/** True inside the namespace made by `runSelfInNetns`. */
export function insideNetns(): boolean {
  return process.env[ENV] === '1';
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  const r = spawnSync('unshare', ['-rn', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (r.error) return `unshare is not available: ${r.error.message}`;
  if (r.status !== 0) return `unshare -rn failed: ${r.stderr.trim()}`;
  return undefined;
}

/** Why `setup` cannot run in a fresh namespace, or undefined when it can. */
export function setupUnavailable(setup: readonly string[]): string | undefined {
  const r = spawnSync('unshare', ['-rn', 'sh', '-c', `set -e; ${setup.join('; ')}`], { encoding: 'utf8' });
  if (r.error) return `unshare is not available: ${r.error.message}`;
  if (r.status !== 0) return `the namespace setup failed: ${(r.stderr || r.stdout).trim()}`;
  return undefined;
}

/**
 * Re-runs `file` under node:test inside a fresh namespace after `setup`, and fails unless the
 * inner run passed at least one test and failed none. Where namespaces (or, with `probeSetup`,
 * the setup itself) are impossible, the test is skipped with the reason printed.
 */
export function runSelfInNetns(
  t: TestContext,
  file: string,
  setup: readonly string[],
  options: { probeSetup?: boolean; timeoutMs?: number } | number = {},
): void {
  const o = typeof options === 'number' ? { timeoutMs: options } : options;
  const why = netnsUnavailable() ?? (o.probeSetup ? setupUnavailable(setup) : undefined);
  if (why !== undefined) {
    // The reason is printed so a skipped run is never mistaken for a passing one.
    process.stdout.write(`# SKIPPED (no network namespace): ${why}\n`);
    t.skip(why);
    return;
  }
  const script = `set -e; ${setup.join('; ')}; exec "${process.execPath}" --import tsx --test --test-reporter=spec "${file}"`;
  // The inner runner must not inherit NODE_TEST_CONTEXT: with it, node:test skips running files
  // and exits 0 having run nothing.
  const env: NodeJS.ProcessEnv = { ...process.env, [ENV]: '1' };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync('unshare', ['-rn', 'sh', '-c', script], {
    encoding: 'utf8',
    env,
    timeout: o.timeoutMs ?? 120_000,
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  process.stdout.write(output.replace(/^/gm, '    '));
  assert.equal(r.status, 0, `tests inside the namespace failed:\n${output}`);
  const pass = /(?:ℹ|#) pass (\d+)/.exec(output);
  const fail = /(?:ℹ|#) fail (\d+)/.exec(output);
  assert.ok(pass && Number(pass[1]) > 0, `no test ran inside the namespace:\n${output}`);
  assert.equal(Number(fail?.[1] ?? 0), 0, `tests failed inside the namespace:\n${output}`);
}

/** Asserts the namespace has no interface but the ones the setup made: the pinning guarantee. */
export function assertOnlyInterfaces(allowed: readonly string[]): void {
  const names = Object.keys(networkInterfaces());
  for (const n of names) assert.ok(allowed.includes(n), `unexpected interface ${n} in the test namespace`);
}
