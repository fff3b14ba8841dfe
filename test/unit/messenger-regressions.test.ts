/**
 * Regressions of the message layer: duplicate detection after a replaced or evicted entry
 * (RFC 7252 §4.5), and piggy-backed responses with unrecognized critical options (§5.4.1).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeRuntime } from '../../src/fake-runtime.js';
import { Code } from '../../src/message/codes.js';
import { EMPTY, MessageType } from '../../src/message/types.js';
import { DedupCache } from '../../src/messenger/dedup.js';
import { CLIENT, hex, memSetup, msg, outgoing, SERVER, sendRaw } from '../support/mem-net.js';

describe('duplicate detection keeps working after entries are replaced or evicted', () => {
  it('detects a duplicate of a message that replaced the only entry of its address', () => {
    const dedup = new DedupCache(new FakeRuntime(), {
      maxEntries: 100,
      conLifetimeMs: 247_000,
      nonLifetimeMs: 145_000,
    });
    assert.equal(dedup.check('192.0.2.1', 5683, 9, hex('aa'), true).isNew, true);
    assert.equal(dedup.check('192.0.2.1', 5683, 9, hex('bb'), true).isNew, true);
    assert.equal(dedup.check('192.0.2.1', 5683, 9, hex('bb'), true).isNew, false);
    assert.equal(dedup.size, 1);
  });

  it('detects a duplicate of a message whose arrival evicted the only entry of its address', () => {
    const dedup = new DedupCache(new FakeRuntime(), {
      maxEntries: 1,
      conLifetimeMs: 247_000,
      nonLifetimeMs: 145_000,
    });
    assert.equal(dedup.check('192.0.2.1', 5683, 1, hex('aa'), true).isNew, true);
    assert.equal(dedup.check('192.0.2.1', 5683, 2, hex('bb'), true).isNew, true);
    assert.equal(dedup.check('192.0.2.1', 5683, 2, hex('bb'), true).isNew, false);
  });

  it('passes a retransmitted request up once after its MID was reused with a new token', {
    timeout: 10000,
  }, async () => {
    const s = memSetup();
    s.server();
    sendRaw(s.clientT, msg({ code: 2, token: hex('aa') }), SERVER);
    await s.rt.advance(0);
    const req = sendRaw(s.clientT, msg({ code: 2, token: hex('bb') }), SERVER);
    await s.rt.advance(2500);
    sendRaw(s.clientT, req, SERVER);
    await s.rt.advance(0);
    assert.equal(s.requests.length, 2);
    await s.close();
  });
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
