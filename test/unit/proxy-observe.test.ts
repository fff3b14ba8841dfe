/**
 * Observe through the proxy on the in-memory network (groupcomm-proxy §5.1.2, §5.2.2, §5.4.2;
 * RFC 7641 §3.6, §5): a group registration relays each member's notifications, renumbered, with
 * Reply-From, past T' for the members that registered within it; the client's Reset, an Early
 * Stop Request and a GET with Observe 1 end it, and the members then drop their registrations.
 * A unicast registration through the proxy works the same way, without Reply-From.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../src/message/codes.js';
import { type CoapMessage, MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { uintOption } from '../../src/options/values.js';
import type { CoapServer } from '../../src/server/server.js';
import type { RoomNode } from '../support/group-room.js';
import {
  makeProxyRoom,
  mt,
  observe,
  type ProxyRoom,
  pass,
  proxyUri,
  replyFrom,
} from '../support/proxy-room.js';

const T = { timeout: 60_000 };
const ALLOW_ALL = { allow: [{ from: '192.0.2.0/24' }] };

/** Three members with an observable, multicast /temp whose value `bump` changes. */
function temps() {
  const values = [20, 30, 40];
  return {
    values,
    options: {
      nodes: 3,
      leisure: 0.2,
      proxy: { iface: 'mem0', groups: ALLOW_ALL },
      setup(server: CoapServer, node: RoomNode) {
        server
          .resource('/temp', { multicast: true, obs: true })
          .get(() => ({ payload: String(values[node.index]) }));
      },
    },
  };
}

function bump(r: ProxyRoom, values: number[], i: number): void {
  values[i]! += 1;
  r.nodes[i]!.server.notify('/temp');
}

const observers = (r: ProxyRoom) => r.nodes.map((n) => n.server.stats()!.observers);
const text = (ms: CoapMessage[]) => ms.map((m) => `${replyFrom(m)} ${m.payload.toString()}`).sort();

async function register(r: ProxyRoom, token: Buffer): Promise<void> {
  r.raw.send({ token, options: [proxyUri('coap://224.0.1.187/temp'), mt(2), observe(0)] });
  await pass(r, 3000);
}

describe('proxy: Observe', () => {
  it('relays every member notification past T, renumbered, with Reply-From', T, async () => {
    const { values, options } = temps();
    const r = await makeProxyRoom(options);
    try {
      const token = Buffer.from('obs1');
      await register(r, token);
      const first = r.raw.on(token);
      assert.deepEqual(text(first), ['coap://192.0.2.1 20', 'coap://192.0.2.2 30', 'coap://192.0.2.3 40']);
      assert.deepEqual(observers(r), [1, 1, 1], 'each member registered the proxy');
      assert.equal(r.proxy.stats().forwardings, 1, 'the registration outlives T');
      bump(r, values, 0);
      bump(r, values, 2);
      await pass(r, 1000);
      bump(r, values, 0);
      await pass(r, 1000);
      const later = r.raw.on(token).slice(3);
      assert.deepEqual(text(later), ['coap://192.0.2.1 21', 'coap://192.0.2.1 22', 'coap://192.0.2.3 41']);
      const numbers = r.raw.on(token).map((m) => uintOption(m.options, Opt.Observe)!);
      for (let i = 1; i < numbers.length; i++)
        assert.equal(numbers[i], (numbers[i - 1]! + 1) & 0xffffff, 'one sequence per registration');
    } finally {
      await r.close();
    }
  });

  it('ends on a Reset from the client; members get a Reset for their next notification', T, async () => {
    const { values, options } = temps();
    const r = await makeProxyRoom(options);
    try {
      const token = Buffer.from('obs2');
      await register(r, token);
      r.raw.reset(r.raw.on(token)[0]!.messageId);
      await pass(r, 500);
      assert.equal(r.proxy.stats().forwardings, 0);
      for (let i = 0; i < 3; i++) bump(r, values, i);
      await pass(r, 2000);
      assert.equal(r.raw.on(token).length, 3, 'nothing relayed after the Reset');
      assert.deepEqual(observers(r), [0, 0, 0], 'RFC 7641 §3.6: a Reset deregisters');
    } finally {
      await r.close();
    }
  });

  it('ends on an Early Stop Request', T, async () => {
    const { values, options } = temps();
    const r = await makeProxyRoom(options);
    try {
      const token = Buffer.from('obs3');
      await register(r, token);
      r.raw.send({ token, options: [mt(0)] });
      await pass(r, 500);
      assert.equal(r.proxy.stats().forwardings, 0);
      for (let i = 0; i < 3; i++) bump(r, values, i);
      await pass(r, 2000);
      assert.equal(r.raw.on(token).length, 3);
      assert.deepEqual(observers(r), [0, 0, 0]);
    } finally {
      await r.close();
    }
  });

  it('deregisters every member when the client sends GET with Observe 1 on the token', T, async () => {
    const { values, options } = temps();
    const r = await makeProxyRoom(options);
    try {
      const token = Buffer.from('obs4');
      await register(r, token);
      r.raw.send({ token, options: [proxyUri('coap://224.0.1.187/temp'), mt(2), observe(1)] });
      await pass(r, 3000);
      assert.deepEqual(observers(r), [0, 0, 0], 'the group deregistration reached every member');
      const answers = r.raw.on(token).slice(3);
      assert.deepEqual(text(answers), ['coap://192.0.2.1 20', 'coap://192.0.2.2 30', 'coap://192.0.2.3 40']);
      for (const m of answers) assert.equal(uintOption(m.options, Opt.Observe), undefined);
      bump(r, values, 0);
      await pass(r, 1000);
      assert.equal(r.raw.on(token).length, 6);
      assert.equal(r.proxy.stats().forwardings, 0);
    } finally {
      await r.close();
    }
  });

  it('relays a unicast registration and ends it on a Reset', T, async () => {
    const { values, options } = temps();
    const r = await makeProxyRoom(options);
    try {
      const token = Buffer.from('obs5');
      r.raw.send({ token, options: [proxyUri('coap://192.0.2.2/temp'), observe(0)] });
      await pass(r, 500);
      bump(r, values, 1);
      await pass(r, 500);
      const got = r.raw.on(token);
      assert.deepEqual(
        got.map((m) => [m.code, m.payload.toString(), replyFrom(m)]),
        [
          [Code.Content, '30', undefined],
          [Code.Content, '31', undefined],
        ],
      );
      assert.equal(
        uintOption(got[1]!.options, Opt.Observe),
        (uintOption(got[0]!.options, Opt.Observe)! + 1) & 0xffffff,
      );
      r.raw.reset(got[1]!.messageId);
      await pass(r, 500);
      bump(r, values, 1);
      await pass(r, 500);
      assert.equal(r.raw.on(token).length, 2);
      assert.deepEqual(observers(r), [0, 0, 0]);
    } finally {
      await r.close();
    }
  });

  it('sends every 16th notification CON, and ends when the client does not acknowledge one', T, async () => {
    const { values, options } = temps();
    const r = await makeProxyRoom(options);
    try {
      const token = Buffer.from('obs6');
      await register(r, token);
      for (let i = 0; i < 16; i++) {
        bump(r, values, 0);
        await pass(r, 400);
      }
      const types = r.raw.on(token).map((m) => m.type);
      assert.equal(types.length, 19, 'the three first responses and 16 notifications');
      assert.deepEqual(
        types.flatMap((t, i) => (t === MessageType.CON ? [i] : [])),
        [15],
        'RFC 7641 §4.5: the 16th relayed notification goes CON',
      );
      // The client goes away: the next CON notification is never acknowledged.
      await r.raw.messenger.close();
      for (let i = 0; i < 16; i++) {
        bump(r, values, 0);
        await pass(r, 400);
      }
      await pass(r, 100_000);
      assert.equal(r.proxy.stats().forwardings, 0, 'the unacknowledged CON ended the registration');
      bump(r, values, 0);
      await pass(r, 1000);
      assert.deepEqual(
        observers(r),
        [0, 1, 1],
        'the member that notified was reset; the others will be at their next',
      );
    } finally {
      await r.close();
    }
  });
});
