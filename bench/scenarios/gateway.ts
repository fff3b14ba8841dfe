// The HTTP gateway: the time to all N responses of a group GET (N = 10 and 100 of our nodes on
// lo, Leisure N/1000 s, as in the fan-out section) collected directly by our client, and through
// our gateway by fetch reading server-sent events (the gateway in a child process of its own,
// the nodes in another). The difference is what HTTP and the gateway add: about one round trip
// to the gateway, and the events' encoding.
import type { BenchConfig } from '../config.js';
import type { Row, SectionResult } from '../report/types.js';
import { type Child, sibling, spawnTs } from '../servers/spawn.js';
import { groupTimeRows } from './group-through.js';

export async function gatewaySection(cfg: BenchConfig, log: (s: string) => void): Promise<SectionResult> {
  const notes: string[] = [];
  const rows: Row[] = [];
  let gateway: Child;
  try {
    gateway = await spawnTs('gateway', sibling(import.meta.url, '../servers/gateway.ts'), []);
  } catch (err) {
    notes.push(`the gateway did not start: ${(err as Error).message.split('\n')[0]}`);
    return { name: 'gateway', title: 'HTTP gateway', columns: ['gateway', 'direct'], rows, notes };
  }
  try {
    rows.push(
      ...(await groupTimeRows(
        cfg,
        { column: 'gateway', child: gateway, collector: '../gateway/collect-gateway.ts' },
        log,
        notes,
      )),
    );
    const mem = await gateway.memory();
    if (mem) notes.push(`the gateway's process after the runs: RSS ${(mem.rss / 1024 / 1024).toFixed(0)} MB`);
  } finally {
    await gateway.stop();
  }
  notes.push(
    'gateway: fetch of text/event-stream, from sending the HTTP request to the N-th response event; direct: our client, from group() to the N-th response',
  );
  return {
    name: 'gateway',
    title: 'HTTP gateway: multicast GET to N of our nodes on lo, through the gateway and direct',
    columns: ['gateway', 'direct'],
    rows,
    notes,
  };
}
