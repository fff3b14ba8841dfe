/**
 * Schemes without a transport here (client/scheme): `coaps` (DTLS, RFC 7252 §9) and the RFC 8323
 * schemes are refused by every client entry point with `ERR_COAP_UNSUPPORTED_SCHEME`, before the
 * host is resolved and before anything is sent; `coaps` to a group keeps its own refusal
 * (RFC 7390 §5.1). On a memory network, so "nothing sent" is the network's own count.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUri } from '../../src/entry/codec.js';
import { CoapError, parseRequestUri, type Resolver, UnsupportedSchemeError } from '../../src/index.js';
import { IFACE, TestNet } from '../support/test-net.js';

const T = { timeout: 10_000 };
const SCHEMES = ['coaps', 'COAPS', 'coap+tcp', 'coaps+tcp', 'coap+ws', 'Coaps+WS'];

async function setup() {
  const t = new TestNet({ seed: 5 });
  const lookups: string[] = [];
  // Counts every name lookup; it would answer a unicast address if asked.
  const resolver: Resolver = async (host) => {
    lookups.push(host);
    return ['192.0.2.2'];
  };
  const { client } = await t.client(
    { address: '192.0.2.1', port: 40000, ipv4Interface: IFACE },
    { iface: IFACE, resolver },
  );
  return { rt: t.rt, net: t.net, client, lookups };
}

function refused(scheme: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof UnsupportedSchemeError, `an UnsupportedSchemeError, got ${String(err)}`);
    assert.ok(err instanceof CoapError);
    assert.equal(err.code, 'ERR_COAP_UNSUPPORTED_SCHEME');
    assert.equal(err.scheme, scheme.toLowerCase());
    // It says what to use instead, for the library and the command line.
    assert.match(err.message, /nothing was sent.*coap:\/\/.*OSCORE.*--oscore.*security/);
    return true;
  };
}

describe('schemes this client has no transport for', () => {
  for (const scheme of SCHEMES) {
    it(
      `refuses ${scheme}:// in request, send, observe and ping, resolving and sending nothing`,
      T,
      async () => {
        const s = await setup();
        const uri = `${scheme}://node.example/secret`;
        const put = { uri, method: 'PUT' as const, payload: 'my-password' };
        await assert.rejects(s.client.request(put), refused(scheme));
        await assert.rejects(s.client.send(put), refused(scheme));
        await assert.rejects(s.client.ping(uri), refused(scheme));
        const obs = s.client.observe(uri);
        await assert.rejects(async () => {
          for await (const _ of obs) assert.fail('no notification can come');
        }, refused(scheme));
        await s.rt.advance(60_000);
        assert.deepEqual(s.lookups, [], 'no name was resolved');
        assert.equal(s.net.stats.sent, 0, 'no datagram was sent');
        assert.equal(s.client.stats().tokens, 0);
        await s.client.close();
      },
    );
  }

  it('refuses a parsed coaps URI given as an object, with the URI in the error', T, async () => {
    const s = await setup();
    const uri = parseUri('coaps://192.0.2.2/secret');
    await assert.rejects(
      s.client.request({ uri, method: 'PUT', payload: 'my-password' }),
      (err: unknown) =>
        refused('coaps')(err) && (err as UnsupportedSchemeError).uri === 'coaps://192.0.2.2/secret',
    );
    assert.equal(s.net.stats.sent, 0);
    await s.client.close();
  });

  it('refuses the RFC 8323 schemes for a group at once, and coaps with the group code', T, async () => {
    const s = await setup();
    for (const scheme of SCHEMES.filter((x) => x.toLowerCase() !== 'coaps')) {
      assert.throws(() => s.client.group(`${scheme}://224.0.1.187/light`), refused(scheme));
    }
    assert.throws(() => s.client.group('coaps://224.0.1.187/light'), {
      code: 'ERR_COAP_GROUP_SECURE_SCHEME',
    });
    await s.rt.advance(10_000);
    assert.equal(s.net.stats.sent, 0);
    assert.deepEqual(s.lookups, []);
    await s.client.close();
  });

  it('still sends coap:// requests (the check refuses only the other schemes)', T, async () => {
    const s = await setup();
    await s.client.send({ uri: 'coap://node.example/light', method: 'PUT', payload: 'on' });
    assert.deepEqual(s.lookups, ['node.example']);
    assert.equal(s.net.stats.sent, 1);
    await s.client.close();
  });
});

describe('parseRequestUri', () => {
  it('parses coap URIs as parseUri does', () => {
    assert.deepEqual(parseRequestUri('coap://EXAMPLE.com:99/a?b'), parseUri('coap://EXAMPLE.com:99/a?b'));
  });

  it('leaves coaps to the group checks when asked, and refuses it otherwise', () => {
    assert.equal(parseRequestUri('coaps://224.0.1.187/x', { group: true }).port, 5684);
    assert.throws(() => parseRequestUri('coaps://224.0.1.187/x'), refused('coaps'));
    assert.throws(() => parseRequestUri('coap+tcp://224.0.1.187/x', { group: true }), refused('coap+tcp'));
  });

  it('leaves every other scheme to the URI parser (ERR_COAP_INVALID_URI)', () => {
    for (const text of ['http://h/', 'constructor://h/', 'coap', '']) {
      assert.throws(() => parseRequestUri(text), { code: 'ERR_COAP_INVALID_URI' });
    }
  });
});
