/**
 * The client's exchanger seam (client/exchanger). The plain exchanger is usable raw: it returns
 * a 2.05 with Block2 M=1 as it came, without asking for the next block (RFC 7959 §2.4), and a
 * 4.01 with Echo as it came, without sending the request again (RFC 9175 §2.4): following and
 * retrying are the stages' and layers' business. A layer written here, which is not message
 * protection, wraps the client's exchanger through `ClientOptions.security` and sees every
 * request the stages send (each block, a `send()`, an observation, a group request and its
 * unicast continuations), with no change to the client.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBlock, encodeBlock } from '../../src/block/index.js';
import { CoapClient } from '../../src/client/client.js';
import { createCore, listen } from '../../src/client/core.js';
import type {
  ExchangeRequest,
  Exchanger,
  ExchangerLayer,
  MessageParts,
  ResponseStream,
  SendListener,
  StreamSink,
} from '../../src/client/exchanger.js';
import { systemResolver } from '../../src/client/resolve.js';
import { Code, codeToString } from '../../src/message/codes.js';
import { type CoapMessage, MessageType } from '../../src/message/types.js';
import type { Messenger } from '../../src/messenger/messenger.js';
import { Opt } from '../../src/options/registry.js';
import { encodeUint, findOption, withOption } from '../../src/options/values.js';
import type { Address } from '../../src/transport/types.js';
import { GROUP_URI, IFACE, makeRoom } from '../support/group-room.js';
import { CLIENT, memSetup, SERVER, sendRaw } from '../support/mem-net.js';

const T = { timeout: 30_000 };
const GET: MessageParts = { code: Code.Empty + 1, options: [], payload: Buffer.alloc(0) };

/** A client core without any layer, listening on `messenger`: its exchanger is the plain one. */
function plainCore(messenger: Messenger) {
  const closing = new AbortController();
  const core = createCore(messenger, {
    resolver: systemResolver,
    hops: 1,
    layer: undefined,
    closing: closing.signal,
    isClosed: () => closing.signal.aborted,
  });
  return { core, unlisten: listen(core) };
}

describe('the plain exchanger, used raw', () => {
  it('returns a 2.05 with Block2 M=1 as it came, and asks for no further block', T, async () => {
    const m = memSetup({ seed: 11 });
    const first = Buffer.alloc(64, 0x61);
    m.server((ex) =>
      ex.respond({
        code: Code.Content,
        options: [{ number: Opt.Block2, value: encodeBlock({ num: 0, more: true, szx: 2 }) }],
        payload: first,
      }),
    );
    const { core, unlisten } = plainCore(m.messenger('client'));
    const res = await m.rt.settle(
      core.exchanger.request({ dest: SERVER, parts: GET, kind: 'unicast', confirmable: true }),
    );
    assert.equal(res.code, Code.Content);
    assert.deepEqual(decodeBlock(findOption(res.options, Opt.Block2)!.value), { num: 0, more: true, szx: 2 });
    assert.deepEqual(res.payload, first);
    await m.rt.advance(60_000);
    assert.equal(m.requests.length, 1, 'block 1 was never asked for');
    assert.equal(core.tokens.size, 0);
    unlisten();
    await m.close();
  });

  it('returns a 4.01 with Echo as it came, and does not send the request again', T, async () => {
    const m = memSetup({ seed: 12 });
    const echo = Buffer.from('0102030405060708', 'hex');
    m.server((ex) =>
      ex.respond({
        code: Code.Unauthorized,
        options: [{ number: Opt.Echo, value: echo }],
        payload: Buffer.alloc(0),
      }),
    );
    const { core, unlisten } = plainCore(m.messenger('client'));
    const res = await m.rt.settle(
      core.exchanger.request({ dest: SERVER, parts: GET, kind: 'unicast', confirmable: true }),
    );
    assert.equal(res.code, Code.Unauthorized);
    assert.deepEqual(findOption(res.options, Opt.Echo)?.value, echo);
    await m.rt.advance(60_000);
    assert.equal(m.requests.length, 1, 'no retry with the Echo value');
    unlisten();
    await m.close();
  });

  it('lets a screen discard a response and keep waiting for the one it accepts', T, async () => {
    const m = memSetup({ seed: 13 });
    // A separate response (RFC 7252 §5.2.2): first one the screen discards, then a good one.
    m.server((ex) => {
      ex.armAck();
      m.rt.setTimeout(() => {
        ex.respond({ code: Code.Content, options: [], payload: Buffer.from('bad') });
      }, 1500);
    });
    const { core, unlisten } = plainCore(m.messenger('client'));
    const seen: string[] = [];
    const pending = core.exchanger.request({
      dest: SERVER,
      parts: GET,
      kind: 'unicast',
      confirmable: true,
      screen: (msg) => {
        seen.push(msg.payload.toString());
        return msg.payload.toString() === 'bad' ? undefined : msg;
      },
    });
    await m.rt.advance(3000);
    assert.deepEqual(seen, ['bad']);
    // The token is still waiting: a second response on it is screened too.
    const token = m.requests[0]!.request.token;
    sendRaw(
      m.serverT,
      {
        type: MessageType.NON,
        code: Code.Content,
        messageId: 0x7777,
        token,
        options: [],
        payload: Buffer.from('good'),
      },
      CLIENT,
    );
    const res = await m.rt.settle(pending);
    assert.equal(res.payload.toString(), 'good');
    assert.deepEqual(seen, ['bad', 'good']);
    unlisten();
    await m.close();
  });
});

/** A tag option this layer adds to every request it sees (elective, unregistered: RFC 7252 §5.4.1). */
const TAG = 2048;

/**
 * A layer that is not message protection: it adds an option to everything the client sends and
 * records every response the client gets back, by kind.
 */
class TaggingLayer implements ExchangerLayer {
  readonly sent: string[] = [];
  readonly received: string[] = [];

  wrap(inner: Exchanger): Exchanger {
    return this.#exchanger(inner);
  }

  #tag(x: ExchangeRequest): ExchangeRequest {
    this.sent.push(`${x.kind} ${x.dest.address}`);
    return { ...x, parts: this.#tagged(x.parts) };
  }

  #tagged(parts: MessageParts): MessageParts {
    return { ...parts, options: withOption(parts.options, TAG, Buffer.from('t')) };
  }

  #exchanger(inner: Exchanger): Exchanger {
    return {
      request: async (x) => {
        const res = await inner.request(this.#tag(x));
        this.received.push(`${x.kind} ${codeToString(res.code)}`);
        return res;
      },
      send: (x: ExchangeRequest, listener?: SendListener) => inner.send(this.#tag(x), listener),
      stream: (x: ExchangeRequest, sink: StreamSink): ResponseStream => {
        const s = inner.stream(this.#tag(x), {
          response: (msg: CoapMessage, remote: Address) => {
            this.received.push(`${x.kind} ${codeToString(msg.code)} from ${remote.address}`);
            sink.response(msg, remote);
          },
          error: (err) => sink.error(err),
          end: (err) => sink.end(err),
        });
        return {
          token: s.token,
          size: s.size,
          leisure: s.leisure,
          resend: (parts, dest, confirmable, onError) => {
            this.sent.push(`again ${dest.address}`);
            s.resend(this.#tagged(parts), dest, confirmable, onError);
          },
          sendLast: (parts, dest) => {
            this.sent.push(`last ${dest.address}`);
            return s.sendLast(this.#tagged(parts), dest);
          },
          followUpExchanger: (remote) => this.#exchanger(s.followUpExchanger(remote)),
          close: (q) => s.close(q),
        };
      },
    };
  }
}

describe('a layer around the exchanger, written outside the client', () => {
  it('tags every block of a block-wise request and sees every response', T, async () => {
    const m = memSetup({ seed: 14 });
    const body = Buffer.alloc(100, 0x62);
    const tags: boolean[] = [];
    m.server((ex) => {
      tags.push(findOption(ex.request.options, TAG) !== undefined);
      const b2 = findOption(ex.request.options, Opt.Block2);
      const num = b2 === undefined ? 0 : decodeBlock(b2.value).num;
      const more = (num + 1) * 64 < body.length;
      ex.respond({
        code: Code.Content,
        options: [{ number: Opt.Block2, value: encodeBlock({ num, more, szx: 2 }) }],
        payload: body.subarray(num * 64, (num + 1) * 64),
      });
    });
    const layer = new TaggingLayer();
    const client = await CoapClient.create({ transport: m.clientT, runtime: m.rt, security: layer });
    const res = await m.rt.settle(client.request('coap://192.0.2.2/big'));
    assert.deepEqual(res.payload, body, 'the block-wise stage above the layer reassembled the body');
    assert.deepEqual(tags, [true, true], 'both blocks carried the tag');
    assert.deepEqual(layer.sent, ['unicast 192.0.2.2', 'unicast 192.0.2.2']);
    assert.deepEqual(layer.received, ['unicast 2.05', 'unicast 2.05']);
    await m.rt.settle(client.send({ uri: 'coap://192.0.2.2/x', method: 'PUT', payload: 'on' }));
    await m.rt.advance(100);
    assert.equal(tags.length, 3);
    assert.equal(tags[2], true, 'send() went through the layer');
    await client.close();
    await m.close();
  });

  it('sees an observation: registration, notifications and deregistration', T, async () => {
    const m = memSetup({ seed: 15 });
    const tags: string[] = [];
    m.server((ex) => {
      const obs = findOption(ex.request.options, Opt.Observe);
      tags.push(
        `${obs?.value.length === 0 ? 0 : obs?.value[0]} ${findOption(ex.request.options, TAG) !== undefined}`,
      );
      ex.respond({
        code: Code.Content,
        options: obs?.value.length === 0 ? [{ number: Opt.Observe, value: encodeUint(5) }] : [],
        payload: Buffer.from('n'),
      });
    });
    const layer = new TaggingLayer();
    const client = await CoapClient.create({ transport: m.clientT, runtime: m.rt, security: layer });
    const obs = client.observe('coap://192.0.2.2/o');
    const it0 = obs[Symbol.asyncIterator]();
    const first = await m.rt.settle(it0.next());
    assert.equal(first.value?.observe, 5);
    await m.rt.settle(obs.cancel());
    await m.rt.advance(100);
    assert.deepEqual(tags, ['0 true', '1 true'], 'registration and deregistration both tagged');
    assert.deepEqual(layer.sent, ['observe 192.0.2.2', 'last 192.0.2.2']);
    assert.deepEqual(layer.received, ['observe 2.05 from 192.0.2.2']);
    await client.close();
    await m.close();
  });

  it('sees a group request, each member answer, and the unicast continuation of a large one', T, async () => {
    const room = await makeRoom({
      nodes: 2,
      leisure: 0.1,
      setup: (server, node) =>
        server
          .resource('/big', { multicast: true })
          .get(() => ({ payload: Buffer.alloc(node.index === 0 ? 40 : 10, 0x63) })),
    });
    const layer = new TaggingLayer();
    const transport = room.net.createTransport({
      bind: [{ address: '192.0.2.150', port: 40000 }],
      ipv4Interface: IFACE,
    });
    const client = await CoapClient.create({ transport, runtime: room.rt, security: layer });
    const got = await room.rt.settle(
      client.group({ uri: `${GROUP_URI}/big`, blockSize: 16, window: 2000 }).collect(),
    );
    const sizes = got.map((r) => `${r.source.address} ${r.payload.length}`).sort();
    assert.deepEqual(sizes, ['192.0.2.1 40', '192.0.2.2 10']);
    assert.equal(layer.sent[0], 'group 224.0.1.187');
    // Node 1's 40 bytes in 16-byte blocks: two more blocks by unicast, through the layer.
    assert.deepEqual(layer.sent.slice(1), ['unicast 192.0.2.1', 'unicast 192.0.2.1']);
    assert.deepEqual(layer.received.filter((r) => r.startsWith('group')).sort(), [
      'group 2.05 from 192.0.2.1',
      'group 2.05 from 192.0.2.2',
    ]);
    await client.close();
    await room.close();
  });
});
