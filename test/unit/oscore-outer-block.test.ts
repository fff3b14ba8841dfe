/**
 * Outer block-wise transfer of protected messages (RFC 8613 §4.1.3.4.2) on the memory transport:
 * a server reassembles a protected request sent in Outer Block1 fragments before opening it,
 * answers a request that asks for Outer Block2 in fragments of the sealed response (later ones
 * from its cache, never by opening the same request twice), and ignores Outer Block options on
 * multicast; a client joins a response an intermediary cut into Outer Block2 fragments before
 * verifying it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBlock, encodeBlock } from '../../src/block/index.js';
import { Code } from '../../src/message/codes.js';
import { decodeMessage } from '../../src/message/decode.js';
import { encodeMessage } from '../../src/message/encode.js';
import { type CoapMessage, type CoapOption, MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { findOption } from '../../src/options/values.js';
import { OscoreClientSecurity } from '../../src/oscore/endpoint/client.js';
import type { Address } from '../../src/transport/types.js';
import { keyringOf, pair } from '../fixtures/oscore-keys.js';
import { GROUP, inject, room } from '../support/oscore-group-room.js';
import { makeNet, SERVER } from '../support/oscore-net.js';

const T = { timeout: 30_000 };

const withOption = (options: readonly CoapOption[], number: number, value: Buffer): CoapOption[] =>
  [...options.filter((o) => o.number !== number), { number, value }].sort((a, b) => a.number - b.number);

const blockOf = (m: CoapMessage, n: number) => {
  const o = findOption(m.options, n);
  return o === undefined ? undefined : decodeBlock(o.value);
};

/** A server with /doc (GET: 300 bytes, PUT: stores the body), and a raw endpoint to talk to it. */
async function setup() {
  const n = makeNet();
  const p = pair();
  const doc: { body: Buffer; gets: number } = { body: Buffer.alloc(300, 'd'), gets: 0 };
  const { server } = await n.server(keyringOf(p.server), { oscore: { echo: false } });
  server
    .resource('/doc', { protected: true })
    .get(() => {
      doc.gets++;
      return { payload: doc.body };
    })
    .put((req) => {
      doc.body = Buffer.from(req.payload);
      return undefined;
    });
  const sec = new OscoreClientSecurity(keyringOf(p.client));
  const { transport, log } = n.raw('192.0.2.9');
  let mid = 100;
  /** Sends one CON to the server and returns the response that came back. */
  const exchange = async (parts: Pick<CoapMessage, 'code' | 'options' | 'payload'>): Promise<CoapMessage> => {
    const before = log.length;
    transport.send(
      encodeMessage({ type: MessageType.CON, messageId: mid++, token: Buffer.from([mid & 255]), ...parts }),
      SERVER.address,
      SERVER.port,
    );
    await n.rt.advance(50);
    assert.equal(log.length, before + 1, 'one answer');
    return log[before]!.msg!;
  };
  return { n, p, doc, sec, exchange, server };
}

const path = [{ number: Opt.UriPath, value: Buffer.from('doc') }];

describe('outer block-wise with OSCORE (RFC 8613 §4.1.3.4.2)', () => {
  it('reassembles a protected request sent in Outer Block1 fragments, then opens it', T, async () => {
    const s = await setup();
    const body = Buffer.alloc(200, 'u');
    const prot = s.sec.protect({ code: 3, options: path, payload: body }, SERVER, 'unicast')!;
    const whole = prot.parts.payload;
    const size = 64;
    const count = Math.ceil(whole.length / size);
    let last: CoapMessage | undefined;
    for (let num = 0; num < count; num++) {
      const more = num < count - 1;
      const options = withOption(prot.parts.options, Opt.Block1, encodeBlock({ num, more, szx: 2 }));
      const r = await s.exchange({
        code: prot.parts.code,
        options,
        payload: whole.subarray(num * size, (num + 1) * size),
      });
      if (more) {
        assert.equal(r.code, Code.Continue, `fragment ${num}: 2.31`);
        assert.equal(findOption(r.options, Opt.Oscore), undefined, 'unprotected: nothing verified yet');
      } else last = r;
    }
    assert.deepEqual(
      blockOf(last!, Opt.Block1),
      { num: count - 1, more: false, szx: 2 },
      'Outer Block1 echoed',
    );
    const opened = prot.open(
      { ...last!, options: last!.options.filter((o) => o.number !== Opt.Block1) },
      SERVER,
    )!;
    assert.equal(opened.code, Code.Changed);
    assert.ok(s.doc.body.equals(body), 'the handler saw the whole body');
    await s.n.close();
  });

  it(
    'answers Outer Block2 in fragments of the sealed response, the later ones from its cache',
    T,
    async () => {
      const s = await setup();
      const prot = s.sec.protect({ code: 1, options: path, payload: Buffer.alloc(0) }, SERVER, 'unicast')!;
      const ask = (num: number) => ({
        ...prot.parts,
        options: withOption(prot.parts.options, Opt.Block2, encodeBlock({ num, more: false, szx: 2 })),
      });
      const chunks: Buffer[] = [];
      let first: CoapMessage | undefined;
      for (let num = 0; num < 20; num++) {
        const r = await s.exchange(ask(num));
        first ??= r;
        const b = blockOf(r, Opt.Block2)!;
        assert.equal(b.num, num);
        chunks.push(r.payload);
        if (!b.more) break;
      }
      assert.ok(chunks.length > 1, 'more than one fragment');
      assert.equal(s.doc.gets, 1, 'the request was opened once');
      const joined = {
        ...first!,
        options: first!.options.filter((o) => o.number !== Opt.Block2 && o.number !== Opt.Size2),
        payload: Buffer.concat(chunks),
      };
      const opened = prot.open(joined, SERVER)!;
      assert.equal(opened.payload.length, 300);
      // The same request without its fragment in the cache is a replay.
      s.n.rt.advance(120_000);
      await s.n.rt.advance(0);
      const late = await s.exchange(ask(1));
      assert.equal(late.code, Code.Unauthorized);
      assert.match(late.payload.toString(), /Replay/);
      assert.equal(s.doc.gets, 1);
      await s.n.close();
    },
  );

  it('joins a response an intermediary cut into Outer Block2 fragments before verifying it', T, async () => {
    const n = makeNet();
    const p = pair();
    const { server } = await n.server(keyringOf(p.server), { oscore: { echo: false } });
    server.resource('/doc', { protected: true }).get(() => ({ payload: Buffer.alloc(300, 'z') }));
    // A relay at 192.0.2.50 forwards to the server and cuts protected responses into 32-byte fragments.
    const relay = {
      transport: n.net.createTransport({
        bind: [{ address: '192.0.2.50', port: 5683 }],
        ipv4Interface: 'mem0',
      }),
    };
    const upstream: Address = SERVER;
    let held: CoapMessage | undefined;
    let upMid = 500;
    const waiting = new Map<number, { mid: number; token: Buffer; from: Address }>();
    const fragment = (whole: CoapMessage, num: number, to: { mid: number; token: Buffer; from: Address }) => {
      const szx = 1;
      const size = 16 << szx;
      const more = (num + 1) * size < whole.payload.length;
      const options = withOption(whole.options, Opt.Block2, encodeBlock({ num, more, szx }));
      relay.transport.send(
        encodeMessage({
          type: MessageType.ACK,
          code: whole.code,
          messageId: to.mid,
          token: to.token,
          options,
          payload: whole.payload.subarray(num * size, (num + 1) * size),
        }),
        to.from.address,
        to.from.port,
      );
    };
    /** Forwards requests upstream; cuts each protected response (changed by `tamper`) into fragments. */
    const relayWith = (tamper: (m: CoapMessage) => CoapMessage) =>
      relay.transport.setReceiver((d) => {
        const m = decodeMessage(Buffer.from(d.data));
        if (d.remote.address === upstream.address) {
          const to = waiting.get(m.messageId);
          if (to === undefined || m.code === 0) return;
          held = tamper(m);
          fragment(held, 0, to);
          return;
        }
        const b2 = blockOf(m, Opt.Block2);
        const to = {
          mid: m.messageId,
          token: m.token,
          from: { address: d.remote.address, port: d.remote.port },
        };
        if (b2 !== undefined && b2.num > 0 && held !== undefined) return fragment(held, b2.num, to);
        const mid = upMid++;
        waiting.set(mid, to);
        relay.transport.send(encodeMessage({ ...m, messageId: mid }), upstream.address, upstream.port);
      });
    relayWith((m) => m);
    const { client, log } = await n.client(keyringOf(p.client));
    const res = await n.rt.settle(client.request('coap://192.0.2.50/doc'));
    assert.equal(res.payload.length, 300);
    assert.ok(
      log.filter((x) => findOption(x.msg!.options, Opt.Block2) !== undefined).length > 2,
      'the response came in fragments',
    );
    // A fragment changed on the way fails verification of the whole.
    held = undefined;
    relayWith((m) => {
      const payload = Buffer.from(m.payload);
      payload[40]! ^= 1;
      return { ...m, payload };
    });
    const err = await n.rt.settle(client.request('coap://192.0.2.50/doc').catch((e: unknown) => e));
    assert.equal((err as { code?: string }).code, 'ERR_OSCORE_DECRYPT');
    await relay.transport.close();
    await n.close();
  });

  it('drops a multicast request with Outer Block options at every member (RFC 7390 §2.8)', T, async () => {
    const r = await room(2, { leisure: 1, echo: false });
    const sec = new OscoreClientSecurity(keyringOf(r.files[0]!));
    const prot = sec.protect(
      { code: 1, options: [{ number: Opt.UriPath, value: Buffer.from('light') }], payload: Buffer.alloc(0) },
      GROUP,
      'group',
    )!;
    const bytes = (options: CoapOption[]) =>
      encodeMessage({
        type: MessageType.NON,
        messageId: 7,
        token: Buffer.from([7, 7]),
        ...prot.parts,
        options,
      });
    const withBlock = withOption(
      prot.parts.options,
      Opt.Block2,
      encodeBlock({ num: 0, more: false, szx: 2 }),
    );
    assert.equal(await inject(r, bytes(withBlock)), 0);
    assert.equal(r.seen.length, 0);
    // The same request without the Outer Block option is taken.
    assert.equal(await inject(r, bytes(prot.parts.options)), 2);
    await r.n.close();
  });
});
