/**
 * Tests of the CoRE Link Format codec and query filtering (RFC 6690 §2, §4.1, §5).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CoapError, InvalidArgumentError } from '../../src/errors.js';
import type { Link } from '../../src/link-format/index.js';
import {
  filterLinks,
  formatLinks,
  LinkFormatError,
  linkAttribute,
  matchesFilter,
  parseLinks,
} from '../../src/link-format/index.js';

/** RFC 6690 §5, the anchor example, with its line feeds. */
const RFC_ANCHORS =
  '</sensors>;ct=40;title="Sensor Index",\n' +
  '</sensors/temp>;rt="temperature-c";if="sensor",\n' +
  '</sensors/light>;rt="light-lux";if="sensor",\n' +
  '<http://www.example.com/sensors/t123>;anchor="/sensors/temp"\n' +
  ';rel="describedby",\n' +
  '</t>;anchor="/sensors/temp";rel="alternate"';

const hrefs = (links: readonly Link[]): string[] => links.map((l) => l.href);

function throwsAt(text: string, offset: number): void {
  assert.throws(
    () => parseLinks(text),
    (e: unknown) => e instanceof LinkFormatError && e.code === 'ERR_COAP_LINK_FORMAT' && e.offset === offset,
  );
}

describe('parseLinks', () => {
  test('reads the RFC 6690 §5 sensor list written on one line', () => {
    assert.deepEqual(parseLinks('</sensors/temp>;if="sensor",</sensors/light>;if="sensor"'), [
      { href: '/sensors/temp', attributes: [['if', 'sensor']] },
      { href: '/sensors/light', attributes: [['if', 'sensor']] },
    ]);
  });

  test('reads the RFC 6690 §5 anchor example across line feeds, bare and quoted values', () => {
    const links = parseLinks(RFC_ANCHORS);
    assert.equal(links.length, 5);
    assert.deepEqual(links[0], {
      href: '/sensors',
      attributes: [
        ['ct', '40'],
        ['title', 'Sensor Index'],
      ],
    });
    assert.deepEqual(links[3], {
      href: 'http://www.example.com/sensors/t123',
      attributes: [
        ['anchor', '/sensors/temp'],
        ['rel', 'describedby'],
      ],
    });
  });

  test('reads the RFC 6690 §5 firmware link with a large sz', () => {
    assert.deepEqual(parseLinks('</firmware/v2.1>;rt="firmware";sz=262144'), [
      {
        href: '/firmware/v2.1',
        attributes: [
          ['rt', 'firmware'],
          ['sz', '262144'],
        ],
      },
    ]);
  });

  test('gives true for a valueless attribute and keeps attribute order and repeats', () => {
    assert.deepEqual(parseLinks('</obs>;obs;rt="a";ct=0;rt="b"')[0]!.attributes, [
      ['obs', true],
      ['rt', 'a'],
      ['ct', '0'],
      ['rt', 'b'],
    ]);
  });

  test('keeps commas and semicolons inside quoted strings', () => {
    const links = parseLinks('</a>;title="one, two; three",</b>;title=";,"');
    assert.deepEqual(hrefs(links), ['/a', '/b']);
    assert.equal(linkAttribute(links[0]!, 'title'), 'one, two; three');
    assert.equal(linkAttribute(links[1]!, 'title'), ';,');
  });

  test('unescapes quoted-pairs in quoted strings', () => {
    const [link] = parseLinks(String.raw`</a>;title="say \"hi\" \\ \x";e=""`);
    assert.deepEqual(link!.attributes, [
      ['title', 'say "hi" \\ x'],
      ['e', ''],
    ]);
  });

  test('tolerates whitespace around links, commas, semicolons and equals signs', () => {
    const links = parseLinks(' \r\n</a> ;\trt = "x" ; obs ,\r\n\t</b>\n');
    assert.deepEqual(links, [
      {
        href: '/a',
        attributes: [
          ['rt', 'x'],
          ['obs', true],
        ],
      },
      { href: '/b', attributes: [] },
    ]);
  });

  test('gives no links for an empty or blank payload', () => {
    assert.deepEqual(parseLinks(''), []);
    assert.deepEqual(parseLinks(' \n\t'), []);
  });

  test('accepts an empty target and a bare ext-value', () => {
    assert.deepEqual(parseLinks("<>;title*=UTF-8'de'n%c3%a4chstes"), [
      { href: '', attributes: [['title*', "UTF-8'de'n%c3%a4chstes"]] },
    ]);
  });

  test('reports the offset of the character it cannot accept', () => {
    throwsAt('x', 0);
    throwsAt('</a>x', 4);
    throwsAt('</a>;rt=x y', 10);
    throwsAt('</a>;', 5);
    throwsAt('</a>;=x', 5);
    throwsAt('</a>;rt=', 8);
    throwsAt('</a>;rt=,</b>', 8);
    throwsAt('</a b>', 3);
    throwsAt('<a<b>', 2);
    throwsAt('</a>;rt="x"y', 11);
  });

  test('reports the end of the text for a trailing or doubled comma', () => {
    throwsAt('</a>,', 5);
    throwsAt('</a>, ', 6);
    throwsAt('</a>,,</b>', 5);
  });

  test('reports the opening of an unclosed target or quoted string', () => {
    throwsAt('</a', 0);
    throwsAt('</a>;rt="x', 8);
    throwsAt('</a>;rt="x\\"', 8);
    throwsAt('</a>;rt="x\\', 8);
  });

  test('refuses a star name without a bare ext-value', () => {
    throwsAt('</a>;title*', 11);
    throwsAt('</a>;title*="x"', 12);
  });

  test('the error is a CoapError with the offset in its message', () => {
    try {
      parseLinks('</a>;');
      assert.fail('expected a throw');
    } catch (e) {
      assert.ok(e instanceof CoapError);
      assert.match((e as Error).message, /at offset 5/);
    }
  });

  test('arbitrary text either parses or throws LinkFormatError', () => {
    const fragment = fc.constantFrom(
      '<',
      '>',
      '/a',
      ';',
      ',',
      '=',
      '"',
      '\\',
      ' ',
      '\n',
      'rt',
      '*',
      'x',
      '40',
    );
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.array(fragment, { maxLength: 30 }).map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(text, (s) => {
        try {
          parseLinks(s);
        } catch (e) {
          return e instanceof LinkFormatError && Number.isInteger(e.offset) && e.offset <= s.length;
        }
        return true;
      }),
      { numRuns: 3000 },
    );
  });
});

describe('formatLinks', () => {
  test('writes the RFC 6690 §5 examples byte for byte', () => {
    const sensors =
      '</sensors/temp>;rt="temperature-c";if="sensor",</sensors/light>;rt="light-lux";if="sensor"';
    assert.equal(formatLinks(parseLinks(sensors)), sensors);
    assert.equal(formatLinks(parseLinks(RFC_ANCHORS)), RFC_ANCHORS.replaceAll('\n', ''));
  });

  test('writes numbers bare for ct and sz, quotes text, and writes a valueless attribute by name', () => {
    const link: Link = {
      href: '/s',
      attributes: [
        ['ct', '40'],
        ['sz', '262144'],
        ['obs', true],
        ['ct', '40 0'],
        ['title', 'Index'],
      ],
    };
    assert.equal(formatLinks([link]), '</s>;ct=40;sz=262144;obs;ct="40 0";title="Index"');
  });

  test('quotes numbers in attributes whose ABNF is a quoted string or relation type', () => {
    const link: Link = {
      href: '/s',
      attributes: [
        ['rt', '1'],
        ['IF', '2'],
        ['title', '3'],
        ['anchor', '4'],
        ['rel', '5'],
      ],
    };
    assert.equal(formatLinks([link]), '</s>;rt="1";IF="2";title="3";anchor="4";rel="5"');
  });

  test('escapes quotes, backslashes and control characters inside quoted strings', () => {
    const link: Link = { href: '/s', attributes: [['title', 'a "b" \\c\n']] };
    const text = formatLinks([link]);
    assert.equal(text, '</s>;title="a \\"b\\" \\\\c\\\n"');
    assert.deepEqual(parseLinks(text), [link]);
  });

  test('writes an empty list as the empty string and an empty value as ""', () => {
    assert.equal(formatLinks([]), '');
    assert.equal(formatLinks([{ href: '', attributes: [['e', '']] }]), '<>;e=""');
  });

  test('writes an ext-value bare', () => {
    assert.equal(
      formatLinks([{ href: '/s', attributes: [['title*', "UTF-8'en'x"]] }]),
      "</s>;title*=UTF-8'en'x",
    );
  });

  test('refuses input it cannot write validly, with InvalidArgumentError', () => {
    const bad: Link[] = [
      { href: '/a>b', attributes: [] },
      { href: '/a b', attributes: [] },
      { href: '/a"', attributes: [] },
      { href: '/a', attributes: [['r t', 'x']] },
      { href: '/a', attributes: [['', 'x']] },
      { href: '/a', attributes: [['a*b', 'x']] },
      { href: '/a', attributes: [['title*', true]] },
      { href: '/a', attributes: [['title*', 'has space']] },
    ];
    for (const link of bad) {
      assert.throws(
        () => formatLinks([link]),
        (e: unknown) => e instanceof InvalidArgumentError && e.code === 'ERR_COAP_INVALID_ARGUMENT',
        JSON.stringify(link),
      );
    }
  });

  const hrefChar = fc.constantFrom(..."/abcXYZ019-._~:?#[]@!$&'()*+,;=%é".split(''));
  const nameChar = fc.constantFrom(...'abzAZ09!#$&+-.^_`|~'.split(''));
  const ptokenChar = fc.constantFrom(..."aZ09!#$%&'()*+-./:<=>?@[]^_`{|}~".split(''));
  const plainName = fc.string({ unit: nameChar, minLength: 1, maxLength: 6 });
  const attribute: fc.Arbitrary<[string, string | true]> = fc.oneof(
    fc.tuple(plainName, fc.oneof(fc.constant<true>(true), fc.string({ unit: 'binary', maxLength: 12 }))),
    fc.tuple(plainName, fc.nat().map(String)),
    fc.tuple(
      plainName.map((n) => `${n}*`),
      fc.string({ unit: ptokenChar, minLength: 1, maxLength: 8 }),
    ),
  );
  const link: fc.Arbitrary<Link> = fc
    .record({
      href: fc.string({ unit: hrefChar, maxLength: 16 }),
      attributes: fc.array(attribute, { maxLength: 5 }),
    })
    .map((l) => ({ href: l.href, attributes: l.attributes }));

  test('parseLinks reads back exactly what formatLinks writes', () => {
    fc.assert(
      fc.property(fc.array(link, { maxLength: 5 }), (links) => {
        assert.deepEqual(parseLinks(formatLinks(links)), links);
      }),
      { numRuns: 2000 },
    );
  });

  test('formatLinks can write back anything parseLinks accepts', () => {
    const fragment = fc.constantFrom('</a>', '<>', ';', ',', '=', '"q"', '"\\""', 'rt', 'n*', '1', ' ', 'x');
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 20 }), (parts) => {
        let links: Link[];
        try {
          links = parseLinks(parts.join(''));
        } catch {
          return;
        }
        assert.deepEqual(parseLinks(formatLinks(links)), links);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('filtering', () => {
  const links = parseLinks(RFC_ANCHORS);

  test('rt=temperature-c selects the temperature sensor (RFC 6690 §4)', () => {
    assert.deepEqual(hrefs(filterLinks(links, ['rt=temperature-c'])), ['/sensors/temp']);
  });

  test('href=/sensors* matches link targets by prefix (RFC 6690 §4.1)', () => {
    assert.deepEqual(hrefs(filterLinks(links, ['href=/sensors*'])), [
      '/sensors',
      '/sensors/temp',
      '/sensors/light',
    ]);
    assert.deepEqual(hrefs(filterLinks(links, ['href=/t'])), ['/t']);
  });

  test('anchor=/sensors/temp finds the relations about that resource (RFC 6690 §5)', () => {
    assert.deepEqual(hrefs(filterLinks(links, ['anchor=/sensors/temp'])), [
      'http://www.example.com/sensors/t123',
      '/t',
    ]);
  });

  test('a value matches any one entry of a space-separated rt list (RFC 6690 §5)', () => {
    const [light] = parseLinks('</sensors/light>;rt="light-lux core.sen-light";if="sensor"');
    assert.ok(matchesFilter(light!, 'rt', 'light-lux'));
    assert.ok(matchesFilter(light!, 'rt', 'core.sen-light'));
    assert.ok(matchesFilter(light!, 'rt', 'core.sen*'));
    assert.ok(!matchesFilter(light!, 'rt', 'light'));
    assert.ok(!matchesFilter(light!, 'rt', 'light-lux core.sen-light'));
  });

  test('ct is a list too (RFC 7252 §7.2.1)', () => {
    const [link] = parseLinks('</x>;ct="40 0"');
    assert.ok(matchesFilter(link!, 'ct', '0'));
    assert.ok(!matchesFilter(link!, 'ct', '4'));
  });

  test('other attributes compare whole and bitwise', () => {
    assert.deepEqual(hrefs(filterLinks(links, ['title=Sensor Index'])), ['/sensors']);
    assert.deepEqual(hrefs(filterLinks(links, ['title=Sensor'])), []);
    assert.deepEqual(hrefs(filterLinks(links, ['title=Sensor*'])), ['/sensors']);
    assert.deepEqual(hrefs(filterLinks(links, ['title=sensor index'])), []);
  });

  test('name=* and a bare name match links that have the attribute, whatever its value', () => {
    const some = parseLinks('</a>;obs,</b>;rt="",</c>');
    assert.deepEqual(hrefs(filterLinks(some, ['obs=*'])), ['/a']);
    assert.deepEqual(hrefs(filterLinks(some, ['obs'])), ['/a']);
    assert.deepEqual(hrefs(filterLinks(some, ['rt=*'])), ['/b']);
    assert.deepEqual(hrefs(filterLinks(some, ['href'])), ['/a', '/b', '/c']);
  });

  test('a filter on an attribute the link lacks does not match', () => {
    assert.deepEqual(hrefs(filterLinks(links, ['if=*'])), ['/sensors/temp', '/sensors/light']);
    assert.deepEqual(hrefs(filterLinks(links, ['sz=*'])), []);
    assert.ok(!matchesFilter(links[0]!, 'rt', '*'));
  });

  test('every query argument must match', () => {
    assert.deepEqual(hrefs(filterLinks(links, ['if=sensor', 'rt=light*'])), ['/sensors/light']);
    assert.deepEqual(hrefs(filterLinks(links, ['if=sensor', 'href=/t'])), []);
  });

  test('no query arguments keep every link', () => {
    assert.deepEqual(filterLinks(links, []), links);
  });

  test('names compare case-insensitively, values do not', () => {
    assert.deepEqual(hrefs(filterLinks(links, ['RT=light-lux'])), ['/sensors/light']);
    assert.deepEqual(hrefs(filterLinks(links, ['rt=LIGHT-LUX'])), []);
    assert.equal(linkAttribute(links[0]!, 'CT'), '40');
  });

  test('a valueless attribute matches only the empty value and prefixes of it', () => {
    const [link] = parseLinks('</a>;obs');
    assert.ok(matchesFilter(link!, 'obs', ''));
    assert.ok(!matchesFilter(link!, 'obs', 'x*'));
  });

  test('linkAttribute gives the first value, true for a valueless one, undefined when absent', () => {
    const [link] = parseLinks('</a>;rt="x";rt="y";obs');
    assert.equal(linkAttribute(link!, 'rt'), 'x');
    assert.equal(linkAttribute(link!, 'obs'), true);
    assert.equal(linkAttribute(link!, 'if'), undefined);
  });
});
