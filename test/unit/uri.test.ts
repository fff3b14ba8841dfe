/**
 * Tests for uri/parse and uri/format: RFC 7252 §6.1-§6.3, §6.5 encoding, RFC 6874 zones, and
 * the parse/format round trip as a property.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidUriError } from '../../src/errors.js';
import type { CoapUri } from '../../src/uri/index.js';
import { formatUri, isGroupUri, parseUri, pathString, uriToOptions } from '../../src/uri/index.js';

function withoutExplicitPort(uri: CoapUri): Omit<CoapUri, 'explicitPort'> {
  const { explicitPort: _, ...rest } = uri;
  return rest;
}

function assertInvalid(text: string, reason: RegExp): void {
  assert.throws(
    () => parseUri(text),
    (err: unknown) => {
      assert.ok(err instanceof InvalidUriError, `expected InvalidUriError, got ${String(err)}`);
      assert.equal(err.code, 'ERR_COAP_INVALID_URI');
      assert.equal(err.uri, text);
      assert.match(err.message, reason);
      return true;
    },
  );
}

describe('parseUri', () => {
  it('treats the three RFC 7252 §6.3 example URIs as the same resource with the same options', () => {
    const texts = [
      'coap://example.com:5683/~sensors/temp.xml',
      'coap://EXAMPLE.com/%7Esensors/temp.xml',
      'coap://EXAMPLE.com:/%7esensors/temp.xml',
    ];
    const uris = texts.map(parseUri);
    const expected = {
      scheme: 'coap',
      host: 'example.com',
      hostKind: 'name',
      port: 5683,
      path: ['~sensors', 'temp.xml'],
      query: [],
    };
    for (const uri of uris) {
      assert.deepEqual(withoutExplicitPort(uri), expected);
      assert.equal(formatUri(uri), 'coap://example.com/~sensors/temp.xml');
      assert.deepEqual(uriToOptions(uri), uriToOptions(uris[0]!));
    }
    assert.deepEqual(
      uris.map((u) => u.explicitPort),
      [true, false, false],
    );
  });

  it('parses an IPv4 group URI with a query', () => {
    assert.deepEqual(parseUri('coap://224.0.1.187/.well-known/core?rt=core.rd'), {
      scheme: 'coap',
      host: '224.0.1.187',
      hostKind: 'ipv4',
      port: 5683,
      explicitPort: false,
      path: ['.well-known', 'core'],
      query: ['rt=core.rd'],
    });
  });

  it('reads an RFC 6874 "%25" zone and keeps it, unbracketed, on the host', () => {
    const uri = parseUri('coap://[ff02::fd%25eth0]:5683/light');
    assert.equal(uri.host, 'ff02::fd%eth0');
    assert.equal(uri.hostKind, 'ipv6');
    assert.equal(uri.port, 5683);
    assert.equal(uri.explicitPort, true);
    assert.deepEqual(uri.path, ['light']);
  });

  it('accepts an unescaped zone the way ping prints it', () => {
    assert.equal(parseUri('coap://[ff02::fd%eth0]/light').host, 'ff02::fd%eth0');
    assert.equal(parseUri('coap://[fe80::1%2]').host, 'fe80::1%2');
  });

  it('reads "%25" with nothing after it as the unescaped zone "25"', () => {
    assert.equal(parseUri('coap://[fe80::1%25]').host, 'fe80::1%25');
    assert.equal(parseUri('coap://[fe80::1%2525]').host, 'fe80::1%25');
  });

  it('percent-decodes an RFC 6874 zone', () => {
    assert.equal(parseUri('coap://[fe80::1%25en%30]').host, 'fe80::1%en0');
  });

  it('puts IPv6 literals in RFC 5952 form', () => {
    assert.equal(parseUri('coap://[FF02:0:0:0:0:0:0:00FD]').host, 'ff02::fd');
    assert.equal(parseUri('coap://[2001:DB8::1]:61616/').port, 61616);
  });

  it('uses 5684 as the default port of coaps and accepts the scheme in any case', () => {
    const uri = parseUri('COAPS://Node.Example/');
    assert.equal(uri.scheme, 'coaps');
    assert.equal(uri.port, 5684);
    assert.equal(uri.host, 'node.example');
  });

  it('gives no segments for an empty path or "/"', () => {
    assert.deepEqual(parseUri('coap://h').path, []);
    assert.deepEqual(parseUri('coap://h/').path, []);
    assert.deepEqual(parseUri('coap://h?x').path, []);
  });

  it('keeps empty segments that are not the whole path', () => {
    assert.deepEqual(parseUri('coap://h//').path, ['', '']);
    assert.deepEqual(parseUri('coap://h/a/').path, ['a', '']);
  });

  it('removes "." and ".." segments as RFC 3986 §5.2.4 does', () => {
    assert.deepEqual(parseUri('coap://h/a/b/../c/./d').path, ['a', 'c', 'd']);
    assert.deepEqual(parseUri('coap://h/a/b/.').path, ['a', 'b', '']);
    assert.deepEqual(parseUri('coap://h/a/..').path, []);
    assert.deepEqual(parseUri('coap://h/../../x').path, ['x']);
  });

  it('keeps percent-encoded dots as segment content (only literal dot segments are removed)', () => {
    assert.deepEqual(parseUri('coap://h/a/%2E%2E/b').path, ['a', '..', 'b']);
  });

  it('decodes "/" and "&" inside a segment or argument without splitting on them', () => {
    const uri = parseUri('coap://h/a%2Fb?x%26y=1&z');
    assert.deepEqual(uri.path, ['a/b']);
    assert.deepEqual(uri.query, ['x&y=1', 'z']);
  });

  it('splits the query on "&" keeping empty arguments, and allows "?" and "/" in it', () => {
    assert.deepEqual(parseUri('coap://h/?').query, ['']);
    assert.deepEqual(parseUri('coap://h/r?a&&b?/c').query, ['a', '', 'b?/c']);
  });

  it('decodes UTF-8 percent-encodings and accepts raw non-ASCII as in an IRI', () => {
    assert.deepEqual(parseUri('coap://h/t%C3%A9/ü?q=€').path, ['té', 'ü']);
    assert.deepEqual(parseUri('coap://h/?q=€').query, ['q=€']);
  });

  it('lower-cases only ASCII in a name, before decoding it (RFC 7252 §6.4 step 5)', () => {
    assert.equal(parseUri('coap://%C3%9CBER.Example').host, 'Über.example');
  });

  it('keeps a colon and an at-sign in a path segment', () => {
    assert.deepEqual(parseUri('coap://h/a:b@c').path, ['a:b@c']);
  });
});

describe('parseUri rejects', () => {
  const cases: [string, string, RegExp][] = [
    ['a relative reference', '/sensors/temp', /not an absolute URI/],
    ['text with no scheme', 'example.com/x', /not an absolute URI/],
    ['an http URI, naming the allowed schemes', 'http://example.com/', /"http".*"coap" and "coaps"/],
    ['a fragment', 'coap://h/x#frag', /fragment.*§6\.4 step 4/],
    ['an empty fragment', 'coap://h/#', /fragment/],
    ['a missing authority', 'coap:/x', /missing authority/],
    ['an empty host', 'coap:///x', /host is empty/],
    ['an empty host before a port', 'coap://:5683/', /host is empty/],
    ['port 0', 'coap://h:0/', /bad port 0/],
    ['a port above 65535', 'coap://h:65536/', /bad port 65536/],
    ['a non-numeric port', 'coap://h:http/', /bad port "http"/],
    ['a "%" without two hex digits in the path', 'coap://h/a%2', /bad percent-encoding "%2"/],
    ['a "%" without hex digits in the query', 'coap://h/?a=%zz', /bad percent-encoding "%zz" in the query/],
    ['percent-encoded bytes that are not UTF-8', 'coap://h/%FF', /not valid UTF-8/],
    ['a bad percent-encoding in the host', 'coap://a%g1/', /bad percent-encoding.*host/],
    ['a space in the path', 'coap://h/a b', /character " " is not allowed in the path/],
    ['a bracket in the query', 'coap://h/?a[0]=1', /character "\[" is not allowed in the query/],
    ['an invalid character in a name', 'coap://a<b>/', /character "<" is not allowed in the host/],
    ['user information', 'coap://user@h/', /user information/],
    ['an unbracketed IPv6 address', 'coap://ff02::fd/', /enclosed in "\[" and "\]"/],
    ['an unterminated IP literal', 'coap://[ff02::fd/', /unterminated IP literal/],
    ['text after an IP literal', 'coap://[::1]x/', /unexpected "x" after the IP literal/],
    ['an empty IP literal', 'coap://[]/', /"\[\]" is empty/],
    ['an invalid IPv6 literal', 'coap://[ff02::fg]/', /invalid IPv6 address "ff02::fg"/],
    ['an IPv4 address in brackets', 'coap://[192.0.2.1]/', /invalid IPv6 address/],
    ['an IPvFuture literal', 'coap://[v1.fe80::1]/', /IPvFuture/],
    ['an empty zone', 'coap://[fe80::1%]/', /zone.*empty/],
    ['an empty RFC 6874 zone escape', 'coap://[fe80::1%25%]/', /bad percent-encoding.*zone/],
    ['a zone with a reserved character', 'coap://[fe80::1%25a:b]/', /not allowed in the IPv6 zone/],
    ['an out-of-range IPv4 address', 'coap://192.0.2.256/', /invalid IPv4 address "192.0.2.256"/],
    ['an IPv4 address with a leading zero', 'coap://010.0.0.1/', /invalid IPv4 address/],
    ['an unpaired surrogate', 'coap://h/\ud800', /unpaired surrogate in the path/],
  ];
  for (const [name, text, reason] of cases) {
    it(`${name} with InvalidUriError`, () => assertInvalid(text, reason));
  }

  it('nothing but InvalidUriError for arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.string().map((s) => `coap://${s}`),
        ),
        (text) => {
          try {
            parseUri(text);
          } catch (err) {
            assert.ok(err instanceof InvalidUriError);
            assert.equal(err.code, 'ERR_COAP_INVALID_URI');
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('formatUri', () => {
  it('writes IPv6 in brackets with the zone as "%25" and omits the default port', () => {
    assert.equal(formatUri(parseUri('coap://[FF02::FD%eth0]:5683/light')), 'coap://[ff02::fd%25eth0]/light');
  });

  it('keeps a port that is not the default of the scheme', () => {
    assert.equal(formatUri(parseUri('coap://h:5684/')), 'coap://h:5684/');
    assert.equal(formatUri(parseUri('coaps://h:5683/')), 'coaps://h:5683/');
    assert.equal(formatUri(parseUri('coaps://h:5684')), 'coaps://h/');
  });

  it('writes "/" for an empty path', () => {
    assert.equal(formatUri(parseUri('coap://224.0.1.187')), 'coap://224.0.1.187/');
  });

  it('keeps unreserved, sub-delims, ":" and "@" in segments and encodes the rest in upper case (§6.5 step 6)', () => {
    const uri: CoapUri = {
      scheme: 'coap',
      host: 'h',
      hostKind: 'name',
      port: 5683,
      explicitPort: false,
      path: ["a-._~!$&'()*+,;=:@", 'b/c?d#e%f g', 'é'],
      query: [],
    };
    assert.equal(formatUri(uri), "coap://h/a-._~!$&'()*+,;=:@/b%2Fc%3Fd%23e%25f%20g/%C3%A9");
  });

  it('keeps "/" and "?" in query arguments but encodes "&" (§6.5 step 8)', () => {
    const uri = parseUri('coap://h/');
    uri.query = ['a=/x?y', 'b&c', '#'];
    assert.equal(formatUri(uri), 'coap://h/?a=/x?y&b%26c&%23');
  });

  it('encodes "." and ".." segments so that re-parsing keeps them', () => {
    const uri = parseUri('coap://h/');
    uri.path = ['.', '..', 'x'];
    assert.equal(formatUri(uri), 'coap://h/%2E/%2E%2E/x');
    assert.deepEqual(parseUri(formatUri(uri)).path, ['.', '..', 'x']);
  });

  it('percent-encodes a name outside the reg-name set', () => {
    const uri = parseUri('coap://h/');
    uri.host = 'münchen.example';
    assert.equal(formatUri(uri), 'coap://m%C3%BCnchen.example/');
    assert.equal(parseUri(formatUri(uri)).host, 'münchen.example');
  });

  it('round-trips the group URIs of RFC 7390 through parse and format', () => {
    for (const text of [
      'coap://224.0.1.187/.well-known/core?rt=core.rd',
      'coap://[ff02::fd%25eth0]/light',
      'coap://[ff05::fd]:61616/gp/lights?on',
      'coaps://node.example:1234/a%2Fb/c?x=1&y',
    ]) {
      assert.equal(formatUri(parseUri(text)), text);
      assert.deepEqual(parseUri(formatUri(parseUri(text))), parseUri(text));
    }
  });

  it('round-trips arbitrary segments and query arguments (property)', () => {
    const unit = fc.oneof(
      fc.constantFrom('/', '&', '%', '?', '#', '.', '=', ' ', '[', ':', '@', '%25', '+'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
    );
    const text = fc.string({ unit, maxLength: 12 });
    const host = fc.constantFrom<Pick<CoapUri, 'host' | 'hostKind'>>(
      { host: 'example.com', hostKind: 'name' },
      { host: '192.0.2.1', hostKind: 'ipv4' },
      { host: 'ff02::fd%eth0', hostKind: 'ipv6' },
      { host: '2001:db8::1', hostKind: 'ipv6' },
    );
    const uriArb = fc.record({
      scheme: fc.constantFrom<'coap' | 'coaps'>('coap', 'coaps'),
      host,
      port: fc.integer({ min: 1, max: 65535 }),
      path: fc.array(text, { maxLength: 5 }),
      query: fc.array(text, { maxLength: 4 }),
    });
    fc.assert(
      fc.property(uriArb, (g) => {
        const uri: CoapUri = { ...g, ...g.host, explicitPort: false };
        const text = formatUri(uri);
        const back = parseUri(text);
        const defaultPort = g.scheme === 'coap' ? 5683 : 5684;
        assert.deepEqual(back, {
          ...uri,
          explicitPort: g.port !== defaultPort,
          // One empty segment is the path "/", the same resource as no segments.
          path: g.path.length === 1 && g.path[0] === '' ? [] : g.path,
        });
        assert.equal(formatUri(back), text);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('pathString and isGroupUri', () => {
  it('writes "/" for no segments and encodes each segment', () => {
    assert.equal(pathString([]), '/');
    assert.equal(pathString(['a', 'b']), '/a/b');
    assert.equal(pathString(['a/b', '']), '/a%2Fb/');
  });

  it('recognises multicast literals as group URIs, and not names or unicast addresses', () => {
    assert.equal(isGroupUri(parseUri('coap://224.0.1.187/')), true);
    assert.equal(isGroupUri(parseUri('coap://[ff02::fd%25eth0]/')), true);
    assert.equal(isGroupUri(parseUri('coap://[ff05::fd]/')), true);
    assert.equal(isGroupUri(parseUri('coap://192.0.2.1/')), false);
    assert.equal(isGroupUri(parseUri('coap://[2001:db8::1]/')), false);
    assert.equal(isGroupUri(parseUri('coap://all.example/')), false);
  });
});
