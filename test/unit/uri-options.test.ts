/**
 * Tests for uri/options and uri/location: RFC 7252 §6.4 decomposition, §6.5 composition,
 * §5.10.7 Location-* options and the §8.2 base URI of responses to multicast requests.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidUriError } from '../../src/errors.js';
import type { CoapOption } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { decodeUint, encodeUint } from '../../src/options/values.js';
import type { CoapUri } from '../../src/uri/index.js';
import {
  formatUri,
  locationOf,
  optionsToUri,
  parseUri,
  pathOf,
  queryOf,
  resolveLocation,
  uriToOptions,
} from '../../src/uri/index.js';

const opt = (number: number, value: string): CoapOption => ({ number, value: Buffer.from(value, 'utf8') });

/** Options as readable [number, value] pairs; Uri-Port as a number. */
function show(options: readonly CoapOption[]): [number, string | number][] {
  return options.map((o) => [
    o.number,
    o.number === Opt.UriPort ? decodeUint(o.value) : o.value.toString('utf8'),
  ]);
}

function assertInvalid(fn: () => unknown, reason: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidUriError);
    assert.equal(err.code, 'ERR_COAP_INVALID_URI');
    assert.match(err.message, reason);
    return true;
  });
}

describe('uriToOptions (RFC 7252 §6.4)', () => {
  it('sends no Uri-Host or Uri-Port for a literal sent to itself on the default port', () => {
    const uri = parseUri('coap://224.0.1.187/.well-known/core?rt=core.rd');
    assert.deepEqual(show(uriToOptions(uri, { address: '224.0.1.187', port: 5683 })), [
      [Opt.UriPath, '.well-known'],
      [Opt.UriPath, 'core'],
      [Opt.UriQuery, 'rt=core.rd'],
    ]);
  });

  it('uses the URI’s own host and port as the destination by default', () => {
    assert.deepEqual(show(uriToOptions(parseUri('coap://[ff05::fd]:61616/gp/lights'))), [
      [Opt.UriPath, 'gp'],
      [Opt.UriPath, 'lights'],
    ]);
  });

  it('sends a lower-cased Uri-Host for a name', () => {
    assert.deepEqual(
      show(uriToOptions(parseUri('coap://Lights.EXAMPLE/on'), { address: '192.0.2.1', port: 5683 })),
      [
        [Opt.UriHost, 'lights.example'],
        [Opt.UriPath, 'on'],
      ],
    );
    const built: CoapUri = { ...parseUri('coap://x/'), host: 'MiXeD.Example' };
    assert.deepEqual(show(uriToOptions(built)), [[Opt.UriHost, 'mixed.example']]);
  });

  it('sends Uri-Host for a literal that differs from the destination address', () => {
    const uri = parseUri('coap://192.0.2.1/');
    assert.deepEqual(show(uriToOptions(uri, { address: '198.51.100.7', port: 5683 })), [
      [Opt.UriHost, '192.0.2.1'],
    ]);
  });

  it('writes an IPv6 Uri-Host in brackets and without its zone (RFC 6874 §4)', () => {
    const uri = parseUri('coap://[fe80::1%25eth0]/');
    assert.deepEqual(show(uriToOptions(uri, { address: 'fe80::2', port: 5683 })), [
      [Opt.UriHost, '[fe80::1]'],
    ]);
  });

  it('compares IPv6 addresses by value, ignoring zone and spelling', () => {
    const uri = parseUri('coap://[ff02::fd%25eth0]/light');
    for (const address of ['ff02::fd', 'FF02:0::FD%eth0', 'ff02:0:0:0:0:0:0:fd']) {
      assert.deepEqual(show(uriToOptions(uri, { address, port: 5683 })), [[Opt.UriPath, 'light']], address);
    }
  });

  it('treats an IPv4-mapped IPv6 destination as the same IPv4 address', () => {
    const uri = parseUri('coap://192.0.2.1/');
    assert.deepEqual(uriToOptions(uri, { address: '::ffff:192.0.2.1', port: 5683 }), []);
  });

  it('sends Uri-Port only when the port differs from the destination port', () => {
    const uri = parseUri('coap://192.0.2.1:5683/');
    assert.deepEqual(uriToOptions(uri, { address: '192.0.2.1', port: 5683 }), []);
    assert.deepEqual(show(uriToOptions(uri, { address: '192.0.2.1', port: 61616 })), [[Opt.UriPort, 5683]]);
  });

  it('sends one Uri-Path per segment, none for the root, and keeps empty and encoded segments', () => {
    assert.deepEqual(uriToOptions(parseUri('coap://192.0.2.1/')), []);
    const opts = uriToOptions(parseUri('coap://192.0.2.1/a%2Fb//c?x%26y&'));
    assert.deepEqual(show(opts), [
      [Opt.UriPath, 'a/b'],
      [Opt.UriPath, ''],
      [Opt.UriPath, 'c'],
      [Opt.UriQuery, 'x&y'],
      [Opt.UriQuery, ''],
    ]);
  });

  it('returns options in option-number order with UTF-8 values', () => {
    const opts = uriToOptions(parseUri('coap://ex.example:1234/caf%C3%A9?q'), {
      address: '192.0.2.1',
      port: 5683,
    });
    const numbers = opts.map((o) => o.number);
    assert.deepEqual(numbers, [Opt.UriHost, Opt.UriPort, Opt.UriPath, Opt.UriQuery]);
    assert.deepEqual(opts[2]!.value, Buffer.from('café', 'utf8'));
  });
});

describe('optionsToUri (RFC 7252 §6.5)', () => {
  it('takes host and port from the destination when Uri-Host and Uri-Port are absent', () => {
    const uri = optionsToUri([opt(Opt.UriPath, 'light')], { address: 'FF02:0::FD', port: 5683 });
    assert.equal(formatUri(uri), 'coap://[ff02::fd]/light');
    assert.equal(uri.hostKind, 'ipv6');
  });

  it('takes host and port from Uri-Host and Uri-Port when present', () => {
    const options = [
      opt(Opt.UriHost, 'Node.Example'),
      { number: Opt.UriPort, value: encodeUint(61616) },
      opt(Opt.UriPath, 'a b'),
      opt(Opt.UriQuery, 'k=v&w'),
    ];
    const uri = optionsToUri(options, { address: '192.0.2.1', port: 5683 });
    assert.equal(formatUri(uri), 'coap://node.example:61616/a%20b?k=v%26w');
    assert.equal(uri.explicitPort, true);
  });

  it('reads IP literals in Uri-Host', () => {
    const dest = { address: '192.0.2.1', port: 5683 };
    assert.equal(optionsToUri([opt(Opt.UriHost, '198.51.100.1')], dest).hostKind, 'ipv4');
    assert.equal(optionsToUri([opt(Opt.UriHost, '[2001:DB8::1]')], dest).host, '2001:db8::1');
  });

  it('composes a coaps URI with its own default port for a DTLS request', () => {
    const uri = optionsToUri([], { scheme: 'coaps', address: '192.0.2.1', port: 5684 });
    assert.equal(formatUri(uri), 'coaps://192.0.2.1/');
  });

  it('reads an IPv4-mapped destination as IPv4', () => {
    assert.equal(optionsToUri([], { address: '::ffff:192.0.2.1', port: 5683 }).host, '192.0.2.1');
  });

  it('reads one empty Uri-Path as the root path', () => {
    assert.deepEqual(optionsToUri([opt(Opt.UriPath, '')], { address: '192.0.2.1', port: 5683 }).path, []);
  });

  it('fails for a Uri-Host that is not a reg-name, IP-literal or IPv4address (§6.5 step 2)', () => {
    const dest = { address: '192.0.2.1', port: 5683 };
    assertInvalid(() => optionsToUri([opt(Opt.UriHost, 'a b')], dest), /not a reg-name, IP-literal/);
    assertInvalid(() => optionsToUri([opt(Opt.UriHost, 'a%41')], dest), /not a reg-name/);
    assertInvalid(() => optionsToUri([opt(Opt.UriHost, '')], dest), /not a reg-name/);
    assertInvalid(() => optionsToUri([opt(Opt.UriHost, '300.1.1.1')], dest), /not a reg-name/);
    assertInvalid(() => optionsToUri([opt(Opt.UriHost, '[::g]')], dest), /invalid IPv6 address/);
  });

  it('fails for Uri-Port 0', () => {
    const options = [{ number: Opt.UriPort, value: encodeUint(0) }];
    assertInvalid(() => optionsToUri(options, { address: '192.0.2.1', port: 5683 }), /bad port 0/);
  });

  it('rebuilds the URI a client decomposed (property)', () => {
    const seg = fc.string({ unit: 'binary', maxLength: 8 });
    const arb = fc.record({
      host: fc.constantFrom('example.com', 'münchen.example', '192.0.2.1', '[2001:db8::1]'),
      port: fc.integer({ min: 1, max: 65535 }),
      path: fc.array(seg, { maxLength: 4 }).filter((p) => !(p.length === 1 && p[0] === '')),
      query: fc.array(seg, { maxLength: 3 }),
    });
    fc.assert(
      fc.property(arb, (g) => {
        const uri: CoapUri = { ...parseUri(`coap://${g.host}:${g.port}/`), path: g.path, query: g.query };
        const dest = { address: '198.51.100.9', port: 5683 };
        assert.deepEqual(optionsToUri(uriToOptions(uri, dest), dest), {
          ...uri,
          explicitPort: g.port !== 5683,
        });
      }),
      { numRuns: 500 },
    );
  });
});

describe('pathOf, queryOf and locationOf', () => {
  const options = [
    opt(Opt.UriHost, 'h'),
    opt(Opt.LocationPath, 'ls'),
    opt(Opt.LocationPath, '4'),
    opt(Opt.UriPath, 'a'),
    opt(Opt.UriPath, 'b/c'),
    opt(Opt.UriQuery, 'x=1'),
    opt(Opt.LocationQuery, 'v=2'),
  ];

  it('returns the values of each option kind in order', () => {
    assert.deepEqual(pathOf(options), ['a', 'b/c']);
    assert.deepEqual(queryOf(options), ['x=1']);
    assert.deepEqual(locationOf(options), { path: ['ls', '4'], query: ['v=2'] });
  });

  it('returns empty lists when the options are absent', () => {
    assert.deepEqual(pathOf([]), []);
    assert.deepEqual(queryOf([]), []);
    assert.deepEqual(locationOf([]), { path: [], query: [] });
  });
});

describe('resolveLocation (RFC 7252 §5.10.7, §8.2)', () => {
  const base = parseUri('coap://[ff02::fd%25eth0]:61616/lights?all');

  it('is undefined without Location-* options', () => {
    assert.equal(resolveLocation(base, undefined, [opt(Opt.UriPath, 'x')]), undefined);
  });

  it('resolves the location against the request URI, replacing path and query', () => {
    const loc = resolveLocation(parseUri('coap://node.example/lights?all'), undefined, [
      opt(Opt.LocationPath, 'lights'),
      opt(Opt.LocationPath, '4'),
    ]);
    assert.equal(loc && formatUri(loc), 'coap://node.example/lights/4');
  });

  it('gives the path "/" when only Location-Query is present', () => {
    const loc = resolveLocation(parseUri('coap://node.example/a/b'), undefined, [
      opt(Opt.LocationQuery, 'id=7'),
    ]);
    assert.equal(loc && formatUri(loc), 'coap://node.example/?id=7');
  });

  it('gives the root for one empty Location-Path', () => {
    const loc = resolveLocation(parseUri('coap://node.example/a'), undefined, [opt(Opt.LocationPath, '')]);
    assert.equal(loc && formatUri(loc), 'coap://node.example/');
  });

  it('uses the responder’s address and port as the host of a multicast request’s base URI', () => {
    const options = [opt(Opt.LocationPath, 'lights'), opt(Opt.LocationPath, '4')];
    const v6 = resolveLocation(base, { address: 'FE80::1%eth0', port: 5683 }, options);
    assert.equal(v6 && formatUri(v6), 'coap://[fe80::1%25eth0]/lights/4');
    const v4 = resolveLocation(
      parseUri('coap://224.0.1.187/x'),
      { address: '192.0.2.5', port: 40000 },
      options,
    );
    assert.deepEqual(v4 && { host: v4.host, hostKind: v4.hostKind, port: v4.port }, {
      host: '192.0.2.5',
      hostKind: 'ipv4',
      port: 40000,
    });
  });

  it('resolves forbidden "." and ".." values as RFC 3986 would instead of failing', () => {
    const options = ['a', '..', 'b', '.'].map((s) => opt(Opt.LocationPath, s));
    const loc = resolveLocation(parseUri('coap://h/'), undefined, options);
    assert.deepEqual(loc?.path, ['b', '']);
  });
});
