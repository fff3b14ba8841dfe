/**
 * A group request as an async iterable (RFC 7390 §2.5, RFC 7252 §8.2; design.md §Group requests),
 * on the memory network with a FakeRuntime: how collection ends (window, limit, AbortSignal,
 * break, closed client), what each response says about its responder (R23, R26), and that the
 * client's and servers' tables return to small bounded sizes afterwards.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupResponse } from '../../src/client/group.js';
import { formatUri } from '../../src/uri/index.js';
import { matrixSetup } from '../support/group-resources.js';
import { ask, makeRoom, type Room } from '../support/group-room.js';

const T = { timeout: 20000 };
const TEXT = 'coap://224.0.1.187/text';

async function withRoom(nodes: number, leisure: number, body: (room: Room) => Promise<void>) {
  let room: Room | undefined;
  const [setup] = matrixSetup(() => room!);
  room = await makeRoom({ nodes, leisure, setup, seed: 11 });
  try {
    await body(room);
  } finally {
    await room.close();
  }
}

/** Resolves `p` while recording the virtual time at which it settled. */
function timed<T>(room: Room, p: Promise<T>): { p: Promise<T>; at: () => number } {
  let at = -1;
  const q = p.finally(() => {
    at = room.rt.now();
  });
  return { p: q, at: () => at };
}

describe('How a group request ends', () => {
  it('ends when the window closes, with reason window', T, async () => {
    await withRoom(3, 0.5, async (room) => {
      const rs = room.client.group({ uri: TEXT, window: 1500 });
      const t = timed(room, rs.collect());
      const responses = await room.rt.settle(t.p);
      const summary = await rs.done;
      assert.equal(responses.length, 3);
      assert.equal(t.at(), 1500);
      assert.deepEqual(summary, { responses: 3, endpoints: 3, elapsedMs: 1500, reason: 'window' });
    });
  });

  it('ends after `limit` responses, with reason limit, and frees the token at once', T, async () => {
    await withRoom(5, 1, async (room) => {
      const rs = room.client.group({ uri: TEXT, window: 5000, limit: 2 });
      const responses = await room.rt.settle(rs.collect());
      const summary = await rs.done;
      assert.equal(responses.length, 2);
      assert.equal(summary.reason, 'limit');
      assert.equal(summary.elapsedMs, responses[1]!.elapsedMs);
      assert.ok(summary.elapsedMs < 1000);
      assert.equal(room.client.stats().tokens, 0);
      assert.equal(room.client.stats().peers, 0);
    });
  });

  it('ends when its AbortSignal aborts, with reason aborted, keeping what arrived', T, async () => {
    await withRoom(6, 1, async (room) => {
      const ac = new AbortController();
      const rs = room.client.group({ uri: TEXT, window: 5000, signal: ac.signal });
      const got: GroupResponse[] = [];
      const loop = (async () => {
        for await (const r of rs) got.push(r);
      })();
      await room.rt.advance(400);
      ac.abort();
      await room.rt.settle(loop);
      const summary = await rs.done;
      assert.equal(summary.reason, 'aborted');
      assert.equal(summary.elapsedMs, 400);
      assert.equal(summary.responses, got.length);
      for (const r of got) assert.ok(r.elapsedMs <= 400);
      assert.equal(room.client.stats().tokens, 0);
      // Responses still in their Leisure arrive later and find no token.
      await room.rt.advance(2000);
      assert.equal((await rs.done).responses, got.length);
    });
  });

  it('sends nothing when the signal is already aborted', T, async () => {
    await withRoom(2, 0.1, async (room) => {
      const before = room.net.stats.sent;
      const { responses, summary } = await ask(room, { uri: TEXT, signal: AbortSignal.abort() });
      assert.deepEqual(responses, []);
      assert.equal(summary.reason, 'aborted');
      assert.equal(room.net.stats.sent, before);
      for (const n of room.nodes) assert.equal(n.calls.get('GET /text'), undefined);
    });
  });

  it('releases the token and the group when the loop breaks', T, async () => {
    await withRoom(4, 1, async (room) => {
      const rs = room.client.group({ uri: TEXT, window: 5000 });
      const loop = (async () => {
        for await (const r of rs) return r;
        return undefined;
      })();
      const first = await room.rt.settle(loop);
      assert.ok(first);
      assert.equal(room.client.stats().tokens, 0);
      assert.equal(room.client.stats().peers, 0);
      assert.equal((await rs.done).reason, 'aborted');
      // The group is free again: the next request is sent at once (NSTART = 1 per group).
      const at = room.rt.now();
      const next = await ask(room, { uri: TEXT, window: 2500 });
      assert.equal(next.responses.length, 4);
      assert.ok(room.nodes[0]!.callTimes.at(-1)! - at < 10);
    });
  });

  it('ends a pending iteration with reason closed when the client closes', T, async () => {
    await withRoom(3, 1, async (room) => {
      const rs = room.client.group({ uri: TEXT, window: 5000 });
      const p = rs.collect();
      await room.rt.advance(200);
      await room.client.close();
      const responses = await room.rt.settle(p);
      assert.equal((await rs.done).reason, 'closed');
      assert.equal(responses.length, (await rs.done).responses);
      assert.equal(room.client.stats().tokens, 0);
      assert.throws(() => room.client.group(TEXT), { code: 'ERR_COAP_CLOSED' });
    });
  });

  it('ends a request still waiting for its group when the client closes, as one in flight', T, async () => {
    await withRoom(1, 1, async (room) => {
      const first = room.client.group({ uri: TEXT, window: 5000 });
      const second = room.client.group({ uri: TEXT, window: 5000 });
      const p1 = first.collect();
      const p2 = second.collect().then(
        () => 'resolved',
        (e: { code?: string }) => e.code,
      );
      await room.rt.advance(100);
      await room.client.close();
      await room.rt.settle(p1);
      assert.equal((await first.done).reason, 'closed');
      assert.equal(await room.rt.settle(p2), 'resolved');
      assert.equal((await second.done).reason, 'closed');
      assert.equal(room.nodes[0]!.calls.get('GET /text'), 1);
    });
  });
});

describe('What a group response says about its responder (RFC 7252 §8.2, RFC 7390 §2.5)', () => {
  it('gives each response the node unicast address as source and base URI host', T, async () => {
    await withRoom(3, 0.2, async (room) => {
      const { responses } = await ask(room, { uri: `${TEXT}?a=1` });
      const seen = responses
        .map((r) => [r.source.address, r.source.port, formatUri(r.baseUri), r.text()])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      assert.deepEqual(seen, [
        ['192.0.2.1', 5683, 'coap://192.0.2.1/text?a=1', 'text0'],
        ['192.0.2.2', 5683, 'coap://192.0.2.2/text?a=1', 'text1'],
        ['192.0.2.3', 5683, 'coap://192.0.2.3/text?a=1', 'text2'],
      ]);
      for (const r of responses) assert.equal(r.location, undefined);
    });
  });

  it('resolves the Location-Path of a 2.01 against the responder (R26)', T, async () => {
    await withRoom(2, 0.2, async (room) => {
      const { responses } = await ask(room, { uri: TEXT, method: 'POST', payload: 'new' });
      const seen = responses.map((r) => [r.codeString, r.location && formatUri(r.location)]).sort();
      assert.deepEqual(seen, [
        ['2.01', 'coap://192.0.2.1/items/0'],
        ['2.01', 'coap://192.0.2.2/items/1'],
      ]);
    });
  });
});

describe('State after group requests end', () => {
  it('returns client and server tables to small bounded sizes', T, async () => {
    await withRoom(3, 0.5, async (room) => {
      for (let i = 0; i < 10; i++) {
        await ask(room, { uri: TEXT, window: 600, ...(i % 3 === 1 ? { limit: 1 } : {}) });
        const ac = new AbortController();
        const rs = room.client.group({ uri: TEXT, window: 600, signal: ac.signal });
        const p = rs.collect();
        await room.rt.advance(100);
        ac.abort();
        await room.rt.settle(p);
      }
      await room.rt.advance(2000);
      const s = room.client.stats();
      assert.deepEqual(
        { tokens: s.tokens, peers: s.peers, pending: s.messenger.pending },
        {
          tokens: 0,
          peers: 0,
          pending: 0,
        },
      );
      assert.equal(s.messenger.timers, 0);
      assert.ok(s.retiredTokens <= 20, `${s.retiredTokens} retired tokens`);
      for (const n of room.nodes) {
        const m = n.server.messenger.stats();
        assert.equal(m.pending, 0);
        assert.equal(m.timers, 0);
        assert.ok(m.dedup <= 20, `${m.dedup} dedup entries`);
      }
      // After NON_LIFETIME (145 s) the dedup entries expire as new messages arrive.
      await room.rt.advance(150_000);
      await ask(room, { uri: TEXT, window: 600 });
      for (const n of room.nodes) assert.equal(n.server.messenger.stats().dedup, 1);
    });
  });
});
