/**
 * Group responses in the proxy's cache and reverse routes, on the in-memory network
 * (groupcomm-proxy §6, §7.1, §7.3): with the members known, the response that completes the set
 * carries a Group-ETag; a client revalidating with it gets one 2.03 and the group hears
 * nothing; a client without it gets every member's stored response; a changed member changes
 * the tag. Learned membership does the same after one live request. A path on the proxy mapped
 * to a group takes the group path, Multicast-Timeout and allow-list included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../src/message/codes.js';
import { MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { findOption, uintOption } from '../../src/options/values.js';
import type { CoapServer } from '../../src/server/server.js';
import { count, type RoomNode } from '../support/group-room.js';
import {
  GROUP_ETAG,
  MT,
  makeProxyRoom,
  mt,
  type ProxyRoom,
  pass,
  proxyUri,
  replyFrom,
} from '../support/proxy-room.js';

const T = { timeout: 60_000 };
const ALLOW_ALL = { allow: [{ from: '192.0.2.0/24' }] };

function lights(values: string[], membership: import('../../src/proxy/membership.js').ProxyMembership) {
  return {
    nodes: 3,
    leisure: 0.2,
    proxy: { iface: 'mem0', groups: { ...ALLOW_ALL, membership } },
    setup(server: CoapServer, node: RoomNode) {
      server.resource('/light', { multicast: true }).get(() => {
        count(node, 'GET /light', 0);
        return { payload: values[node.index]!, maxAge: 30 };
      });
    },
  };
}

const calls = (r: ProxyRoom) => r.nodes.reduce((n, x) => n + (x.calls.get('GET /light') ?? 0), 0);
const tagOf = (m: { options: import('../../src/message/types.js').CoapOption[] }) =>
  findOption(m.options, GROUP_ETAG)?.value;
const STATIC = { 'coap://224.0.1.187': ['192.0.2.1', '192.0.2.2', '192.0.2.3'] };

describe('proxy: Group-ETag and answers from the cache', () => {
  it('revalidates a complete set with one 2.03, and serves it from the cache', T, async () => {
    const values = ['on', 'off', 'on'];
    const r = await makeProxyRoom(lights(values, STATIC));
    try {
      const a = Buffer.from('ge01');
      r.raw.send({ token: a, options: [proxyUri('coap://224.0.1.187/light'), mt(2)] });
      await pass(r, 3000);
      const live = r.raw.on(a);
      assert.equal(live.length, 3);
      const tagged = live.filter((m) => tagOf(m) !== undefined);
      assert.equal(tagged.length, 1, 'only the response that completes the set carries the tag');
      assert.equal(tagged[0], live[2]);
      const tag = tagOf(tagged[0]!)!;
      assert.equal(tag.length, 8);
      assert.equal(calls(r), 3);

      const b = Buffer.from('ge02');
      r.raw.send({
        token: b,
        options: [proxyUri('coap://224.0.1.187/light'), mt(2), { number: GROUP_ETAG, value: tag }],
      });
      await pass(r, 3000);
      const valid = r.raw.on(b);
      assert.deepEqual(
        valid.map((m) => [m.type, m.code]),
        [[MessageType.ACK, Code.Valid]],
        'one piggybacked 2.03',
      );
      assert.deepEqual(tagOf(valid[0]!), tag);
      assert.equal(findOption(valid[0]!.options, Opt.ETag), undefined);
      assert.equal(replyFrom(valid[0]!), undefined);
      assert.ok(uintOption(valid[0]!.options, Opt.MaxAge)! <= 30);
      assert.equal(calls(r), 3, 'the group heard nothing');

      const c = Buffer.from('ge03');
      r.raw.send({ token: c, options: [proxyUri('coap://224.0.1.187/light'), mt(2)] });
      await pass(r, 3000);
      const cached = r.raw.on(c);
      assert.deepEqual(cached.map((m) => `${replyFrom(m)} ${m.payload}`).sort(), [
        'coap://192.0.2.1 on',
        'coap://192.0.2.2 off',
        'coap://192.0.2.3 on',
      ]);
      for (const m of cached) assert.deepEqual(tagOf(m), tag);
      assert.equal(calls(r), 3);

      // Stale, and one member changed: the next request is live and the tag changes.
      values[1] = 'on';
      await pass(r, 31_000);
      const d = Buffer.from('ge04');
      r.raw.send({
        token: d,
        options: [proxyUri('coap://224.0.1.187/light'), mt(2), { number: GROUP_ETAG, value: tag }],
      });
      await pass(r, 3000);
      const fresh = r.raw.on(d);
      assert.equal(fresh.length, 3);
      assert.equal(calls(r), 6);
      const newTag = fresh.map(tagOf).find((t) => t !== undefined);
      assert.ok(newTag !== undefined && !newTag.equals(tag));
    } finally {
      await r.close();
    }
  });

  it('keeps the tag when a refresh changed nothing, and learns members from a live request', T, async () => {
    const values = ['on', 'off', 'on'];
    const r = await makeProxyRoom(lights(values, 'learned'));
    try {
      const a = Buffer.from('ge11');
      r.raw.send({ token: a, options: [proxyUri('coap://224.0.1.187/light'), mt(2)] });
      await pass(r, 3000);
      assert.equal(r.raw.on(a).filter((m) => tagOf(m) !== undefined).length, 0, 'no members known yet');
      await pass(r, 31_000);
      const b = Buffer.from('ge12');
      r.raw.send({ token: b, options: [proxyUri('coap://224.0.1.187/light'), mt(2)] });
      await pass(r, 3000);
      const tag = r.raw
        .on(b)
        .map(tagOf)
        .find((t) => t !== undefined);
      assert.ok(tag, 'the learned members complete the set');
      await pass(r, 31_000);
      const c = Buffer.from('ge13');
      r.raw.send({ token: c, options: [proxyUri('coap://224.0.1.187/light'), mt(2)] });
      await pass(r, 3000);
      assert.deepEqual(
        r.raw
          .on(c)
          .map(tagOf)
          .find((t) => t !== undefined),
        tag,
        'same content, same tag',
      );
    } finally {
      await r.close();
    }
  });
});

describe('proxy: reverse routes (groupcomm-proxy §6)', () => {
  it('maps a path on the proxy to a group, with Multicast-Timeout and the allow-list', T, async () => {
    const values = ['a', 'b', 'c'];
    const o = lights(values, STATIC);
    const r = await makeProxyRoom({
      ...o,
      proxy: {
        iface: 'mem0',
        groups: {
          allow: [{ from: '192.0.2.150' }],
          reverse: [{ path: '/room3', group: 'coap://224.0.1.187' }],
        },
      },
    });
    try {
      const path = (s: string) => ({ number: Opt.UriPath, value: Buffer.from(s) });
      const a = Buffer.from('rv01');
      r.raw.send({ token: a, options: [path('room3'), path('light'), mt(2)] });
      await pass(r, 3000);
      assert.deepEqual(
        r.raw
          .on(a)
          .map((m) => `${replyFrom(m)} ${m.payload}`)
          .sort(),
        ['coap://192.0.2.1 a', 'coap://192.0.2.2 b', 'coap://192.0.2.3 c'],
      );
      const b = Buffer.from('rv02');
      r.raw.send({ token: b, options: [path('room3'), path('light')] });
      await pass(r, 1000);
      const [m] = r.raw.on(b);
      assert.equal(m?.code, Code.BadRequest);
      assert.deepEqual(findOption(m!.options, MT)?.value, Buffer.alloc(0), 'reveals a reverse proxy');
      const c = Buffer.from('rv03');
      r.raw.send({ token: c, options: [path('room4'), path('light'), mt(2)] });
      await pass(r, 1000);
      assert.equal(r.raw.on(c)[0]?.code, Code.NotFound, 'an unmapped path is the proxy own resource');
      const other = await r.secondClient();
      const res = await r.rt.settle(other.request({ uri: 'coap://192.0.2.200/room3/light' }), {
        maxMs: 5000,
        step: 10,
      });
      assert.equal(res.codeString, '4.01', 'a client outside the allow-list');
    } finally {
      await r.close();
    }
  });
});
