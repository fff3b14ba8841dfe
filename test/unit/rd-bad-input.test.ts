/**
 * What a resource directory does with bad input and past its limits (RFC 9176 §5, §5.3, §6.2,
 * §8.4): the RFC's code (4.00, 4.04, 4.06, 4.13 with Size1, 4.15, 5.03 with Max-Age), and
 * nothing changed: not the registrations, not what the store would give back after a restart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import type { CoapResponseError } from '../../src/errors.js';
import { formatLinks } from '../../src/link-format/index.js';
import { Opt } from '../../src/options/registry.js';
import { decodeUint, findOption } from '../../src/options/values.js';
import { parseLookupQuery } from '../../src/rd/lookup.js';
import { CoapServer } from '../../src/server/server.js';
import { CT, location, RD_V4, type RdMem, rdMem } from '../support/rd-mem.js';

const T = { timeout: 20_000 };
const EP = '192.0.2.20';

/** Everything a request could change. */
async function state(m: RdMem): Promise<string> {
  const regs = m.rd.registrations().map((r) => ({
    id: r.id,
    ep: r.ep,
    d: r.d,
    base: r.base,
    lt: r.lt,
    exp: r.expiresAt,
    attrs: r.attributes,
    links: formatLinks(r.links),
  }));
  return JSON.stringify({ regs, saved: await m.store.load() });
}

async function withRd(fn: (m: RdMem, loc: string) => Promise<void>, limits = {}): Promise<void> {
  const m = await rdMem({ limits });
  try {
    const res = await m.send(EP, {
      method: 'POST',
      path: '/rd?ep=node1&lt=100',
      payload: '</a>;rt=x',
      format: 40,
    });
    assert.equal(res.codeString, '2.01');
    await fn(m, location(res));
  } finally {
    await m.close();
  }
}

/** Sends, expects `code`, and checks that nothing changed. */
async function refused(m: RdMem, from: string, r: Parameters<RdMem['send']>[1], code: string) {
  const before = await state(m);
  const res = await m.send(from, r);
  assert.equal(res.codeString, code, `${r.method ?? 'GET'} ${r.path}: ${res.text()}`);
  assert.equal(await state(m), before, `${r.method ?? 'GET'} ${r.path} changed something`);
  return res;
}

describe('resource directory: bad input is refused and changes nothing', () => {
  it('malformed link format is 4.00, in a registration and in an update', T, async () => {
    await withRd(async (m, loc) => {
      for (const payload of ['</a', '</a>;', '</a>,,</b>', '<a b>', '</a>;rt="x', 'garbage']) {
        await refused(m, EP, { method: 'POST', path: '/rd?ep=node2', payload, format: 40 }, '4.00');
        await refused(m, EP, { method: 'POST', path: loc, payload, format: 40 }, '4.00');
      }
      await refused(
        m,
        EP,
        { method: 'POST', path: '/rd?ep=node2', payload: Buffer.from([0x3c, 0xff, 0xfe, 0x3e]), format: 40 },
        '4.00',
      );
    });
  });

  it('a missing, empty, long or repeated ep is 4.00', T, async () => {
    await withRd(async (m) => {
      for (const path of [
        '/rd',
        '/rd?d=room',
        '/rd?ep=',
        `/rd?ep=${'x'.repeat(64)}`,
        '/rd?ep=a%01b',
        '/rd?ep=a&ep=b',
        '/rd?ep',
        `/rd?ep=x&d=${'é'.repeat(32)}`,
      ]) {
        await refused(m, EP, { method: 'POST', path, payload: '</b>', format: 40 }, '4.00');
      }
      // 63 bytes is the limit, and it is allowed.
      const ok = await m.send(EP, {
        method: 'POST',
        path: `/rd?ep=${'x'.repeat(63)}`,
        payload: '',
        format: 40,
      });
      assert.equal(ok.codeString, '2.01');
    });
  });

  it('a bad lt is 4.00: not a whole number, 0, or beyond 4294967295', T, async () => {
    await withRd(async (m, loc) => {
      for (const lt of ['0', '-1', '1.5', 'abc', '4294967296', '', '99999999999']) {
        await refused(m, EP, { method: 'POST', path: `/rd?ep=node2&lt=${lt}`, payload: '</b>' }, '4.00');
        await refused(m, EP, { method: 'POST', path: `${loc}?lt=${lt}` }, '4.00');
      }
      const max = await m.send(EP, { method: 'POST', path: '/rd?ep=node2&lt=4294967295', payload: '</b>' });
      assert.equal(max.codeString, '2.01');
    });
  });

  it('a bad base is 4.00: not absolute, no host, a zone, a query or fragment', T, async () => {
    await withRd(async (m, loc) => {
      for (const base of [
        '/relative',
        'coap:',
        'coap://',
        'coap:///x',
        'coap://[fe80::1%25eth0]',
        'coap://host?q=1',
        'coap://host#f',
        'coap://[::g]',
        'coap://host:99999',
        'coap://a b',
      ]) {
        const q = `base=${encodeURIComponent(base)}`;
        await refused(m, CT, { method: 'POST', path: `/rd?ep=node2&${q}`, payload: '</b>' }, '4.00');
        await refused(m, EP, { method: 'POST', path: `${loc}?${q}` }, '4.00');
      }
    });
  });

  it('a group needs a multicast base: none or a unicast one is 4.00', T, async () => {
    await withRd(async (m) => {
      await refused(m, CT, { method: 'POST', path: '/rd?ep=g&et=core.rd-group', payload: '</l>' }, '4.00');
      await refused(
        m,
        CT,
        { method: 'POST', path: '/rd?ep=g&et=core.rd-group&base=coap://192.0.2.9', payload: '</l>' },
        '4.00',
      );
      await refused(
        m,
        CT,
        { method: 'POST', path: '/rd?ep=g&et=core.rd-group&base=coap://lights.example', payload: '</l>' },
        '4.00',
      );
    });
  });

  it('an unknown registration resource is 4.04 for POST, DELETE and GET', T, async () => {
    await withRd(async (m) => {
      for (const method of ['POST', 'DELETE', 'GET'] as const) {
        await refused(m, EP, { method, path: '/rd/999' }, '4.04');
        await refused(m, EP, { method, path: '/rd/x' }, '4.04');
      }
    });
  });

  it('another Content-Format is 4.15; another Accept is 4.06; page without count is 4.00', T, async () => {
    await withRd(async (m, loc) => {
      await refused(m, EP, { method: 'POST', path: '/rd?ep=n', payload: '{"a":1}', format: 50 }, '4.15');
      await refused(m, EP, { method: 'POST', path: loc, payload: '</c>', format: 0 }, '4.15');
      await refused(m, EP, { path: '/rd-lookup/res', accept: 50 }, '4.06');
      await refused(m, EP, { path: '/rd-lookup/ep?page=1' }, '4.00');
      await refused(m, EP, { path: '/rd-lookup/ep?count=x' }, '4.00');
      await refused(m, EP, { path: '/rd-lookup/ep?count=1&count=2' }, '4.00');
    });
  });

  it('an update cannot rename: a different ep or d is 4.00', T, async () => {
    await withRd(async (m, loc) => {
      await refused(m, EP, { method: 'POST', path: `${loc}?ep=other` }, '4.00');
      await refused(m, EP, { method: 'POST', path: `${loc}?d=other` }, '4.00');
      await refused(m, EP, { method: 'POST', path: `${loc}?page=1` }, '4.00');
    });
  });
});

describe('resource directory: limits', () => {
  it('a full directory answers 5.03 with Max-Age, and loses nothing', T, async () => {
    await withRd(
      async (m, loc) => {
        assert.equal(
          (await m.send(EP, { method: 'POST', path: '/rd?ep=node2', payload: '</b>' })).codeString,
          '2.01',
        );
        const res = await refused(m, EP, { method: 'POST', path: '/rd?ep=node3', payload: '</c>' }, '5.03');
        const maxAge = decodeUint(findOption(res.options, Opt.MaxAge)!.value);
        assert.ok(maxAge >= 1 && maxAge <= 60, `Max-Age ${maxAge}`);
        // Registrations that exist can still be renewed and replaced.
        assert.equal((await m.send(EP, { method: 'POST', path: loc })).codeString, '2.04');
        assert.equal(
          (await m.send(EP, { method: 'POST', path: '/rd?ep=node1', payload: '</z>' })).codeString,
          '2.01',
        );
        assert.equal(m.rd.registrations().length, 2);
      },
      { maxRegistrations: 2 },
    );
  });

  it('too many links or bytes is 4.13 with Size1', T, async () => {
    await withRd(
      async (m, loc) => {
        const five = '</1>,</2>,</3>,</4>,</5>';
        for (const path of ['/rd?ep=n', loc]) {
          const res = await refused(m, EP, { method: 'POST', path, payload: five }, '4.13');
          assert.equal(decodeUint(findOption(res.options, Opt.Size1)!.value), 64);
          const big = await refused(m, EP, { method: 'POST', path, payload: `</${'x'.repeat(70)}>` }, '4.13');
          assert.equal(decodeUint(findOption(big.options, Opt.Size1)!.value), 64);
        }
        assert.equal(
          (await m.send(EP, { method: 'POST', path: '/rd?ep=n', payload: '</1>,</2>,</3>,</4>' })).codeString,
          '2.01',
        );
      },
      { maxLinks: 4, maxPayloadBytes: 64 },
    );
  });
});

describe('resource directory: simple registration that cannot complete', () => {
  async function host(m: RdMem, address: string, answer: 'never' | 'text' | 'none') {
    const transport = m.net.createTransport({ bind: [{ address, port: 5683 }], ipv4Interface: 'mem0' });
    const server = new CoapServer({ transport, runtime: m.rt, joinAllCoapNodes: false, discovery: false });
    if (answer === 'never') server.resource('/.well-known/core').get(() => new Promise(() => {}));
    if (answer === 'text')
      server.resource('/.well-known/core').get(() => ({ payload: '{"not":"links"}', format: 50 }));
    await server.listen();
    const client = await CoapClient.create({ messenger: server.messenger });
    return {
      post: () =>
        m.rt.settle(client.request({ uri: `coap://${RD_V4}/.well-known/rd?ep=h`, method: 'POST' }), {
          maxMs: 120_000,
          step: 100,
        }),
      async close() {
        await client.close();
        await server.close();
      },
    };
  }

  it(
    'is 5.04 when the endpoint does not answer, 5.02 when it answers no links; nothing registered',
    T,
    async () => {
      const m = await rdMem({ simpleTimeoutMs: 5000 });
      const silent = await host(m, '192.0.2.71', 'never');
      const wrong = await host(m, '192.0.2.72', 'text');
      const missing = await host(m, '192.0.2.73', 'none');
      try {
        assert.equal((await silent.post()).codeString, '5.04');
        assert.equal((await wrong.post()).codeString, '5.02');
        assert.equal((await missing.post()).codeString, '5.02', 'its /.well-known/core is 4.04');
        assert.equal(m.rd.registrations().length, 0);
        const withBase = await m.send(EP, {
          method: 'POST',
          path: '/.well-known/rd?ep=h&base=coap://192.0.2.20',
        });
        assert.equal(withBase.codeString, '4.00', 'base is not accepted (RFC 9176 §5.1)');
        const withPayload = await m.send(EP, {
          method: 'POST',
          path: '/.well-known/rd?ep=h',
          payload: '</x>',
        });
        assert.equal(withPayload.codeString, '4.00');
      } finally {
        await silent.close();
        await wrong.close();
        await missing.close();
        await m.close();
      }
    },
  );
});

describe('resource directory: lookups in flight', () => {
  it('a large lookup past the bound is 5.03 with Max-Age 1; the one in flight completes', T, async () => {
    const m = await rdMem({ limits: { maxLookupsInFlight: 1 } });
    try {
      const service = m.rd.service!;
      for (let i = 0; i < 4100; i++) {
        const id = service.dir.allocateId();
        await service.put(
          service.make({
            id,
            order: Number(id),
            ep: `n${i}`,
            d: undefined,
            base: 'coap://192.0.2.50',
            baseGiven: true,
            lt: 600,
            attributes: [],
            links: [{ href: `/r/${i}`, attributes: [['rt', 'x']] }],
            owner: 'addr:192.0.2.50',
            simple: false,
            expiresAt: m.rt.now() + 600_000,
          }),
        );
      }
      const q = parseLookupQuery(['rt=x']);
      const first = service.lookup('res', q, { linkLocal: false });
      await assert.rejects(service.lookup('ep', q, { linkLocal: false }), (e: CoapResponseError) => {
        assert.equal(e.responseCode, '5.03');
        assert.equal(e.maxAge, 1);
        return true;
      });
      assert.equal((await first).length, 4100);
      assert.equal((await service.lookup('ep', q, { linkLocal: false })).length, 4100, 'free again');
    } finally {
      await m.close();
    }
  });
});
