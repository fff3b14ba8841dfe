/**
 * Protecting and verifying OSCORE requests and responses (RFC 8613 §8): round trips, option
 * classes (§4.1), Observe (§4.1.3.5), Proxy-Uri (§4.1.3.3), tampering, replay (§7.4), unknown
 * contexts and malformed options (§8.2), and the error responses a server sends.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, Method } from '../../src/message/codes.js';
import { decodeMessage } from '../../src/message/decode.js';
import { encodeMessage } from '../../src/message/encode.js';
import { type CoapMessage, type CoapOption, EMPTY, MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { decodeUint, encodeUint } from '../../src/options/values.js';
import { SecurityContext, SecurityContextRegistry } from '../../src/oscore/context.js';
import { OscoreError, oscoreErrorResponse } from '../../src/oscore/errors.js';
import { protectRequest, protectResponse } from '../../src/oscore/protect.js';
import { isOscoreMessage, unprotectRequest, unprotectResponse } from '../../src/oscore/unprotect.js';

const SECRET = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');
const SALT = Buffer.from('9e7ca92223786340', 'hex');
const CLIENT_ID = Buffer.from([0x0c]);
const SERVER_ID = Buffer.from([0x5e]);

function pair(idContext?: Buffer): { client: SecurityContext; server: SecurityContext } {
  const base = { masterSecret: SECRET, masterSalt: SALT, ...(idContext ? { idContext } : {}) };
  return {
    client: SecurityContext.derive({ ...base, senderId: CLIENT_ID, recipientId: SERVER_ID }),
    server: SecurityContext.derive({ ...base, senderId: SERVER_ID, recipientId: CLIENT_ID }),
  };
}

const opt = (number: number, value: string | Buffer | number): CoapOption => ({
  number,
  value:
    typeof value === 'number' ? encodeUint(value) : typeof value === 'string' ? Buffer.from(value) : value,
});

function msg(code: number, options: CoapOption[], payload = EMPTY): CoapMessage {
  return { type: MessageType.CON, code, messageId: 0x1234, token: Buffer.from('tok'), options, payload };
}

/** Encodes and decodes, as the wire would. */
const wire = (m: CoapMessage): CoapMessage => decodeMessage(encodeMessage(m));
const numbers = (m: CoapMessage): number[] => m.options.map((o) => o.number);
const code = (c: string) => (e: unknown) => e instanceof OscoreError && e.code === c;

/** Asserts that `fn` throws an OscoreError with code `c`, and returns the error. */
function throwsOscore(fn: () => unknown, c: string): OscoreError {
  try {
    fn();
  } catch (e) {
    assert.ok(code(c)(e), `expected ${c}, got ${String(e)}`);
    return e as OscoreError;
  }
  return assert.fail(`expected ${c}, nothing was thrown`);
}

describe('OSCORE round trips', () => {
  it('protects a PUT, verifies it, and carries the response back', () => {
    const { client, server } = pair();
    const original = msg(
      Method.PUT,
      [opt(Opt.UriHost, 'example.com'), opt(Opt.UriPath, 'light'), opt(Opt.ContentFormat, 0)],
      Buffer.from('on'),
    );
    const { message, binding } = protectRequest(original, client);
    const outer = wire(message);
    assert.equal(outer.code, Method.POST);
    assert.deepEqual(numbers(outer), [Opt.UriHost, Opt.Oscore], 'Uri-Path and Content-Format are Inner');
    assert.ok(!outer.payload.includes(Buffer.from('light')));
    const got = unprotectRequest(outer, server);
    assert.deepEqual(got.request, { ...original, options: got.request.options });
    assert.deepEqual(
      got.request.options.map((o) => [o.number, o.value.toString('hex')]),
      original.options.map((o) => [o.number, o.value.toString('hex')]),
    );
    const response = {
      ...msg(Code.Changed, [opt(Opt.MaxAge, 30)], Buffer.from('ok')),
      type: MessageType.ACK,
    };
    const protectedResponse = wire(protectResponse(response, got.context, got.binding));
    assert.equal(protectedResponse.code, Code.Changed);
    assert.deepEqual(numbers(protectedResponse), [Opt.Oscore], 'Max-Age is Inner');
    const back = unprotectResponse(protectedResponse, client, binding);
    assert.equal(back.response.code, Code.Changed);
    assert.equal(back.response.payload.toString(), 'ok');
    assert.equal(back.partialIv, undefined);
    assert.equal(decodeUint(back.response.options[0]!.value), 30);
  });

  it('finds the server context through a registry, with and without kid context', () => {
    const gid = Buffer.from('cafe', 'hex');
    const { client, server } = pair(gid);
    const other = pair(Buffer.from('beef', 'hex')).server;
    const registry = new SecurityContextRegistry().add(server).add(other);
    const withCtx = protectRequest(msg(Method.GET, []), client, { kidContext: true }).message;
    assert.equal(unprotectRequest(wire(withCtx), registry.resolve).context, server);
    // Without 'kid context' the Recipient ID is ambiguous here, so the lookup fails.
    const without = protectRequest(msg(Method.GET, []), client).message;
    assert.throws(() => unprotectRequest(wire(without), registry.resolve), code('ERR_OSCORE_UNKNOWN_KID'));
    registry.delete(other);
    assert.equal(unprotectRequest(wire(without), registry.resolve).context, server);
  });

  it('keeps Class U options outside and puts Class E options inside (RFC 8613 §4.1, RFC 9175)', () => {
    const { client } = pair();
    const original = msg(Method.POST, [
      opt(Opt.IfMatch, Buffer.from([1])),
      opt(Opt.UriHost, 'h'),
      opt(Opt.ETag, Buffer.from([2])),
      opt(Opt.UriPort, 5683),
      opt(Opt.UriPath, 'p'),
      opt(Opt.UriQuery, 'q'),
      opt(Opt.Accept, 50),
      opt(Opt.HopLimit, 16),
      opt(Opt.Block1, 0x0e),
      opt(Opt.Size1, 100),
      opt(Opt.ProxyScheme, 'coap'),
      opt(Opt.Echo, Buffer.from([9])),
      opt(Opt.NoResponse, 26),
      opt(Opt.RequestTag, Buffer.from([7])),
      opt(65000, 'unknown'),
    ]);
    const outer = protectRequest(original, client).message;
    assert.deepEqual(numbers(outer), [Opt.UriHost, Opt.UriPort, Opt.Oscore, Opt.HopLimit, Opt.ProxyScheme]);
  });

  it('adds extra Outer options for intermediaries, and the receiver sets them aside', () => {
    const { client, server } = pair();
    const original = msg(Method.GET, [opt(Opt.UriPath, 'x'), opt(Opt.NoResponse, 26)]);
    const { message } = protectRequest(original, client, {
      outerOptions: [opt(Opt.NoResponse, 26), opt(Opt.Block2, 2)],
    });
    assert.deepEqual(numbers(message), [Opt.Oscore, Opt.Block2, Opt.NoResponse]);
    const got = unprotectRequest(wire(message), server);
    assert.deepEqual(
      got.outerOptions.map((o) => o.number),
      [Opt.Block2, Opt.NoResponse],
    );
    assert.deepEqual(
      numbers(got.request),
      [Opt.UriPath, Opt.NoResponse],
      'only the Inner No-Response counts',
    );
    assert.throws(() => protectRequest(original, client, { outerOptions: [opt(Opt.UriPath, 'y')] }), {
      code: 'ERR_COAP_INVALID_ARGUMENT',
    });
  });

  it('decomposes Proxy-Uri: path and query Inner, scheme and host Outer (RFC 8613 §4.1.3.3)', () => {
    const { client, server } = pair();
    const original = msg(Method.GET, [opt(Opt.ProxyUri, 'coap://Example.com:5683/resource/%C3%A9?q=1&r')]);
    const { message } = protectRequest(original, client);
    const proxyUri = message.options.find((o) => o.number === Opt.ProxyUri);
    assert.equal(proxyUri?.value.toString(), 'coap://example.com');
    const got = unprotectRequest(wire(message), server).request;
    assert.deepEqual(
      got.options.map((o) => [o.number, o.value.toString()]),
      [
        [Opt.UriPath, 'resource'],
        [Opt.UriPath, 'é'],
        [Opt.UriQuery, 'q=1'],
        [Opt.UriQuery, 'r'],
        [Opt.ProxyUri, 'coap://example.com'],
      ],
    );
    const port = protectRequest(msg(Method.GET, [opt(Opt.ProxyUri, 'coap://[::1]:61616/')]), client).message;
    assert.equal(port.options.find((o) => o.number === Opt.ProxyUri)?.value.toString(), 'coap://[::1]:61616');
    assert.throws(() => protectRequest(msg(Method.GET, [opt(Opt.ProxyUri, 'coap://h/#frag')]), client), {
      code: 'ERR_COAP_INVALID_ARGUMENT',
    });
  });

  it('refuses nested OSCORE and non-request codes', () => {
    const { client } = pair();
    assert.throws(() => protectRequest(msg(Method.GET, [opt(Opt.Oscore, EMPTY)]), client), {
      code: 'ERR_COAP_INVALID_ARGUMENT',
    });
    assert.throws(() => protectRequest(msg(Code.Content, []), client), { code: 'ERR_COAP_INVALID_ARGUMENT' });
  });
});

describe('OSCORE Observe (RFC 8613 §4.1.3.5, §7.4.1, §8.3.1, §8.4.2)', () => {
  it('sends registrations as FETCH and notifications as 2.05 with fresh Partial IVs', () => {
    const { client, server } = pair();
    const { message, binding } = protectRequest(
      msg(Method.GET, [opt(Opt.Observe, 0), opt(Opt.UriPath, 't')]),
      client,
    );
    assert.equal(message.code, Method.FETCH);
    assert.deepEqual(numbers(message), [Opt.Observe, Opt.Oscore]);
    const got = unprotectRequest(wire(message), server);
    assert.equal(got.binding.observe, true);
    const notify = (n: number, body: string) =>
      wire(protectResponse(msg(Code.Content, [opt(Opt.Observe, n)], Buffer.from(body)), server, got.binding));
    const first = notify(5, 'a');
    const second = notify(6, 'b');
    const third = notify(7, 'c');
    assert.equal(first.code, Code.Content);
    assert.equal(
      first.options.find((o) => o.number === Opt.Oscore)?.value.length,
      0,
      'first uses the request nonce',
    );
    assert.ok(
      second.options.find((o) => o.number === Opt.Oscore)!.value.length > 0,
      'later ones carry a Partial IV',
    );
    assert.equal(decodeUint(second.options.find((o) => o.number === Opt.Observe)!.value), 6, 'Outer Observe');

    assert.equal(unprotectResponse(first, client, binding).response.payload.toString(), 'a');
    const r3 = unprotectResponse(third, client, binding).response;
    assert.equal(r3.payload.toString(), 'c');
    // Reordered older notification and a replay are both refused (only the newest counts).
    assert.throws(() => unprotectResponse(second, client, binding), code('ERR_OSCORE_REPLAY'));
    assert.throws(() => unprotectResponse(third, client, binding), code('ERR_OSCORE_REPLAY'));
    assert.throws(() => unprotectResponse(first, client, binding), code('ERR_OSCORE_REPLAY'));
    assert.equal(binding.notificationNumber, 1);
    assert.equal(
      decodeUint(r3.options.find((o) => o.number === Opt.Observe)!.value),
      1,
      'Observe from the Partial IV',
    );
  });

  it('never reuses the request nonce for a second response', () => {
    const { client, server } = pair();
    const got = unprotectRequest(wire(protectRequest(msg(Method.GET, []), client).message), server);
    protectResponse(msg(Code.Content, []), server, got.binding);
    assert.throws(
      () => protectResponse(msg(Code.Content, []), server, got.binding, { newPartialIv: false }),
      {
        code: 'ERR_COAP_INVALID_ARGUMENT',
      },
    );
  });

  it('stops processing an Inner Observe in a response to a non-Observe request', () => {
    const { client, server } = pair();
    const { message, binding } = protectRequest(msg(Method.GET, []), client);
    const got = unprotectRequest(wire(message), server);
    const r = protectResponse(msg(Code.Content, [opt(Opt.Observe, 3)]), server, got.binding);
    assert.throws(() => unprotectResponse(wire(r), client, binding), code('ERR_OSCORE_OBSERVE'));
  });
});

describe('OSCORE verification failures', () => {
  it('rejects a request with one byte tampered as ERR_OSCORE_DECRYPT, answered 4.00', () => {
    const { client, server } = pair();
    const bytes = encodeMessage(protectRequest(msg(Method.GET, [opt(Opt.UriPath, 'x')]), client).message);
    bytes[bytes.length - 3]! ^= 0x01;
    const reply = oscoreErrorResponse(
      throwsOscore(() => unprotectRequest(decodeMessage(bytes), server), 'ERR_OSCORE_DECRYPT'),
    );
    assert.equal(reply?.code, Code.BadRequest);
    assert.equal(reply?.payload.toString(), 'Decryption failed');
    assert.deepEqual(reply?.options, [{ number: Opt.MaxAge, value: EMPTY }]);
    // A failed request does not consume its Partial IV: the genuine one still verifies.
    bytes[bytes.length - 3]! ^= 0x01;
    assert.doesNotThrow(() => unprotectRequest(decodeMessage(bytes), server));
  });

  it('rejects a tampered response and a response to another request', () => {
    const { client, server } = pair();
    const a = protectRequest(msg(Method.GET, []), client);
    const b = protectRequest(msg(Method.GET, []), client);
    const got = unprotectRequest(wire(a.message), server);
    const resp = encodeMessage(protectResponse(msg(Code.Content, [], Buffer.from('x')), server, got.binding));
    assert.throws(
      () => unprotectResponse(decodeMessage(resp), client, b.binding),
      code('ERR_OSCORE_DECRYPT'),
    );
    const bad = Buffer.from(resp);
    bad[bad.length - 1]! ^= 0x80;
    assert.throws(() => unprotectResponse(decodeMessage(bad), client, a.binding), code('ERR_OSCORE_DECRYPT'));
    assert.equal(unprotectResponse(decodeMessage(resp), client, a.binding).response.payload.toString(), 'x');
    assert.throws(() => unprotectResponse(decodeMessage(resp), client, a.binding), code('ERR_OSCORE_REPLAY'));
  });

  it('rejects the same request twice as ERR_OSCORE_REPLAY, answered 4.01 "Replay detected"', () => {
    const { client, server } = pair();
    const outer = wire(protectRequest(msg(Method.POST, [], Buffer.from('x')), client).message);
    unprotectRequest(outer, server);
    const reply = oscoreErrorResponse(
      throwsOscore(() => unprotectRequest(outer, server), 'ERR_OSCORE_REPLAY'),
    );
    assert.equal(reply?.code, Code.Unauthorized);
    assert.equal(reply?.payload.toString(), 'Replay detected');
  });

  it('accepts requests reordered within the window and rejects those outside it', () => {
    const { client, server } = pair();
    const sent = Array.from({ length: 40 }, () => wire(protectRequest(msg(Method.GET, []), client).message));
    unprotectRequest(sent[39]!, server);
    unprotectRequest(sent[20]!, server);
    unprotectRequest(sent[8]!, server); // 39 - 8 = 31: the oldest the 32-wide window holds
    assert.throws(() => unprotectRequest(sent[7]!, server), code('ERR_OSCORE_REPLAY'));
    assert.throws(() => unprotectRequest(sent[20]!, server), code('ERR_OSCORE_REPLAY'));
  });

  it('rejects an unknown kid as ERR_OSCORE_UNKNOWN_KID, answered 4.01 "Security context not found"', () => {
    const stranger = SecurityContext.derive({
      masterSecret: SECRET,
      senderId: Buffer.from([0x99]),
      recipientId: SERVER_ID,
    });
    const outer = wire(protectRequest(msg(Method.GET, []), stranger).message);
    const { server } = pair();
    const reply = oscoreErrorResponse(
      throwsOscore(() => unprotectRequest(outer, server), 'ERR_OSCORE_UNKNOWN_KID'),
    );
    assert.equal(reply?.code, Code.Unauthorized);
    assert.equal(reply?.payload.toString(), 'Security context not found');
  });

  it('rejects a truncated or malformed OSCORE option as ERR_OSCORE_FORMAT, answered 4.02', () => {
    const { client, server } = pair();
    const outer = wire(protectRequest(msg(Method.GET, []), client).message);
    const truncate = (value: Buffer): CoapMessage => ({
      ...outer,
      options: outer.options.map((o) => (o.number === Opt.Oscore ? { number: Opt.Oscore, value } : o)),
    });
    for (const value of [
      Buffer.from([0x0a, 0x01]),
      Buffer.from([0x19, 0x01, 0x05]),
      EMPTY,
      Buffer.from([0x01, 0x01]),
    ]) {
      const reply = oscoreErrorResponse(
        throwsOscore(() => unprotectRequest(truncate(value), server), 'ERR_OSCORE_FORMAT'),
      );
      assert.equal(reply?.code, Code.BadOption);
      assert.equal(reply?.payload.toString(), 'Failed to decode COSE');
    }
    assert.throws(() => unprotectRequest({ ...outer, payload: EMPTY }, server), code('ERR_OSCORE_FORMAT'));
    assert.throws(() => unprotectRequest({ ...outer, options: [] }, server), code('ERR_OSCORE_FORMAT'));
    assert.equal(isOscoreMessage(outer), true);
    assert.equal(isOscoreMessage({ ...outer, options: [] }), false);
  });

  it('gives no server response for client-side errors', () => {
    assert.equal(oscoreErrorResponse(new OscoreError('ERR_OSCORE_SEQUENCE_EXHAUSTED', 'x')), undefined);
  });
});

describe('SecurityContext.derive checks its inputs eagerly', () => {
  it('rejects IDs over 7 bytes, equal IDs, other algorithms and an empty secret', () => {
    const ok = { masterSecret: SECRET, senderId: Buffer.from([1]), recipientId: Buffer.from([2]) };
    for (const bad of [
      { ...ok, senderId: Buffer.alloc(8) },
      { ...ok, recipientId: Buffer.from([1]) },
      { ...ok, aeadAlgorithm: 12 as 10 },
      { ...ok, masterSecret: EMPTY },
      { ...ok, replayWindow: 0 },
    ]) {
      assert.throws(() => SecurityContext.derive(bad), { code: 'ERR_COAP_INVALID_ARGUMENT' });
    }
  });
});
