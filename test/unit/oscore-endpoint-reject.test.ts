/**
 * Bad input to the OSCORE endpoint layer is refused with the answer RFC 8613 §8.2 gives (4.02
 * "Failed to decode COSE", 4.01 "Security context not found", 4.00 "Decryption failed", all
 * unprotected with Max-Age 0) for unicast, with silence for multicast, and leaves no state behind:
 * no replay window moves, no Echo state, no Recipient Context. Responses that fail verification
 * are discarded by the client (RFC 8613 §8.4, draft-ietf-core-oscore-groupcomm §7.4).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MessageParts } from '../../src/client/exchanger.js';
import { Code } from '../../src/message/codes.js';
import { type CoapMessage, MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { findOption } from '../../src/options/values.js';
import { OscoreClientSecurity } from '../../src/oscore/endpoint/client.js';
import { OscoreExchangeError } from '../../src/oscore/endpoint/errors.js';
import { generateOscorePair, type OscoreConfigFile } from '../../src/oscore/endpoint/generate.js';
import { OscoreServerSecurity } from '../../src/oscore/endpoint/server.js';
import { group, keyringOf, pair, seededRandom } from '../fixtures/oscore-keys.js';
import { makeNet, SERVER } from '../support/oscore-net.js';

/** Another, unrelated pair (other IDs and keys). */
const pair2 = () => generateOscorePair({ random: seededRandom('other') });

const T = { timeout: 20_000 };
const GET: MessageParts = {
  code: 1,
  options: [{ number: Opt.UriPath, value: Buffer.from('light') }],
  payload: Buffer.alloc(0),
};
const ORIGIN = { remote: { address: '192.0.2.1', port: 40000 }, multicast: false, group: undefined };
const MULTICAST = { ...ORIGIN, multicast: true, group: '224.0.1.187' };

function withEntry(f: OscoreConfigFile, section: 'oscore' | 'group', change: Record<string, unknown>) {
  const list = f[section] as Array<Record<string, unknown>>;
  return { ...f, [section]: [{ ...list[0]!, ...change }] } as OscoreConfigFile;
}

function asMsg(parts: MessageParts, type: MessageType = MessageType.CON): CoapMessage {
  return { type, messageId: 1, token: Buffer.from([7]), ...parts };
}

/** The unprotected answer a verdict gives, as [code, diagnostic]. */
function answer(v: ReturnType<OscoreServerSecurity['open']>): [number, string] | string {
  if (v.kind !== 'reply') return v.kind;
  assert.equal(findOption(v.parts.options, Opt.MaxAge)?.value.length, 0, 'Max-Age 0');
  assert.equal(findOption(v.parts.options, Opt.Oscore), undefined, 'not protected');
  return [v.parts.code, v.parts.payload.toString()];
}

describe('the OSCORE endpoint refuses bad input as RFC 8613 §8.2 says', () => {
  const p = pair();

  it('wrong keys: 4.00 "Decryption failed", and the replay window does not move', () => {
    const server = keyringOf(p.server);
    const sec = new OscoreServerSecurity(server);
    const wrong = keyringOf(withEntry(p.client, 'oscore', { masterSecret: '00'.repeat(32) }));
    const req = new OscoreClientSecurity(wrong).protect(GET, SERVER, 'unicast')!;
    assert.deepEqual(answer(sec.open(asMsg(req.parts), ORIGIN)), [Code.BadRequest, 'Decryption failed']);
    assert.equal(sec.open(asMsg(req.parts), MULTICAST).kind, 'drop');
    assert.equal(server.oscoreEntries[0]!.context.recipient.replayWindow.highest, -1);
  });

  it('unknown kid: 4.01 "Security context not found"', () => {
    const sec = new OscoreServerSecurity(keyringOf(p.server));
    const stranger = keyringOf(pair2().client);
    const req = new OscoreClientSecurity(stranger).protect(GET, SERVER, 'unicast')!;
    assert.deepEqual(answer(sec.open(asMsg(req.parts), ORIGIN)), [
      Code.Unauthorized,
      'Security context not found',
    ]);
  });

  it('truncated OSCORE option or no payload: 4.02 "Failed to decode COSE"', () => {
    const sec = new OscoreServerSecurity(keyringOf(p.server));
    const req = new OscoreClientSecurity(keyringOf(p.client)).protect(GET, SERVER, 'unicast')!;
    const options = req.parts.options.map((o) =>
      o.number === Opt.Oscore ? { number: o.number, value: Buffer.from([0x03, 0x01]) } : o,
    );
    assert.deepEqual(answer(sec.open(asMsg({ ...req.parts, options }), ORIGIN)), [
      Code.BadOption,
      'Failed to decode COSE',
    ]);
    const empty = { ...req.parts, payload: Buffer.alloc(0) };
    assert.deepEqual(answer(sec.open(asMsg(empty), ORIGIN)), [Code.BadOption, 'Failed to decode COSE']);
  });

  it('a replayed sequence number: 4.01 "Replay detected"; without diagnostics the payload is empty', () => {
    const sec = new OscoreServerSecurity(keyringOf(p.server), { echo: false, diagnostic: false });
    const req = new OscoreClientSecurity(keyringOf(p.client)).protect(GET, SERVER, 'unicast')!;
    assert.equal(sec.open(asMsg(req.parts), ORIGIN).kind, 'opened');
    assert.deepEqual(answer(sec.open(asMsg(req.parts), ORIGIN)), [Code.Unauthorized, '']);
  });

  it('an unknown Group ID: 4.01 for unicast, silence for multicast', () => {
    const files = group(2, 'a');
    const other = group(2, 'b');
    const sec = new OscoreServerSecurity(keyringOf(files[1]!));
    const req = new OscoreClientSecurity(keyringOf(other[0]!)).protect(
      GET,
      { address: '224.0.1.187', port: 5683 },
      'group',
    )!;
    assert.equal(answer(sec.open(asMsg(req.parts, MessageType.NON), MULTICAST)), 'drop');
    assert.deepEqual(answer(sec.open(asMsg(req.parts, MessageType.NON), ORIGIN)), [
      Code.Unauthorized,
      'Security context not found',
    ]);
  });

  it('a tampered unicast response ends a piggy-backed exchange, a tampered separate one is discarded', () => {
    const client = new OscoreClientSecurity(keyringOf(p.client));
    const server = new OscoreServerSecurity(keyringOf(p.server), { echo: false });
    for (const type of [MessageType.ACK, MessageType.CON]) {
      const req = client.protect(GET, SERVER, 'unicast')!;
      const v = server.open(asMsg(req.parts), ORIGIN);
      assert.equal(v.kind, 'opened');
      if (v.kind !== 'opened') return;
      const sealed = v.opened.seal({ code: Code.Content, options: [], payload: Buffer.from('on') });
      const bad = Buffer.from(sealed.payload);
      bad[0]! ^= 1;
      const msg = asMsg({ ...sealed, payload: bad }, type);
      if (type === MessageType.ACK)
        assert.throws(() => req.open(msg, SERVER), { code: 'ERR_OSCORE_DECRYPT' });
      else assert.equal(req.open(msg, SERVER), undefined);
      assert.equal(
        req.open(asMsg(sealed, type), SERVER)?.payload.toString(),
        'on',
        'the genuine one still verifies',
      );
    }
  });

  it(
    'an unprotected answer to a protected request ends the exchange with ERR_OSCORE_UNPROTECTED',
    T,
    async () => {
      const n = makeNet();
      const { server } = await n.server(keyringOf(pair2().server));
      server.resource('/light').get(() => ({ payload: 'on' }));
      const { client } = await n.client(keyringOf(p.client));
      await assert.rejects(n.rt.settle(client.request('coap://192.0.2.2/light')), (e: unknown) => {
        assert.ok(e instanceof OscoreExchangeError);
        assert.equal(e.code, 'ERR_OSCORE_UNPROTECTED');
        assert.equal(e.responseCode, Code.Unauthorized);
        assert.equal(e.diagnostic, 'Security context not found');
        return true;
      });
      await n.close();
    },
  );

  it(
    'a failed request leaves no Echo state: the next good one is challenged and then served',
    T,
    async () => {
      const n = makeNet();
      const serverKeys = keyringOf(p.server);
      const { server, log } = await n.server(serverKeys);
      server.resource('/light').get(() => ({ payload: 'on' }));
      const wrong = keyringOf(withEntry(p.client, 'oscore', { masterSecret: '11'.repeat(32) }));
      const bad = await n.client(wrong, '192.0.2.50');
      await assert.rejects(n.rt.settle(bad.client.request('coap://192.0.2.2/light')), {
        code: 'ERR_OSCORE_UNPROTECTED',
      });
      assert.equal(serverKeys.oscoreEntries[0]!.context.recipient.replayWindow.highest, -1);
      const good = await n.client(keyringOf(p.client));
      assert.equal((await n.rt.settle(good.client.request('coap://192.0.2.2/light'))).text(), 'on');
      assert.equal(log.length, 3, 'bad request, good request, good request with Echo');
      await n.close();
    },
  );
});
