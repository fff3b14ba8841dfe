/**
 * Leisure (RFC 7252 §8.2, RFC 7390 §2.8, R60) on the memory network with a FakeRuntime: a node
 * answers a multicast request at a uniformly random point of its Leisure period, later responses
 * on the same group start after the previous period ends, and unicast requests get no Leisure.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ask, count, makeRoom, type Room, type RoomNode } from '../support/group-room.js';

const T = { timeout: 30000 };

/** Every node serves a multicast `/light` and counts GETs. */
function light(room: () => Room) {
  return (server: Room['nodes'][number]['server'], node: RoomNode) => {
    server.resource('/light', { multicast: true }).get(() => {
      count(node, 'GET /light', room().rt.now());
      return { payload: `node${node.index}` };
    });
  };
}

async function withRoom(
  o: Parameters<typeof makeRoom>[0],
  body: (room: Room) => Promise<void>,
): Promise<void> {
  let room: Room | undefined;
  room = await makeRoom({ ...o, setup: o?.setup ?? light(() => room!) });
  try {
    await body(room);
  } finally {
    await room.close();
  }
}

describe('Leisure of multicast responses (RFC 7252 §8.2, RFC 7390 §2.8)', () => {
  it(
    'answers from every node within [0, Leisure] plus the delivery delays, at decorrelated times',
    T,
    async () => {
      await withRoom({ nodes: 8, leisure: 2, conditions: { delay: 5 } }, async (room) => {
        const { responses, summary } = await ask(room, { uri: 'coap://224.0.1.187/light', window: 3000 });
        assert.equal(responses.length, 8);
        assert.equal(summary.endpoints, 8);
        const times = responses.map((r) => r.elapsedMs);
        // 5 ms to the node, a Leisure delay in [0, 2000], 5 ms back.
        for (const t of times) assert.ok(t >= 10 && t <= 2010, `response after ${t} ms`);
        assert.equal(new Set(times).size, 8, 'no two nodes answered at the same moment');
        assert.ok(Math.max(...times) - Math.min(...times) > 500, `spread ${times.join(', ')}`);
      });
    },
  );

  it('draws delays that look uniform on [0, Leisure] over 200 requests', T, async () => {
    await withRoom({ seed: 42, nodes: 1, leisure: 1 }, async (room) => {
      const quartiles = [0, 0, 0, 0];
      for (let i = 0; i < 200; i++) {
        // The window outlasts the Leisure period, so each draw starts a fresh period.
        const { responses } = await ask(room, { uri: 'coap://224.0.1.187/light', window: 1100 });
        assert.equal(responses.length, 1);
        const ms = responses[0]!.elapsedMs;
        assert.ok(ms >= 0 && ms <= 1000, `delay ${ms} outside the Leisure period`);
        quartiles[Math.min(3, Math.floor(ms / 250))]!++;
      }
      for (const q of quartiles)
        assert.ok(q >= 30, `quartile counts ${quartiles.join(', ')}: each needs >= 15%`);
    });
  });

  it('starts a second response due on the same group after the first Leisure period ends', T, async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      await withRoom({ seed, nodes: 1, leisure: 1 }, async (room) => {
        const other = await room.secondClient();
        // Two clients, so NSTART does not hold the second request back: both arrive at t = 0.
        const a = room.client.group({ uri: 'coap://224.0.1.187/light', window: 3000 }).collect();
        const b = other.group({ uri: 'coap://224.0.1.187/light', window: 3000 }).collect();
        const [ra, rb] = await room.rt.settle(Promise.all([a, b]));
        assert.deepEqual(room.nodes[0]!.callTimes, [0, 0]);
        const first = ra[0]!.elapsedMs;
        const second = rb[0]!.elapsedMs;
        assert.ok(first >= 0 && first <= 1000, `first response after ${first} ms`);
        assert.ok(second >= 1000 && second <= 2000, `second response after ${second} ms (seed ${seed})`);
      });
    }
  });

  it('lets a suppressed response take no Leisure period', T, async () => {
    await withRoom({ seed: 9, nodes: 1, leisure: 1 }, async (room) => {
      const other = await room.secondClient();
      // The first request draws a 4.05 (no DELETE handler) that is suppressed: no period is used on the group.
      const a = room.client
        .group({ uri: 'coap://224.0.1.187/light', method: 'DELETE', window: 3000 })
        .collect();
      const b = other.group({ uri: 'coap://224.0.1.187/light', window: 3000 }).collect();
      const [ra, rb] = await room.rt.settle(Promise.all([a, b]));
      assert.equal(ra.length, 0);
      assert.equal(rb.length, 1);
      assert.ok(rb[0]!.elapsedMs <= 1000, `answered after ${rb[0]!.elapsedMs} ms`);
    });
  });

  it('derives Leisure from S*G/R when given response size, group size and data rate', T, async () => {
    // lb_Leisure = 100 B * 10 / 2000 B/s = 0.5 s.
    const leisure = { responseSize: 100, groupSize: 10, dataRate: 2000 };
    await withRoom({ seed: 3, nodes: 6, leisure }, async (room) => {
      const { responses } = await ask(room, { uri: 'coap://224.0.1.187/light', window: 2000 });
      assert.equal(responses.length, 6);
      for (const r of responses) assert.ok(r.elapsedMs <= 500, `answered after ${r.elapsedMs} ms`);
    });
  });

  it('answers a unicast request at once, with no Leisure', T, async () => {
    await withRoom({ nodes: 1, leisure: 5, conditions: { delay: 3 } }, async (room) => {
      const start = room.rt.now();
      let at = -1;
      const p = room.client.request('coap://192.0.2.1/light').then((r) => {
        at = room.rt.now();
        return r;
      });
      const res = await room.rt.settle(p, { maxMs: 100, step: 1 });
      assert.equal(res.codeString, '2.05');
      assert.equal(res.text(), 'node0');
      // 3 ms there, 3 ms back, nothing in between.
      assert.equal(at - start, 6);
    });
  });

  it('applies the Leisure of setLeisure() to later multicast requests', T, async () => {
    await withRoom({ seed: 5, nodes: 4, leisure: 5 }, async (room) => {
      for (const n of room.nodes) n.server.setLeisure(0.2);
      const { responses } = await ask(room, { uri: 'coap://224.0.1.187/light', window: 1000 });
      assert.equal(responses.length, 4);
      for (const r of responses) assert.ok(r.elapsedMs <= 200, `answered after ${r.elapsedMs} ms`);
    });
  });
});
