/**
 * Block-wise transfer with groups (RFC 7959 §2.8, RFC 7390 §2.8) on the memory network: a node
 * answers a multicast GET with the first block only, so one request draws one datagram per
 * node (RFC 7252 §11.3); the client continues each responder by unicast, at the block size that
 * responder chose, and yields one complete body per node.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBlock } from '../../src/entry/codec.js';
import { type CoapServer, findOption, Opt } from '../../src/index.js';
import type { CoapMessage } from '../../src/message/types.js';
import { body, messages } from '../support/bw-mem.js';
import { type BwRoom, bwRoom, GROUP } from '../support/bw-room.js';

const T = { timeout: 30_000 };

/** Node i serves a multicast `/big` of `sizes[i]` bytes, salted with i. */
function sized(sizes: readonly number[]) {
  return (s: CoapServer, i: number) =>
    s.resource('/big', { multicast: true }).get(() => ({ payload: body(sizes[i]!, i) }));
}

/** What each node sent back with the group request's token: the responses to the multicast. */
function groupAnswers(room: BwRoom, token: Buffer): Map<string, CoapMessage[]> {
  const out = new Map<string, CoapMessage[]>();
  for (const r of room.atClient) {
    if (!r.msg?.token.equals(token)) continue;
    out.set(r.remote.address, [...(out.get(r.remote.address) ?? []), r.msg]);
  }
  return out;
}

async function withRoom(sizes: readonly number[], fn: (room: BwRoom) => Promise<void>) {
  const room = await bwRoom({ nodes: sizes.length, setup: sized(sizes) });
  try {
    await fn(room);
  } finally {
    await room.close();
  }
}

describe('Group GET of a large resource', () => {
  it('yields one complete body per node, each drawn with one multicast datagram', T, async () => {
    await withRoom([3000, 3000, 3000], async (room) => {
      const got = await room.rt.settle(room.client.group({ uri: `${GROUP}/big`, window: 3000 }).collect());
      assert.equal(got.length, 3);
      for (const r of got) {
        const i = room.nodes.findIndex((n) => n.address === r.source.address);
        assert.ok(r.payload.equals(body(3000, i)), `node ${i} body is whole and its own`);
        assert.equal(findOption(r.options, Opt.Block2), undefined);
      }
      assert.deepEqual(got.map((r) => r.source.address).sort(), room.nodes.map((n) => n.address).sort());
      for (const n of room.nodes) {
        assert.equal(n.log.filter((x) => x.multicast).length, 1, 'one multicast request per node');
      }
      const token = got[0]!.token;
      const answers = groupAnswers(room, token);
      assert.equal(answers.size, 3);
      for (const [from, msgs] of answers) {
        assert.equal(msgs.length, 1, `${from} answered the multicast with one datagram`);
        const b = decodeBlock(findOption(msgs[0]!.options, Opt.Block2)!.value);
        assert.deepEqual(b, { num: 0, more: true, szx: 6 }, 'the first block only');
      }
      // Every later block came by unicast: no node got a Block2 NUM > 0 by multicast.
      for (const n of room.nodes) {
        for (const x of n.log.filter((y) => y.multicast)) {
          assert.equal(findOption(x.msg!.options, Opt.Block2), undefined);
        }
      }
    });
  });

  it('asks every member for blockSize blocks and continues at that size', T, async () => {
    await withRoom([300, 200], async (room) => {
      const got = await room.rt.settle(
        room.client.group({ uri: `${GROUP}/big`, window: 3000, blockSize: 64 }).collect(),
      );
      assert.equal(got.length, 2);
      for (const r of got) {
        const i = room.nodes.findIndex((n) => n.address === r.source.address);
        assert.ok(r.payload.equals(body(i === 0 ? 300 : 200, i)));
      }
      const sizes = messages(room.atClient).flatMap((m) => {
        const o = findOption(m.options, Opt.Block2);
        return o ? [decodeBlock(o.value).szx] : [];
      });
      assert.ok(sizes.length >= 5 + 4);
      assert.ok(
        sizes.every((s) => s === 2),
        'every block is 64 bytes',
      );
    });
  });

  it('yields a small body as it came and a large one completed, side by side', T, async () => {
    await withRoom([20, 2500], async (room) => {
      const got = await room.rt.settle(room.client.group({ uri: `${GROUP}/big`, window: 3000 }).collect());
      const byNode = new Map(got.map((r) => [r.source.address, r.payload]));
      assert.ok(byNode.get(room.nodes[0]!.address)?.equals(body(20, 0)));
      assert.ok(byNode.get(room.nodes[1]!.address)?.equals(body(2500, 1)));
    });
  });

  it('finishes continuations under way when the window closes before yielding', T, async () => {
    // Each way takes 300 ms, so the continuation (3 round trips) outlasts the 1.5 s window.
    const room = await bwRoom({ nodes: 2, setup: sized([4000, 4000]), conditions: { delay: 300 } });
    try {
      const rs = room.client.group({ uri: `${GROUP}/big`, window: 1500 });
      const got = await room.rt.settle(rs.collect());
      assert.equal((await rs.done).reason, 'window');
      assert.equal(got.length, 2);
      for (const r of got) assert.equal(r.payload.length, 4000);
    } finally {
      await room.close();
    }
  });
});
