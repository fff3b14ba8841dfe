/**
 * Networks of several namespaces joined by veth links, for the tests of nodes on several links
 * and of routed groups (RFC 7390 §4). Each namespace is a named one (`ip netns add`), so a process
 * can be started in any of them with `ip netns exec`; the names carry this process's id, and
 * every namespace is deleted when the test ends, with whatever still runs inside it. Nothing is
 * created in the namespace the tests were started in: links are made inside the new namespaces.
 *
 * Pattern (the test file re-runs itself inside the namespace `main`):
 *   if (!insideTopology()) test('...', (t) => runSelfInTopology(t, import.meta.filename, SPEC, 'node'));
 *   else { const ns = topologyNames(); ...spawn ['ip', 'netns', 'exec', ns.client, ...] }
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

const ENV = 'COAP_GROUP_TOPOLOGY';
const NETNS_ENV = 'COAP_GROUP_NETNS';

/** One end of a veth link: its namespace (by role), its name and its addresses (`addr/len`). */
export interface LinkEnd {
  readonly ns: string;
  readonly name: string;
  readonly addresses: readonly string[];
}

/** The namespaces (by role), the veth links between them, and commands run in each after. */
export interface TopologySpec {
  readonly namespaces: readonly string[];
  readonly links: readonly (readonly [LinkEnd, LinkEnd])[];
  /** Commands for `ip netns exec NS sh -c`, by role (routes, forwarding). */
  readonly after?: Readonly<Record<string, readonly string[]>>;
}

function run(args: readonly string[], timeoutMs = 10_000): { ok: boolean; out: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}`.trim() };
}

/** Why named namespaces cannot be made here (they need root), or undefined when they can. */
export function topologyUnavailable(): string | undefined {
  const probe = `cg-probe-${process.pid}`;
  const r = run(['ip', 'netns', 'add', probe]);
  if (!r.ok)
    return `named network namespaces cannot be made here (ip netns add: ${r.out || 'failed'}); they need root`;
  run(['ip', 'netns', 'del', probe]);
  return undefined;
}

/** The namespace name of each role, for this process. */
export function namesFor(spec: TopologySpec): Record<string, string> {
  return Object.fromEntries(spec.namespaces.map((role) => [role, `cg-${role}-${process.pid}`]));
}

/** Deletes the namespaces, ending first what still runs in them (only ever this test's processes). */
export function destroyTopology(names: Record<string, string>): void {
  for (const ns of Object.values(names)) {
    const pids = run(['ip', 'netns', 'pids', ns])
      .out.split(/\s+/)
      .filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    run(['ip', 'netns', 'del', ns]);
  }
}

/** Creates the namespaces, links and addresses of `spec`; deletes what it made if a step fails. */
export function createTopology(spec: TopologySpec): Record<string, string> {
  const names = namesFor(spec);
  const steps: string[][] = [];
  for (const ns of Object.values(names)) {
    steps.push(['ip', 'netns', 'add', ns]);
    steps.push(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    // No duplicate address detection: addresses are usable at once, and the links are private.
    steps.push(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0']);
    steps.push(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.accept_dad=0']);
  }
  for (const [a, b] of spec.links) {
    const na = names[a.ns]!;
    const nb = names[b.ns]!;
    steps.push(['ip', '-n', na, 'link', 'add', a.name, 'type', 'veth', 'peer', 'name', b.name, 'netns', nb]);
    for (const [ns, end] of [
      [na, a],
      [nb, b],
    ] as const) {
      for (const addr of end.addresses) {
        steps.push([
          'ip',
          '-n',
          ns,
          'addr',
          'add',
          addr,
          'dev',
          end.name,
          ...(addr.includes(':') ? ['nodad'] : []),
        ]);
      }
      steps.push(['ip', '-n', ns, 'link', 'set', end.name, 'up']);
    }
  }
  for (const [role, cmds] of Object.entries(spec.after ?? {})) {
    for (const c of cmds) steps.push(['ip', 'netns', 'exec', names[role]!, 'sh', '-c', c]);
  }
  for (const step of steps) {
    const r = run(step);
    if (!r.ok) {
      destroyTopology(names);
      throw new Error(`topology step failed: ${step.join(' ')}: ${r.out}`);
    }
  }
  return names;
}

/** True inside the namespace made by `runSelfInTopology`. */
export function insideTopology(): boolean {
  return process.env[ENV] !== undefined;
}

/** The namespace names by role, inside `runSelfInTopology`. */
export function topologyNames(): Record<string, string> {
  return JSON.parse(process.env[ENV] ?? '{}') as Record<string, string>;
}

/** `ip netns exec NAME` for a role, to put before a command. */
export function inNamespace(role: string): string[] {
  const ns = topologyNames()[role];
  assert.ok(ns, `no namespace for ${role}`);
  return ['ip', 'netns', 'exec', ns];
}

/**
 * Builds `spec`, re-runs `file` under node:test inside the namespace of `main`, and deletes the
 * namespaces whatever happened. Fails unless the inner run passed at least one test and failed
 * none; skips, with the reason printed, where named namespaces cannot be made.
 */
export function runSelfInTopology(
  t: TestContext,
  file: string,
  spec: TopologySpec,
  main: string,
  timeoutMs = 150_000,
): void {
  const why = topologyUnavailable();
  if (why !== undefined) {
    process.stdout.write(`# SKIPPED (no named network namespaces): ${why}\n`);
    t.skip(why);
    return;
  }
  const names = createTopology(spec);
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, [ENV]: JSON.stringify(names), [NETNS_ENV]: '1' };
    // Without this node:test would skip running the file and exit 0 (see netns.ts).
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        names[main]!,
        process.execPath,
        '--import',
        'tsx',
        '--test',
        '--test-reporter=spec',
        file,
      ],
      { encoding: 'utf8', env, timeout: timeoutMs },
    );
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    process.stdout.write(output.replace(/^/gm, '    '));
    assert.equal(r.status, 0, `tests inside the topology failed:\n${output}`);
    const pass = /(?:ℹ|#) pass (\d+)/.exec(output);
    const fail = /(?:ℹ|#) fail (\d+)/.exec(output);
    assert.ok(pass && Number(pass[1]) > 0, `no test ran inside the topology:\n${output}`);
    assert.equal(Number(fail?.[1] ?? 0), 0, `tests failed inside the topology:\n${output}`);
  } finally {
    destroyTopology(names);
  }
}
