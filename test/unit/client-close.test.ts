/**
 * Closing a client deregisters its observations (RFC 7641 §3.6): every server it observes,
 * by unicast or through a group (groupcomm-bis §3.7), gets a GET with Observe 1 and the
 * observation's token before the client's sockets close, and drops the observer. Memory
 * network and FakeRuntime; a closed transport sends nothing, so what arrives left before it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeUint } from '../../src/entry/codec.js';
import { findOption, Opt } from '../../src/index.js';
import type { CoapMessage } from '../../src/message/types.js';
import { messages } from '../support/bw-mem.js';
import { bwRoom, GROUP } from '../support/bw-room.js';
import { serverAndClients } from '../support/test-net.js';

const T = { timeout: 20_000 };

const deregistrations = (log: Parameters<typeof messages>[0], token: Buffer): CoapMessage[] =>
  messages(log).filter((m) => {
    const o = findOption(m.options, Opt.Observe);
    return m.code === 1 && o !== undefined && decodeUint(o.value) === 1 && m.token.equals(token);
  });

describe('client.close() with observations', () => {
  it('deregisters a unicast observation and every member of a group observation', T, async () => {
    const r = await bwRoom({
      nodes: 2,
      setup: (s, i) => s.resource('/v', { multicast: true, obs: true }).get(() => ({ payload: `n${i}` })),
    });
    try {
      const unicast = r.client.observe(`coap://${r.nodes[0]!.address}/v`);
      const group = r.client.group({ uri: `${GROUP}/v`, observe: true });
      const seen: { unicast: Buffer[]; group: Buffer[] } = { unicast: [], group: [] };
      const loops = [
        (async () => {
          for await (const x of unicast) seen.unicast.push(x.token);
        })().catch((e: unknown) => e),
        (async () => {
          for await (const x of group) seen.group.push(x.token);
        })().catch((e: unknown) => e),
      ];
      await r.rt.advance(2000);
      assert.equal(r.nodes[0]!.server.stats()!.observers, 2);
      assert.equal(r.nodes[1]!.server.stats()!.observers, 1);
      assert.equal(seen.unicast.length, 1);
      assert.equal(seen.group.length, 2);

      await r.client.close();
      await r.rt.advance(100);
      for (const n of r.nodes) assert.equal(n.server.stats()!.observers, 0, `${n.address} forgot the client`);
      // Each one by unicast, with its observation's token.
      assert.equal(deregistrations(r.nodes[0]!.log, seen.unicast[0]!).length, 1);
      for (const n of r.nodes) {
        const d = deregistrations(n.log, seen.group[0]!);
        assert.equal(d.length, 1, `${n.address} got the group deregistration`);
        assert.ok(!n.log.find((x) => x.msg === d[0])!.multicast);
      }
      // The unicast observation ends with ERR_COAP_CLOSED; the group one quietly, reason closed.
      const [u, g] = await Promise.all(loops);
      assert.equal((u as { code?: string }).code, 'ERR_COAP_CLOSED');
      assert.equal(g, undefined);
      assert.equal((await group.done).reason, 'closed');
    } finally {
      await r.close();
    }
  });

  it('sends nothing for an observation not yet answered, and closes at once', T, async () => {
    const r = await bwRoom({
      nodes: 1,
      setup: (s) => s.resource('/v', { obs: true }).get(() => new Promise(() => {})),
    });
    try {
      const obs = r.client.observe(`coap://${r.nodes[0]!.address}/v`);
      const loop = (async () => {
        for await (const _ of obs);
      })().catch((e: unknown) => e);
      await r.rt.advance(10);
      const before = r.nodes[0]!.log.length;
      await r.client.close();
      await r.rt.advance(100);
      assert.equal(r.nodes[0]!.log.length, before, 'no deregistration without a registration');
      assert.equal(((await loop) as { code?: string }).code, 'ERR_COAP_CLOSED');
    } finally {
      await r.close();
    }
  });
});

describe('requests still waiting when the client closes', () => {
  it('settles a ping and a confirmable send when the client closes', { timeout: 20_000 }, async () => {
    const s = serverAndClients();
    const c = await s.client('192.0.2.1');
    // Nobody at 192.0.2.3: both would wait for retransmissions.
    const ping = c.ping('coap://192.0.2.3/');
    const send = c.send({ uri: 'coap://192.0.2.3/x', method: 'PUT', payload: 'p', confirmable: true }).then(
      () => 'sent',
      (e: { code?: string }) => e.code,
    );
    await s.rt.advance(100);
    await c.close();
    assert.equal(await ping, false);
    assert.equal(await send, 'ERR_COAP_CLOSED');
  });
});
