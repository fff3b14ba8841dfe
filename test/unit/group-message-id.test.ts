/**
 * Message IDs of group requests (RFC 7252 §8.1, §4.4; RFC 7390 §2.5): a multicast request never
 * takes a Message ID still active with a unicast peer that also receives it, since that peer's
 * RST or ACK would look like one for the other message. The messenger hands IDs out in sequence
 * and skips every one still pending; when none is free it refuses instead of reusing one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { FakeRuntime } from '../../src/fake-runtime.js';
import { MessageType } from '../../src/message/types.js';
import { Messenger } from '../../src/messenger/messenger.js';
import { MemoryNetwork } from '../../src/transport/memory.js';
import { tap } from '../support/mem-net.js';

const T = { timeout: 30_000 };
const MEMBER = { address: '192.0.2.50', port: 5683 };
const GROUP = '224.0.1.187';

describe('the Message ID of a group request (RFC 7252 §8.1)', () => {
  it(
    'differs from every CON still in flight to a member, even when the sequence wraps onto them',
    T,
    async () => {
      const rt = new FakeRuntime({ seed: 11 });
      const net = new MemoryNetwork({ runtime: rt });
      // A member that receives unicast and multicast but never answers: its exchanges stay in flight.
      const member = net.createTransport({ bind: [MEMBER], ipv4Interface: 'mem0' });
      const atMember = tap(member, rt);
      await member.join(GROUP, 5683);
      const transport = net.createTransport({
        bind: [{ address: '192.0.2.1', port: 40000 }],
        ipv4Interface: 'mem0',
      });
      const client = await CoapClient.create({ transport, runtime: rt, transmission: { nstart: 64 } });
      try {
        const pending = Array.from({ length: 40 }, (_, i) =>
          client.request(`coap://${MEMBER.address}/x${i}`).then(
            () => 'answered',
            (e: Error & { code?: string }) => e.code,
          ),
        );
        await rt.advance(0);
        const cons = atMember.filter((r) => r.msg?.type === MessageType.CON).map((r) => r.msg!.messageId);
        assert.equal(cons.length, 40);
        assert.equal(client.stats().messenger.pending, 40);
        // Move the sequence once around, so that the next ID in turn is the first CON's.
        const first = cons[0]!;
        let last = -1;
        for (let i = 0; i < 0x10000 - 40; i++) last = client.messenger.allocateMessageId();
        assert.equal(last, (first + 0xffff) & 0xffff, 'the next ID in sequence is a pending one');
        const rs = client.group({ uri: `coap://${GROUP}/x`, window: 500 });
        await rt.settle(rs.collect());
        const multicast = atMember.filter((r) => r.multicast).map((r) => r.msg!.messageId);
        assert.equal(multicast.length, 1);
        assert.ok(!cons.includes(multicast[0]!), `group MID ${multicast[0]} is one of the CONs in flight`);
        // Every CON is still in flight: the group request took none of their IDs.
        assert.ok(client.stats().messenger.pending >= 40);
        await client.close();
        assert.deepEqual(new Set(await Promise.all(pending)), new Set(['ERR_COAP_CLOSED']));
      } finally {
        await client.close();
        await member.close();
        await rt.advance(0);
      }
    },
  );

  it('refuses a new message when all 65536 IDs are pending, and reuses only a freed one', T, async () => {
    const rt = new FakeRuntime({ seed: 3 });
    const net = new MemoryNetwork({ runtime: rt });
    const t = net.createTransport({ bind: [{ address: '192.0.2.1', port: 40000 }] });
    const m = new Messenger({ transport: t, runtime: rt });
    try {
      const nowhere = { address: '192.0.2.99', port: 5683 };
      const non = {
        type: MessageType.NON,
        code: 1,
        token: Buffer.alloc(0),
        options: [],
        payload: Buffer.alloc(0),
      };
      const sent = Array.from({ length: 0x10000 }, () => m.send({ ...non }, nowhere));
      assert.equal(new Set(sent.map((o) => o.messageId)).size, 0x10000);
      assert.throws(() => m.allocateMessageId(), { code: 'ERR_COAP_MESSAGE_IDS_EXHAUSTED' });
      assert.throws(() => m.send({ ...non }, nowhere), { code: 'ERR_COAP_MESSAGE_IDS_EXHAUSTED' });
      sent[1234]!.cancel();
      assert.equal(m.allocateMessageId(), sent[1234]!.messageId);
    } finally {
      await m.close();
      await rt.advance(0);
    }
  });
});
