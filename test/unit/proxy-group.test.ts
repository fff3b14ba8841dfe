/**
 * The proxy's group path on the in-memory network (RFC 7390 §2.9; draft-ietf-core-groupcomm-proxy
 * §5.2.1, §5.4.1): 5.01 when group forwarding is not configured, 4.01 for a client outside the
 * allow-list (before the 4.00 for a missing Multicast-Timeout), the 4.00 with an empty
 * Multicast-Timeout, relaying of each member's response with its Reply-From until T', T' = 0,
 * the Early Stop Request, a Reset from the client, token reuse, and the cap on T'.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../src/message/codes.js';
import { MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { findOption, uintOption } from '../../src/options/values.js';
import { count } from '../support/group-room.js';
import {
  MT,
  makeProxyRoom,
  mt,
  type ProxyRoom,
  pass,
  proxyUri,
  REPLY_FROM,
  replyFrom,
} from '../support/proxy-room.js';

const T = { timeout: 30_000 };
const ALLOW_ALL = { allow: [{ from: '192.0.2.0/24' }] };

/** Three members serving /light to the group, each after `delay(i)` ms (default at once). */
function lights(delay: (i: number) => number = () => 0) {
  return {
    nodes: 3,
    leisure: 0.2,
    setup: (
      server: import('../../src/server/server.js').CoapServer,
      node: import('../support/group-room.js').RoomNode,
    ) => {
      server.resource('/light', { multicast: true }).get((req) => {
        count(node, 'GET /light', 0);
        const ms = delay(node.index);
        const body = { payload: `node${node.index}` };
        if (ms === 0) return body;
        return new Promise((r) => setTimeoutOf(req, ms, () => r(body)));
      });
    },
  };
}

/** Handlers run on the room's fake clock through this hook, set per room. */
let clock: ProxyRoom['rt'] | undefined;
function setTimeoutOf(_req: unknown, ms: number, fn: () => void): void {
  clock!.setTimeout(fn, ms);
}

async function withRoom(
  o: Parameters<typeof makeProxyRoom>[0],
  body: (r: ProxyRoom) => Promise<void>,
): Promise<void> {
  const room = await makeProxyRoom(o);
  clock = room.rt;
  try {
    await body(room);
  } finally {
    await room.close();
    clock = undefined;
  }
}

const tok = (n: number) => Buffer.from([0xa1, 0xb2, 0xc3, n]);

describe('proxy: group targets', () => {
  it(
    'answers 5.01 to a group target when group forwarding is not configured (RFC 7390 §2.9)',
    T,
    async () => {
      await withRoom({ ...lights() }, async (r) => {
        const token = tok(1);
        r.raw.send({ token, options: [proxyUri('coap://224.0.1.187/light'), mt(2)] });
        await pass(r, 3000);
        const got = r.raw.on(token);
        assert.deepEqual(
          got.map((m) => [m.type, m.code]),
          [[MessageType.ACK, Code.NotImplemented]],
        );
        assert.equal(findOption(got[0]!.options, REPLY_FROM), undefined);
        assert.equal(
          r.nodes.reduce((n, x) => n + (x.calls.get('GET /light') ?? 0), 0),
          0,
          'nothing reached the group',
        );
      });
    },
  );

  it('answers 4.01 to a client outside the allow-list, even without Multicast-Timeout', T, async () => {
    await withRoom(
      { ...lights(), proxy: { iface: 'mem0', groups: { allow: [{ from: '192.0.2.100' }] } } },
      async (r) => {
        const a = tok(2);
        const b = tok(3);
        r.raw.send({ token: a, options: [proxyUri('coap://224.0.1.187/light'), mt(2)] });
        r.raw.send({ token: b, options: [proxyUri('coap://224.0.1.187/light')] });
        await pass(r, 3000);
        assert.equal(r.raw.on(a)[0]?.code, Code.Unauthorized);
        assert.equal(r.raw.on(b)[0]?.code, Code.Unauthorized, 'step 2 comes before step 3');
        assert.equal(findOption(r.raw.on(b)[0]!.options, MT), undefined);
      },
    );
  });

  it(
    'answers 4.00 with an empty Multicast-Timeout and a diagnostic when the option is missing',
    T,
    async () => {
      await withRoom({ ...lights(), proxy: { iface: 'mem0', groups: ALLOW_ALL } }, async (r) => {
        const token = tok(4);
        r.raw.send({ token, options: [proxyUri('coap://224.0.1.187/light')] });
        await pass(r, 3000);
        const [m] = r.raw.on(token);
        assert.equal(m?.code, Code.BadRequest);
        assert.equal(m?.type, MessageType.ACK, 'piggybacked');
        assert.deepEqual(
          findOption(m!.options, MT)?.value,
          Buffer.alloc(0),
          'Multicast-Timeout 0, as the empty value',
        );
        assert.equal(m!.payload.toString(), 'Multicast-Timeout required');
        assert.equal(findOption(m!.options, REPLY_FROM), undefined);
      });
    },
  );

  it('relays each member response with its Reply-From, after an empty ACK, until T', T, async () => {
    await withRoom({ ...lights(), proxy: { iface: 'mem0', groups: ALLOW_ALL } }, async (r) => {
      const token = tok(5);
      r.raw.send({ token, options: [proxyUri('coap://224.0.1.187/light'), mt(3)] });
      await pass(r, 5000);
      const acks = r.raw.log.filter((x) => x.msg?.type === MessageType.ACK && x.msg.code === 0);
      assert.equal(acks.length, 1, 'the CON request got an empty ACK');
      const got = r.raw.on(token);
      assert.equal(got.length, 3);
      for (const m of got) {
        assert.equal(m.type, MessageType.NON);
        assert.equal(m.code, Code.Content);
        assert.equal(findOption(m.options, MT), undefined, 'Multicast-Timeout is not relayed');
      }
      const byMember = new Map(got.map((m) => [replyFrom(m), m.payload.toString()]));
      assert.deepEqual(Object.fromEntries(byMember), {
        'coap://192.0.2.1': 'node0',
        'coap://192.0.2.2': 'node1',
        'coap://192.0.2.3': 'node2',
      });
      assert.equal(r.proxy.stats().forwardings, 0, 'the forwarding ended with T');
    });
  });

  it('does not relay a member that answers after T', T, async () => {
    await withRoom(
      { ...lights((i) => (i === 2 ? 3500 : 0)), proxy: { iface: 'mem0', groups: ALLOW_ALL } },
      async (r) => {
        const token = tok(6);
        r.raw.send({ token, options: [proxyUri('coap://224.0.1.187/light'), mt(2)] });
        await pass(r, 6000);
        assert.equal(r.nodes[2]!.calls.get('GET /light'), 1, 'the late member got the request');
        assert.deepEqual(r.raw.on(token).map(replyFrom).sort(), ['coap://192.0.2.1', 'coap://192.0.2.2']);
      },
    );
  });

  it('with T = 0 sends the group request and relays nothing', T, async () => {
    await withRoom({ ...lights(), proxy: { iface: 'mem0', groups: ALLOW_ALL } }, async (r) => {
      const token = tok(7);
      const noResponse = { number: Opt.NoResponse, value: Buffer.from([26]) };
      r.raw.send({
        type: MessageType.NON,
        token,
        options: [proxyUri('coap://224.0.1.187/light'), mt(0), noResponse],
      });
      await pass(r, 4000);
      assert.equal(
        r.nodes.reduce((n, x) => n + (x.calls.get('GET /light') ?? 0), 0),
        3,
        'the group got the request',
      );
      assert.equal(r.raw.log.length, 0, 'nothing at all came back');
    });
  });

  it('stops relaying on an Early Stop Request and on a Reset', T, async () => {
    await withRoom(
      { ...lights((i) => 1000 + i * 1000), proxy: { iface: 'mem0', groups: ALLOW_ALL } },
      async (r) => {
        const a = tok(8);
        r.raw.send({ token: a, options: [proxyUri('coap://224.0.1.187/light'), mt(8)] });
        await pass(r, 1600);
        assert.equal(r.raw.on(a).length, 1);
        // Early Stop: GET, same token, Multicast-Timeout 0, no Proxy-Uri.
        r.raw.send({ token: a, options: [{ number: Opt.UriPath, value: Buffer.from('light') }, mt(0)] });
        await pass(r, 4000);
        assert.equal(r.raw.on(a).length, 1, 'nothing after the Early Stop Request, and no answer to it');
        assert.equal(r.proxy.stats().forwardings, 0);
        const b = tok(9);
        r.raw.send({ token: b, options: [proxyUri('coap://224.0.1.187/light'), mt(8)] });
        await pass(r, 1600);
        const first = r.raw.on(b);
        assert.equal(first.length, 1);
        r.raw.reset(first[0]!.messageId);
        await pass(r, 4000);
        assert.equal(r.raw.on(b).length, 1, 'nothing after the Reset');
        assert.equal(r.proxy.stats().forwardings, 0);
      },
    );
  });

  it('takes an Early Stop Request that comes after T ended without an error', T, async () => {
    await withRoom({ ...lights(), proxy: { iface: 'mem0', groups: ALLOW_ALL } }, async (r) => {
      const a = tok(13);
      r.raw.send({ token: a, options: [proxyUri('coap://224.0.1.187/light'), mt(1)] });
      await pass(r, 2000);
      assert.equal(r.raw.on(a).length, 3);
      const before = r.raw.log.length;
      r.raw.send({ token: a, options: [{ number: Opt.UriPath, value: Buffer.from('light') }, mt(0)] });
      await pass(r, 2000);
      const after = r.raw.log.slice(before).map((x) => [x.msg?.type, x.msg?.code]);
      assert.deepEqual(after, [[MessageType.ACK, 0]], 'an empty ACK, not a 4.04 from the proxy itself');
    });
  });

  it('answers 4.00 to a token reused while its forwarding runs, and stops that forwarding', T, async () => {
    await withRoom(
      { ...lights((i) => 1000 + i * 1000), proxy: { iface: 'mem0', groups: ALLOW_ALL } },
      async (r) => {
        const a = tok(10);
        r.raw.send({ token: a, options: [proxyUri('coap://224.0.1.187/light'), mt(8)] });
        await pass(r, 500);
        r.raw.send({ token: a, options: [proxyUri('coap://224.0.1.187/light'), mt(8)] });
        await pass(r, 5000);
        const got = r.raw.on(a);
        assert.deepEqual(
          got.map((m) => m.code),
          [Code.BadRequest],
        );
        assert.match(got[0]!.payload.toString(), /Token re-use/);
      },
    );
  });

  it('clamps T to the configured cap', T, async () => {
    await withRoom(
      { ...lights((i) => i * 2500), proxy: { iface: 'mem0', groups: { ...ALLOW_ALL, maxTimeout: 2 } } },
      async (r) => {
        const token = tok(11);
        r.raw.send({ token, options: [proxyUri('coap://224.0.1.187/light'), mt(3600)] });
        await pass(r, 8000);
        assert.deepEqual(r.raw.on(token).map(replyFrom), ['coap://192.0.2.1']);
        assert.equal(r.proxy.stats().forwardings, 0);
      },
    );
  });

  it('answers its own errors without Reply-From and relays with Max-Age intact', T, async () => {
    await withRoom({ ...lights(), proxy: { iface: 'mem0', groups: ALLOW_ALL } }, async (r) => {
      const token = tok(12);
      r.raw.send({ token, options: [proxyUri('coaps://224.0.1.187/light'), mt(2)] });
      await pass(r, 1000);
      assert.equal(r.raw.on(token)[0]?.code, Code.ProxyingNotSupported);
      assert.equal(uintOption(r.raw.on(token)[0]!.options, MT), undefined);
    });
  });
});
