/**
 * Which responses to a multicast request are sent (RFC 7390 §2.7, R54-R58; RFC 7252 §8.2;
 * RFC 7967 No-Response), on the memory network with a FakeRuntime: the default suppression of
 * errors and empty 2.05, per-resource switches, No-Response overriding both ways, discovery
 * filters that match nothing, and resources that did not opt in to multicast.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResponseClass } from '../../src/client/build.js';
import type { MethodName } from '../../src/message/codes.js';
import { EMPTY, MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { encodeUint } from '../../src/options/values.js';
import { matrixSetup } from '../support/group-resources.js';
import { ask, makeRoom, type Room, rawPeer, sources } from '../support/group-room.js';
import { msg, sendRaw } from '../support/mem-net.js';

const T = { timeout: 20000 };
const G = 'coap://224.0.1.187';

/** A room of `nodes` nodes with the matrix resources; closed after `body`. */
async function withRoom(nodes: number, body: (room: Room, sent: () => number) => Promise<void>) {
  let room: Room | undefined;
  const [setup] = matrixSetup(() => room!);
  room = await makeRoom({ nodes, leisure: 0.5, setup });
  const before = room.net.stats.sent;
  try {
    await body(room, () => room!.net.stats.sent - before);
  } finally {
    await room.close();
  }
}

interface Case {
  what: string;
  method?: MethodName;
  path: string;
  noResponse?: readonly ResponseClass[] | number;
  /** The response codes expected from the one node; [] for silence. */
  codes: string[];
}

const MATRIX: Case[] = [
  { what: 'sends a 2.05 with a payload', path: '/text', codes: ['2.05'] },
  { what: 'suppresses an empty 2.05 by default', path: '/empty', codes: [] },
  { what: 'suppresses a 4.xx by default', path: '/client-error', codes: [] },
  { what: 'suppresses a 5.xx by default', path: '/server-error', codes: [] },
  { what: 'sends a 2.04 to a PUT', method: 'PUT', path: '/changed', codes: ['2.04'] },
  { what: 'suppresses a 2.05 on a resource with { success: true }', path: '/quiet', codes: [] },
  {
    what: 'suppresses a 2.04 on a resource with { success: true }',
    method: 'PUT',
    path: '/quiet',
    codes: [],
  },
  { what: 'sends a 4.xx on a resource with { clientError: false }', path: '/loud4', codes: ['4.04'] },
  {
    what: 'still suppresses a 5.xx on a resource with { clientError: false }',
    method: 'POST',
    path: '/loud4',
    codes: [],
  },
  { what: 'sends a 5.xx on a resource with { serverError: false }', path: '/loud5', codes: ['5.00'] },
  {
    what: 'still suppresses a 4.xx on a resource with { serverError: false }',
    method: 'POST',
    path: '/loud5',
    codes: [],
  },
  {
    what: 'sends an empty 2.05 on a resource with { emptyContent: false }',
    path: '/loud-empty',
    codes: ['2.05'],
  },
  {
    what: 'still suppresses a 5.xx on a resource with { emptyContent: false }',
    method: 'POST',
    path: '/loud-empty',
    codes: [],
  },
  { what: 'suppresses an empty 2.05 with { emptyContent: true } given', path: '/strict', codes: [] },
  { what: 'suppresses a 5.xx with { serverError: true } given', method: 'POST', path: '/strict', codes: [] },
  { what: 'suppresses a 2.05 when No-Response disclaims 2.xx', path: '/text', noResponse: [2], codes: [] },
  {
    what: 'sends a 2.05 when No-Response disclaims only 5.xx',
    path: '/text',
    noResponse: [5],
    codes: ['2.05'],
  },
  { what: 'sends a 4.xx when No-Response is 0', path: '/client-error', noResponse: 0, codes: ['4.00'] },
  { what: 'sends a 4.xx when No-Response is []', path: '/client-error', noResponse: [], codes: ['4.00'] },
  { what: 'sends an empty 2.05 when No-Response is 0', path: '/empty', noResponse: 0, codes: ['2.05'] },
  {
    what: 'sends a 5.xx when No-Response disclaims only 2.xx',
    path: '/server-error',
    noResponse: [2],
    codes: ['5.00'],
  },
  {
    what: 'suppresses a 4.xx when No-Response disclaims 4.xx',
    path: '/client-error',
    noResponse: [4],
    codes: [],
  },
  {
    what: 'suppresses a 4.xx the resource would send when No-Response disclaims 4.xx',
    path: '/loud4',
    noResponse: [4],
    codes: [],
  },
];

describe('Suppression of responses to multicast requests (RFC 7390 §2.7, RFC 7967)', () => {
  for (const c of MATRIX) {
    it(`${c.what} (${c.method ?? 'GET'} ${c.path})`, T, async () => {
      await withRoom(1, async (room, sent) => {
        const { responses } = await ask(room, {
          uri: `${G}${c.path}`,
          ...(c.method ? { method: c.method } : {}),
          ...(c.noResponse !== undefined ? { noResponse: c.noResponse } : {}),
          ...(c.method === 'PUT' ? { payload: 'on' } : {}),
        });
        const key = `${c.method ?? 'GET'} ${c.path}`;
        assert.equal(room.nodes[0]!.calls.get(key), 1, 'the request was processed once');
        assert.deepEqual(
          responses.map((r) => r.codeString),
          c.codes,
        );
        // The request itself, plus the response if any: no ACK, no RST (RFC 7252 §8.1).
        assert.equal(sent(), 1 + c.codes.length);
      });
    });
  }

  it(
    'ends the iteration at once with reason no-response when every class is disclaimed (26)',
    T,
    async () => {
      await withRoom(3, async (room, sent) => {
        const rs = room.client.group({ uri: `${G}/text`, noResponse: 26, window: 5000 });
        const responses = await room.rt.settle(rs.collect(), { maxMs: 1000, step: 1 });
        const summary = await rs.done;
        assert.deepEqual(responses, []);
        assert.equal(summary.reason, 'no-response');
        assert.equal(summary.elapsedMs, 0);
        await room.rt.advance(2000);
        // The request went out and every node processed it, silently.
        for (const n of room.nodes) assert.equal(n.calls.get('GET /text'), 1);
        assert.equal(sent(), 1);
        assert.equal(room.client.stats().tokens, 0);
      });
    },
  );
});

describe('Suppression does not touch unicast requests (RFC 7390 §2.7)', () => {
  it('answers an empty 2.05, a 4.xx and a 5.xx to unicast requests', T, async () => {
    await withRoom(1, async (room) => {
      const codes: string[] = [];
      for (const path of ['/empty', '/client-error', '/server-error', '/quiet']) {
        const res = await room.rt.settle(room.client.request(`coap://192.0.2.1${path}`));
        codes.push(res.codeString);
      }
      assert.deepEqual(codes, ['2.05', '4.00', '5.00', '2.05']);
    });
  });

  it('answers a unicast CON with No-Response for its class by an empty ACK only', T, async () => {
    await withRoom(1, async (room) => {
      const peer = rawPeer(room);
      const nr = { number: Opt.NoResponse, value: encodeUint(2) };
      const path = { number: Opt.UriPath, value: Buffer.from('text') };
      const token = Buffer.from('t1');
      sendRaw(peer.transport, msg({ messageId: 7, token, options: [path, nr] }), {
        address: '192.0.2.1',
        port: 5683,
      });
      await room.rt.advance(10_000);
      assert.equal(room.nodes[0]!.calls.get('GET /text'), 1);
      assert.deepEqual(
        peer.received.map((r) => [r.msg?.type, r.msg?.code, r.msg?.messageId, r.msg?.payload.length]),
        [[MessageType.ACK, 0, 7, 0]],
      );
    });
  });

  it(
    'sends nothing to a unicast NON with No-Response for its class, but answers other classes',
    T,
    async () => {
      await withRoom(1, async (room) => {
        const peer = rawPeer(room);
        const to = { address: '192.0.2.1', port: 5683 };
        const nr = { number: Opt.NoResponse, value: encodeUint(2) };
        const seg = (s: string) => ({ number: Opt.UriPath, value: Buffer.from(s) });
        sendRaw(peer.transport, msg({ type: MessageType.NON, messageId: 8, options: [seg('text'), nr] }), to);
        sendRaw(
          peer.transport,
          msg({ type: MessageType.NON, messageId: 9, token: EMPTY, options: [seg('client-error'), nr] }),
          to,
        );
        await room.rt.advance(10_000);
        assert.deepEqual(
          peer.received.map((r) => [r.msg?.type, r.msg?.code]),
          [[MessageType.NON, 0x80]],
        );
      });
    },
  );
});

describe('Multicast discovery (RFC 6690 §4.1, RFC 7390 §2.7 R55)', () => {
  it('stays silent when the query filter matches nothing', T, async () => {
    await withRoom(3, async (room, sent) => {
      const { responses } = await ask(room, { uri: `${G}/.well-known/core?rt=nomatch` });
      assert.deepEqual(responses, []);
      assert.equal(sent(), 1);
    });
  });

  it('answers only from the nodes whose links match the filter', T, async () => {
    await withRoom(3, async (room) => {
      const { responses } = await ask(room, { uri: `${G}/.well-known/core?rt=light` });
      assert.deepEqual(sources(responses), ['192.0.2.1', '192.0.2.3']);
      for (const r of responses) {
        assert.equal(r.format, 40);
        assert.match(r.text(), /<\/lamp>;rt="?light"?/);
        assert.doesNotMatch(r.text(), /sensor/);
      }
    });
  });

  it('answers from every node without a filter', T, async () => {
    await withRoom(3, async (room) => {
      const { responses } = await ask(room, { uri: `${G}/.well-known/core` });
      assert.deepEqual(sources(responses), ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    });
  });
});

describe('Resources that did not opt in to multicast (RFC 7390 §2.7 R54)', () => {
  it('ignores a multicast PUT: no handler call, nothing sent, the value unchanged', T, async () => {
    await withRoom(2, async (room, sent) => {
      const { responses } = await ask(room, { uri: `${G}/private`, method: 'PUT', payload: 'on' });
      assert.deepEqual(responses, []);
      assert.equal(sent(), 1);
      for (const n of room.nodes) assert.equal(n.calls.get('PUT /private'), undefined);
      const res = await room.rt.settle(room.client.request('coap://192.0.2.1/private'));
      assert.equal(res.text(), 'off');
    });
  });

  it('ignores it even when No-Response asks for every class', T, async () => {
    await withRoom(1, async (room, sent) => {
      const { responses } = await ask(room, {
        uri: `${G}/private`,
        method: 'PUT',
        payload: 'on',
        noResponse: 0,
      });
      assert.deepEqual(responses, []);
      assert.equal(sent(), 1);
    });
  });

  it('still serves a unicast PUT', T, async () => {
    await withRoom(1, async (room) => {
      const put = await room.rt.settle(
        room.client.request({ uri: 'coap://192.0.2.1/private', method: 'PUT', payload: 'on' }),
      );
      assert.equal(put.codeString, '2.04');
      assert.equal(room.nodes[0]!.calls.get('PUT /private'), 1);
      const get = await room.rt.settle(room.client.request('coap://192.0.2.1/private'));
      assert.equal(get.text(), 'on');
    });
  });

  it('is silent for an unknown path via multicast and answers 4.04 via unicast', T, async () => {
    await withRoom(2, async (room, sent) => {
      const { responses } = await ask(room, { uri: `${G}/nowhere` });
      assert.deepEqual(responses, []);
      assert.equal(sent(), 1);
      const res = await room.rt.settle(room.client.request('coap://192.0.2.2/nowhere'));
      assert.equal(res.codeString, '4.04');
    });
  });
});
