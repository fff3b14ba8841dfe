/**
 * The proxy's unicast path on the in-memory network (RFC 7252 §5.7, §5.6, §5.10.2): Proxy-Uri
 * and Proxy-Scheme name the same resource and share a cache entry; a fresh stored response is
 * served with what is left of its Max-Age; a stale one is validated with its ETag and refreshed
 * by the 2.03; a client's matching ETag gets 2.03; a PUT's 2.04 marks the entry stale; unsafe
 * options the proxy does not know give 4.02 (request) and 5.02 (response); a silent origin
 * gives 5.04; a URI naming the proxy itself is a local request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, Method } from '../../src/message/codes.js';
import { Opt } from '../../src/options/registry.js';
import { encodeUint, findOption, findOptions, uintOption } from '../../src/options/values.js';
import { attachProxy } from '../../src/proxy/proxy.js';
import { CoapServer } from '../../src/server/server.js';
import type { RoomNode } from '../support/group-room.js';
import { makeRoom } from '../support/group-room.js';
import { makeProxyRoom, type ProxyRoom, pass, proxyUri } from '../support/proxy-room.js';

const T = { timeout: 60_000 };
const ORIGIN = 'coap://192.0.2.1';

/** Node 0 serves /value (Max-Age 10, ETag of its value, validation with 2.03) and /odd (an unknown unsafe option). */
function origin() {
  return {
    nodes: 1,
    setup(server: import('../../src/server/server.js').CoapServer, node: RoomNode) {
      let value = 'v1';
      const etag = () => Buffer.from(value);
      server
        .resource('/value')
        .get((req) => {
          node.calls.set('GET', (node.calls.get('GET') ?? 0) + 1);
          const asked = findOptions(req.options, Opt.ETag);
          if (asked.some((o) => o.value.equals(etag()))) {
            node.calls.set('2.03', (node.calls.get('2.03') ?? 0) + 1);
            return { code: '2.03', etag: etag(), maxAge: 10 };
          }
          return { payload: value, maxAge: 10, etag: etag() };
        })
        .put((req) => {
          value = req.text();
          return { code: '2.04' };
        });
      server
        .resource('/odd')
        .get(() => ({ payload: 'odd', options: [{ number: 65002, value: Buffer.from([1]) }] }));
    },
  };
}

async function withRoom(body: (r: ProxyRoom) => Promise<void>): Promise<void> {
  const room = await makeProxyRoom({ ...origin(), proxy: { names: ['proxy.example'] } });
  try {
    await body(room);
  } finally {
    await room.close();
  }
}

let n = 0;
const tok = () => Buffer.from([0x55, n++ & 0xff]);

/** Sends a request and waits for its (first) response. */
async function ask(r: ProxyRoom, parts: Parameters<ProxyRoom['raw']['send']>[0], maxMs = 20_000) {
  r.raw.send(parts);
  for (let t = 0; t < maxMs && r.raw.on(parts.token).length === 0; t += 100) await pass(r, 100);
  const m = r.raw.on(parts.token)[0];
  assert.ok(m, 'a response came');
  return m;
}

describe('proxy: unicast targets and the cache', () => {
  it('forwards Proxy-Uri and Proxy-Scheme requests, which share one cache entry', T, async () => {
    await withRoom(async (r) => {
      const a = await ask(r, { token: tok(), options: [proxyUri(`${ORIGIN}/value`)] });
      assert.equal(a.code, Code.Content);
      assert.equal(a.payload.toString(), 'v1');
      const scheme = [
        { number: Opt.UriHost, value: Buffer.from('192.0.2.1') },
        { number: Opt.UriPath, value: Buffer.from('value') },
        { number: Opt.ProxyScheme, value: Buffer.from('coap') },
      ];
      await pass(r, 3000);
      const b = await ask(r, { token: tok(), options: scheme });
      assert.equal(b.payload.toString(), 'v1');
      assert.equal(r.nodes[0]!.calls.get('GET'), 1, 'the second came from the cache');
      const left = uintOption(b.options, Opt.MaxAge)!;
      assert.ok(
        left >= 6 && left <= 7,
        `Max-Age ${left}: 10 less the 3 s (and a little) it was stored, rounded down`,
      );
      assert.equal(r.proxy.stats().counters.cacheHits, 1);
    });
  });

  it('validates a stale entry with its ETag and serves the refreshed one', T, async () => {
    await withRoom(async (r) => {
      await ask(r, { token: tok(), options: [proxyUri(`${ORIGIN}/value`)] });
      await pass(r, 11_000);
      const again = await ask(r, { token: tok(), options: [proxyUri(`${ORIGIN}/value`)] });
      assert.equal(r.nodes[0]!.calls.get('GET'), 2, 'the stale entry went to the origin');
      assert.equal(r.nodes[0]!.calls.get('2.03'), 1, 'with its ETag, and the origin validated it');
      assert.equal(again.code, Code.Content, 'the client, which sent no ETag, gets the representation');
      assert.equal(again.payload.toString(), 'v1');
      assert.equal(uintOption(again.options, Opt.MaxAge), 10, 'Max-Age of the 2.03');
      // A client that has the representation asks with its ETag: the fresh entry answers 2.03.
      const valid = await ask(r, {
        token: tok(),
        options: [proxyUri(`${ORIGIN}/value`), { number: Opt.ETag, value: Buffer.from('v1') }],
      });
      assert.equal(valid.code, Code.Valid);
      assert.deepEqual(findOption(valid.options, Opt.ETag)?.value, Buffer.from('v1'));
      assert.equal(r.nodes[0]!.calls.get('GET'), 2);
    });
  });

  it('marks the entry stale when a PUT changes the resource', T, async () => {
    await withRoom(async (r) => {
      await ask(r, { token: tok(), options: [proxyUri(`${ORIGIN}/value`)] });
      const put = await ask(r, {
        token: tok(),
        code: Method.PUT,
        options: [proxyUri(`${ORIGIN}/value`)],
        payload: Buffer.from('v2'),
      });
      assert.equal(put.code, Code.Changed);
      const after = await ask(r, { token: tok(), options: [proxyUri(`${ORIGIN}/value`)] });
      assert.equal(after.payload.toString(), 'v2');
      assert.equal(r.nodes[0]!.calls.get('GET'), 2);
    });
  });

  it('answers 4.02 to an unsafe option it does not know, 5.02 to a response with one', T, async () => {
    await withRoom(async (r) => {
      const bad = await ask(r, {
        token: tok(),
        options: [proxyUri(`${ORIGIN}/value`), { number: 65002, value: Buffer.from([1]) }],
      });
      assert.equal(bad.code, Code.BadOption);
      assert.equal(r.nodes[0]!.calls.get('GET'), undefined, 'not forwarded');
      const safe = await ask(r, {
        token: tok(),
        options: [proxyUri(`${ORIGIN}/value`), { number: 65000, value: Buffer.from([1]) }],
      });
      assert.equal(safe.code, Code.Content, 'an unknown safe option is forwarded');
      const odd = await ask(r, { token: tok(), options: [proxyUri(`${ORIGIN}/odd`)] });
      assert.equal(odd.code, Code.BadGateway);
    });
  });

  it('answers 5.04 when the origin never answers, and 5.05 to other schemes', T, async () => {
    await withRoom(async (r) => {
      const silent = await ask(r, { token: tok(), options: [proxyUri('coap://192.0.2.99/x')] }, 200_000);
      assert.equal(silent.code, Code.GatewayTimeout);
      for (const uri of ['coaps://192.0.2.1/x', 'http://192.0.2.1/x', 'coap+tcp://192.0.2.1/x']) {
        const m = await ask(r, { token: tok(), options: [proxyUri(uri)] });
        assert.equal(m.code, Code.ProxyingNotSupported, uri);
      }
      const both = await ask(r, {
        token: tok(),
        options: [proxyUri(`${ORIGIN}/value`), { number: Opt.UriPath, value: Buffer.from('x') }],
      });
      assert.equal(both.code, Code.BadRequest, 'Proxy-Uri with Uri-Path');
    });
  });

  it('treats a URI naming the proxy itself as a local request', T, async () => {
    await withRoom(async (r) => {
      for (const uri of [
        'coap://192.0.2.200/.well-known/core',
        'coap://proxy.example:5683/.well-known/core',
      ]) {
        const m = await ask(r, { token: tok(), options: [proxyUri(uri)] });
        assert.equal(m.code, Code.Content, uri);
        assert.equal(uintOption(m.options, Opt.ContentFormat), 40, uri);
      }
      assert.equal(r.proxy.stats().counters.unicastForwarded, 0, 'neither was forwarded');
      const hop = await ask(r, {
        token: tok(),
        options: [proxyUri(`${ORIGIN}/value`), { number: Opt.HopLimit, value: encodeUint(1) }],
      });
      assert.equal(hop.code, (5 << 5) | 8, '5.08 Hop Limit Reached (RFC 8768)');
      assert.ok(hop.payload.length > 0, 'with a diagnostic');
    });
  });

  it('installs on a server the application has, whose own resources stay', T, async () => {
    const room = await makeRoom(origin());
    const transport = room.net.createTransport({ bind: [{ address: '192.0.2.210', port: 5683 }] });
    const server = new CoapServer({ transport, runtime: room.rt, joinAllCoapNodes: false });
    server.resource('/own').get(() => ({ payload: 'mine' }));
    const outward = room.net.createTransport({
      bind: [{ address: '192.0.2.210', port: 0 }],
      ipv4Interface: 'mem0',
    });
    const proxy = await attachProxy(server, { runtime: room.rt, outward: { transport: outward } });
    await server.listen();
    try {
      const via = (uri: string, options: import('../../src/message/types.js').CoapOption[] = []) =>
        room.rt.settle(room.client.request({ uri, options }), { maxMs: 10_000, step: 10 });
      assert.equal((await via('coap://192.0.2.210/own')).text(), 'mine');
      const forwarded = await via('coap://192.0.2.210/', [proxyUri(`${ORIGIN}/value`)]);
      assert.equal(forwarded.text(), 'v1');
      assert.equal(proxy.stats().counters.unicastForwarded, 1);
      assert.equal(proxy.outwardEndpoints[0]?.address, '192.0.2.210');
      await proxy.close();
      const after = await via('coap://192.0.2.210/', [proxyUri(`${ORIGIN}/value`)]);
      assert.equal(after.codeString, '5.03', 'a closed proxy forwards nothing');
      assert.equal((await via('coap://192.0.2.210/own')).text(), 'mine');
    } finally {
      await server.close();
      await room.close();
    }
  });
});
