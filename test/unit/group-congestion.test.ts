/**
 * Congestion control of group requests (RFC 7252 §4.7, §4.5; RFC 7390 §2.5, §2.8; R18, R66) on the
 * memory network with a FakeRuntime: NSTART = 1 per group, PROBING_RATE after a silent window,
 * and duplicate multicast NONs processed once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { matrixSetup } from '../support/group-resources.js';
import {
  ask,
  makeRoom,
  type Room,
  type RoomOptions,
  rawPeer,
  watchGroupSends,
} from '../support/group-room.js';
import { msg, sendRaw } from '../support/mem-net.js';

const T = { timeout: 30000 };
const TEXT = 'coap://224.0.1.187/text';
const OTHER = 'coap://239.1.2.3/text';

async function withRoom(o: RoomOptions, body: (room: Room) => Promise<void>) {
  let room: Room | undefined;
  const [setup] = matrixSetup(() => room!);
  room = await makeRoom({ leisure: 0.2, groups: ['239.1.2.3'], ...o, setup });
  try {
    await body(room);
  } finally {
    await room.close();
  }
}

describe('NSTART = 1 per group (RFC 7252 §4.7, groupcomm-bis §3.6.1)', () => {
  it('sends a second request to the same group only after the first window closed', T, async () => {
    await withRoom({ nodes: 2 }, async (room) => {
      const sends = watchGroupSends(room);
      const a = room.client.group({ uri: TEXT, window: 1000 }).collect();
      const b = room.client.group({ uri: TEXT, window: 1000 }).collect();
      const [ra, rb] = await room.rt.settle(Promise.all([a, b]));
      assert.deepEqual(
        sends.map((s) => s.at),
        [0, 1000],
      );
      assert.deepEqual(room.nodes[0]!.callTimes, [0, 1000]);
      assert.equal(ra.length, 2);
      assert.equal(rb.length, 2);
    });
  });

  it('sends requests to different groups in parallel', T, async () => {
    await withRoom({ nodes: 2 }, async (room) => {
      const sends = watchGroupSends(room);
      const a = room.client.group({ uri: TEXT, window: 1000 }).collect();
      const b = room.client.group({ uri: OTHER, window: 1000 }).collect();
      const [ra, rb] = await room.rt.settle(Promise.all([a, b]));
      assert.deepEqual(
        sends.map((s) => [s.group, s.at]),
        [
          ['224.0.1.187', 0],
          ['239.1.2.3', 0],
        ],
      );
      assert.equal(ra.length + rb.length, 4);
    });
  });

  it('does not hold back a unicast request to a member while a group request is open', T, async () => {
    await withRoom({ nodes: 1 }, async (room) => {
      const g = room.client.group({ uri: TEXT, window: 5000 }).collect();
      const res = await room.rt.settle(room.client.request('coap://192.0.2.1/text'), { maxMs: 100, step: 1 });
      assert.equal(res.codeString, '2.05');
      assert.ok(room.rt.now() < 100);
      await room.rt.settle(g);
    });
  });
});

describe('PROBING_RATE after a silent window (RFC 7252 §4.7)', () => {
  it('delays the next request to a silent group by about its size at 1 byte/s', T, async () => {
    await withRoom({ nodes: 2, clientTransmission: { probingRate: 1 } }, async (room) => {
      const sends = watchGroupSends(room);
      const silent = await ask(room, { uri: 'coap://224.0.1.187/nowhere', window: 1000 });
      assert.equal(silent.responses.length, 0);
      const next = room.client.group({ uri: TEXT, window: 1000 }).collect();
      // Meanwhile another group is not held back.
      const other = await ask(room, { uri: OTHER, window: 1000 });
      assert.equal(other.responses.length, 2);
      assert.equal((await room.rt.settle(next)).length, 2);
      const [first, second, third] = [sends[0]!, sends[1]!, sends[2]!];
      assert.equal(second.group, '239.1.2.3');
      assert.ok(second.at - first.at < 1100, 'the other group was asked at once');
      const wait = third.at - first.at;
      const size = first.bytes * 1000;
      assert.ok(wait >= size && wait <= 2 * size, `waited ${wait} ms after sending ${first.bytes} bytes`);
    });
  });

  it('scales the wait with the rate, and does not wait after a window that drew answers', T, async () => {
    await withRoom({ nodes: 1, clientTransmission: { probingRate: 10 } }, async (room) => {
      const sends = watchGroupSends(room);
      await ask(room, { uri: 'coap://224.0.1.187/nowhere', window: 500 });
      await ask(room, { uri: TEXT, window: 500 });
      await ask(room, { uri: TEXT, window: 500 });
      const [a, b, c] = [sends[0]!, sends[1]!, sends[2]!];
      const size = (a.bytes / 10) * 1000;
      assert.ok(b.at - a.at >= size && b.at - a.at <= 2 * size, `waited ${b.at - a.at} ms`);
      assert.ok(c.at - b.at <= 510, `the answered group waited ${c.at - b.at} ms`);
    });
  });
});

describe('Duplicate multicast NONs (RFC 7252 §4.5, RFC 7390 §2.5 R18)', () => {
  it('processes a group request once when the network duplicates every datagram', T, async () => {
    await withRoom({ nodes: 3, conditions: { duplicate: 1 } }, async (room) => {
      const { responses } = await ask(room, { uri: TEXT, window: 1000 });
      assert.ok(room.net.stats.duplicated > 0);
      for (const n of room.nodes) assert.equal(n.calls.get('GET /text'), 1);
      // The client drops the duplicated responses as well.
      assert.equal(responses.length, 3);
    });
  });

  it('processes a resent NON with the same Message ID and source once, within NON_LIFETIME', T, async () => {
    await withRoom({ nodes: 2 }, async (room) => {
      const peer = rawPeer(room);
      const other = rawPeer(room, '192.0.2.201');
      const group = { address: '224.0.1.187', port: 5683 };
      const path = { number: Opt.UriPath, value: Buffer.from('text') };
      const request = msg({
        type: MessageType.NON,
        messageId: 0x4242,
        token: Buffer.from('tk'),
        options: [path],
      });
      const bytes = sendRaw(peer.transport, request, group);
      sendRaw(peer.transport, bytes, group);
      await room.rt.advance(100_000);
      sendRaw(peer.transport, bytes, group);
      await room.rt.advance(1_000);
      for (const n of room.nodes) assert.equal(n.calls.get('GET /text'), 1);
      assert.equal(peer.received.length, 2, 'one response per node');
      // The same Message ID from another endpoint is another message.
      sendRaw(other.transport, bytes, group);
      await room.rt.advance(1_000);
      for (const n of room.nodes) assert.equal(n.calls.get('GET /text'), 2);
      // After NON_LIFETIME (145 s) it is a new message again.
      await room.rt.advance(46_000);
      sendRaw(peer.transport, bytes, group);
      await room.rt.advance(1_000);
      for (const n of room.nodes) assert.equal(n.calls.get('GET /text'), 3);
      assert.ok(peer.received.every((r) => r.msg?.type === MessageType.NON && !r.multicast));
    });
  });
});

describe('leaving the PROBING_RATE wait early', () => {
  it('sends nothing when the signal aborts during the wait', T, async () => {
    await withRoom({ nodes: 1, clientTransmission: { probingRate: 1 } }, async (room) => {
      const sends = watchGroupSends(room);
      await ask(room, { uri: 'coap://224.0.1.187/nowhere', window: 500 });
      const ac = new AbortController();
      const rs = room.client.group({ uri: TEXT, signal: ac.signal, window: 500 });
      await room.rt.advance(1000);
      ac.abort();
      await room.rt.settle(rs.collect());
      assert.equal((await rs.done).reason, 'aborted');
      await room.rt.advance(60_000);
      assert.equal(sends.length, 1, 'only the silent request went out');
    });
  });

  it('ends the request when the client closes during the wait', T, async () => {
    await withRoom({ nodes: 1, clientTransmission: { probingRate: 1 } }, async (room) => {
      await ask(room, { uri: 'coap://224.0.1.187/nowhere', window: 500 });
      const rs = room.client.group({ uri: TEXT, window: 500 });
      await room.rt.advance(1000);
      await room.client.close();
      assert.deepEqual(await room.rt.settle(rs.collect()), []);
      assert.equal((await rs.done).reason, 'closed');
    });
  });

  it('does not hold back the next request after a request that asked for no response', T, async () => {
    await withRoom({ nodes: 1, clientTransmission: { probingRate: 1 } }, async (room) => {
      const sends = watchGroupSends(room);
      await ask(room, { uri: TEXT, method: 'PUT', payload: 'x', noResponse: [2], window: 500 });
      await ask(room, { uri: TEXT, window: 500 });
      assert.ok(sends[1]!.at - sends[0]!.at < 1000, 'sent right after the first window');
    });
  });
});
