/**
 * Group OSCORE end to end through the proxy, on the in-memory network (groupcomm-bis §5.3;
 * groupcomm-proxy §4 REQ3, §10; RFC 8613 §4.1.3.3, §10): the client protects a group request in
 * the group mode, the proxy (which holds no key at all) forwards it as it is, with Proxy-Uri and
 * Multicast-Timeout as Outer options it reads and removes, every member verifies it, and the
 * client verifies every member's response, which the proxy relayed with Reply-From (Class U, so
 * it survives verification). The forwarded request shows nothing of the path, and nothing is
 * cached. Also: an allow-list entry limited to a path refuses a protected request (its path is
 * encrypted), and the proxy's hop-by-hop OSCORE identity (a pairwise context with the client)
 * is what an identity entry allows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import type { ExchangerLayer } from '../../src/client/exchanger.js';
import { Code } from '../../src/message/codes.js';
import { decodeMessage } from '../../src/message/decode.js';
import { Opt } from '../../src/options/registry.js';
import { encodeUint, findOption } from '../../src/options/values.js';
import { OscoreClientSecurity } from '../../src/oscore/endpoint/client.js';
import { OscoreServerSecurity } from '../../src/oscore/endpoint/server.js';
import { CoapProxy, type ProxyOptions } from '../../src/proxy/proxy.js';
import type { Address } from '../../src/transport/types.js';
import { decodeReplyFrom } from '../../src/uri/cri-decode.js';
import { keyringOf, pair } from '../fixtures/oscore-keys.js';
import { type Room, room, URI } from '../support/oscore-group-room.js';
import { settle } from '../support/oscore-net.js';

const T = { timeout: 60_000 };
const PROXY: Address = { address: '192.0.2.200', port: 5683 };
const MT = 65026;
const REPLY_FROM = 65016;

/**
 * A layer under the client's OSCORE layer that sends its protected group requests through the
 * proxy (Proxy-Uri with the group's scheme, host and port, and Multicast-Timeout: Outer options)
 * and hands each relayed response up as coming from the member its Reply-From names.
 */
function viaProxy(proxy: Address, seconds: number, seen: string[]): ExchangerLayer {
  return {
    wrap: (inner) => ({
      request: (x) => inner.request(x),
      send: (x, l) => inner.send(x, l),
      stream(x, sink) {
        if (x.kind !== 'group') return inner.stream(x, sink);
        const options = [
          ...x.parts.options,
          { number: Opt.ProxyUri, value: Buffer.from(`coap://${x.dest.address}`) },
          { number: MT, value: encodeUint(seconds) },
        ];
        seen.push(...x.parts.options.map((o) => String(o.number)));
        return inner.stream(
          { ...x, dest: proxy, parts: { ...x.parts, options } },
          {
            response(msg, remote) {
              const rf = findOption(msg.options, REPLY_FROM);
              if (rf === undefined) return sink.response(msg, remote);
              const origin = decodeReplyFrom(rf.value).origin;
              sink.response(msg, { address: origin.host, port: origin.port ?? 5683 });
            },
            error: (e) => sink.error(e),
            end: (e) => sink.end(e),
          },
        );
      },
    }),
  };
}

async function withProxy(
  r: Room,
  options: Omit<ProxyOptions, 'transport' | 'outward' | 'runtime'>,
  body: (proxy: CoapProxy) => Promise<void>,
): Promise<void> {
  const { net, rt } = r.n;
  const proxy = new CoapProxy({
    ...options,
    transport: net.createTransport({ bind: [PROXY] }),
    outward: {
      transport: net.createTransport({ bind: [{ address: PROXY.address, port: 0 }], ipv4Interface: 'mem0' }),
    },
    runtime: rt,
  });
  await proxy.listen();
  try {
    await body(proxy);
  } finally {
    await proxy.close();
    await r.n.close();
  }
}

async function protectedClient(r: Room, address: string, seen: string[] = []): Promise<CoapClient> {
  const oscore = new OscoreClientSecurity(keyringOf(r.files[0]!));
  const shim = viaProxy(PROXY, 2, seen);
  const transport = r.n.net.createTransport({ bind: [{ address, port: 40000 }] });
  return CoapClient.create({
    transport,
    runtime: r.n.rt,
    security: {
      criticalOptions: oscore.criticalOptions,
      wrap: (inner, ctx) => oscore.wrap(shim.wrap(inner, ctx), ctx),
    },
  });
}

describe('proxy: Group OSCORE end to end', () => {
  it('forwards a protected group request it cannot read; members and client verify', T, async () => {
    const r = await room(3, { leisure: 0.2, echo: false });
    await withProxy(r, { iface: 'mem0', groups: { allow: [{ from: '192.0.2.0/24' }] } }, async (proxy) => {
      const client = await protectedClient(r, '192.0.2.150');
      try {
        const got = await settle(r.n.rt, client.group({ uri: URI, window: 3000 }).collect());
        assert.deepEqual(got.map((g) => `${g.source.address} ${g.text()}`).sort(), [
          '192.0.2.2 node1',
          '192.0.2.3 node2',
          '192.0.2.4 node3',
        ]);
        assert.deepEqual(
          r.seen.map((s) => s.security?.kind).sort(),
          ['group-oscore', 'group-oscore', 'group-oscore'],
          'every member verified the request in the group mode',
        );
        // What the members received from the proxy: protected, no path, no proxy options.
        const forwarded = r.atServers.map((log) => decodeMessage(log.find((x) => x.multicast)!.bytes));
        for (const m of forwarded) {
          assert.ok(findOption(m.options, Opt.Oscore), 'the OSCORE option is forwarded');
          assert.equal(findOption(m.options, Opt.UriPath), undefined, 'the path is encrypted');
          assert.equal(findOption(m.options, Opt.ProxyUri), undefined);
          assert.equal(findOption(m.options, MT), undefined);
          assert.equal(m.code, 2, 'outer POST (RFC 8613 §4.2)');
          assert.ok(!m.payload.includes(Buffer.from('light')));
        }
        assert.equal(proxy.stats().cache.entries, 0, 'nothing protected is cached (RFC 8613 §10)');
      } finally {
        await client.close();
      }
    });
  });

  it('refuses a protected request to an entry limited to a path: the path is encrypted', T, async () => {
    const r = await room(3, { leisure: 0.2, echo: false });
    await withProxy(
      r,
      { iface: 'mem0', groups: { allow: [{ from: '192.0.2.0/24', groups: ['coap://224.0.1.187/light'] }] } },
      async () => {
        const client = await protectedClient(r, '192.0.2.151');
        try {
          const rs = client.group({ uri: URI, window: 2000 });
          const got = await settle(r.n.rt, rs.collect());
          assert.equal(got.length, 0);
          assert.equal(r.seen.length, 0, 'nothing reached the group');
        } finally {
          await client.close();
        }
      },
    );
  });
});

describe('proxy: hop-by-hop OSCORE between client and proxy', () => {
  it('allows the identity of an allow-list entry, and refuses the unprotected same client', T, async () => {
    const r = await room(3, { leisure: 0.2, echo: false });
    const keys = pair();
    const proxyKeys = keyringOf(keys.server);
    const kid = (keys.client.oscore as Array<{ senderId: string }>)[0]!.senderId;
    const security = new OscoreServerSecurity(proxyKeys, { runtime: r.n.rt });
    // The proxy opens the client's request and forwards it unprotected: /open takes that.
    for (const s of r.servers) s.resource('/open', { multicast: true }).get(() => ({ payload: 'open' }));
    await withProxy(r, { iface: 'mem0', security, groups: { allow: [{ kid }] } }, async () => {
      const transport = r.n.net.createTransport({ bind: [{ address: '192.0.2.160', port: 40000 }] });
      const client = await CoapClient.create({
        transport,
        runtime: r.n.rt,
        security: new OscoreClientSecurity(keyringOf(keys.client), { plaintext: 'allow' }),
      });
      try {
        // The client's pairwise context is for the proxy; the request carries the group as Proxy-Uri.
        const res = await settle(
          r.n.rt,
          client.request({
            uri: `coap://${PROXY.address}/`,
            options: [
              { number: Opt.ProxyUri, value: Buffer.from('coap://224.0.1.187/open') },
              { number: MT, value: encodeUint(1) },
            ],
          }),
        );
        assert.ok(
          res.code === Code.Content || res.codeString === '2.05',
          `first relayed response ${res.codeString}`,
        );
        assert.equal(res.text(), 'open');
        assert.equal(
          findOption(res.options, REPLY_FROM) !== undefined,
          true,
          'Reply-From, protected hop by hop',
        );
        // The same address without the security association is no one the allow-list knows.
        const plain = await CoapClient.create({
          transport: r.n.net.createTransport({ bind: [{ address: '192.0.2.160', port: 40001 }] }),
          runtime: r.n.rt,
        });
        try {
          const refused = await settle(
            r.n.rt,
            plain.request({
              uri: `coap://${PROXY.address}/`,
              options: [
                { number: Opt.ProxyUri, value: Buffer.from('coap://224.0.1.187/open') },
                { number: MT, value: encodeUint(1) },
              ],
            }),
          );
          assert.equal(refused.codeString, '4.01');
        } finally {
          await plain.close();
        }
      } finally {
        await client.close();
      }
    });
  });
});
