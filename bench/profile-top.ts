// Summarises V8 CPU profiles (from `node --cpu-prof`, or `npm run bench -- --profile`): the
// functions with the most self time, and the files with the most. Given a directory (one profile
// per thread), it reports the profile with the most non-idle time. Usage:
//   npx tsx bench/profile-top.ts bench/results/profiles/<run>/server-ours [N]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const IDLE = new Set(['(idle)', '(program)']);

/** Self plus descendants, per function of our code (src/), each call stack counted once per function. */
function inclusiveOurs(p: Profile, self: Map<ProfileNode, number>): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  const walk = (n: ProfileNode, onStack: Set<string>): number => {
    let t = self.get(n) ?? 0;
    const f = n.callFrame;
    const key = /\/(src|dist)\//.test(f.url)
      ? `${f.functionName || '(anonymous)'}  ${short(f.url)}:${f.lineNumber + 1}`
      : '';
    const fresh = key !== '' && !onStack.has(key);
    if (fresh) onStack.add(key);
    for (const c of n.children ?? []) t += walk(byId.get(c)!, onStack);
    if (fresh) {
      onStack.delete(key);
      out.set(key, (out.get(key) ?? 0) + t);
    }
    return t;
  };
  walk(p.nodes[0]!, new Set());
  return out;
}

function selfTimes(p: Profile): Map<ProfileNode, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<ProfileNode, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!)!;
    self.set(n, (self.get(n) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  return self;
}

function busy(self: Map<ProfileNode, number>): number {
  let t = 0;
  for (const [n, us] of self) if (!IDLE.has(n.callFrame.functionName)) t += us;
  return t;
}

const target = process.argv[2];
if (target === undefined) {
  console.error('usage: tsx bench/profile-top.ts FILE.cpuprofile|DIR [N]');
  process.exit(2);
}
const top = Number(process.argv[3] ?? 30);
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(target, f))
  : [target];
const profiles = files.map((f) => {
  const profile = JSON.parse(readFileSync(f, 'utf8')) as Profile;
  return { f, profile, self: selfTimes(profile) };
});
profiles.sort((a, b) => busy(b.self) - busy(a.self));
const chosen = profiles[0];
if (chosen === undefined) {
  console.error(`no .cpuprofile in ${target}`);
  process.exit(1);
}
const total = busy(chosen.self);
function short(url: string): string {
  return url.replace(/^file:\/\/.*?\/(src|dist|bench|node_modules)\//, '$1/') || '(native)';
}
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [n, us] of chosen.self) {
  const f = n.callFrame;
  if (IDLE.has(f.functionName)) continue;
  const key = `${f.functionName || '(anonymous)'}  ${short(f.url)}:${f.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const file = short(f.url);
  byFile.set(file, (byFile.get(file) ?? 0) + us);
}
console.log(`${chosen.f}: ${(total / 1000).toFixed(0)} ms busy (idle excluded)`);
const print = (title: string, m: Map<string, number>, n: number) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(
      `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
    );
  }
};
print('self time by function', byFunction, top);
print('self time by file', byFile, 25);
print('inclusive time of our functions (src/)', inclusiveOurs(chosen.profile, chosen.self), top);
