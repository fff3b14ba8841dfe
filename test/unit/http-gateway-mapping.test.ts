/**
 * The HTTP gateway's mappings, without a network: the Target CoAP URI in a Hosting HTTP URI
 * (RFC 8075 §5), media types (§6), response codes (§7 Table 2), ETags and preconditions, the
 * Reply-From header (groupcomm-proxy §9.2, RFC 9651) and the byte-exact multipart batch
 * (groupcomm-proxy §9.6; the vector of the implementation brief: 401 bytes, its SHA-256).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseList, serializeList } from 'structured-headers';
import { toHttpAnswer } from '../../src/http-gateway/answer.js';
import { coreHcLink, discoveryDocument } from '../../src/http-gateway/discovery.js';
import { chooseEnvelope, memberJson, sseEvent } from '../../src/http-gateway/envelope.js';
import { conditions, etagHeader } from '../../src/http-gateway/etag.js';
import { multicastTimeout } from '../../src/http-gateway/group.js';
import { acceptFormat, contentTypeOf, parseAccept, requestFormat } from '../../src/http-gateway/media.js';
import { batchBody, httpMessage } from '../../src/http-gateway/multipart.js';
import { memberCri, replyFromHeader } from '../../src/http-gateway/reply-from.js';
import { httpStatus } from '../../src/http-gateway/status.js';
import { parseTarget, route } from '../../src/http-gateway/target.js';
import { Code, parseCode } from '../../src/message/codes.js';
import type { CoapOption } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { encodeUint } from '../../src/options/values.js';
import { parseUri } from '../../src/uri/index.js';
import { refused } from '../support/http-gateway.js';

const PREFIX = '/hc/';

describe('the Target CoAP URI in a Hosting HTTP URI (RFC 8075 §5)', () => {
  it('takes the default mapping: the target follows the HC Proxy URI as it is (§5.3)', () => {
    assert.deepEqual(route('/hc/coap://224.0.1.187/light', PREFIX), {
      kind: 'target',
      text: 'coap://224.0.1.187/light',
    });
    // The hosting query is the target's query.
    assert.deepEqual(route('/hc/coap://127.0.0.1:5683/a?x=1&y', PREFIX), {
      kind: 'target',
      text: 'coap://127.0.0.1:5683/a?x=1&y',
    });
    // An absolute-form request-target (to a proxy) routes the same way.
    assert.deepEqual(route('http://gw:8080/hc/coap://h/x', PREFIX), { kind: 'target', text: 'coap://h/x' });
  });

  it('takes the Simple Form ?target_uri={+tu} with & and ? inside the target (§5.4.1)', () => {
    assert.deepEqual(route('/hc/?target_uri=coap://224.0.1.187/light?a=1&b=2', PREFIX), {
      kind: 'target',
      text: 'coap://224.0.1.187/light?a=1&b=2',
    });
    assert.deepEqual(route('/hc?target_uri=coap://h/', PREFIX), { kind: 'target', text: 'coap://h/' });
    assert.deepEqual(route('/hc/', PREFIX), { kind: 'target', text: '' });
  });

  it('routes discovery and everything else apart', () => {
    assert.deepEqual(route('/.well-known/core?rt=core.hc', PREFIX), {
      kind: 'discovery',
      query: 'rt=core.hc',
    });
    assert.deepEqual(route('/index.html', PREFIX), { kind: 'other' });
    assert.deepEqual(route('/hcx/coap://h/', PREFIX), { kind: 'other' });
  });

  it('decodes percent-encoded IPv6 brackets in the authority only, and takes raw ones (§5.3.2)', () => {
    const t = parseTarget('coap://%5Bff02::1%5D:61616/a%5Bb%5D', PREFIX);
    assert.equal(t.text, 'coap://[ff02::1]:61616/a%5Bb%5D');
    assert.equal(t.uri.host, 'ff02::1');
    assert.deepEqual(t.uri.path, ['a[b]']);
    assert.equal(parseTarget('coap://[::1]/x', PREFIX).uri.host, '::1');
  });

  it('refuses no target, a target without a scheme (400, §5.3.1) and coaps (501, §10.3)', () => {
    refused(() => parseTarget('', PREFIX), 400, /no target CoAP URI: write \/hc\/coap:\/\/HOST\/PATH/);
    refused(
      () => parseTarget('224.0.1.187/light', PREFIX),
      400,
      /has no scheme: write \/hc\/coap:\/\/224\.0\.1\.187\/light/,
    );
    refused(() => parseTarget('coaps://127.0.0.1/x', PREFIX), 501, /coaps:\/\/ is not forwarded/);
    refused(() => parseTarget('http://127.0.0.1/x', PREFIX), 400, /invalid CoAP URI/);
    refused(() => parseTarget('coap://127.0.0.1:99999/x', PREFIX), 400);
  });
});

describe('discovery of the URI mapping (RFC 8075 §5.5)', () => {
  it('lists the default template and the Simple Form, filtered by the query', () => {
    assert.equal(
      discoveryDocument('/hc/', ''),
      '</hc/>;rt="core.hc",</hc/>;rt="core.hc";hct="?target_uri={+tu}"',
    );
    assert.equal(
      discoveryDocument('/hc/', 'hct=%3Ftarget_uri%3D%7B%2Btu%7D'),
      '</hc/>;rt="core.hc";hct="?target_uri={+tu}"',
    );
    assert.equal(discoveryDocument('/hc/', 'rt=core.rd'), '');
  });

  it('gives a CoAP server the link with an explicit anchor', () => {
    assert.equal(coreHcLink('http://192.0.2.1:8080'), '</hc/>;anchor="http://192.0.2.1:8080";rt="core.hc"');
    assert.equal(
      coreHcLink('http://[2001:db8::1]:8080', '/coap/'),
      '</coap/>;anchor="http://[2001:db8::1]:8080";rt="core.hc"',
    );
  });
});

describe('media types and Content-Formats (RFC 8075 §6)', () => {
  it('maps Content-Type through the registry, then the loose Table 1', () => {
    assert.equal(requestFormat('text/plain', undefined, false), 0);
    assert.equal(requestFormat('text/plain; charset=UTF-8', undefined, false), 0);
    assert.equal(requestFormat('application/json', undefined, false), 50);
    assert.equal(requestFormat('application/coap-group+json', 'identity', false), 256);
    assert.equal(requestFormat('application/link-format', undefined, false), 40);
    assert.equal(requestFormat('application/vnd.example+json', undefined, false), 50);
    assert.equal(requestFormat('application/senml+cbor', undefined, false), 60);
    assert.equal(requestFormat('text/xml', undefined, false), 41);
    assert.equal(requestFormat('text/csv', undefined, false), 0);
    assert.equal(requestFormat(undefined, undefined, false), undefined);
  });

  it('answers 415 for a type or coding that does not map (§6.1), and for coap-payload unless allowed (§6.2)', () => {
    refused(() => requestFormat('image/png', undefined, false), 415, /image\/png has no CoAP Content-Format/);
    refused(() => requestFormat('text/plain; charset=iso-8859-1', undefined, false), 415);
    refused(() => requestFormat('text/plain', 'gzip', false), 415, /Content-Encoding gzip/);
    refused(
      () => requestFormat('application/coap-payload; cf=65000', undefined, false),
      415,
      /not forwarded/,
    );
    assert.equal(requestFormat('application/coap-payload; cf=65000', undefined, true), 65000);
    refused(() => requestFormat('application/coap-payload', undefined, true), 415, /needs a cf parameter/);
    refused(() => requestFormat('nonsense', undefined, false), 415, /is not a media type/);
  });

  it('maps the most preferred Accept range only, ignoring what does not map and */* (§6.1)', () => {
    assert.equal(acceptFormat(parseAccept('*/*'), false), undefined);
    assert.equal(acceptFormat(parseAccept(undefined), false), undefined);
    assert.equal(acceptFormat(parseAccept('application/link-format'), false), 40);
    assert.equal(acceptFormat(parseAccept('text/plain;q=0.5, application/cbor'), false), 60);
    // A browser's navigation Accept: text/html does not map, so no Accept option at all.
    const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    assert.equal(acceptFormat(parseAccept(browser), false), undefined);
    assert.equal(acceptFormat(parseAccept('application/coap-payload;cf=11542'), true), 11542);
  });

  it('writes a Content-Format as a Content-Type, unknown ones as application/coap-payload (§6.2)', () => {
    assert.equal(contentTypeOf(0), 'text/plain; charset=utf-8');
    assert.equal(contentTypeOf(40), 'application/link-format');
    assert.equal(contentTypeOf(256), 'application/coap-group+json');
    assert.equal(contentTypeOf(11060), 'application/coap-payload; cf=11060');
  });
});

describe('response codes (RFC 8075 §7 Table 2)', () => {
  const rows: Array<[string, number, boolean?, boolean?]> = [
    ['2.01', 201],
    ['2.02', 204],
    ['2.02', 200, true],
    ['2.04', 204],
    ['2.04', 200, true],
    ['2.05', 200],
    ['2.03', 304, false, true],
    ['4.00', 400],
    ['4.01', 403],
    ['4.02', 500],
    ['4.03', 403],
    ['4.04', 404],
    ['4.05', 400],
    ['4.06', 406],
    ['4.09', 409],
    ['4.12', 412],
    ['4.13', 413],
    ['4.15', 415],
    ['4.22', 422],
    ['4.29', 429],
    ['4.31', 400],
    ['5.00', 500],
    ['5.01', 501],
    ['5.02', 502],
    ['5.03', 503],
    ['5.04', 504],
    ['5.05', 502],
    ['5.31', 500],
  ];
  for (const [coap, http, payload = false, conditional = false] of rows) {
    it(`maps ${coap}${payload ? ' with a payload' : ''} to ${http}`, () => {
      assert.equal(httpStatus(parseCode(coap)!, payload, conditional).status, http);
    });
  }

  it('gives 4.05 a reason phrase starting "CoAP server returned 4.05" (note 7)', () => {
    assert.match(httpStatus(Code.MethodNotAllowed, false, false).reason, /^CoAP server returned 4\.05/);
  });
});

const uri = parseUri('coap://[fd00::1]:61616/coap-group');
const ctx = { conditional: false, base: uri, prefix: PREFIX };
const opt = (number: number, value: Buffer | number): CoapOption => ({
  number,
  value: typeof value === 'number' ? encodeUint(value) : value,
});

describe('a CoAP response as an HTTP response (RFC 8075 §6-§7, RFC 7252 §10.2)', () => {
  it('sends 5.03 with Retry-After and Cache-Control from Max-Age (Table 2 note 8)', () => {
    const a = toHttpAnswer(
      { code: Code.ServiceUnavailable, options: [opt(Opt.MaxAge, 30)], payload: Buffer.alloc(0) },
      ctx,
    );
    assert.equal(a.status, 503);
    assert.deepEqual(a.headers, [
      ['Cache-Control', 'max-age=30'],
      ['Retry-After', '30'],
    ]);
  });

  it('counts Max-Age down by the time the response was held, and defaults it to 60', () => {
    const held = toHttpAnswer(
      { code: Code.Content, options: [opt(Opt.MaxAge, 10)], payload: Buffer.from('x') },
      { ...ctx, heldMs: 2500 },
    );
    assert.deepEqual(
      held.headers.find(([k]) => k === 'Cache-Control'),
      ['Cache-Control', 'max-age=8'],
    );
    const plain = toHttpAnswer({ code: Code.Content, options: [], payload: Buffer.from('x') }, ctx);
    assert.deepEqual(plain.headers, [
      ['Content-Type', 'application/octet-stream'],
      ['Cache-Control', 'max-age=60'],
    ]);
  });

  it('writes a diagnostic payload as text/plain, the ETag, and a Location through the template', () => {
    const diag = toHttpAnswer({ code: Code.BadRequest, options: [], payload: Buffer.from('bad JSON') }, ctx);
    assert.equal(diag.headers[0]![1], 'text/plain; charset=utf-8');
    assert.equal(diag.body.toString(), 'bad JSON');
    const created = toHttpAnswer(
      {
        code: Code.Created,
        options: [
          opt(Opt.ETag, Buffer.from('abcd')),
          opt(Opt.LocationPath, Buffer.from('coap-group')),
          opt(Opt.LocationPath, Buffer.from('3')),
        ],
        payload: Buffer.alloc(0),
      },
      ctx,
    );
    assert.equal(created.status, 201);
    assert.deepEqual(created.headers, [
      ['ETag', '"YWJjZA"'],
      ['Location', '/hc/coap://%5Bfd00::1%5D:61616/coap-group/3'],
    ]);
  });
});

describe('entity tags and preconditions', () => {
  it('writes a CoAP ETag as a strong entity-tag of its base64url', () => {
    assert.equal(etagHeader(Buffer.from([0xa1, 0xb2, 0xc3])), '"obLD"');
  });

  it("turns a GET's If-None-Match into ETag options (a 2.03 is then a 304)", () => {
    const c = conditions('GET', undefined, '"obLD", W/"AQ", "not-ours!"');
    assert.equal(c.conditional, true);
    assert.deepEqual(
      c.options.map((o) => [o.number, o.value.toString('hex')]),
      [
        [Opt.ETag, 'a1b2c3'],
        [Opt.ETag, '01'],
      ],
    );
  });

  it('maps If-Match and If-None-Match: * to their options (RFC 7252 §5.10.8)', () => {
    assert.deepEqual(
      conditions('PUT', '*', '*').options.map((o) => [o.number, o.value.length]),
      [
        [Opt.IfMatch, 0],
        [Opt.IfNoneMatch, 0],
      ],
    );
    assert.deepEqual(
      conditions('PUT', '"obLD"', undefined).options[0]!.value,
      Buffer.from([0xa1, 0xb2, 0xc3]),
    );
  });

  it('refuses an If-Match no CoAP ETag can meet (412) and a header that is no tag list (400)', () => {
    refused(() => conditions('PUT', 'W/"obLD"', undefined), 412);
    refused(() => conditions('PUT', '"too-long-for-eight-bytes"', undefined), 412);
    refused(() => conditions('PUT', 'obLD', undefined), 400, /not an entity-tag list/);
    refused(() => conditions('GET', undefined, '"a", b'), 400);
  });
});

describe('the Reply-From header field (groupcomm-proxy §9.2, RFC 9651)', () => {
  it('encodes the CRI [-1, [host-ip, ?port]] (href §5.1), port omitted when 5683', () => {
    assert.equal(memberCri('127.0.0.2', 5683).toString('hex'), '822081447f000002');
    assert.equal(memberCri('192.0.2.1', 61616).toString('hex'), '82208244c000020119f0b0');
    assert.equal(memberCri('2001:db8::1', 5683).toString('hex'), '8220815020010db8000000000000000000000001');
    assert.equal(memberCri('2001:db8::1', 1234).toString('hex').slice(-6), '1904d2');
    assert.equal(memberCri('127.0.0.1', 5684).toString('hex'), '822082447f000001191634');
    assert.equal(memberCri('127.0.0.1', 7).toString('hex'), '822082447f00000107');
    assert.equal(memberCri('127.0.0.1', 200).toString('hex'), '822082447f00000118c8');
    // IPv4-mapped IPv6 as its four bytes; a zone is dropped.
    assert.equal(memberCri('::ffff:127.0.0.2', 5683).toString('hex'), '822081447f000002');
    assert.equal(memberCri('fe80::1%eth0', 5683).toString('hex'), '82208150fe800000000000000000000000000001');
  });

  it('writes the byte sequences of the brief and parses back to the same bytes', () => {
    assert.equal(replyFromHeader('127.0.0.2', 5683, serializeList), ':giCBRH8AAAI=:');
    assert.equal(replyFromHeader('127.0.0.3', 5683, serializeList), ':giCBRH8AAAM=:');
    assert.equal(replyFromHeader('2001:db8::1', 5683, serializeList), ':giCBUCABDbgAAAAAAAAAAAAAAAE=:');
    const [item] = parseList(replyFromHeader('192.0.2.1', 61616, serializeList));
    assert.deepEqual(Buffer.from(item![0] as ArrayBuffer), memberCri('192.0.2.1', 61616));
  });
});

describe('the multipart batch (groupcomm-proxy §9.6)', () => {
  const member = (address: string, text: string) => {
    const a = toHttpAnswer(
      { code: Code.Content, options: [opt(Opt.ContentFormat, 0)], payload: Buffer.from(text) },
      {
        conditional: false,
        base: parseUri('coap://224.0.1.187/light'),
        responder: { address, port: 5683 },
        prefix: PREFIX,
      },
    );
    a.headers.push(['Reply-From', replyFromHeader(address, 5683, serializeList)]);
    return httpMessage(a);
  };

  it('is byte for byte the vector: 401 bytes, CRLF everywhere, its SHA-256', () => {
    const body = batchBody([member('127.0.0.2', 'on'), member('127.0.0.3', 'off')], 'batch_7f3a9c2e');
    assert.equal(body.length, 401);
    assert.equal(
      createHash('sha256').update(body).digest('hex'),
      '9f50a9d0c76b607ea02b95fd278696544c99b260cadf4c9863f530349aadabb3',
    );
    assert.ok(
      body
        .toString('latin1')
        .split('\r\n')
        .every((line) => !line.includes('\n')),
    );
  });

  it('writes a part with no body without Content-Length (204, RFC 9110 §8.6)', () => {
    const a = toHttpAnswer({ code: Code.Changed, options: [], payload: Buffer.alloc(0) }, ctx);
    assert.equal(httpMessage(a).toString(), 'HTTP/1.1 204 No Content\r\n\r\n');
    const n = toHttpAnswer({ code: Code.NotFound, options: [], payload: Buffer.alloc(0) }, ctx);
    assert.equal(
      httpMessage(n).toString(),
      'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nCache-Control: max-age=60\r\n\r\n',
    );
  });
});

describe('the Multicast-Timeout header and the envelopes', () => {
  it('reads *DIGIT, the empty value as 0 (groupcomm-proxy §9.1)', () => {
    assert.equal(multicastTimeout('5'), 5);
    assert.equal(multicastTimeout(''), 0);
    assert.equal(multicastTimeout(' 12 '), 12);
  });

  it('refuses a missing one with an empty Multicast-Timeout, and one that is not digits', () => {
    const r = refused(() => multicastTimeout(undefined), 400, /needs a Multicast-Timeout header/);
    assert.deepEqual(r.headers, [['Multicast-Timeout', '']]);
    for (const bad of ['-1', '1.5', 'five', '5, 6', '99999999999'])
      refused(() => multicastTimeout(bad), 400, /is not a number of seconds/);
  });

  it('chooses the envelope by Accept and leaves the other ranges for the CoAP Accept', () => {
    assert.equal(chooseEnvelope(parseAccept(undefined)).envelope, 'multipart');
    assert.equal(chooseEnvelope(parseAccept('*/*')).envelope, 'multipart');
    assert.equal(chooseEnvelope(parseAccept('application/json')).envelope, 'json');
    const sse = chooseEnvelope(parseAccept('application/cbor;q=0.5, text/event-stream'));
    assert.equal(sse.envelope, 'sse');
    assert.deepEqual(
      sse.rest.map((r) => r.type),
      ['application/cbor'],
    );
  });

  it('writes a member as the CLI --json object, binary payloads in base64', () => {
    const text = memberJson(
      { code: Code.Content, options: [opt(Opt.ContentFormat, 0)], payload: Buffer.from('on') },
      { address: '127.0.0.2', port: 5683 },
      812.4,
    );
    assert.deepEqual(text, { from: '127.0.0.2:5683', code: '2.05', format: 0, payload: 'on', ms: 812 });
    const bin = memberJson(
      { code: Code.Content, options: [opt(Opt.ContentFormat, 60)], payload: Buffer.from([0xa1, 0x01]) },
      { address: '::1', port: 5683 },
      3,
    );
    assert.deepEqual(bin, { from: '[::1]:5683', code: '2.05', format: 60, payloadBase64: 'oQE=', ms: 3 });
    assert.equal(sseEvent('summary', { responses: 0 }), 'event: summary\ndata: {"responses":0}\n\n');
  });
});
