/**
 * What the client refuses or rewrites before a group request leaves (RFC 7390 §2.5, §5.1,
 * §5.4.2; RFC 7252 §8.1, §8.2.1; R17, R65), and group names that resolve to a multicast address
 * (RFC 7390 §2.2). Memory network and FakeRuntime.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { Opt } from '../../src/options/registry.js';
import { formatUri } from '../../src/uri/index.js';
import { matrixSetup } from '../support/group-resources.js';
import { ask, makeRoom, type Room, sources } from '../support/group-room.js';

const T = { timeout: 20000 };
const TEXT = 'coap://224.0.1.187/text';

async function withRoom(nodes: number, body: (room: Room) => Promise<void>) {
  let room: Room | undefined;
  const [setup] = matrixSetup(() => room!);
  room = await makeRoom({ nodes, leisure: 0.2, setup });
  try {
    await body(room);
  } finally {
    await room.close();
  }
}

/** A client on an IPv6 address of the room's network, with an IPv6 multicast interface. */
async function ipv6Client(room: Room): Promise<CoapClient> {
  const transport = room.net.createTransport({
    bind: [{ address: '2001:db8::100', port: 40000 }],
    ipv6Interface: '::%mem0',
  });
  const c = await CoapClient.create({ transport, runtime: room.rt });
  room.extras.push(c);
  return c;
}

describe('Group requests the client refuses (RFC 7390 §2.5, §5.1, §5.4.2)', () => {
  it('refuses a confirmable group request before sending (RFC 7252 §8.1)', T, async () => {
    await withRoom(1, async (room) => {
      const before = room.net.stats.sent;
      assert.throws(() => room.client.group({ uri: TEXT, confirmable: true }), {
        code: 'ERR_COAP_GROUP_CONFIRMABLE',
      });
      assert.equal(room.net.stats.sent, before);
    });
  });

  it('refuses a coaps group URI', T, async () => {
    await withRoom(1, async (room) => {
      assert.throws(() => room.client.group('coaps://224.0.1.187/text'), {
        code: 'ERR_COAP_GROUP_SECURE_SCHEME',
      });
    });
  });

  it('refuses an ETag in a group GET unless in groupcomm-bis mode (RFC 7252 §8.2.1)', T, async () => {
    await withRoom(1, async (room) => {
      const options = [{ number: Opt.ETag, value: Buffer.from('e1') }];
      assert.throws(() => room.client.group({ uri: TEXT, options }), { code: 'ERR_COAP_GROUP_ETAG' });
      const { responses } = await ask(room, { uri: TEXT, options, groupcommBis: true });
      assert.equal(responses.length, 1);
    });
  });

  it('points unicast targets and group targets to the right method', T, async () => {
    await withRoom(1, async (room) => {
      await assert.rejects(room.rt.settle(room.client.group('coap://192.0.2.1/text').collect()), {
        code: 'ERR_COAP_GROUP_NOT_MULTICAST',
      });
      await assert.rejects(room.rt.settle(room.client.request(TEXT)), { code: 'ERR_COAP_GROUP_USE_GROUP' });
    });
  });

  it('refuses an IPv6 scope wider than site-local unless allowWideScope', T, async () => {
    await withRoom(1, async (room) => {
      const c = await ipv6Client(room);
      const before = room.net.stats.sent;
      await assert.rejects(room.rt.settle(c.group('coap://[ff0e::fd]/text').collect()), {
        code: 'ERR_COAP_GROUP_SCOPE',
      });
      assert.equal(room.net.stats.sent, before);
      for (const uri of ['coap://[ff02::fd%25mem0]/text', 'coap://[ff05::fd]/text']) {
        const { summary } = await ask(room, { uri, window: 100 }, c);
        assert.equal(summary.reason, 'window', uri);
      }
      const { summary } = await ask(
        room,
        { uri: 'coap://[ff0e::fd]/text', window: 100, allowWideScope: true },
        c,
      );
      assert.equal(summary.reason, 'window');
      assert.equal(room.net.stats.sent, before + 3);
    });
  });

  it('refuses an IPv4 TTL that reaches beyond a site unless allowWideScope', T, async () => {
    await withRoom(1, async (room) => {
      // The client's own TTL (its `hops` option) decides the scope of IPv4 groups.
      const wide = await CoapClient.create({
        transport: room.net.createTransport({
          bind: [{ address: '192.0.2.99', port: 40000 }],
          ipv4Interface: 'mem0',
        }),
        runtime: room.rt,
        hops: 32,
      });
      room.extras.push(wide);
      await assert.rejects(room.rt.settle(wide.group({ uri: TEXT }).collect()), {
        code: 'ERR_COAP_GROUP_SCOPE',
      });
      const { responses } = await ask(room, { uri: TEXT, allowWideScope: true }, wide);
      assert.equal(responses.length, 1);
    });
  });
});

describe('Group names (RFC 7390 §2.2)', () => {
  it(
    'sends to the multicast address a group name resolves to, and bases responses on each node',
    T,
    async () => {
      await withRoom(2, async (room) => {
        const asked: string[] = [];
        const c = await CoapClient.create({
          transport: room.net.createTransport({
            bind: [{ address: '192.0.2.150', port: 0 }],
            ipv4Interface: 'mem0',
          }),
          runtime: room.rt,
          resolver: async (host) => {
            asked.push(host);
            return ['224.0.1.187'];
          },
        });
        room.extras.push(c);
        const { responses } = await ask(room, { uri: 'coap://all-lights.example/text' }, c);
        assert.deepEqual(asked, ['all-lights.example']);
        assert.deepEqual(sources(responses), ['192.0.2.1', '192.0.2.2']);
        assert.deepEqual(responses.map((r) => formatUri(r.baseUri)).sort(), [
          'coap://192.0.2.1/text',
          'coap://192.0.2.2/text',
        ]);
      });
    },
  );
});
