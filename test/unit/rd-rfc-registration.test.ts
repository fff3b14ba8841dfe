/**
 * RFC 9176's own examples of discovery (§4.3, Figure 5), registration (§5, Figure 8),
 * registration update (§5.3.1, Figures 13-16), removal (§5.3.2, Figure 17) and simple
 * registration (§5.1, Figures 10-12; Appendix B.3, Figures 32-34), exchanged with the RD on
 * the memory network, payload for payload. Payloads are compared by meaning (the same links
 * with the same attributes): the RFC writes some values bare that our serializer quotes
 * (`rt=core.rd`, RFC 6690 §2 allows both), and orders attributes differently between figures.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { CoapServer } from '../../src/server/server.js';
import { CT, drive, location, meaning, RD_V6, rdMem, unfold } from '../support/rd-mem.js';

const T = { timeout: 20_000 };

const FIGURE_8 = unfold(`</sensors/temp>;rt=temperature-c;if=sensor,
<http://www.example.com/sensors/temp>;
  anchor="/sensors/temp";rel=describedby`);

describe('RFC 9176 examples: discovery and registration', () => {
  it(
    'Figure 5/6: /.well-known/core?rt=core.rd* lists the registration and lookup interfaces',
    T,
    async () => {
      const m = await rdMem();
      try {
        const res = await m.send('192.0.2.10', { path: '/.well-known/core?rt=core.rd*' });
        assert.equal(res.codeString, '2.05');
        assert.equal(res.format, 40);
        // Figure 5, with `obs` on both lookups as Figure 6 shows for the resource lookup.
        assert.deepEqual(
          meaning(res.text()),
          meaning(
            '</rd>;rt=core.rd;ct=40,</rd-lookup/ep>;rt=core.rd-lookup-ep;ct=40;obs,</rd-lookup/res>;rt=core.rd-lookup-res;ct=40;obs',
          ),
        );
        const lookups = await m.send('192.0.2.10', { path: '/.well-known/core?rt=core.rd-lookup*' });
        assert.deepEqual(
          meaning(lookups.text()).map((l) => l.href),
          ['/rd-lookup/ep', '/rd-lookup/res'],
        );
      } finally {
        await m.close();
      }
    },
  );

  it('Figure 8: POST /rd?ep=node1 with links is 2.01 Created with a Location-Path', T, async () => {
    const m = await rdMem();
    try {
      const res = await m.send('2001:db8:1::1', {
        method: 'POST',
        path: '/rd?ep=node1',
        payload: FIGURE_8,
        format: 40,
      });
      assert.equal(res.codeString, '2.01');
      assert.match(location(res), /^\/rd\/\d+$/);
      // The base is the requester's address (port 5683 left out, RFC 9176 §5).
      const client = await m.client('2001:db8:1::1');
      const port = client.messenger.transport.sockets[0]!.port;
      const look = await m.send('192.0.2.10', { path: '/rd-lookup/res?ep=node1' });
      assert.deepEqual(
        meaning(look.text()),
        meaning(
          `<coap://[2001:db8:1::1]:${port}/sensors/temp>;rt=temperature-c;if=sensor,<http://www.example.com/sensors/temp>;anchor="coap://[2001:db8:1::1]:${port}/sensors/temp";rel=describedby`,
        ),
      );
      // RFC 9176 §5: the same (ep, d) again replaces the links and answers the same location.
      const again = await m.send('2001:db8:1::1', {
        method: 'POST',
        path: '/rd?ep=node1',
        payload: '</other>',
        format: 40,
      });
      assert.equal(again.codeString, '2.01');
      assert.equal(location(again), location(res));
      const after = await m.send('192.0.2.10', { path: '/rd-lookup/res?ep=node1' });
      assert.deepEqual(meaning(after.text()), meaning(`<coap://[2001:db8:1::1]:${port}/other>`));
      // GET on the registration resource reads the links as registered (RFC 9176 §5.3.3).
      const read = await m.send('192.0.2.10', { path: location(res) });
      assert.equal(read.codeString, '2.05');
      assert.equal(read.text(), '</other>');
    } finally {
      await m.close();
    }
  });

  it('Figures 13-16: an update refreshes, and a new base resolves the old links anew', T, async () => {
    const m = await rdMem();
    try {
      // A third-party registration (the base is not the requester's): the commissioning tool.
      const reg = await m.send(CT, {
        method: 'POST',
        path: '/rd?ep=endpoint1&lt=500&base=coap://local-proxy-old.example.com',
        payload: FIGURE_8,
        format: 40,
      });
      assert.equal(reg.codeString, '2.01');
      const loc = location(reg);
      const figure14 = await m.send('192.0.2.10', { path: '/rd-lookup/res?ep=endpoint1' });
      assert.deepEqual(
        meaning(figure14.text()),
        meaning(
          unfold(`<coap://local-proxy-old.example.com/sensors/temp>;
       rt=temperature-c;if=sensor,
   <http://www.example.com/sensors/temp>;
       anchor="coap://local-proxy-old.example.com/sensors/temp";
       rel=describedby`),
        ),
      );
      // Figure 13: a refresh near the end of the lifetime keeps the registration alive.
      await m.rt.advance(400_000);
      assert.equal((await m.send(CT, { method: 'POST', path: loc })).codeString, '2.04');
      await m.rt.advance(400_000); // 800 s after registering, 400 s after the refresh
      const figure15 = await m.send(CT, { method: 'POST', path: `${loc}?base=coaps://new.example.com` });
      assert.equal(figure15.codeString, '2.04');
      const figure16 = await m.send('192.0.2.10', { path: '/rd-lookup/res?ep=endpoint1' });
      assert.deepEqual(
        meaning(figure16.text()),
        meaning(
          unfold(`<coaps://new.example.com/sensors/temp>;
       rt=temperature-c;if=sensor,
   <http://www.example.com/sensors/temp>;
       anchor="coaps://new.example.com/sensors/temp";
       rel=describedby`),
        ),
      );
    } finally {
      await m.close();
    }
  });

  it('Figure 17: DELETE on the registration is 2.02 Deleted, then 4.04', T, async () => {
    const m = await rdMem();
    try {
      const reg = await m.send('192.0.2.20', {
        method: 'POST',
        path: '/rd?ep=node1',
        payload: FIGURE_8,
        format: 40,
      });
      const loc = location(reg);
      assert.equal((await m.send('192.0.2.20', { method: 'DELETE', path: loc })).codeString, '2.02');
      assert.equal((await m.send('192.0.2.10', { path: '/rd-lookup/res?ep=node1' })).payload.length, 0);
      assert.equal((await m.send('192.0.2.20', { method: 'DELETE', path: loc })).codeString, '4.04');
      assert.equal((await m.send('192.0.2.20', { method: 'POST', path: loc })).codeString, '4.04');
    } finally {
      await m.close();
    }
  });
});

/** An endpoint with its own server (serving /.well-known/core) and a client on the same sockets. */
async function simpleHost(
  m: Awaited<ReturnType<typeof rdMem>>,
  address: string,
  port: number,
  wellKnown: string,
) {
  const transport = m.net.createTransport({ bind: [{ address, port }], ipv4Interface: 'mem0' });
  const server = new CoapServer({ transport, runtime: m.rt, joinAllCoapNodes: false, discovery: false });
  const accepts: Array<number | undefined> = [];
  server.resource('/.well-known/core').get((req) => {
    accepts.push(req.accept);
    return { payload: wellKnown, format: 40 };
  });
  await server.listen();
  const client = await CoapClient.create({ messenger: server.messenger, runtime: m.rt });
  return {
    accepts,
    post: (path: string) => drive(m.rt, client.request({ uri: `coap://[${RD_V6}]${path}`, method: 'POST' })),
    async close() {
      await client.close();
      await server.close();
    },
  };
}

describe('RFC 9176 examples: simple registration', () => {
  it('Figures 10-12: the RD reads /.well-known/core with Accept 40, then answers 2.04', T, async () => {
    const m = await rdMem();
    const host = await simpleHost(m, '2001:db8:f0::7', 5683, '</sen/temp>');
    try {
      const res = await host.post('/.well-known/rd?lt=6000&ep=node1');
      assert.equal(res.codeString, '2.04');
      assert.deepEqual(host.accepts, [40]);
      const look = await m.send('192.0.2.10', { path: '/rd-lookup/res?ep=node1' });
      assert.equal(look.text(), '<coap://[2001:db8:f0::7]/sen/temp>');
      // A refresh within the document's Max-Age uses the cached copy (RFC 9176 §5.1).
      assert.equal((await host.post('/.well-known/rd?lt=6000&ep=node1')).codeString, '2.04');
      assert.deepEqual(host.accepts, [40]);
      // RFC 9176 §5.1: simple registrations are deleted when their lifetime ends.
      await m.rt.advance(6000_000);
      assert.equal((await m.send('192.0.2.10', { path: '/rd-lookup/res?ep=node1' })).payload.length, 0);
    } finally {
      await host.close();
      await m.close();
    }
  });

  it('Figures 32-34: a simple host is found by resource type and by endpoint name', T, async () => {
    const m = await rdMem();
    // Figure 31's discovery document. Appendix B.3 has the host register from port 6553 yet
    // shows the base without a port; by §5 the base carries the source port, so the host here
    // registers from 5683, where it also serves /.well-known/core.
    const host = await simpleHost(
      m,
      '2001:db8:f0::1',
      5683,
      unfold(`</sensors/temp>;rt=temperature;ct=0,
   </sensors/light>;rt=light-lux;ct=0,
   </t>;anchor="/sensors/temp";rel=alternate,
   <http://www.example.com/sensors/t123>;anchor="/sensors/temp";
       rel=describedby`),
    );
    try {
      assert.equal((await host.post('/.well-known/rd?ep=simple-host1')).codeString, '2.04');
      const f33 = await m.send('192.0.2.10', { path: '/rd-lookup/res?rt=temperature' });
      assert.deepEqual(
        meaning(f33.text()),
        meaning('<coap://[2001:db8:f0::1]/sensors/temp>;rt=temperature;ct=0'),
      );
      const f34 = await m.send('192.0.2.10', { path: '/rd-lookup/res?ep=simple-host1' });
      assert.deepEqual(
        meaning(f34.text()),
        meaning(
          unfold(`<coap://[2001:db8:f0::1]/sensors/temp>;rt=temperature;ct=0,
   <coap://[2001:db8:f0::1]/sensors/light>;rt=light-lux;ct=0,
   <coap://[2001:db8:f0::1]/t>;
       anchor="coap://[2001:db8:f0::1]/sensors/temp";rel=alternate,
   <http://www.example.com/sensors/t123>;
       anchor="coap://[2001:db8:f0::1]/sensors/temp";rel=describedby`),
        ),
      );
      // The registration lives 90000 s by default (Appendix B.3), then is gone.
      await m.rt.advance(89_999_000);
      assert.equal(m.rd.registrations().length, 1);
      await m.rt.advance(1_000);
      assert.equal(m.rd.registrations().length, 0);
    } finally {
      await host.close();
      await m.close();
    }
  });
});
