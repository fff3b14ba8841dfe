/**
 * The resource directory's compiled lookup criteria (rd/match) agree with the link-format
 * module's `matchesFilter` (RFC 6690 §4.1) on random links and criteria: prefixes, presence,
 * relation-type lists, href, names in any case, valueless attributes.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { type Link, matchesFilter } from '../../src/link-format/index.js';
import { endpointSelected, parseLookupQuery, resourcesSelected } from '../../src/rd/lookup.js';
import { compileCriterion } from '../../src/rd/match.js';
import { makeRegistration } from '../../src/rd/registration.js';

const NAMES = ['rt', 'RT', 'if', 'ct', 'rel', 'anchor', 'title', 'obs', 'href', 'HREF', 'ep', 'x'];
const WORDS = ['', 'a', 'ab', 'abc', 'core.s', 'core', 'light', 'li', '40', '4'];
const value = fc.oneof(
  fc.constantFrom(...WORDS),
  fc
    .array(fc.constantFrom(...WORDS.filter((w) => w !== '')), { minLength: 1, maxLength: 3 })
    .map((w) => w.join(' ')),
);
const link: fc.Arbitrary<Link> = fc.record({
  href: fc.constantFrom('/a', '/ab', 'coap://h/a', 'abc', ''),
  attributes: fc.array(
    fc.tuple(
      fc.constantFrom(...NAMES.filter((n) => n !== 'href' && n !== 'HREF')),
      fc.oneof(value, fc.constant(true as const)),
    ) as fc.Arbitrary<[string, string | true]>,
    { maxLength: 4 },
  ),
});
const criterion = fc.tuple(
  fc.constantFrom(...NAMES),
  fc.oneof(
    value,
    value.map((v) => `${v}*`),
    fc.constant('*'),
  ),
);

it('a compiled criterion matches exactly the links matchesFilter matches', () => {
  fc.assert(
    fc.property(link, criterion, (l, [name, v]) => {
      assert.equal(
        compileCriterion(name, v)(l),
        matchesFilter(l, name, v),
        `${name}=${v} on ${JSON.stringify(l)}`,
      );
    }),
    { numRuns: 5000 },
  );
});

it('the digest never hides a match: lookups select what matchesFilter selects', () => {
  fc.assert(
    fc.property(fc.array(link, { maxLength: 4 }), criterion, (links, [name, v]) => {
      const reg = makeRegistration(
        {
          id: '1',
          order: 1,
          ep: 'ab',
          d: 'a',
          base: 'coap://h',
          baseGiven: true,
          lt: 60,
          attributes: [['et', 'core']],
          links,
          owner: 'x',
          simple: false,
          expiresAt: 0,
        },
        '/rd',
      );
      const [c] = parseLookupQuery([`${name}=${v}`]).criteria;
      const byEndpoint = matchesFilter(reg.endpointLink, name, v);
      const expected = reg.resolved.filter((l) => byEndpoint || matchesFilter(l, name, v));
      assert.deepEqual(resourcesSelected(reg, [c!]), expected, `${name}=${v}`);
      assert.equal(endpointSelected(reg, [c!]), byEndpoint || expected.length > 0);
    }),
    { numRuns: 3000 },
  );
});
