/**
 * Group requests through a forward proxy, from the client's side (draft-ietf-core-groupcomm-proxy
 * §5.1, §5.5, §7.3), against a small proxy built on the server's seams
 * (test/support/test-group-proxy.ts) on the memory network: the request goes by unicast with
 * Proxy-Uri and Multicast-Timeout, each relayed response is its member's (Reply-From) with the
 * proxy kept as `via`, the client listens T' plus its margin, the proxy's own answers end the
 * iteration with ProxyAnswerError, an early end sends an Early Stop Request, a 2.03 with
 * Group-ETag yields the stored set, and a member's body continues through the proxy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import type { GroupResponse } from '../../src/client/group.js';
import { ProxyAnswerError } from '../../src/client/proxy-answer-error.js';
import { Code } from '../../src/message/codes.js';
import { encodeMessage } from '../../src/message/encode.js';
import { type CoapMessage, EMPTY, MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { decodeUint, findOption } from '../../src/options/values.js';
import { CoapServer } from '../../src/server/server.js';
import { encodeCri } from '../../src/uri/index.js';
import { drive } from '../support/bw-mem.js';
import { GROUP_URI, IFACE, makeRoom, type Room, rawPeer, settle } from '../support/group-room.js';
import { tap } from '../support/mem-net.js';
import {
  forwardingMessenger,
  installTestProxy,
  type TestProxy,
  type TestProxyOptions,
} from '../support/test-group-proxy.js';

const T = { timeout: 30_000 };
const PROXY = 'coap://192.0.2.50';
const VIA = { address: '192.0.2.50', port: 5683 };

interface ProxyRoom {
  readonly room: Room;
  readonly proxy: TestProxy;
  readonly values: string[];
  /** What the proxy's server endpoint received. */
  readonly atProxy: ReturnType<typeof tap>;
  /** What the client received. */
  readonly atClient: ReturnType<typeof tap>;
  readonly client: CoapClient;
}

/** Three members at 192.0.2.1-3 serving a multicast, observable /light; the proxy at 192.0.2.50. */
async function proxyRoom(o: TestProxyOptions = {}, body = (i: number) => `node${i + 1}`): Promise<ProxyRoom> {
  const values: string[] = [];
  const room = await makeRoom({
    nodes: 3,
    leisure: 1,
    setup: (s, node) => {
      values.push(body(node.index));
      s.resource('/light', { multicast: true, obs: true }).get(() => ({ payload: values[node.index]! }));
    },
  });
  const serverTransport = room.net.createTransport({
    bind: [{ address: '192.0.2.50', port: 5683 }],
    ipv4Interface: IFACE,
  });
  const atProxy = tap(serverTransport, room.rt);
  const forwardTransport = room.net.createTransport({
    bind: [{ address: '192.0.2.50', port: 40050 }],
    ipv4Interface: IFACE,
  });
  const forwarder = await CoapClient.create({ messenger: forwardingMessenger(forwardTransport, room.rt) });
  const server = new CoapServer({ transport: serverTransport, runtime: room.rt });
  const proxy = installTestProxy(server, forwarder, o);
  await server.listen();
  const clientTransport = room.net.createTransport({
    bind: [{ address: '192.0.2.110', port: 40000 }],
    ipv4Interface: IFACE,
  });
  const atClient = tap(clientTransport, room.rt);
  const client = await CoapClient.create({ transport: clientTransport, runtime: room.rt });
  room.extras.push(client, forwarder, forwarder.messenger, server);
  return { room, proxy, values, atProxy, atClient, client };
}

const collect = async (
  p: ProxyRoom,
  rs: AsyncIterable<GroupResponse> & { collect(): Promise<GroupResponse[]> },
) => settle(p.room.rt, rs.collect());

const members = (rs: readonly GroupResponse[]) =>
  rs.map((r) => `${r.source.address}:${r.source.port}=${r.text()}`).sort();

describe('a group request through a proxy', () => {
  it('yields each member’s response with its source from Reply-From and the proxy as via', T, async () => {
    const p = await proxyRoom();
    try {
      const rs = p.client.group({ uri: `${GROUP_URI}/light`, proxy: PROXY, window: 2500 });
      const got = await collect(p, rs);
      assert.deepEqual(members(got), [
        '192.0.2.1:5683=node1',
        '192.0.2.2:5683=node2',
        '192.0.2.3:5683=node3',
      ]);
      for (const r of got) {
        assert.deepEqual(r.via, VIA);
        assert.equal(r.baseUri.host, r.source.address, 'the base URI is the member’s');
      }
      const req = p.proxy.requests[0]!.message;
      assert.equal(req.type, MessageType.CON, 'CON to the proxy by default');
      assert.equal(findOption(req.options, Opt.ProxyUri)?.value.toString(), 'coap://224.0.1.187/light');
      assert.equal(findOption(req.options, Opt.UriPath), undefined, 'no Uri-* beside Proxy-Uri');
      assert.equal(
        decodeUint(findOption(req.options, Opt.MulticastTimeout)!.value),
        3,
        '2.5 s rounds up to 3',
      );
      const relayed = p.atClient.filter((x) => x.msg !== undefined && x.msg.code === Code.Content);
      assert.ok(relayed.every((x) => x.msg!.type === MessageType.NON && x.remote.address === '192.0.2.50'));
      const summary = await rs.done;
      assert.equal(summary.reason, 'window');
      assert.equal(summary.endpoints, 3);
      assert.equal(summary.elapsedMs, 3000 + 2000, "the client listens T' plus its 2 s margin");
    } finally {
      await p.room.close();
    }
  });

  it(
    'takes the Multicast-Timeout from the Leisure without a window, and the proxy from the client',
    T,
    async () => {
      const p = await proxyRoom();
      const transport = p.room.net.createTransport({
        bind: [{ address: '192.0.2.111', port: 40000 }],
        ipv4Interface: IFACE,
      });
      const client = await CoapClient.create({
        transport,
        runtime: p.room.rt,
        proxy: PROXY,
        proxyMargin: 500,
      });
      p.room.extras.push(client);
      try {
        const rs = client.group(`${GROUP_URI}/light`);
        assert.equal((await collect(p, rs)).length, 3);
        const mt = findOption(p.proxy.requests[0]!.message.options, Opt.MulticastTimeout)!;
        assert.equal(decodeUint(mt.value), 6, 'DEFAULT_LEISURE 5 s + 1 s');
        assert.equal((await rs.done).elapsedMs, 6500);
        // proxy: false goes to the group directly.
        const direct = await collect(
          p,
          client.group({ uri: `${GROUP_URI}/light`, proxy: false, window: 2000 }),
        );
        assert.equal(direct.length, 3);
        assert.ok(direct.every((r) => r.via === undefined));
        assert.equal(p.proxy.requests.length, 1);
      } finally {
        await p.room.close();
      }
    },
  );

  it(
    'ends with ProxyAnswerError when the proxy refuses: 5.01 not configured, 4.01 not allow-listed',
    T,
    async () => {
      for (const [o, code] of [
        [{ groups: false }, '5.01'],
        [{ allow: () => false }, '4.01'],
      ] as const) {
        const p = await proxyRoom(o);
        try {
          const rs = p.client.group({ uri: `${GROUP_URI}/light`, proxy: PROXY, window: 2000 });
          const err = await settle(p.room.rt, rs.collect()).then(
            () => assert.fail('no error'),
            (e: unknown) => e,
          );
          assert.ok(err instanceof ProxyAnswerError, String(err));
          assert.equal(err.code, 'ERR_COAP_PROXY_ANSWER');
          assert.equal(err.response.codeString, code);
          assert.deepEqual(err.proxy, VIA);
          assert.equal((await rs.done).reason, 'refused');
          assert.equal(p.proxy.forwarded.length, 0, 'nothing reached the group');
        } finally {
          await p.room.close();
        }
      }
    },
  );

  it(
    'surfaces the 4.00 a proxy with other option numbers gives, and works once the numbers agree',
    T,
    async () => {
      const p = await proxyRoom();
      const custom = { multicastTimeout: 65002, replyFrom: 65000, groupETag: 65004 };
      const mk = async (address: string, numbers: typeof custom) => {
        const transport = p.room.net.createTransport({
          bind: [{ address, port: 40000 }],
          ipv4Interface: IFACE,
        });
        const c = await CoapClient.create({
          transport,
          runtime: p.room.rt,
          proxy: PROXY,
          proxyOptions: numbers,
        });
        p.room.extras.push(c);
        return c;
      };
      try {
        const other = await mk('192.0.2.112', custom);
        const err = await settle(
          p.room.rt,
          other.group({ uri: `${GROUP_URI}/light`, window: 1000 }).collect(),
        ).then(
          () => assert.fail('no error'),
          (e: unknown) => e as ProxyAnswerError,
        );
        assert.equal(err.response.codeString, '4.00');
        assert.equal(err.response.text(), 'Multicast-Timeout required');
        const mt = findOption(err.response.options, Opt.MulticastTimeout);
        assert.equal(mt?.value.length, 0, 'the proxy’s 4.00 carries an empty Multicast-Timeout');
        assert.match(err.message, /4\.00 Bad Request itself.*Multicast-Timeout required/);
      } finally {
        await p.room.close();
      }
      const q = await proxyRoom({ numbers: custom });
      try {
        const transport = q.room.net.createTransport({
          bind: [{ address: '192.0.2.113', port: 40000 }],
          ipv4Interface: IFACE,
        });
        const c = await CoapClient.create({ transport, runtime: q.room.rt, proxyOptions: custom });
        q.room.extras.push(c);
        const got = await collect(q, c.group({ uri: `${GROUP_URI}/light`, proxy: PROXY, window: 1000 }));
        assert.deepEqual(members(got).length, 3);
        assert.ok(findOption(q.proxy.requests[0]!.message.options, 65002) !== undefined);
      } finally {
        await q.room.close();
      }
    },
  );

  it("with window 0 sends T' = 0 and No-Response 26, and expects nothing", T, async () => {
    const p = await proxyRoom();
    try {
      const rs = p.client.group({ uri: `${GROUP_URI}/light`, proxy: PROXY, window: 0 });
      assert.deepEqual(await collect(p, rs), []);
      assert.equal((await rs.done).reason, 'no-response');
      await p.room.rt.advance(3000);
      const req = p.proxy.requests[0]!.message;
      assert.equal(findOption(req.options, Opt.MulticastTimeout)?.value.length, 0, '0 is the empty value');
      assert.equal(decodeUint(findOption(req.options, Opt.NoResponse)!.value), 26);
      assert.equal(req.type, MessageType.NON);
      assert.equal(
        p.proxy.forwarded.length,
        1,
        'the proxy still forwarded it (groupcomm-proxy §5.2.1 step 6)',
      );
    } finally {
      await p.room.close();
    }
  });

  it(
    'sends an Early Stop Request when it ends before T (limit), and the proxy stops relaying',
    T,
    async () => {
      const p = await proxyRoom();
      try {
        const rs = p.client.group({ uri: `${GROUP_URI}/light`, proxy: PROXY, window: 4000, limit: 1 });
        assert.equal((await collect(p, rs)).length, 1);
        assert.equal((await rs.done).reason, 'limit');
        await p.room.rt.advance(5000);
        assert.equal(p.proxy.stops.length, 1);
        const stop = p.atProxy.find(
          (x) =>
            x.remote.address === '192.0.2.110' &&
            x.msg?.code === 1 &&
            findOption(x.msg.options, Opt.ProxyUri) === undefined,
        )!.msg!;
        assert.equal(
          stop.token.toString('hex'),
          p.proxy.requests[0]!.message.token.toString('hex'),
          'same token',
        );
        assert.deepEqual(
          stop.options.map((o) => [o.number, o.value.length]),
          [[Opt.MulticastTimeout, 0]],
          'GET with an empty Multicast-Timeout and nothing else (groupcomm-proxy §5.1.3)',
        );
        const relayed = p.atClient.filter((x) => x.msg?.code === Code.Content);
        assert.ok(relayed.length < 3, `the proxy stopped relaying (${relayed.length} relayed)`);
      } finally {
        await p.room.close();
      }
    },
  );
});

describe('Group-ETag revalidation through the proxy (groupcomm-proxy §7.3)', () => {
  it('stores the tagged set, sends its Group-ETag next time, and yields it again on 2.03', T, async () => {
    const p = await proxyRoom({ members: 3 });
    try {
      const first = await collect(
        p,
        p.client.group({ uri: `${GROUP_URI}/light`, proxy: PROXY, window: 2000, revalidate: true }),
      );
      assert.equal(first.length, 3);
      const tagged = first.filter((r) => findOption(r.options, Opt.GroupETag) !== undefined);
      assert.equal(tagged.length, 1, 'the proxy tagged the complete set on its last response');
      const tag = findOption(tagged[0]!.options, Opt.GroupETag)!.value;
      const rs = p.client.group({ uri: `${GROUP_URI}/light`, proxy: PROXY, window: 2000, revalidate: true });
      const again = await collect(p, rs);
      const sent = p.proxy.requests[1]!.message;
      assert.deepEqual(findOption(sent.options, Opt.GroupETag)?.value, tag, 'the stored tag was sent');
      assert.equal(p.proxy.forwarded.length, 1, 'the proxy answered from its set, nothing went to the group');
      assert.equal((await rs.done).reason, 'revalidated');
      assert.deepEqual(members(again), members(first));
      for (const r of again) {
        assert.equal(r.revalidated, true);
        assert.deepEqual(r.via, VIA);
        assert.equal(r.maxAge, 60, 'Max-Age updated from the 2.03 (default 60)');
      }
      // Without revalidate no tag is sent and the request goes to the group.
      await collect(p, p.client.group({ uri: `${GROUP_URI}/light`, proxy: PROXY, window: 2000 }));
      assert.equal(findOption(p.proxy.requests[2]!.message.options, Opt.GroupETag), undefined);
      assert.equal(p.proxy.forwarded.length, 2);
    } finally {
      await p.room.close();
    }
  });

  it('refuses revalidate without a proxy', () => {
    return (async () => {
      const p = await proxyRoom();
      try {
        assert.throws(() => p.client.group({ uri: `${GROUP_URI}/light`, revalidate: true }), {
          code: 'ERR_COAP_INVALID_ARGUMENT',
        });
      } finally {
        await p.room.close();
      }
    })();
  });
});

describe('follow-ups and observation through the proxy', () => {
  it('continues each member’s large body through the proxy with the member in Proxy-Uri', T, async () => {
    const p = await proxyRoom({}, (i) => `member ${i + 1} `.repeat(20));
    try {
      const got = await collect(
        p,
        p.client.group({ uri: `${GROUP_URI}/light`, proxy: PROXY, window: 2000, blockSize: 64 }),
      );
      assert.equal(got.length, 3);
      for (const r of got) {
        const i = Number(r.source.address.split('.')[3]);
        assert.equal(r.incomplete, undefined, String(r.incomplete?.cause ?? r.incomplete?.message));
        assert.equal(r.text(), `member ${i} `.repeat(20), r.source.address);
        assert.equal(r.incomplete, undefined);
      }
      const aimed = p.proxy.requests
        .map((q) => findOption(q.message.options, Opt.ProxyUri)!.value.toString())
        .filter((u) => !u.includes('224.0.1.187'));
      assert.deepEqual([...new Set(aimed)].sort(), [
        'coap://192.0.2.1/light',
        'coap://192.0.2.2/light',
        'coap://192.0.2.3/light',
      ]);
    } finally {
      await p.room.close();
    }
  });

  it('observes the group through the proxy and stops it with an Early Stop Request', T, async () => {
    const p = await proxyRoom();
    try {
      const seen: string[] = [];
      let stopAt = 0;
      const rs = p.client.group({ uri: `${GROUP_URI}/light`, proxy: PROXY, observe: true });
      const loop = (async () => {
        for await (const r of rs) {
          seen.push(`${r.source.address}=${r.text()}`);
          if (seen.length === 4) break;
        }
      })();
      await p.room.rt.advance(3000);
      for (const n of p.room.nodes)
        assert.equal(n.server.stats()!.observers, 1, `${n.address} has one observer, the proxy`);
      p.values[1] = 'changed';
      p.room.nodes[1]!.server.notify('/light');
      stopAt = seen.length;
      await drive(p.room.rt, loop);
      await p.room.rt.advance(2000);
      assert.equal(stopAt, 3);
      assert.equal(seen[3], '192.0.2.2=changed', 'the member’s notification came through the proxy');
      assert.equal((await rs.done).reason, 'aborted');
      assert.equal(p.proxy.stops.length, 1, 'leaving the loop sent an Early Stop Request');
      for (const n of p.room.nodes)
        assert.equal(n.server.stats()!.observers, 0, `${n.address} deregistered by the proxy`);
    } finally {
      await p.room.close();
    }
  });

  it('sends a unicast request through the proxy with the URI in Proxy-Uri', T, async () => {
    const p = await proxyRoom();
    try {
      const res = await settle(p.room.rt, p.client.request({ uri: 'coap://192.0.2.2/light', proxy: PROXY }));
      assert.equal(res.text(), 'node2');
      assert.deepEqual(res.source, { address: '192.0.2.2', port: 5683 });
      assert.equal(
        findOption(p.proxy.requests[0]!.message.options, Opt.ProxyUri)?.value.toString(),
        'coap://192.0.2.2/light',
      );
      assert.equal(p.proxy.requests[0]!.remote.address, '192.0.2.110');
    } finally {
      await p.room.close();
    }
  });
});

describe('what the client takes from a proxy', () => {
  it(
    'sends a group request to a reverse proxy’s path with Multicast-Timeout (groupcomm-proxy §6.2)',
    T,
    async () => {
      const p = await proxyRoom({ reverse: { room3: GROUP_URI } });
      try {
        const rs = p.client.group({ uri: 'coap://192.0.2.50/room3/light', reverseProxy: true, window: 2000 });
        const got = await collect(p, rs);
        assert.deepEqual(members(got), [
          '192.0.2.1:5683=node1',
          '192.0.2.2:5683=node2',
          '192.0.2.3:5683=node3',
        ]);
        assert.ok(got.every((r) => r.via?.address === '192.0.2.50'));
        const req = p.proxy.requests[0]!.message;
        assert.deepEqual(
          req.options.filter((o) => o.number === Opt.UriPath).map((o) => o.value.toString()),
          ['room3', 'light'],
        );
        assert.equal(findOption(req.options, Opt.ProxyUri), undefined);
        assert.equal(decodeUint(findOption(req.options, Opt.MulticastTimeout)!.value), 2);
        assert.throws(
          () => p.client.group({ uri: 'coap://192.0.2.50/x', reverseProxy: true, proxy: PROXY }),
          {
            code: 'ERR_COAP_INVALID_ARGUMENT',
          },
        );
      } finally {
        await p.room.close();
      }
    },
  );

  it('takes the member and port from Reply-From, and drops what has no readable origin', T, async () => {
    const room = await makeRoom({ nodes: 0 });
    const raw = rawPeer(room, '192.0.2.60');
    try {
      const rs = room.client.group({
        uri: `${GROUP_URI}/light`,
        proxy: 'coap://192.0.2.60:40000',
        window: 1000,
      });
      const done = settle(room.rt, rs.collect());
      await room.rt.advance(50);
      const req = raw.received[0]!.msg!;
      const send = (m: Omit<CoapMessage, 'token'>) =>
        raw.transport.send(encodeMessage({ ...m, token: req.token }), '192.0.2.100', 40000);
      raw.transport.send(
        encodeMessage({
          type: MessageType.ACK,
          code: 0,
          messageId: req.messageId,
          token: EMPTY,
          options: [],
          payload: EMPTY,
        }),
        '192.0.2.100',
        40000,
      );
      const reply = (mid: number, replyFrom: Buffer | undefined, text: string) =>
        send({
          type: MessageType.NON,
          code: Code.Content,
          messageId: mid,
          options: replyFrom === undefined ? [] : [{ number: Opt.ReplyFrom, value: replyFrom }],
          payload: Buffer.from(text),
        });
      reply(1, Buffer.from('ffffffffff', 'hex'), 'not CBOR');
      reply(2, encodeCri({ scheme: 'coap', host: 'node.example', hostKind: 'name' }), 'a name, no address');
      reply(3, undefined, 'a 2.05 of the proxy itself');
      reply(4, Buffer.from('822081447f000002', 'hex'), 'good');
      reply(5, encodeCri({ scheme: 'coap', host: '192.0.2.7', hostKind: 'ipv4', port: 61616 }), 'other port');
      const got = await done;
      assert.deepEqual(
        got.map((r) => `${r.source.address}:${r.source.port} ${r.text()}`),
        ['127.0.0.2:5683 good', '192.0.2.7:61616 other port'],
      );
    } finally {
      await room.close();
    }
  });
});

describe('unicast through the proxy, and what is left behind', () => {
  it('sends a request that wants no response, and observes, through the proxy', T, async () => {
    const p = await proxyRoom();
    try {
      await settle(
        p.room.rt,
        p.client.send({ uri: 'coap://192.0.2.3/light', method: 'PUT', payload: 'x', proxy: PROXY }),
      );
      await p.room.rt.advance(500);
      const put = p.proxy.requests[0]!.message;
      assert.equal(findOption(put.options, Opt.ProxyUri)?.value.toString(), 'coap://192.0.2.3/light');
      assert.equal(decodeUint(findOption(put.options, Opt.NoResponse)!.value), 26);
      // The first notification, relayed; leaving the loop deregisters through the proxy.
      const seen: string[] = [];
      await settle(
        p.room.rt,
        (async () => {
          for await (const r of p.client.observe({ uri: 'coap://192.0.2.1/light', proxy: PROXY })) {
            seen.push(r.text());
            break;
          }
        })(),
      );
      assert.deepEqual(seen, ['node1']);
      const reg = p.proxy.requests[1]!.message;
      assert.equal(findOption(reg.options, Opt.ProxyUri)?.value.toString(), 'coap://192.0.2.1/light');
      assert.equal(decodeUint(findOption(reg.options, Opt.Observe)!.value), 0);
      await p.room.rt.advance(500);
      const dereg = p.proxy.requests[2]!.message;
      assert.equal(findOption(dereg.options, Opt.ProxyUri)?.value.toString(), 'coap://192.0.2.1/light');
      assert.equal(
        decodeUint(findOption(dereg.options, Opt.Observe)!.value),
        1,
        'RFC 7641 §3.6, through the proxy',
      );
    } finally {
      await p.room.close();
    }
  });

  it('holds no token once a proxied group request ends, however it ends', T, async () => {
    const p = await proxyRoom();
    try {
      await collect(p, p.client.group({ uri: `${GROUP_URI}/light`, proxy: PROXY, window: 1000 }));
      await collect(p, p.client.group({ uri: `${GROUP_URI}/light`, proxy: PROXY, window: 1000, limit: 1 }));
      const ac = new AbortController();
      const rs = p.client.group({ uri: `${GROUP_URI}/light`, proxy: PROXY, window: 3000, signal: ac.signal });
      p.room.rt.setTimeout(() => ac.abort(), 500);
      await collect(p, rs);
      assert.equal((await rs.done).reason, 'aborted');
      await p.room.rt.advance(1000);
      assert.equal(p.client.stats().tokens, 0);
      assert.equal(p.proxy.stops.length, 2, 'the limit and the abort each sent an Early Stop Request');
    } finally {
      await p.room.close();
    }
  });
});
