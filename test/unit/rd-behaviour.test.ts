/**
 * How a resource directory behaves over time and between requesters: lifetimes on virtual time
 * (RFC 9176 §5, §5.3.1), authorization (RFC 9176 §7.5; commissioning tools, §5.2 and Appendix
 * A), lookup filtering (RFC 9176 §6.2: every criterion, matched by the link or its endpoint,
 * prefixes, href as URI or path), and observed lookups that notify exactly when their result
 * can change (RFC 9176 §6.2, RFC 7641).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CoapResponse } from '../../src/client/response.js';
import { formatLinks } from '../../src/link-format/index.js';
import { CT, drive, location, meaning, type RdMem, rdMem } from '../support/rd-mem.js';

const T = { timeout: 20_000 };

async function reg(m: RdMem, from: string, query: string, links = '</l>;rt=light'): Promise<string> {
  const res = await m.send(from, { method: 'POST', path: `/rd?${query}`, payload: links, format: 40 });
  assert.equal(res.codeString, '2.01', `${query}: ${res.codeString} ${res.text()}`);
  return location(res);
}

const eps = (text: string) =>
  meaning(text).map((l) => l.attributes.find((a) => a.startsWith('ep='))!.slice(3));

describe('resource directory: lifetimes on virtual time', () => {
  it('a registration lives lt seconds; an update restarts it, with or without a new lt', T, async () => {
    const m = await rdMem();
    try {
      const loc = await reg(m, '192.0.2.20', 'ep=a&lt=60');
      await m.rt.advance(59_999);
      assert.equal(m.rd.registrations().length, 1);
      assert.equal((await m.send('192.0.2.20', { method: 'POST', path: loc })).codeString, '2.04');
      await m.rt.advance(59_000);
      assert.equal(m.rd.registrations().length, 1, 'the update restarted the 60 s');
      assert.equal((await m.send('192.0.2.20', { method: 'POST', path: `${loc}?lt=10` })).codeString, '2.04');
      await m.rt.advance(9_999);
      assert.equal(m.rd.registrations().length, 1);
      await m.rt.advance(1);
      assert.equal(m.rd.registrations().length, 0, 'gone when the new lifetime ends');
      // RFC 9176 §5.3.1: after expiry the update fails and the endpoint registers again.
      assert.equal((await m.send('192.0.2.20', { method: 'POST', path: loc })).codeString, '4.04');
      const again = await reg(m, '192.0.2.20', 'ep=a&lt=60');
      assert.notEqual(again, loc, 'a location is never handed out twice');
    } finally {
      await m.close();
    }
  });

  it('without lt, a registration lives 90000 s (25 hours)', T, async () => {
    const m = await rdMem();
    try {
      await reg(m, '192.0.2.20', 'ep=a');
      await m.rt.advance(89_999_999);
      assert.equal(m.rd.registrations().length, 1);
      await m.rt.advance(1);
      assert.equal(m.rd.registrations().length, 0);
    } finally {
      await m.close();
    }
  });

  it('the longest lifetime (136 years) neither expires early nor spins the timer', T, async () => {
    const m = await rdMem();
    try {
      await reg(m, '192.0.2.20', 'ep=a&lt=4294967295');
      await m.rt.advance(40 * 24 * 3600 * 1000);
      assert.equal(m.rd.registrations().length, 1);
    } finally {
      await m.close();
    }
  });
});

describe('resource directory: authorization (RFC 9176 §7.5, §5.2, Appendix A)', () => {
  it('only the registering endpoint or a commissioning tool may change a registration', T, async () => {
    const m = await rdMem();
    try {
      const loc = await reg(m, '192.0.2.20', 'ep=a&lt=100');
      const before = formatLinks(m.rd.registrations()[0]!.links);
      for (const r of [
        { method: 'POST' as const, path: loc },
        { method: 'POST' as const, path: `${loc}?lt=5`, payload: '</evil>', format: 40 },
        { method: 'DELETE' as const, path: loc },
        { method: 'POST' as const, path: '/rd?ep=a', payload: '</evil>', format: 40 },
      ]) {
        const res = await m.send('192.0.2.21', r);
        assert.equal(res.codeString, '4.03', `${r.method} ${r.path}`);
      }
      const [r] = m.rd.registrations();
      assert.equal(formatLinks(r!.links), before);
      assert.equal(r!.lt, 100);
      // The same endpoint from another source port is the same requester (address-based).
      assert.equal(
        (await m.send('192.0.2.20', { method: 'POST', path: `${loc}?lt=200` })).codeString,
        '2.04',
      );
      // A commissioning tool may manage it; the registration stays the endpoint's.
      assert.equal((await m.send(CT, { method: 'POST', path: `${loc}?lt=300` })).codeString, '2.04');
      assert.equal((await m.send('192.0.2.20', { method: 'POST', path: loc })).codeString, '2.04');
      assert.equal((await m.send(CT, { method: 'DELETE', path: loc })).codeString, '2.02');
    } finally {
      await m.close();
    }
  });

  it('registering a group, or for another address, needs a commissioning tool', T, async () => {
    const m = await rdMem();
    try {
      const group = '/rd?ep=g&et=core.rd-group&base=coap://239.255.0.4';
      const third = '/rd?ep=b&base=coap://192.0.2.99';
      for (const path of [group, third]) {
        const res = await m.send('192.0.2.20', { method: 'POST', path, payload: '</l>' });
        assert.equal(res.codeString, '4.03', path);
      }
      assert.equal(m.rd.registrations().length, 0);
      // Its own address as base (another port) is not third-party.
      await reg(m, '192.0.2.20', 'ep=c&base=coap://192.0.2.20:5683');
      const loc = await reg(m, CT, 'ep=g&et=core.rd-group&base=coap://239.255.0.4');
      await reg(m, CT, 'ep=b&base=coap://192.0.2.99');
      // An endpoint cannot make its registration a group, nor move it elsewhere, by an update.
      const own = await reg(m, '192.0.2.20', 'ep=d');
      const up = await m.send('192.0.2.20', {
        method: 'POST',
        path: `${own}?et=core.rd-group&base=coap://239.255.0.5`,
      });
      assert.equal(up.codeString, '4.03');
      assert.equal(
        (await m.send('192.0.2.20', { method: 'POST', path: `${own}?base=coap://192.0.2.98` })).codeString,
        '4.03',
      );
      assert.equal((await m.send('192.0.2.21', { method: 'DELETE', path: loc })).codeString, '4.03');
      const regs = m.rd.registrations();
      assert.deepEqual(
        regs.map((r) => r.ep),
        ['c', 'g', 'b', 'd'],
      );
      assert.deepEqual(
        regs.slice(0, 3).map((r) => r.base),
        ['coap://192.0.2.20:5683', 'coap://239.255.0.4', 'coap://192.0.2.99'],
      );
      assert.equal(regs[3]!.isGroup, false);
      assert.match(regs[3]!.base, /^coap:\/\/192\.0\.2\.20:\d+$/);
    } finally {
      await m.close();
    }
  });
});

describe('resource directory: lookup filtering (RFC 9176 §6.2)', () => {
  async function directory(m: RdMem): Promise<void> {
    await reg(
      m,
      CT,
      'ep=lamp1&d=room1&base=coap://192.0.2.31&et=lamp',
      '</light>;rt="light dim";if=actuator,</temp>;rt=temp',
    );
    await reg(m, CT, 'ep=lamp2&d=room1&base=coap://192.0.2.32&et=lamp', '</light>;rt=light');
    await reg(m, CT, 'ep=sensor&d=room2&base=coap://192.0.2.33', '</temp>;rt=temp;obs');
    await reg(m, CT, 'ep=g1&d=room1&et=core.rd-group&base=coap://239.255.0.4', '</light>;rt=light');
  }

  const lookup = (m: RdMem, q: string): Promise<CoapResponse> => m.send('192.0.2.10', { path: q });

  it('every criterion must match, each by the endpoint or by the link', T, async () => {
    const m = await rdMem();
    try {
      await directory(m);
      // d matches endpoints, rt matches links.
      const res = await lookup(m, '/rd-lookup/res?d=room1&rt=light');
      assert.deepEqual(
        meaning(res.text()).map((l) => l.href),
        ['coap://192.0.2.31/light', 'coap://192.0.2.32/light', 'coap://239.255.0.4/light'],
      );
      // An endpoint matches a criterion any of its links matches.
      assert.deepEqual(eps((await lookup(m, '/rd-lookup/ep?rt=temp')).text()), ['lamp1', 'sensor']);
      assert.deepEqual(eps((await lookup(m, '/rd-lookup/ep?rt=dim&d=room1')).text()), ['lamp1']);
      assert.deepEqual(eps((await lookup(m, '/rd-lookup/ep?et=lamp&if=actuator')).text()), ['lamp1']);
      // A prefix, and a presence test.
      assert.deepEqual(eps((await lookup(m, '/rd-lookup/ep?ep=lamp*')).text()), ['lamp1', 'lamp2']);
      assert.deepEqual(eps((await lookup(m, '/rd-lookup/ep?obs')).text()), ['sensor']);
      assert.deepEqual(eps((await lookup(m, '/rd-lookup/ep?d=room*&et=core.rd-group')).text()), ['g1']);
      assert.equal((await lookup(m, '/rd-lookup/res?d=room3')).payload.length, 0);
    } finally {
      await m.close();
    }
  });

  it('href matches resolved targets as URIs, and registration resources as paths or URIs', T, async () => {
    const m = await rdMem();
    try {
      await directory(m);
      const res = await lookup(m, '/rd-lookup/res?href=coap://192.0.2.3*');
      assert.equal(meaning(res.text()).length, 4);
      const sensor = m.rd.registrations().find((r) => r.ep === 'sensor')!;
      assert.deepEqual(eps((await lookup(m, `/rd-lookup/ep?href=${sensor.path}`)).text()), ['sensor']);
      assert.deepEqual(eps((await lookup(m, `/rd-lookup/ep?href=coap://192.0.2.2${sensor.path}`)).text()), [
        'sensor',
      ]);
      // A resource link matches href through its registration resource too.
      assert.deepEqual(
        meaning((await lookup(m, `/rd-lookup/res?href=${sensor.path}`)).text()).map((l) => l.href),
        ['coap://192.0.2.33/temp'],
      );
      assert.equal(
        (await lookup(m, '/rd-lookup/res?href=/light')).payload.length,
        0,
        'targets are asked as URIs',
      );
    } finally {
      await m.close();
    }
  });

  it('count and page apply to the filtered links', T, async () => {
    const m = await rdMem();
    try {
      await directory(m);
      const all = meaning((await lookup(m, '/rd-lookup/res?rt=light')).text()).map((l) => l.href);
      assert.equal(all.length, 3);
      const pages = [];
      for (let p = 0; p < 3; p++) {
        pages.push(
          ...meaning((await lookup(m, `/rd-lookup/res?rt=light&count=1&page=${p}`)).text()).map(
            (l) => l.href,
          ),
        );
      }
      assert.deepEqual(pages, all);
      assert.equal((await lookup(m, '/rd-lookup/res?rt=light&count=0')).payload.length, 0);
      assert.deepEqual(eps((await lookup(m, '/rd-lookup/ep?count=2&page=1')).text()), ['sensor', 'g1']);
    } finally {
      await m.close();
    }
  });
});

describe('resource directory: observed lookups (RFC 9176 §6.2, RFC 7641)', () => {
  it('notifies a group lookup when a group comes and goes, not for other changes', T, async () => {
    const m = await rdMem();
    try {
      const watcher = await m.client('192.0.2.11');
      const seen: string[] = [];
      let notified = 0;
      const obs = watcher.observe('coap://192.0.2.2/rd-lookup/ep?et=core.rd-group&d=room1');
      // The client registers again when Max-Age (60 s) passes without a notification, and gets
      // the same result again: consecutive repeats are not changes, so they are not counted.
      const done = (async () => {
        for await (const n of obs) {
          notified++;
          const now = eps(n.text()).join(',') || '-';
          if (seen[seen.length - 1] !== now) seen.push(now);
        }
      })().catch((err: Error) => seen.push(`error ${err.message}`));
      await m.rt.advance(10);
      const plain = await reg(m, '192.0.2.20', 'ep=lamp&d=room1&lt=50');
      await m.send('192.0.2.20', { method: 'POST', path: plain });
      const g = await reg(m, CT, 'ep=g1&d=room1&et=core.rd-group&base=coap://239.255.0.4&lt=100');
      await m.rt.advance(10);
      assert.deepEqual(seen, ['-', 'g1'], 'an endpoint that is not a group changes nothing here');
      // A renewal changes no result: no notification.
      await m.send(CT, { method: 'POST', path: g });
      await m.rt.advance(10);
      assert.deepEqual(seen, ['-', 'g1']);
      // A group in another sector is not this lookup's either.
      await reg(m, CT, 'ep=g2&d=room2&et=core.rd-group&base=coap://239.255.0.5');
      await m.rt.advance(10);
      assert.deepEqual(seen, ['-', 'g1']);
      assert.equal(notified, 2, 'the renewal and the other sector sent no notification');
      // Expiry and removal are changes.
      await m.rt.advance(100_000);
      assert.deepEqual(seen, ['-', 'g1', '-']);
      const g3 = await reg(m, CT, 'ep=g3&d=room1&et=core.rd-group&base=coap://239.255.0.6');
      await m.send(CT, { method: 'DELETE', path: g3 });
      await m.rt.advance(10);
      assert.deepEqual(seen, ['-', 'g1', '-', 'g3', '-']);
      await obs.cancel();
      await drive(m.rt, done);
    } finally {
      await m.close();
    }
  });
});
