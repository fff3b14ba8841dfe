/**
 * The application/coap-group+json codec (RFC 7390 §2.6.2.1-§2.6.2.7, §6.2): the RFC's own
 * examples, canonical output, and every rejection rule. Indexes and properties are in
 * group-json-index.test.ts and group-json-property.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatCollection,
  formatMembership,
  GroupJsonError,
  MAX_GROUP_JSON_BYTES,
  type Membership,
  membershipPort,
  parseCollection,
  parseMembership,
} from '../../src/group-json/index.js';
import { ipv6ToBytes } from '../../src/util/ip.js';

/** R44: an "a" text compared by meaning: bytes of the address, and the port. */
function addressMeaning(text: string): string {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([\d.]+)(?::(\d+))?$/.exec(text);
  assert.ok(m, `not an address: ${text}`);
  const bytes = m[1]!.includes(':') ? ipv6ToBytes(m[1]!).toString('hex') : m[1]!;
  return `${bytes} port ${m[2] ?? 'none'}`;
}

/** A membership object's raw JSON compared by meaning: host case-insensitive, address by bytes. */
function meaning(raw: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw.n !== undefined) out.n = raw.n.toLowerCase();
  if (raw.a !== undefined) out.a = addressMeaning(raw.a);
  return out;
}

function assertRejects(fn: () => unknown, fragment: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof GroupJsonError, `expected GroupJsonError, got ${String(e)}`);
    assert.equal(e.code, 'ERR_COAP_GROUP_JSON');
    if (typeof fragment === 'string') assert.ok(e.message.includes(fragment), `message: ${e.message}`);
    else assert.match(e.message, fragment);
    return true;
  });
}

// The membership objects of RFC 7390 §2.6.2.1, §2.6.2.2, §2.6.2.5 and §2.6.2.7, as printed.
const RFC_MEMBERSHIPS = [
  '{ "n": "All-Devices.floor1.west.bldg6.example.com",\n  "a": "[ff15::4200:f7fe:ed37:abcd]:4567" }',
  '{ "n": "sensors.floor2.east.bldg6.example.com" }',
  '{ "n": "coap-test",\n  "a": "224.0.1.187:56789" }',
  '{ "a": "[ff15::c0a7:15:c001]" }',
  '{"n": "All-Devices.floor1.west.bldg6.example.com",\n "a": "[ff15::4200:f7fe:ed37:abcd]:4567"}',
  '{"n": "All-My-Devices.floor1.west.bldg6.example.com",\n "a": "[ff15::4200:f7fe:ed37:abcd]"}',
];

// The collections of RFC 7390 §2.6.2.4 (GET) and §2.6.2.6 (PUT, and PUT {} to clear).
const RFC_COLLECTIONS = [
  `{ "8" :{ "a": "[ff15::4200:f7fe:ed37:14ca]" },
     "11":{ "n": "sensors.floor1.west.bldg6.example.com",
            "a": "[ff15::4200:f7fe:ed37:25cb]" },
     "12":{ "n": "All-Devices.floor1.west.bldg6.example.com",
            "a": "[ff15::4200:f7fe:ed37:abcd]:4567" }
   }`,
  `{ "1":{ "a": "[ff15::4200:f7fe:ed37:1234]" },
     "2":{ "a": "[ff15::4200:f7fe:ed37:5678]" }
   }`,
  '{}',
];

describe('group-json: the RFC 7390 examples', () => {
  for (const text of RFC_MEMBERSHIPS) {
    it(`parses and round-trips the membership ${text.replace(/\s+/g, ' ')}`, () => {
      const m = parseMembership(text);
      const out = formatMembership(m);
      assert.deepEqual(meaning(JSON.parse(out)), meaning(JSON.parse(text)));
      assert.deepEqual(parseMembership(out), m);
      assert.equal(formatMembership(parseMembership(out)), out);
    });
  }

  for (const text of RFC_COLLECTIONS) {
    it(`parses and round-trips the collection ${text.replace(/\s+/g, ' ')}`, () => {
      const c = parseCollection(text);
      const out = formatCollection(c);
      const raw = JSON.parse(text) as Record<string, Record<string, string>>;
      const back = JSON.parse(out) as Record<string, Record<string, string>>;
      assert.deepEqual(Object.keys(back).sort(), Object.keys(raw).sort());
      for (const k of Object.keys(raw)) assert.deepEqual(meaning(back[k]!), meaning(raw[k]!));
      assert.deepEqual(parseCollection(out), c);
    });
  }

  it('reads the §2.6.2.1 example values into fields', () => {
    assert.deepEqual(parseMembership('{ "n": "coap-test", "a": "224.0.1.187:56789" }'), {
      n: { host: 'coap-test', port: undefined },
      a: { address: '224.0.1.187', family: 4, port: 56789 },
    });
    assert.deepEqual(parseMembership(RFC_MEMBERSHIPS[0]!), {
      n: { host: 'all-devices.floor1.west.bldg6.example.com', port: undefined },
      a: { address: 'ff15::4200:f7fe:ed37:abcd', family: 6, port: 4567 },
    });
  });

  it('keeps the §2.6.2.4 indexes in document order, though "8" and "12" look like integers', () => {
    assert.deepEqual([...parseCollection(RFC_COLLECTIONS[0]!).keys()], ['8', '11', '12']);
    assert.deepEqual(
      [...parseCollection('{"12":{"a":"[ff15::1]"},"8":{"a":"[ff15::2]"}}').keys()],
      ['12', '8'],
    );
  });

  it('reads {} as an empty collection and writes an empty collection as {}', () => {
    assert.equal(parseCollection('{}').size, 0);
    assert.equal(parseCollection(' { } ').size, 0);
    assert.equal(formatCollection(new Map()), '{}');
  });
});

describe('group-json: canonical output', () => {
  it('writes IPv6 in RFC 5952 form, bracketed, whatever form was submitted (R44)', () => {
    const m = parseMembership('{"a":"[FF15:0000:0:0:0:0:0:00AB]:5683"}');
    assert.deepEqual(m.a, { address: 'ff15::ab', family: 6, port: 5683 });
    assert.equal(formatMembership(m), '{"a":"[ff15::ab]:5683"}');
    assert.equal(
      formatMembership(parseMembership('{"a":"[ff15::224.0.1.187]"}')),
      '{"a":"[ff15::e000:1bb]"}',
    );
  });

  it('writes keys in the order n, a and omits a port that was not given', () => {
    const m: Membership = { a: { address: 'ff02::fd', family: 6, port: undefined } };
    m.n = { host: 'lights.example', port: 7000 };
    assert.equal(formatMembership(m), '{"n":"lights.example:7000","a":"[ff02::fd]"}');
    assert.deepEqual(Object.keys(parseMembership('{"a":"224.0.1.187","n":"x.example"}')), ['n', 'a']);
  });

  it('lower-cases host names and drops one trailing dot', () => {
    assert.deepEqual(parseMembership('{"n":"Lights.Example.COM.:5683"}').n, {
      host: 'lights.example.com',
      port: 5683,
    });
  });

  it('writes collection indexes lower case, in insertion order', () => {
    const c = new Map<string, Membership>([
      ['Z', { a: { address: '224.0.1.187', family: 4, port: undefined } }],
      ['1', { n: { host: 'a.example', port: undefined } }],
    ]);
    assert.equal(formatCollection(c), '{"z":{"a":"224.0.1.187"},"1":{"n":"a.example"}}');
    assert.deepEqual([...parseCollection('{"Ab":{"a":"224.0.1.1"}}').keys()], ['ab']);
  });

  it('reads a Buffer the same as a string, and allows JSON whitespace', () => {
    const text = '\r\n\t{ "a" : "224.0.1.187" , "n" : "x.example" }\n';
    assert.deepEqual(parseMembership(Buffer.from(text)), parseMembership(text));
  });

  it('accepts ports 1 and 65535', () => {
    assert.equal(parseMembership('{"a":"224.0.1.187:1"}').a?.port, 1);
    assert.equal(parseMembership('{"a":"[ff05::fd]:65535"}').a?.port, 65535);
  });
});

describe('group-json: membershipPort', () => {
  it('takes the port of "a", else 5683 when "a" has none, even if "n" has one (RFC 7390 §2.6.2.2)', () => {
    assert.equal(membershipPort(parseMembership('{"n":"x.example:7000","a":"[ff15::1]:4567"}')), 4567);
    assert.equal(membershipPort(parseMembership('{"n":"x.example:7000","a":"[ff15::1]"}')), 5683);
  });

  it('takes the port of "n" when there is no "a", else 5683 (R36)', () => {
    assert.equal(membershipPort(parseMembership('{"n":"x.example:7000"}')), 7000);
    assert.equal(membershipPort(parseMembership('{"n":"x.example"}')), 5683);
  });
});

// [behaviour, payload, message fragment]; every one must throw GroupJsonError.
const REJECTED_MEMBERSHIPS: ReadonlyArray<readonly [string, string, string]> = [
  ['a top-level array', '[{"a":"224.0.1.187"}]', 'not an array'],
  ['a top-level string', '"224.0.1.187"', 'not a string'],
  ['a top-level null', 'null', 'not null'],
  ['text that is not JSON', '{"a":"224.0.1.187",}', 'not valid JSON'],
  ['an empty payload', '', 'not valid JSON'],
  ['a repeated key', '{"a":"224.0.1.187","a":"224.0.1.188"}', 'duplicate member name "a"'],
  [
    'a key repeated through an escape',
    '{"a":"224.0.1.187","\\u0061":"224.0.1.188"}',
    'duplicate member name "a"',
  ],
  ['an unknown key', '{"a":"224.0.1.187","x":"1"}', 'unknown member "x"'],
  ['a key in the wrong case', '{"A":"224.0.1.187"}', 'unknown member "A"'],
  ['an object with neither "n" nor "a"', '{}', 'needs "a", "n" or both'],
  ['a number value', '{"a":224}', 'member "a" must be a string, not a number'],
  ['a null value', '{"n":null}', 'member "n" must be a string, not null'],
  ['an object value', '{"n":{"host":"x"}}', 'member "n" must be a string, not an object'],
  ['a unicast IPv4 "a"', '{"a":"10.0.0.1"}', 'member "a": "10.0.0.1" is not a multicast address'],
  ['a unicast IPv6 "a"', '{"a":"[2001:db8::1]"}', 'is not a multicast address (ff00::/8)'],
  ['"ff::1", which is 00ff::1, not ff00::/8', '{"a":"[ff::1]"}', 'is not a multicast address'],
  ['a zone in "a" (RFC 6874 form)', '{"a":"[ff02::fd%25eth0]"}', 'has a zone'],
  ['a zone in "a" (bare form)', '{"a":"[ff02::fd%eth0]:5683"}', 'has a zone'],
  ['a zone on an IPv4 "a"', '{"a":"224.0.1.187%eth0"}', 'has a zone'],
  ['a bare IPv6 "a"', '{"a":"ff15::1"}', 'must be in brackets'],
  ['a bare IPv6 "a" that looks like it has a port', '{"a":"ff15::1:4567"}', 'must be in brackets'],
  ['an "a" without its closing bracket', '{"a":"[ff15::1"}', 'without a closing "]"'],
  ['text after "]" that is not a port', '{"a":"[ff15::1]x"}', 'only ":port" may follow'],
  ['an IPvFuture literal', '{"a":"[v1.ff15]"}', 'IPvFuture'],
  ['bracket content that is not IPv6', '{"a":"[224.0.1.187]"}', 'is not an IPv6 address'],
  ['an IPv4 octet with a leading zero', '{"a":"224.0.1.087"}', 'is not an IPv4 address'],
  ['an IPv4 octet above 255', '{"a":"224.0.1.256"}', 'is not an IPv4 address'],
  ['a host name in "a"', '{"a":"lights.example"}', 'a host name belongs in "n"'],
  ['an empty "a"', '{"a":""}', 'member "a": is empty'],
  ['port 0', '{"a":"224.0.1.187:0"}', 'port "0"'],
  ['port 65536', '{"a":"[ff15::1]:65536"}', 'port "65536"'],
  ['an empty port', '{"a":"224.0.1.187:"}', 'port ""'],
  ['a port with "+"', '{"a":"224.0.1.187:+80"}', 'port "+80"'],
  ['a negative port', '{"a":"224.0.1.187:-1"}', 'port "-1"'],
  ['a port with a leading zero', '{"a":"224.0.1.187:080"}', 'port "080"'],
  ['a port with spaces', '{"a":"224.0.1.187: 80"}', 'port " 80"'],
  ['a port on "n" that is not a number', '{"n":"x.example:http"}', 'member "n": port "http"'],
  ['an IPv4 literal in "n"', '{"n":"224.0.1.187"}', 'IP addresses belong in "a"'],
  ['an IPv4 literal with port in "n"', '{"n":"224.0.1.187:5683"}', 'IP addresses belong in "a"'],
  ['a bracketed IPv6 literal in "n"', '{"n":"[ff15::1]"}', 'IP addresses belong in "a"'],
  ['a bare IPv6 literal in "n"', '{"n":"ff15::1"}', 'IP addresses belong in "a"'],
  ['a numeric last label in "n", which resolvers read as IPv4', '{"n":"10.1"}', 'numeric label'],
  ['a hex number in "n", which resolvers read as IPv4', '{"n":"0x7f000001"}', 'numeric label'],
  ['a label starting with a hyphen', '{"n":"-x.example"}', 'label "-x"'],
  ['a label ending with a hyphen', '{"n":"x-.example"}', 'label "x-"'],
  ['a label with an underscore', '{"n":"_coap._udp.example"}', 'label "_coap"'],
  ['a non-ASCII label (U-label)', '{"n":"bücher.example"}', 'label "bücher"'],
  ['a label of 64 characters', `{"n":"${'a'.repeat(64)}.example"}`, 'at most 63'],
  [
    'a host name of 254 characters',
    `{"n":"${`${'a'.repeat(63)}.`.repeat(3)}${'a'.repeat(62)}"}`,
    'at most 253',
  ],
  ['an empty label', '{"n":"x..example"}', 'has an empty label'],
  ['a leading dot', '{"n":".example"}', 'has an empty label'],
  ['a host name that is only a dot', '{"n":"."}', 'the host name is empty'],
  ['an empty "n"', '{"n":""}', 'member "n": is empty'],
];

describe('group-json: parseMembership rejects', () => {
  for (const [behaviour, payload, fragment] of REJECTED_MEMBERSHIPS) {
    it(behaviour, () => assertRejects(() => parseMembership(payload), fragment));
  }

  it('accepts a host name of exactly 253 characters, labels of 63', () => {
    const host = `${`${'a'.repeat(63)}.`.repeat(3)}${'a'.repeat(61)}`;
    assert.equal(host.length, 253);
    assert.equal(parseMembership(`{"n":"${host}."}`).n?.host, host);
  });
});

describe('group-json: payload rules', () => {
  it('rejects bytes that are not UTF-8', () => {
    assertRejects(
      () => parseMembership(Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])),
      'UTF-8',
    );
  });

  it('rejects a UTF-8 byte order mark, in bytes and in text', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":"224.0.1.187"}')]);
    assertRejects(() => parseMembership(body), 'byte order mark');
    assertRejects(() => parseCollection('\ufeff{}'), 'byte order mark');
  });

  it('rejects text with a lone surrogate, which has no UTF-8 form', () => {
    assertRejects(() => parseMembership('{"n":"x\ud800.example"}'), 'lone surrogate');
  });

  it('rejects a payload over MAX_GROUP_JSON_BYTES before parsing it', () => {
    const pad = ' '.repeat(MAX_GROUP_JSON_BYTES);
    assertRejects(() => parseCollection(`{}${pad}`), `${MAX_GROUP_JSON_BYTES}`);
    assertRejects(() => parseCollection(Buffer.from(`{}${pad}`)), `${MAX_GROUP_JSON_BYTES}`);
    // Counted in UTF-8 bytes, not characters: 2 bytes each.
    assertRejects(() => parseCollection(`"${'é'.repeat(MAX_GROUP_JSON_BYTES / 2)}"`), 'larger than');
    assert.equal(parseCollection(`{}${' '.repeat(MAX_GROUP_JSON_BYTES - 2)}`).size, 0);
  });

  it('survives deep nesting without a stack overflow', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    assertRejects(() => parseCollection(deep), 'not an array');
  });
});

describe('group-json: parseCollection rejects', () => {
  const m = '{"a":"224.0.1.187"}';
  it('a top-level array, string or null', () => {
    assertRejects(() => parseCollection(`[${m}]`), 'must be a JSON object, not an array');
    assertRejects(() => parseCollection('"x"'), 'not a string');
    assertRejects(() => parseCollection('null'), 'not null');
  });

  it('indexes that are not 1-2 ASCII alphanumerics', () => {
    for (const key of ['123', '', 'a-', 'é', ' 1', '1.']) {
      assertRejects(() => parseCollection(`{${JSON.stringify(key)}:${m}}`), `index ${JSON.stringify(key)}`);
    }
  });

  it('two indexes equal but for case', () => {
    assertRejects(() => parseCollection(`{"a1":${m},"A1":${m}}`), 'index "A1" is the same index as "a1"');
  });

  it('a repeated index, which JSON.parse would silently collapse', () => {
    assertRejects(() => parseCollection(`{"1":${m},"1":{"a":"224.0.1.188"}}`), 'duplicate member name "1"');
  });

  it('a repeated key inside one membership, naming the index', () => {
    assertRejects(
      () => parseCollection('{"8":{"a":"224.0.1.187","a":"224.0.1.188"}}'),
      'duplicate member name "a" inside "8"',
    );
  });

  it('a bad membership, naming its index', () => {
    assertRejects(
      () => parseCollection(`{"8":${m},"9":{"a":"10.0.0.1"}}`),
      /^index "9": member "a": "10\.0\.0\.1"/,
    );
    assertRejects(
      () => parseCollection('{"9":["224.0.1.187"]}'),
      'index "9": a group membership must be a JSON object',
    );
    assertRejects(() => parseCollection('{"9":{}}'), 'index "9": a group membership needs');
  });

  it('more entries than there are indexes (1332)', () => {
    const entries = Array.from({ length: 1333 }, (_, i) => `"${i}":${m}`);
    assertRejects(() => parseCollection(`{${entries.join(',')}}`), '1333 memberships');
  });
});

describe('group-json: formatting rejects what it cannot write', () => {
  it('a membership with neither "n" nor "a"', () => {
    assertRejects(() => formatMembership({}), 'needs "a", "n" or both');
  });

  it('a unicast address, a wrong family, a zone, a bad port', () => {
    assertRejects(
      () => formatMembership({ a: { address: '10.0.0.1', family: 4, port: undefined } }),
      'multicast',
    );
    assertRejects(
      () => formatMembership({ a: { address: 'ff15::1', family: 4, port: undefined } }),
      'not an IPv4',
    );
    assertRejects(
      () => formatMembership({ a: { address: 'ff02::1%eth0', family: 6, port: undefined } }),
      'zone',
    );
    assertRejects(() => formatMembership({ a: { address: '224.0.1.187', family: 4, port: 0 } }), 'port 0');
    assertRejects(
      () => formatMembership({ a: { address: '224.0.1.187', family: 4, port: 1.5 } }),
      'port 1.5',
    );
  });

  it('an invalid host name', () => {
    assertRejects(() => formatMembership({ n: { host: 'bad_host', port: undefined } }), 'label "bad_host"');
  });

  it('an invalid index, or two indexes equal but for case', () => {
    const m: Membership = { n: { host: 'x.example', port: undefined } };
    assertRejects(() => formatCollection(new Map([['abc', m]])), 'index "abc"');
    assertRejects(
      () =>
        formatCollection(
          new Map([
            ['b', m],
            ['B', m],
          ]),
        ),
      'index "B" is the same index as "b"',
    );
  });
});
