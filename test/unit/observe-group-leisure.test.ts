/**
 * Leisure of notifications to group observers (groupcomm-bis §3.7, RFC 7252 §8.2): an observer
 * registered by a multicast GET gets each notification after a random Leisure, like the first
 * response, and a notification for another observation on the same group waits for the next
 * period; a unicast observer is notified at once. A newer state replaces a notification still
 * waiting (RFC 7641 §4.5.2), and a deregistration cancels it. Memory network, FakeRuntime.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { MessageType } from '../../src/message/types.js';
import { type BwRoom, bwRoom, GROUP } from '../support/bw-room.js';

const T = { timeout: 30_000 };

/** One node (Leisure 1 s) serving a multicast, observable `/v` whose value is `state.v`. */
async function room(state: { v: string }): Promise<BwRoom> {
  return bwRoom({
    nodes: 1,
    setup: (s) => s.resource('/v', { multicast: true, obs: true }).get(() => ({ payload: state.v })),
  });
}

/** Observes the group from `client`; returns what arrived, with the virtual time of arrival. */
function observeGroup(r: BwRoom, client: CoapClient, signal: AbortSignal) {
  const got: Array<{ text: string; at: number }> = [];
  const loop = (async () => {
    for await (const x of client.group({ uri: `${GROUP}/v`, observe: true, signal }))
      got.push({ text: x.text(), at: r.rt.now() });
  })();
  return { got, loop };
}

describe('Leisure of notifications to group observers (groupcomm-bis §3.7)', () => {
  it(
    'waits a Leisure per notification, one period after another on the group; unicast goes at once',
    T,
    async () => {
      const state = { v: 'v0' };
      const r = await room(state);
      const t2 = r.net.createTransport({
        bind: [{ address: '192.0.2.2', port: 40000 }],
        ipv4Interface: 'mem0',
      });
      const other = await CoapClient.create({ transport: t2, runtime: r.rt });
      const ac = new AbortController();
      try {
        const a = observeGroup(r, r.client, ac.signal);
        const b = observeGroup(r, other, ac.signal);
        const unicast: Array<{ text: string; at: number }> = [];
        const u = (async () => {
          for await (const x of r.client.observe({
            uri: `coap://${r.nodes[0]!.address}/v`,
            signal: ac.signal,
          }))
            unicast.push({ text: x.text(), at: r.rt.now() });
        })();
        // Both registrations answered, each within its own Leisure period.
        await r.rt.advance(3000);
        assert.equal(r.nodes[0]!.server.stats()!.observers, 3);
        const t0 = r.rt.now();
        state.v = 'v1';
        assert.equal(r.nodes[0]!.server.notify('/v'), 3);
        await r.rt.advance(0);
        assert.deepEqual(unicast.at(-1), { text: 'v1', at: t0 }, 'the unicast observer at once');
        assert.ok(!a.got.some((x) => x.text === 'v1') && !b.got.some((x) => x.text === 'v1'));
        await r.rt.advance(2500);
        const times = [...a.got, ...b.got]
          .filter((x) => x.text === 'v1')
          .map((x) => x.at - t0)
          .sort((x, y) => x - y);
        assert.equal(times.length, 2);
        assert.ok(times[0]! >= 0 && times[0]! <= 1000, `first after ${times[0]} ms`);
        assert.ok(times[1]! >= 1000 && times[1]! <= 2000, `second after ${times[1]} ms: the next period`);
        ac.abort();
        await r.rt.settle(Promise.all([a.loop, b.loop, u]));
      } finally {
        await other.close();
        await r.close();
      }
    },
  );

  it('sends the latest state when it changes again while a notification waits', T, async () => {
    const state = { v: 'v0' };
    const r = await room(state);
    const ac = new AbortController();
    try {
      const a = observeGroup(r, r.client, ac.signal);
      await r.rt.advance(2000);
      state.v = 'v1';
      r.nodes[0]!.server.notify('/v');
      state.v = 'v2';
      r.nodes[0]!.server.notify('/v');
      await r.rt.advance(2000);
      assert.deepEqual(
        a.got.map((x) => x.text),
        ['v0', 'v2'],
      );
      ac.abort();
      await r.rt.settle(a.loop);
    } finally {
      await r.close();
    }
  });

  it('drops a waiting notification when the observer deregisters', T, async () => {
    const state = { v: 'v0' };
    const r = await room(state);
    const ac = new AbortController();
    try {
      const a = observeGroup(r, r.client, ac.signal);
      await r.rt.advance(2000);
      const timers = r.nodes[0]!.server.stats()!.messenger.timers;
      state.v = 'v1';
      r.nodes[0]!.server.notify('/v');
      assert.equal(r.nodes[0]!.server.stats()!.messenger.timers, timers + 1, 'one notification waits');
      ac.abort();
      await r.rt.settle(a.loop);
      await r.rt.advance(100);
      assert.equal(r.nodes[0]!.server.stats()!.observers, 0);
      assert.equal(r.nodes[0]!.server.stats()!.messenger.timers, timers, 'its timer is gone');
      const before = r.atClient.length;
      await r.rt.advance(3000);
      const late = r.atClient
        .slice(before)
        .filter((x) => x.msg?.type === MessageType.NON && x.msg.code !== 1);
      assert.deepEqual(late, [], 'no notification after the deregistration');
      assert.deepEqual(
        a.got.map((x) => x.text),
        ['v0'],
      );
    } finally {
      await r.close();
    }
  });
});
