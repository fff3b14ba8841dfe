/**
 * RFC 9176's examples of lookup (§6.3, Figures 19-22; §6.4, Figure 23), of groups (Appendix A,
 * Figures 27-29) and of the lighting installation (§10.1, Figures 24-26), exchanged with the RD
 * on the memory network, payload for payload (compared by meaning, see rd-rfc-registration).
 * Where the RFC's figures disagree with each other, the test says how and checks both readings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import type { CoapResponse } from '../../src/client/response.js';
import { CT, drive, encodeQuery, location, meaning, type RdMem, rdMem, unfold } from '../support/rd-mem.js';

const T = { timeout: 20_000 };

/** Registers from `address` bound at `port` (the base is then that address and port). */
async function registerFrom(
  m: RdMem,
  address: string,
  port: number,
  query: string,
  links: string,
): Promise<CoapResponse> {
  const transport = m.net.createTransport({ bind: [{ address, port }], ipv4Interface: 'mem0' });
  const c = await CoapClient.create({ transport, runtime: m.rt });
  try {
    return await drive(
      m.rt,
      c.request({
        uri: encodeQuery(`coap://[2001:db8:4::ff]/rd?${query}`),
        method: 'POST',
        payload: Buffer.from(links),
        format: 40,
      }),
    );
  } finally {
    await c.close();
  }
}

/** Replaces the RFC's example registration resources with the ones this RD handed out. */
function renumber(text: string, from: readonly string[], to: readonly string[]): string {
  return from.reduce((t, f, i) => t.replaceAll(`<${f}>`, `<${to[i]}>`), text);
}

describe('RFC 9176 examples: resource lookup (§6.3)', () => {
  it('Figure 19: a lookup by resource type returns the resolved link', T, async () => {
    const m = await rdMem();
    try {
      await registerFrom(
        m,
        '2001:db8:3::123',
        61616,
        'ep=node1',
        '</temp>;rt="tag:example.org,2020:temperature"',
      );
      const res = await m.send('192.0.2.10', { path: '/rd-lookup/res?rt=tag:example.org,2020:temperature' });
      assert.equal(res.codeString, '2.05');
      assert.deepEqual(
        meaning(res.text()),
        meaning('<coap://[2001:db8:3::123]:61616/temp>;rt="tag:example.org,2020:temperature"'),
      );
    } finally {
      await m.close();
    }
  });

  it('Figure 20: an observed lookup is empty, then notifies when matching resources appear', T, async () => {
    const m = await rdMem();
    try {
      const watcher = await m.client('192.0.2.11');
      const obs = watcher.observe('coap://192.0.2.2/rd-lookup/res?rt=tag:example.org,2020:light');
      const it = obs[Symbol.asyncIterator]();
      const first = (await drive(m.rt, it.next())).value as CoapResponse;
      assert.equal(first.codeString, '2.05');
      assert.notEqual(first.observe, undefined);
      assert.equal(first.payload.length, 0, 'Payload: empty');
      await registerFrom(
        m,
        '2001:db8:3::124',
        5683,
        'ep=lamps',
        unfold(`</west>;rt="tag:example.org,2020:light",
   </south>;rt="tag:example.org,2020:light",
   </east>;rt="tag:example.org,2020:light"`),
      );
      const second = (await drive(m.rt, it.next())).value as CoapResponse;
      assert.ok(second.observe! > first.observe!);
      assert.deepEqual(
        meaning(second.text()),
        meaning(
          unfold(`<coap://[2001:db8:3::124]/west>;rt="tag:example.org,2020:light",
   <coap://[2001:db8:3::124]/south>;rt="tag:example.org,2020:light",
   <coap://[2001:db8:3::124]/east>;rt="tag:example.org,2020:light"`),
        ),
      );
      await obs.cancel();
    } finally {
      await m.close();
    }
  });

  it('Figure 21: page and count cut the result into pages of count links', T, async () => {
    const m = await rdMem();
    try {
      const links = Array.from({ length: 10 }, (_, i) => `</res/${i}>;ct=60`).join(',');
      await registerFrom(m, '2001:db8:3::123', 61616, 'ep=node1', links);
      const page = (n: number) =>
        Array.from({ length: 5 }, (_, i) => `<coap://[2001:db8:3::123]:61616/res/${n * 5 + i}>;ct=60`).join(
          ',',
        );
      const p0 = await m.send('192.0.2.10', { path: '/rd-lookup/res?page=0&count=5' });
      const p1 = await m.send('192.0.2.10', { path: '/rd-lookup/res?page=1&count=5' });
      assert.deepEqual(meaning(p0.text()), meaning(page(0)));
      assert.deepEqual(meaning(p1.text()), meaning(page(1)));
      assert.equal((await m.send('192.0.2.10', { path: '/rd-lookup/res?page=2&count=5' })).payload.length, 0);
      assert.deepEqual(
        meaning((await m.send('192.0.2.10', { path: '/rd-lookup/res?count=5' })).text()),
        meaning(page(0)),
      );
    } finally {
      await m.close();
    }
  });

  it('Figure 22: absolute targets stay, relative ones are resolved per endpoint', T, async () => {
    const m = await rdMem();
    try {
      // RFC 6690 §5, the sixth response.
      const payload = unfold(`</sensors>;ct=40;title="Sensor Index",
   </sensors/temp>;rt="temperature-c";if="sensor",
   </sensors/light>;rt="light-lux";if="sensor",
   <http://www.example.com/sensors/t123>;anchor="/sensors/temp"
   ;rel="describedby",
   </t>;anchor="/sensors/temp";rel="alternate"`);
      for (const n of ['1', '2']) {
        const res = await m.send(CT, {
          method: 'POST',
          path: `/rd?ep=sensor${n}&base=coap://sensor${n}.example.com&et=tag:example.com,2020:platform`,
          payload,
          format: 40,
        });
        assert.equal(res.codeString, '2.01');
      }
      const res = await m.send('192.0.2.10', { path: '/rd-lookup/res?et=tag:example.com,2020:platform' });
      assert.deepEqual(
        meaning(res.text()),
        meaning(
          unfold(`<coap://sensor1.example.com/sensors>;ct=40;title="Sensor Index",
   <coap://sensor1.example.com/sensors/temp>;rt=temperature-c;if=sensor,
   <coap://sensor1.example.com/sensors/light>;rt=light-lux;if=sensor,
   <http://www.example.com/sensors/t123>;rel=describedby;
       anchor="coap://sensor1.example.com/sensors/temp",
   <coap://sensor1.example.com/t>;rel=alternate;
       anchor="coap://sensor1.example.com/sensors/temp",
   <coap://sensor2.example.com/sensors>;ct=40;title="Sensor Index",
   <coap://sensor2.example.com/sensors/temp>;rt=temperature-c;if=sensor,
   <coap://sensor2.example.com/sensors/light>;rt=light-lux;if=sensor,
   <http://www.example.com/sensors/t123>;rel=describedby;
       anchor="coap://sensor2.example.com/sensors/temp",
   <coap://sensor2.example.com/t>;rel=alternate;
       anchor="coap://sensor2.example.com/sensors/temp"`),
        ),
      );
    } finally {
      await m.close();
    }
  });
});

describe('RFC 9176 examples: endpoint lookup (§6.4)', () => {
  it('Figure 23: endpoints of a type, with base, ep, et, d and rt=core.rd-ep, never lt', T, async () => {
    const m = await rdMem();
    try {
      const a = await registerFrom(
        m,
        '2001:db8:3::127',
        61616,
        'ep=node5&et=tag:example.com,2020:platform',
        '</x>',
      );
      const b = await registerFrom(
        m,
        '2001:db8:3::129',
        61616,
        'ep=node7&et=tag:example.com,2020:platform&d=floor-3&lt=3600',
        '</x>',
      );
      const res = await m.send('192.0.2.10', { path: '/rd-lookup/ep?et=tag:example.com,2020:platform' });
      // Figure 23 also shows ct=40 on the endpoint links; Figures 26 and 28 do not, and neither do we.
      const figure23 = unfold(`</rd/1234>;base="coap://[2001:db8:3::127]:61616";ep=node5;
       et="tag:example.com,2020:platform";rt=core.rd-ep,
   </rd/4521>;base="coap://[2001:db8:3::129]:61616";ep=node7;
       et="tag:example.com,2020:platform";d=floor-3;
       rt=core.rd-ep`);
      assert.deepEqual(
        meaning(res.text()),
        meaning(renumber(figure23, ['/rd/1234', '/rd/4521'], [location(a), location(b)])),
      );
    } finally {
      await m.close();
    }
  });
});

const FIGURE_27 = unfold(`</light>;rt="tag:example.com,2020:light";
        if="tag:example.net,2020:actuator",
   </color-temperature>;if="tag:example.net,2020:parameter";u=K`);

describe('RFC 9176 examples: groups (Appendix A)', () => {
  it(
    'Figures 27-29: a group is registered, found by et=core.rd-group, and its resources resolved',
    T,
    async () => {
      const m = await rdMem();
      try {
        const reg = await m.send(CT, {
          method: 'POST',
          path: '/rd?ep=lights&et=core.rd-group&base=coap://[ff35:30:2001:db8:f1::8000:1]',
          payload: FIGURE_27,
          format: 40,
        });
        assert.equal(reg.codeString, '2.01');
        // Figure 28 as printed has "ep=lights&et=..." and the address ff35:30:2001:f1:db8::8000:1;
        // both are misprints of ";" and of the address registered in Figure 27.
        const f28 = await m.send('192.0.2.10', { path: '/rd-lookup/ep?et=core.rd-group' });
        assert.deepEqual(
          meaning(f28.text()),
          meaning(
            `<${location(reg)}>;ep=lights;et=core.rd-group;base="coap://[ff35:30:2001:db8:f1::8000:1]";rt=core.rd-ep`,
          ),
        );
        // Figure 29 (as printed it ends in a stray ",").
        const f29 = await m.send('192.0.2.10', { path: '/rd-lookup/res?et=core.rd-group' });
        assert.deepEqual(
          meaning(f29.text()),
          meaning(
            unfold(`<coap://[ff35:30:2001:db8:f1::8000:1]/light>;
        rt="tag:example.com,2020:light";
        if="tag:example.net,2020:actuator",
   <coap://[ff35:30:2001:db8:f1::8000:1]/color-temperature>;
        if="tag:example.net,2020:parameter";u=K`),
          ),
        );
      } finally {
        await m.close();
      }
    },
  );
});

describe('RFC 9176 examples: the lighting installation (§10.1)', () => {
  const LAMPS = unfold(`</light/left>;rt="tag:example.com,2020:light",
   </light/middle>;rt="tag:example.com,2020:light",
   </light/right>;rt="tag:example.com,2020:light"`);

  async function install(m: RdMem, groupSector: boolean): Promise<string> {
    const figure24: Array<[string, string, string]> = [
      ['lm_R2-4-015_wndw', 'coap://[2001:db8:4::1]', LAMPS],
      ['lm_R2-4-015_door', 'coap://[2001:db8:4::2]', LAMPS],
      ['ps_R2-4-015_door', 'coap://[2001:db8:4::3]', '</ps>;rt="tag:example.com,2020:p-sensor"'],
    ];
    const locations = new Set<string>();
    for (const [ep, base, links] of figure24) {
      const res = await m.send(CT, {
        method: 'POST',
        path: `/rd?ep=${ep}&base=${base}&d=R2-4-015`,
        payload: links,
      });
      assert.equal(res.codeString, '2.01');
      locations.add(location(res));
    }
    assert.equal(locations.size, 3, 'each registration has its own resource');
    const d = groupSector ? '&d=R2-4-015' : '';
    const group = await m.send(CT, {
      method: 'POST',
      path: `/rd?ep=grp_R2-4-015&et=core.rd-group&base=coap://[ff05::1]${d}`,
      payload: LAMPS,
    });
    assert.equal(group.codeString, '2.01');
    return location(group);
  }

  it('Figures 24-26: a luminary finds the group of its sector that contains lights', T, async () => {
    const m = await rdMem();
    try {
      const loc = await install(m, true);
      const res = await m.send('2001:db8:4::1', {
        path: '/rd-lookup/ep?d=R2-4-015&et=core.rd-group&rt=tag:example.com,2020:light',
      });
      assert.deepEqual(
        meaning(res.text()),
        meaning(`<${loc}>;ep=grp_R2-4-015;et=core.rd-group;base="coap://[ff05::1]";d=R2-4-015;rt=core.rd-ep`),
      );
      // The presence sensor asks the same and learns the same multicast address.
      const sensor = await m.send('2001:db8:4::3', {
        path: '/rd-lookup/ep?d=R2-4-015&et=core.rd-group&rt=tag:example.com,2020:light',
      });
      assert.equal(sensor.text(), res.text());
    } finally {
      await m.close();
    }
  });

  it('Figures 25 and 26 as printed do not fit each other: no d on the group, and rt=light', T, async () => {
    // Figure 25 registers the group without d=R2-4-015, and its links have
    // rt="tag:example.com,2020:light", while Figure 26 looks up d=R2-4-015 and rt=light. By §6.2
    // every criterion must match the endpoint or one of its links, so the printed query finds
    // nothing; the test above is the reading the prose describes (the CT gives the group the
    // room's sector, and the luminary asks for the lamps' resource type).
    const m = await rdMem();
    try {
      await install(m, false);
      const printed = await m.send('2001:db8:4::1', {
        path: '/rd-lookup/ep?d=R2-4-015&et=core.rd-group&rt=light',
      });
      assert.equal(printed.codeString, '2.05');
      assert.equal(printed.payload.length, 0);
      const withoutSector = await m.send('2001:db8:4::1', {
        path: '/rd-lookup/ep?et=core.rd-group&rt=tag:example.com,2020:light',
      });
      assert.match(withoutSector.text(), /ep="grp_R2-4-015";base="coap:\/\/\[ff05::1\]";et="core.rd-group"/);
    } finally {
      await m.close();
    }
  });
});
