// Child of bench/fanout/alloc-profile.ts: after two warm collections, a sampling heap profile
// (V8's HeapProfiler, counting also what minor and major GCs took) of one collection of N
// responses by our CoapClient. Prints the bytes per response each allocating function made,
// with its caller, largest first. Usage: alloc-profile-child.ts PORT N LEISURE_MS [ROWS]
import { Session } from 'node:inspector/promises';
import { CoapClient } from '../../src/index.js';
import { collectOurs } from './ours.js';

interface ProfileNode {
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly ProfileNode[];
}

const [port, n, leisureMs, rows = 30] = process.argv.slice(2, 6).map(Number) as [
  number,
  number,
  number,
  number?,
];
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const client = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }], iface: '127.0.0.1' });
const collect = (): Promise<number> => collectOurs(client, port, n, leisureMs);
const name = (f: ProfileNode['callFrame']) => f.functionName || '(anonymous)';
const session = new Session();
session.connect();
try {
  for (let i = 0; i < 2; i++) {
    await collect();
    await sleep(leisureMs + 100);
  }
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 32,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const count = await collect();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  const by = new Map<string, number>();
  const walk = (node: ProfileNode, caller: string) => {
    const f = node.callFrame;
    const key = `${name(f)} ${f.url.replace(/^.*\/(dist|src)\//, '$1/')}:${f.lineNumber + 1} <- ${caller}`;
    by.set(key, (by.get(key) ?? 0) + node.selfSize);
    for (const c of node.children) walk(c, name(f));
  };
  walk(profile.head as unknown as ProfileNode, '');
  let total = 0;
  for (const v of by.values()) total += v;
  const lines = [`${(total / count).toFixed(0)} B per response in all, ${count} responses`];
  for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, rows))
    lines.push(`${(v / count).toFixed(0).padStart(6)}  ${k}`);
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  session.disconnect();
  await client.close();
}
