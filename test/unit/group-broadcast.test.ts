/**
 * Destinations beyond All CoAP Nodes (RFC 7252 §8, RFC 7390 §2.5, groupcomm-bis §3.9.5; see
 * docs/decisions.md): IPv4 broadcast is refused as the destination of every kind of request,
 * before anything is sent; the IPv6 all-nodes group ff02::1 is a multicast group like any other,
 * answered only by the nodes that joined it. Memory network and FakeRuntime; nothing is sent to
 * a broadcast address.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { localBroadcasts } from '../../src/client/group-policy.js';
import { CoapServer } from '../../src/server/server.js';
import { makeRoom, type Room } from '../support/group-room.js';

const T = { timeout: 20_000 };

async function withRoom(body: (room: Room) => Promise<void>): Promise<void> {
  const room = await makeRoom({
    nodes: 1,
    leisure: 0.2,
    setup: (s) => s.resource('/x', { multicast: true }).get(() => ({ payload: 'x' })),
  });
  try {
    await body(room);
  } finally {
    await room.close();
  }
}

const REFUSED = { code: 'ERR_COAP_GROUP_BROADCAST', name: 'GroupRequestError' };

describe('IPv4 broadcast destinations (docs/decisions.md)', () => {
  it('refuses 255.255.255.255 for request, send, observe and group, sending nothing', T, async () => {
    await withRoom(async (room) => {
      const before = room.net.stats.sent;
      const uri = 'coap://255.255.255.255/x';
      await assert.rejects(room.rt.settle(room.client.request(uri)), REFUSED);
      await assert.rejects(room.rt.settle(room.client.request({ uri, confirmable: false })), REFUSED);
      await assert.rejects(room.rt.settle(room.client.send(uri)), REFUSED);
      const obs: unknown[] = [];
      await assert.rejects(
        room.rt.settle(
          (async () => {
            for await (const r of room.client.observe(uri)) obs.push(r);
          })(),
        ),
        REFUSED,
      );
      const rs = room.client.group({ uri, window: 500 });
      await assert.rejects(room.rt.settle(rs.collect()), REFUSED);
      assert.equal(obs.length, 0);
      assert.equal(room.net.stats.sent, before, 'no datagram left');
    });
  });

  it('refuses a name that resolves to a broadcast address', T, async () => {
    await withRoom(async (room) => {
      const c = await CoapClient.create({
        transport: room.net.createTransport({
          bind: [{ address: '192.0.2.150', port: 0 }],
          ipv4Interface: 'mem0',
        }),
        runtime: room.rt,
        resolver: async () => ['255.255.255.255'],
      });
      room.extras.push(c);
      await assert.rejects(room.rt.settle(c.group({ uri: 'coap://everyone.example/x' }).collect()), REFUSED);
    });
  });

  it("refuses the directed broadcast of this host's subnets, and no unicast address", T, async () => {
    // Every host has 127.0.0.1/8 on its loopback interface, so 127.255.255.255 is a subnet broadcast.
    const b = localBroadcasts();
    assert.ok(b.has('255.255.255.255'));
    assert.ok(b.has('127.255.255.255'), [...b].join(', '));
    assert.ok(!b.has('127.0.0.1') && !b.has('127.0.0.255'));
    await withRoom(async (room) => {
      const before = room.net.stats.sent;
      await assert.rejects(room.rt.settle(room.client.request('coap://127.255.255.255/x')), REFUSED);
      assert.equal(room.net.stats.sent, before);
      // A unicast address of the room still works.
      assert.equal((await room.rt.settle(room.client.request('coap://192.0.2.1/x'))).text(), 'x');
    });
  });
});

describe('the IPv6 all-nodes group ff02::1', () => {
  it('is a group like any other: the nodes that joined it answer, the others ignore it', T, async () => {
    await withRoom(async (room) => {
      const node = async (address: string, groups: string[]) => {
        const s = new CoapServer({
          transport: room.net.createTransport({ bind: [{ address, port: 5683 }], ipv6Interface: '::%mem0' }),
          runtime: room.rt,
          leisure: 0.2,
          groups,
        });
        s.resource('/x', { multicast: true }).get(() => ({ payload: address }));
        await s.listen();
        room.extras.push(s);
      };
      await node('2001:db8::1', ['[ff02::1%mem0]']);
      await node('2001:db8::2', []);
      const c = await CoapClient.create({
        transport: room.net.createTransport({
          bind: [{ address: '2001:db8::100', port: 40000 }],
          ipv6Interface: '::%mem0',
        }),
        runtime: room.rt,
      });
      room.extras.push(c);
      const rs = c.group({ uri: 'coap://[ff02::1%25mem0]/x', window: 500 });
      const got = await room.rt.settle(rs.collect());
      assert.deepEqual(
        got.map((r) => r.text()),
        ['2001:db8::1'],
      );
      assert.equal((await rs.done).reason, 'window');
    });
  });
});
