/**
 * Tokens of group requests (RFC 7390 §2.5 R24-R25, RFC 7252 §5.3.1, §8.2): a fresh random token
 * for every request, kept out of reuse after its window for NON_LIFETIME + MAX_LATENCY + MSRD,
 * in a bounded table; and a late response is never taken for a later request's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenTable } from '../../src/client/tokens.js';
import { FakeRuntime } from '../../src/fake-runtime.js';
import { MessageType } from '../../src/message/types.js';
import { ask, count, makeRoom, type Room } from '../support/group-room.js';

const T = { timeout: 60000 };
const LIGHT = 'coap://224.0.1.187/light';

/** A room whose nodes record the token and type of every request and number their answers. */
async function tokenRoom(leisure: (i: number) => number, nodes = 1) {
  const tokens: Buffer[] = [];
  const types: number[] = [];
  let room: Room | undefined;
  room = await makeRoom({
    nodes,
    leisure,
    setup: (s, node) => {
      s.resource('/light', { multicast: true }).get((req) => {
        count(node, 'GET /light', room!.rt.now());
        if (node.index === 0) {
          tokens.push(Buffer.from(req.message.token));
          types.push(req.message.type);
        }
        return { payload: `n${node.index}-req${node.calls.get('GET /light')}` };
      });
    },
  });
  return { room, tokens, types };
}

describe('Group request tokens (RFC 7390 §2.5)', () => {
  it('gives 1000 group requests 1000 distinct 8-byte tokens, each in a NON', T, async () => {
    const { room, tokens, types } = await tokenRoom(() => 0);
    try {
      // NSTART = 1 per group queues them; each window is 5 ms.
      const all = Array.from({ length: 1000 }, () => room.client.group({ uri: LIGHT, window: 5 }).collect());
      const results = await room.rt.settle(Promise.all(all), { maxMs: 20_000, step: 50 });
      assert.ok(results.every((r) => r.length === 1));
      assert.equal(tokens.length, 1000);
      assert.ok(tokens.every((t) => t.length === 8));
      assert.equal(new Set(tokens.map((t) => t.toString('hex'))).size, 1000);
      assert.ok(types.every((t) => t === MessageType.NON));
      // The response carries the request's token (matching is by token only, RFC 7252 §8.2).
      assert.deepEqual(results[999]![0]!.token, tokens[999]);
      const s = room.client.stats();
      assert.equal(s.tokens, 0);
      assert.equal(s.retiredTokens, 1000);
    } finally {
      await room.close();
    }
  });

  it('quarantines a group token after its window and forgets it after the reuse interval', T, async () => {
    const { room } = await tokenRoom(() => 0.1);
    try {
      for (let i = 0; i < 5; i++) await ask(room, { uri: LIGHT, window: 200 });
      assert.equal(room.client.stats().retiredTokens, 5);
      // Unicast tokens are freed at once, not quarantined.
      await room.rt.settle(room.client.request('coap://192.0.2.1/light'));
      assert.equal(room.client.stats().retiredTokens, 5);
      // NON_LIFETIME 145 s + MAX_LATENCY 100 s + MSRD 250 s = 495 s.
      await room.rt.advance(494_000);
      await ask(room, { uri: LIGHT, window: 200 });
      assert.equal(room.client.stats().retiredTokens, 6);
      await room.rt.advance(2_000);
      await ask(room, { uri: LIGHT, window: 200 });
      assert.equal(room.client.stats().retiredTokens, 2);
    } finally {
      await room.close();
    }
  });

  it('delivers a late response to nobody, not to a later request to the same group', T, async () => {
    // Node 0 takes up to 10 s, longer than the first window; node 1 answers at once.
    const { room, tokens } = await tokenRoom((i) => (i === 0 ? 10 : 0), 2);
    try {
      const first = await ask(room, { uri: LIGHT, window: 1000 });
      assert.deepEqual(
        first.responses.map((r) => r.text()),
        ['n1-req1'],
      );
      const second = await ask(room, { uri: LIGHT, window: 25_000 });
      assert.deepEqual(second.responses.map((r) => r.text()).sort(), ['n0-req2', 'n1-req2']);
      for (const r of second.responses) assert.deepEqual(r.token, tokens[1]);
      assert.notDeepEqual(tokens[0], tokens[1]);
      assert.equal(second.summary.responses, 2);
    } finally {
      await room.close();
    }
  });
});

describe('TokenTable (the client token store)', () => {
  it('never hands out a token that is active or quarantined', T, () => {
    const rt = new FakeRuntime({ seed: 3 });
    const table = new TokenTable<number>(rt, 1000);
    const seen = new Set<string>();
    // 1-byte tokens: 200 of the 256 values, each retired into quarantine right away.
    for (let i = 0; i < 200; i++) {
      const t = table.allocate(1, i);
      assert.ok(!seen.has(t.toString('hex')), `token ${t.toString('hex')} handed out twice`);
      seen.add(t.toString('hex'));
      table.release(t, true);
    }
    assert.equal(table.retiredSize, 200);
  });

  it('bounds the quarantine table', T, () => {
    const rt = new FakeRuntime({ seed: 4 });
    const table = new TokenTable<number>(rt, 1_000_000, 8);
    for (let i = 0; i < 20; i++) table.release(table.allocate(8, i), true);
    assert.equal(table.retiredSize, 8);
    assert.equal(table.size, 0);
  });
});
