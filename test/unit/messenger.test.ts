/**
 * Tests of the message layer (RFC 7252 §4, §5.2, §5.4.1, §8.1) on the memory network with a
 * FakeRuntime: retransmission, ACK/RST matching, piggy-backed and separate responses, duplicate
 * detection, rejection rules, multicast silence and bounded state.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { Code } from '../../src/message/codes.js';
import { EMPTY, MessageType } from '../../src/message/types.js';
import { Messenger } from '../../src/messenger/messenger.js';
import { encodeUint } from '../../src/options/values.js';
import {
  answeringAfter,
  CLIENT,
  content,
  GROUP,
  heads,
  hex,
  type MemSetup,
  MID,
  memSetup,
  msg,
  outgoing,
  SERVER,
  sendRaw,
} from '../support/mem-net.js';

const T = { timeout: 10000 };
const { NON, ACK, RST } = MessageType;
const near = (a: number, b: number): boolean => Math.abs(a - b) < 1e-6;
const unknownCritical = (number: number) => [{ number, value: EMPTY }];

describe('Messenger: Confirmable retransmission (RFC 7252 §4.2, §4.8)', () => {
  it('retransmits a CON with doubling timeouts until MAX_RETRANSMIT, then times out', T, async () => {
    const s = memSetup();
    const client = s.messenger('client');
    let timedOutAt = -1;
    client.send(outgoing(), SERVER, undefined, { onTimeout: () => (timedOutAt = s.rt.now()) });
    await s.rt.advance(200_000);
    const at = s.atServer.map((r) => r.at);
    assert.equal(at.length, 1 + 4, '1 + MAX_RETRANSMIT transmissions');
    assert.ok(
      s.atServer.every((r) => r.bytes.equals(s.atServer[0]!.bytes)),
      'copies are identical',
    );
    const t0 = at[1]! - at[0]!;
    assert.ok(t0 >= 2000 && t0 <= 3000, `first timeout ${t0} ms`);
    for (let i = 2; i < at.length; i++) assert.ok(near(at[i]! - at[i - 1]!, 2 * (at[i - 1]! - at[i - 2]!)));
    assert.ok(near(timedOutAt, 31 * t0), `onTimeout at ${timedOutAt}, expected ${31 * t0}`);
    assert.equal(s.net.stats.sent, 5, 'nothing is sent after the timeout');
    assert.deepEqual(client.stats(), { pending: 0, dedup: 0, timers: 0 });
    await s.close();
  });

  it('draws the first timeout from [ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR]', T, async () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 25; seed++) {
      const s = memSetup({ seed });
      s.messenger('client', { transmission: { ackTimeout: 1, ackRandomFactor: 2 } }).send(outgoing(), SERVER);
      await s.rt.advance(2001);
      const t0 = s.atServer[1]!.at;
      assert.ok(t0 >= 1000 && t0 <= 2000, `seed ${seed}: ${t0}`);
      seen.add(t0);
      await s.close();
    }
    assert.ok(seen.size > 20, 'the timeout is randomised');
  });

  for (const [type, event] of [
    [ACK, 'ack'],
    [RST, 'reset'],
  ] as const) {
    it(`stops retransmitting and reports ${event} when the matching message arrives`, T, async () => {
      const s = memSetup();
      const events: string[] = [];
      const out = s.messenger('client').send(outgoing(), SERVER, undefined, {
        onAck: () => events.push('ack'),
        onReset: () => events.push('reset'),
        onTimeout: () => events.push('timeout'),
      });
      await s.rt.advance(0);
      sendRaw(s.serverT, msg({ type, code: 0, messageId: out.messageId }), CLIENT);
      await s.rt.advance(100_000);
      assert.deepEqual(events, [event]);
      assert.equal(s.atServer.length, 1);
      await s.close();
    });
  }

  it('ignores an ACK with the right Message ID from another address', T, async () => {
    const s = memSetup();
    const other = s.net.createTransport({ bind: [{ address: '192.0.2.3', port: 5683 }] });
    let acked = 0;
    const out = s.messenger('client').send(outgoing(), SERVER, undefined, { onAck: () => acked++ });
    await s.rt.advance(0);
    sendRaw(other, msg({ type: ACK, code: 0, messageId: out.messageId }), CLIENT);
    await s.rt.advance(100_000);
    assert.equal(acked, 0);
    assert.equal(s.atServer.length, 5, 'retransmission went on');
    await other.close();
    await s.close();
  });
});

describe('Messenger: piggy-backed and separate responses (RFC 7252 §5.2)', () => {
  it('answers a CON request handled synchronously with a piggy-backed ACK', T, async () => {
    const s = memSetup();
    s.server();
    const client = s.client();
    const out = client.send(outgoing({ token: hex('cafe') }), SERVER);
    await s.rt.advance(100_000);
    assert.deepEqual(heads(s.atClient), [`ACK 2.05 ${out.messageId}`]);
    assert.deepEqual(s.atClient[0]!.msg!.token, hex('cafe'));
    assert.equal(s.responses.length, 1);
    assert.equal(s.atServer.length, 1, 'no retransmission');
    await s.close();
  });

  it('sends an empty ACK at the ACK delay, then a separate CON response the client ACKs', T, async () => {
    const s = memSetup();
    s.server(answeringAfter(s.rt, 1500));
    const client = s.client();
    const out = client.send(outgoing({ token: hex('beef') }), SERVER);
    await s.rt.advance(999);
    assert.equal(s.atClient.length, 0);
    await s.rt.advance(100_000);
    const sep = s.atClient[1]!.msg!;
    assert.notEqual(sep.messageId, out.messageId, 'the separate response has a new Message ID');
    assert.deepEqual(heads(s.atClient), [`ACK 0.00 ${out.messageId}`, `CON 2.05 ${sep.messageId}`]);
    assert.equal(s.atClient.map((r) => r.at).join(), '1000,1500');
    assert.deepEqual(sep.token, hex('beef'));
    assert.equal(s.responses.length, 1);
    assert.deepEqual(heads(s.atServer).slice(1), [`ACK 0.00 ${sep.messageId}`], 'the client ACKs it once');
    await s.close();
  });

  it('piggy-backs a response that is ready before the ACK delay despite armAck', T, async () => {
    const s = memSetup();
    s.server(answeringAfter(s.rt, 300));
    sendRaw(s.clientT, msg({ token: hex('01') }), SERVER);
    await s.rt.advance(100_000);
    assert.deepEqual(heads(s.atClient), [`ACK 2.05 ${MID}`]);
    await s.close();
  });

  it('still answers a retransmitted request with the empty ACK after the separate response', T, async () => {
    const s = memSetup();
    s.server(answeringAfter(s.rt, 1500));
    s.client();
    const req = sendRaw(s.clientT, msg({ token: hex('01') }), SERVER);
    await s.rt.advance(5000);
    sendRaw(s.clientT, req, SERVER);
    await s.rt.advance(0);
    assert.equal(heads(s.atClient).at(-1), `ACK 0.00 ${MID}`);
    await s.close();
  });
});

describe('Messenger: duplicate detection (RFC 7252 §4.5)', () => {
  it('passes a duplicate CON request up once and replays the same reply bytes', T, async () => {
    const s = memSetup();
    s.server();
    const req = sendRaw(s.clientT, msg({ token: hex('0102') }), SERVER);
    await s.rt.advance(3000);
    sendRaw(s.clientT, req, SERVER);
    await s.rt.advance(0);
    assert.equal(s.requests.length, 1);
    assert.equal(s.atClient.length, 2);
    assert.deepEqual(s.atClient[1]!.bytes, s.atClient[0]!.bytes);
    await s.close();
  });

  it('ignores a duplicate NON request', T, async () => {
    const s = memSetup();
    s.server();
    const req = sendRaw(s.clientT, msg({ type: NON, token: hex('01') }), SERVER);
    sendRaw(s.clientT, req, SERVER);
    await s.rt.advance(1000);
    assert.equal(s.requests.length, 1);
    assert.equal(s.atClient.length, 1);
    await s.close();
  });

  it('treats the same Message ID with another token as a new request (MID wrap-around)', T, async () => {
    const s = memSetup();
    s.server();
    sendRaw(s.clientT, msg({ token: hex('aa') }), SERVER);
    await s.rt.advance(0);
    sendRaw(s.clientT, msg({ token: hex('bb') }), SERVER);
    await s.rt.advance(0);
    assert.equal(s.requests.length, 2);
    assert.equal(s.atClient.map((r) => r.msg!.token.toString('hex')).join(), 'aa,bb');
    await s.close();
  });

  it('delivers a retransmitted CON response once and ACKs each copy', T, async () => {
    const s = memSetup();
    s.client();
    const resp = sendRaw(s.serverT, msg({ code: Code.Content, messageId: 7, token: hex('aa') }), CLIENT);
    await s.rt.advance(2000);
    sendRaw(s.serverT, resp, CLIENT);
    await s.rt.advance(0);
    assert.equal(s.responses.length, 1);
    assert.deepEqual(heads(s.atServer), ['ACK 0.00 7', 'ACK 0.00 7']);
    await s.close();
  });
});

describe('Messenger: rejection (RFC 7252 §4.2, §4.3, §5.4.1)', () => {
  for (const critical of [9, 65001]) {
    it(`answers a CON request with unrecognized critical option ${critical} with 4.02`, T, async () => {
      const s = memSetup();
      s.server();
      sendRaw(s.clientT, msg({ token: hex('77'), options: unknownCritical(critical) }), SERVER);
      await s.rt.advance(0);
      assert.equal(s.requests.length, 0);
      assert.deepEqual(heads(s.atClient), [`ACK 4.02 ${MID}`]);
      assert.deepEqual(s.atClient[0]!.msg!.token, hex('77'));
      await s.close();
    });
  }

  it('rejects a unicast NON request with an unrecognized critical option with RST', T, async () => {
    const s = memSetup();
    s.server();
    sendRaw(s.clientT, msg({ type: NON, options: unknownCritical(65001) }), SERVER);
    await s.rt.advance(0);
    assert.equal(s.requests.length, 0);
    assert.deepEqual(heads(s.atClient), [`RST 0.00 ${MID}`]);
    await s.close();
  });

  it('passes a request with an unrecognized elective option up', T, async () => {
    const s = memSetup();
    s.server();
    sendRaw(s.clientT, msg({ options: [{ number: 65000, value: hex('01') }] }), SERVER);
    await s.rt.advance(0);
    assert.deepEqual(
      s.requests[0]?.request.options.map((o) => o.number),
      [65000],
    );
    await s.close();
  });

  it('rejects a CON response with an unrecognized critical option with RST, undelivered', T, async () => {
    const s = memSetup();
    s.client();
    sendRaw(s.serverT, msg({ code: Code.Content, token: hex('aa'), options: unknownCritical(9) }), CLIENT);
    await s.rt.advance(0);
    assert.equal(s.responses.length, 0);
    assert.deepEqual(heads(s.atServer), [`RST 0.00 ${MID}`]);
    await s.close();
  });

  it('answers an empty CON (ping) with RST; ping() resolves true, or false on silence', T, async () => {
    const s = memSetup();
    s.messenger('server');
    sendRaw(s.clientT, msg({ code: 0, messageId: 0x0505 }), SERVER);
    await s.rt.advance(0);
    assert.deepEqual(heads(s.atClient), [`RST 0.00 ${0x0505}`]);
    const client = s.messenger('client');
    const pong = client.ping(SERVER);
    await s.rt.advance(0);
    assert.equal(await pong, true);
    const silence = client.ping({ address: '192.0.2.99', port: 5683 });
    await s.rt.advance(100_000);
    assert.equal(await silence, false, 'a peer that never answers');
    await s.close();
  });

  it('answers a malformed CON with a readable header with RST, and ignores a malformed NON', T, async () => {
    const s = memSetup();
    s.messenger('server');
    sendRaw(s.clientT, hex('4901abcd'), SERVER); // CON, TKL 9
    sendRaw(s.clientT, hex('5901abce'), SERVER); // NON, TKL 9
    sendRaw(s.clientT, hex('8101abcf00'), SERVER); // version 2: silently ignored (§3)
    sendRaw(s.clientT, hex('400101'), SERVER); // shorter than a header
    await s.rt.advance(0);
    assert.deepEqual(heads(s.atClient), [`RST 0.00 ${0xabcd}`]);
    await s.close();
  });

  it('answers a CON response nobody waits for with RST, and a matched one with an empty ACK', T, async () => {
    const s = memSetup();
    s.client((m) => m.token.equals(hex('aa')));
    sendRaw(s.serverT, msg({ code: Code.Content, messageId: 1, token: hex('bb') }), CLIENT);
    sendRaw(s.serverT, msg({ code: Code.Content, messageId: 2, token: hex('aa') }), CLIENT);
    await s.rt.advance(0);
    assert.deepEqual(heads(s.atServer), ['RST 0.00 1', 'ACK 0.00 2']);
    await s.close();
  });
});

describe('Messenger: requests via multicast (RFC 7252 §8.1)', () => {
  async function groupSetup(): Promise<MemSetup> {
    const s = memSetup({ multicast: true });
    await s.serverT.join(GROUP.address, GROUP.port, '127.0.0.1');
    return s;
  }

  it('does not ACK a CON request that arrived via multicast, and responds with NON', T, async () => {
    const s = await groupSetup();
    s.server();
    sendRaw(s.clientT, msg({ token: hex('0a0b0c0d') }), GROUP);
    await s.rt.advance(10_000);
    assert.equal(s.requests[0]?.multicast, true);
    assert.equal(s.atClient.length, 1);
    assert.equal(s.atClient[0]!.msg!.type, NON);
    assert.deepEqual(s.atClient[0]!.msg!.token, hex('0a0b0c0d'));
    await s.close();
  });

  it('sends no RST for malformed, unprocessable or rejected multicast requests', T, async () => {
    const s = await groupSetup();
    s.messenger('server'); // the default onRequest rejects
    sendRaw(s.clientT, hex('4901abcd'), GROUP);
    sendRaw(s.clientT, msg({ messageId: 2, options: unknownCritical(65001) }), GROUP);
    sendRaw(s.clientT, msg({ type: NON, messageId: 3, options: unknownCritical(9) }), GROUP);
    sendRaw(s.clientT, msg({ messageId: 4, code: 0 }), GROUP);
    sendRaw(s.clientT, msg({ messageId: 5 }), GROUP);
    sendRaw(s.clientT, msg({ type: NON, messageId: 6 }), GROUP);
    await s.rt.advance(10_000);
    assert.equal(s.atServer.length, 6);
    assert.ok(s.atServer.every((r) => r.multicast));
    assert.equal(s.atClient.length, 0);
    await s.close();
  });
});

describe('Messenger: bounded state', () => {
  it('returns pending and timers to 0 after exchanges, and everything after close()', T, async () => {
    const s = memSetup();
    const server = s.server(answeringAfter(s.rt, 1500));
    const client = s.client();
    for (let i = 0; i < 5; i++) client.send(outgoing({ token: encodeUint(i + 1) }), SERVER);
    await s.rt.advance(5000);
    assert.deepEqual([client.stats().pending, client.stats().timers], [0, 0]);
    assert.deepEqual(server.stats(), { pending: 0, dedup: 5, timers: 0 });
    await s.rt.advance(server.times.exchangeLifetime * 1000);
    sendRaw(s.clientT, msg({ type: NON, messageId: 9, token: hex('09') }), SERVER);
    await s.rt.advance(2000);
    assert.equal(server.stats().dedup, 1, 'expired entries are gone once traffic arrives');
    client.send(outgoing(), { address: '192.0.2.99', port: 5683 });
    await s.close();
    assert.deepEqual(client.stats(), { pending: 0, dedup: 0, timers: 0 });
    assert.deepEqual(server.stats(), { pending: 0, dedup: 0, timers: 0 });
    await s.rt.advance(0);
    assert.equal(s.rt.pending, 0, 'no runtime timer left');
  });

  it('keeps the duplicate table within maxDedupEntries', T, async () => {
    const s = memSetup();
    const server = s.server(content, { maxDedupEntries: 3 });
    for (let i = 0; i < 10; i++) sendRaw(s.clientT, msg({ type: NON, messageId: i }), SERVER);
    await s.rt.advance(0);
    assert.equal(server.stats().dedup, 3);
    assert.equal(s.atClient.length, 10);
    await s.close();
  });

  const timing = [{ ackTimeout: 0 }, { ackRandomFactor: 0.5 }, { maxRetransmit: -1 }, { maxRetransmit: 1.5 }];
  for (const transmission of [...timing, { nstart: 0 }]) {
    it(`refuses transmission parameters ${JSON.stringify(transmission)}`, T, async () => {
      const s = memSetup();
      assert.throws(
        () => new Messenger({ transport: s.clientT, runtime: s.rt, transmission }),
        (e: unknown) => e instanceof InvalidArgumentError && e.code === 'ERR_COAP_INVALID_ARGUMENT',
      );
      await s.close();
    });
  }
});

describe('piggy-backed responses', () => {
  it('ignores a piggy-backed response with an unrecognized critical option', { timeout: 10000 }, async () => {
    const s = memSetup();
    const client = s.client();
    const out = client.send(outgoing({ token: hex('aa') }), SERVER);
    await s.rt.advance(0);
    sendRaw(
      s.serverT,
      msg({
        type: MessageType.ACK,
        code: Code.Content,
        messageId: out.messageId,
        token: hex('aa'),
        options: [{ number: 65001, value: EMPTY }],
      }),
      CLIENT,
    );
    await s.rt.advance(0);
    assert.equal(s.responses.length, 0);
    await s.close();
  });
});
