/**
 * Observe on a group (draft-ietf-core-groupcomm-bis §3.7) on the memory network: one multicast
 * GET with Observe 0 registers the client at every member; each member's notifications arrive
 * by unicast, tagged with their source, each source with its own freshness (RFC 7641 §3.4);
 * ending the request deregisters every responder by unicast (RFC 7641 §3.6). A server in
 * `groupMode: 'rfc7390'` treats the multicast Observe as a plain GET (RFC 7390 §2.10).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupResponse } from '../../src/client/group.js';
import { decodeUint } from '../../src/entry/codec.js';
import { findOption, Opt } from '../../src/index.js';
import { messages } from '../support/bw-mem.js';
import { type BwRoom, bwRoom, GROUP } from '../support/bw-room.js';

const T = { timeout: 30_000 };

/** Node i serves a multicast, observable `/v` whose value is `values[i]`. */
function room(nodes: number, values: string[], groupMode?: 'bis' | 'rfc7390'): Promise<BwRoom> {
  for (let i = 0; i < nodes; i++) values.push(`n${i}:0`);
  return bwRoom({
    nodes,
    ...(groupMode ? { server: { groupMode } } : {}),
    setup: (s, i) => s.resource('/v', { multicast: true, obs: true }).get(() => ({ payload: values[i]! })),
  });
}

const observeOf = (r: { options: readonly { number: number; value: Buffer }[] }) => {
  const o = findOption(r.options, Opt.Observe);
  return o === undefined ? undefined : decodeUint(o.value);
};

describe('Group observe', () => {
  it('yields every node’s changes tagged by source, then deregisters each node', T, async () => {
    const values: string[] = [];
    const r = await room(3, values);
    try {
      const ac = new AbortController();
      const got: GroupResponse[] = [];
      const rs = r.client.group({ uri: `${GROUP}/v`, observe: true, signal: ac.signal });
      const loop = (async () => {
        for await (const x of rs) got.push(x);
      })();
      await r.rt.advance(2000); // every node answered within its Leisure (1 s)
      for (const n of r.nodes) assert.equal(n.server.stats()!.observers, 1, `${n.address} registered`);
      for (let round = 1; round <= 2; round++) {
        for (const n of r.nodes) {
          values[n.index] = `n${n.index}:${round}`;
          n.server.notify('/v');
          // Each notification waits a Leisure (1 s) before it goes (groupcomm-bis §3.7).
          await r.rt.advance(1100);
        }
      }
      ac.abort();
      await r.rt.settle(loop);
      await r.rt.advance(100);
      const bySource = new Map<string, string[]>();
      for (const x of got)
        bySource.set(x.source.address, [...(bySource.get(x.source.address) ?? []), x.text()]);
      for (const n of r.nodes) {
        const i = n.index;
        assert.deepEqual(bySource.get(n.address), [`n${i}:0`, `n${i}:1`, `n${i}:2`], n.address);
        assert.equal(n.server.stats()!.observers, 0, `${n.address} deregistered`);
        const dereg = messages(n.log).filter((m) => m.code === 1 && observeOf(m) === 1);
        assert.equal(dereg.length, 1);
        assert.ok(!n.log.find((x) => x.msg === dereg[0])!.multicast, 'by unicast');
      }
      assert.equal((await rs.done).reason, 'aborted');
    } finally {
      await r.close();
    }
  });

  it('deregisters every node when the loop is left with break', T, async () => {
    const values: string[] = [];
    const r = await room(2, values);
    try {
      let seen = 0;
      const loop = (async () => {
        for await (const _ of r.client.group({ uri: `${GROUP}/v`, observe: true })) {
          if (++seen === 2) break;
        }
      })();
      await r.rt.settle(loop);
      await r.rt.advance(100);
      for (const n of r.nodes) assert.equal(n.server.stats()!.observers, 0);
      assert.equal(r.client.stats().tokens, 0);
    } finally {
      await r.close();
    }
  });

  it('judges freshness per source: a node with lower sequence numbers is not dropped', T, async () => {
    const values: string[] = [];
    const r = await room(2, values);
    try {
      const got: string[] = [];
      const rs = r.client.group({ uri: `${GROUP}/v`, observe: true, window: 10_000 });
      const loop = (async () => {
        for await (const x of rs) got.push(x.text());
      })();
      await r.rt.advance(2000);
      // Node 1's sequence numbers run ahead of node 0's; node 0's next one is still fresh.
      // Each notification goes before the next state (one Leisure, 1 s), so none is skipped.
      for (let k = 0; k < 5; k++) {
        r.nodes[1]!.server.notify('/v');
        await r.rt.advance(1100);
      }
      r.nodes[0]!.server.notify('/v');
      await r.rt.settle(loop);
      assert.equal(got.filter((t) => t.startsWith('n0')).length, 2);
      assert.equal(got.filter((t) => t.startsWith('n1')).length, 6);
    } finally {
      await r.close();
    }
  });

  it("treats a multicast Observe as a plain GET in groupMode 'rfc7390'", T, async () => {
    const values: string[] = [];
    const r = await room(2, values, 'rfc7390');
    try {
      const rs = r.client.group({ uri: `${GROUP}/v`, observe: true, window: 3000 });
      const got = await r.rt.settle(rs.collect());
      assert.equal(got.length, 2);
      for (const x of got) assert.equal(x.observe, undefined, 'no Observe in the response');
      for (const n of r.nodes) {
        assert.equal(n.server.stats()!.observers, 0);
        assert.equal(n.server.notify('/v'), 0);
      }
    } finally {
      await r.close();
    }
  });
});
