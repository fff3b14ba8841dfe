/**
 * The HTTP gateway and one CoAP server at a time (RFC 8075, RFC 7252 §10.2), over real UDP on
 * loopback (127.0.0.60-63 and ::1, random ports): codes and headers mapped (404, 503 with
 * Retry-After from Max-Age, 4.15 → 415 and the gateway's own 415, 4.06 → 406, 4.05 → 400 with
 * its reason phrase, ETag and a conditional GET → 304, 2.01 with Location through the template),
 * IPv6 targets with encoded and raw brackets, a node's /coap-group read and changed through the
 * gateway (application/coap-group+json), a resource directory registered with and looked up, no
 * answer (504) and a Reset (502), the allow-list (403), the rate (429), and bad input (400, 413,
 * 501, each with a one-line body).
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CoapResponseError } from '../../src/errors.js';
import { attachGroupConfig, type GroupConfig } from '../../src/group-config/index.js';
import { type HttpGateway, startHttpGateway } from '../../src/http-gateway/index.js';
import { ContentFormat } from '../../src/options/content-format.js';
import { Opt } from '../../src/options/registry.js';
import { decodeUint, findOption } from '../../src/options/values.js';
import { attachResourceDirectory, type ResourceDirectory } from '../../src/rd/index.js';
import { CoapServer } from '../../src/server/server.js';
import { randomPort, trackHandles } from '../support/handles.js';
import { curl } from '../support/http-gateway.js';

const T = { timeout: 20_000 };
const NODE = '127.0.0.60';
const ETAG = Buffer.from([0xa1, 0xb2, 0xc3]);

/** No DNS from tests. */
const noDns = async (host: string): Promise<string[]> => {
  throw Object.assign(new Error(`no DNS in tests (${host})`), { code: 'ENOTFOUND' });
};

describe('the HTTP gateway and unicast CoAP targets (RFC 8075)', () => {
  const port = randomPort();
  const base = `coap://${NODE}:${port}`;
  let node: CoapServer | undefined;
  let v6: CoapServer | undefined;
  let config: GroupConfig | undefined;
  let rd: ResourceDirectory | undefined;
  let gw: HttpGateway | undefined;
  let url = '';
  let accept: number | undefined;
  /** Larger than one block (RFC 7959): the gateway's client moves it in several. */
  const big = 'x'.repeat(3000);
  let received = 0;
  const others: HttpGateway[] = [];
  const sockets: Socket[] = [];
  let checkHandles: () => Promise<void> = async () => {};

  before(async () => {
    checkHandles = trackHandles();
    node = new CoapServer({ bind: [NODE], port, joinAllCoapNodes: false });
    node.get('/light', (req) => {
      // RFC 7252 §5.10.6.2: a current ETag in the request is answered 2.03.
      if (findOption(req.options, Opt.ETag)?.value.equals(ETAG))
        return { code: '2.03', maxAge: 30, etag: ETAG };
      return { payload: 'on', maxAge: 30, etag: ETAG };
    });
    node.get('/busy', () => {
      throw new CoapResponseError('5.03', 'try later', { maxAge: 7 });
    });
    node.resource('/json', { accepts: [ContentFormat.Json] }).put(() => undefined);
    node.get('/strict', (req) => {
      const a = findOption(req.options, Opt.Accept);
      accept = a === undefined ? undefined : decodeUint(a.value);
      if (accept !== undefined && accept !== 0) throw new CoapResponseError('4.06');
      return { payload: 'text only' };
    });
    node.get('/odd', () => ({ payload: Buffer.from([1, 2, 3]), format: 11060 }));
    node.patch('/patched', (req) => ({ payload: `patched ${req.text()}` }));
    node
      .resource('/big')
      .get(() => ({ payload: big }))
      .put((req) => {
        received = req.payload.length;
        return undefined;
      });
    node
      .resource('/things')
      .post((req) => ({ location: ['things', req.text()] }))
      .delete(() => undefined);
    await node.listen();
    config = await attachGroupConfig(node, { resolver: noDns, rateLimit: false, graceMs: 0 });
    rd = await attachResourceDirectory(node);
    v6 = new CoapServer({ bind: ['::1'], port, joinAllCoapNodes: false });
    v6.get('/six', () => ({ payload: 'v6' }));
    await v6.listen();
    gw = await startHttpGateway({
      port: 0,
      coapBind: [
        { address: '127.0.0.1', port: 0 },
        { address: '::1', port: 0 },
      ],
      limits: { clientRate: { rate: 1000, burst: 1000 }, unicastTimeout: 1 },
    });
    url = gw.address!.url;
  });

  after(async () => {
    await gw?.close();
    for (const g of others) await g.close();
    for (const s of sockets) await new Promise<void>((r) => s.close(() => r()));
    await rd?.close();
    await config?.close();
    await node?.close();
    await v6?.close();
    await checkHandles();
  });

  it('maps a 2.05 to 200 with Content-Type, Cache-Control from Max-Age, and ETag', T, async () => {
    const res = await fetch(`${url}${base}/light`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'max-age=30');
    assert.equal(res.headers.get('etag'), '"obLD"');
    assert.equal(await res.text(), 'on');
  });

  it('turns If-None-Match into a CoAP validation: the 2.03 is a 304 with the ETag', T, async () => {
    const res = await fetch(`${url}${base}/light`, { headers: { 'If-None-Match': '"obLD"' } });
    assert.equal(res.status, 304);
    assert.equal(res.headers.get('etag'), '"obLD"');
    const stale = await fetch(`${url}${base}/light`, { headers: { 'If-None-Match': '"AQID"' } });
    assert.equal(stale.status, 200);
  });

  it('answers HEAD with the headers of the GET and no body', T, async () => {
    const r = await fetch(`${url}${base}/light`, { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-length'), '2');
    assert.equal(r.headers.get('etag'), '"obLD"');
    assert.equal((await r.arrayBuffer()).byteLength, 0);
  });

  it('maps 4.04 to 404 and 5.03 to 503 with Retry-After from Max-Age (Table 2 note 8)', T, async () => {
    const missing = await curl([`${url}${base}/nothing`]);
    assert.equal(missing.status, 404);
    const busy = await fetch(`${url}${base}/busy`);
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get('retry-after'), '7');
    assert.equal(busy.headers.get('cache-control'), 'max-age=7');
    assert.equal(busy.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await busy.text(), 'try later');
  });

  it('maps 4.15 to 415, and answers 415 itself for a type with no Content-Format', T, async () => {
    const wrong = await fetch(`${url}${base}/json`, {
      method: 'PUT',
      body: 'x',
      headers: { 'Content-Type': 'text/plain' },
    });
    assert.equal(wrong.status, 415);
    const right = await fetch(`${url}${base}/json`, {
      method: 'PUT',
      body: '{}',
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(right.status, 204);
    const png = await fetch(`${url}${base}/json`, {
      method: 'PUT',
      body: 'x',
      headers: { 'Content-Type': 'image/png' },
    });
    assert.equal(png.status, 415);
    assert.match(await png.text(), /^Content-Type image\/png has no CoAP Content-Format/);
  });

  it('maps Accept to the Accept option, 4.06 to 406, and ignores what does not map', T, async () => {
    const no = await fetch(`${url}${base}/strict`, { headers: { Accept: 'application/json' } });
    assert.equal(no.status, 406);
    assert.equal(accept, ContentFormat.Json);
    const yes = await fetch(`${url}${base}/strict`, { headers: { Accept: 'text/plain' } });
    assert.equal(yes.status, 200);
    const browser = await fetch(`${url}${base}/strict`, { headers: { Accept: 'text/html,*/*;q=0.8' } });
    assert.equal(browser.status, 200);
  });

  it('maps 4.05 to 400 with the reason phrase "CoAP server returned 4.05" (note 7)', T, async () => {
    const res = await fetch(`${url}${base}/light`, { method: 'DELETE' });
    assert.equal(res.status, 400);
    assert.match(res.statusText, /^CoAP server returned 4\.05/);
  });

  it(
    'maps 2.01 to 201 with Location through the template, 2.02 to 204, unknown formats to coap-payload',
    T,
    async () => {
      const made = await fetch(`${url}${base}/things`, {
        method: 'POST',
        body: '7',
        headers: { 'Content-Type': 'text/plain' },
      });
      assert.equal(made.status, 201);
      assert.equal(made.headers.get('location'), `/hc/${base}/things/7`);
      const gone = await fetch(`${url}${base}/things`, { method: 'DELETE' });
      assert.equal(gone.status, 204);
      const odd = await fetch(`${url}${base}/odd`);
      assert.equal(odd.headers.get('content-type'), 'application/coap-payload; cf=11060');
      assert.deepEqual([...new Uint8Array(await odd.arrayBuffer())], [1, 2, 3]);
    },
  );

  it(
    'maps PATCH to PATCH (RFC 8132), and moves bodies larger than a block both ways (RFC 8075 §8.3)',
    T,
    async () => {
      const patched = await fetch(`${url}${base}/patched`, {
        method: 'PATCH',
        body: 'x',
        headers: { 'Content-Type': 'text/plain' },
      });
      assert.equal(patched.status, 200);
      assert.equal(await patched.text(), 'patched x');
      const down = await fetch(`${url}${base}/big`);
      assert.equal((await down.text()).length, 3000);
      const up = await fetch(`${url}${base}/big`, {
        method: 'PUT',
        body: big,
        headers: { 'Content-Type': 'text/plain' },
      });
      assert.equal(up.status, 204);
      assert.equal(received, 3000);
    },
  );

  it('resolves a target name and checks the address it resolves to', T, async () => {
    const names = new Map([
      ['node.example', [NODE]],
      ['far.example', ['198.51.100.7']],
    ]);
    const g = await startHttpGateway({ port: 0, resolver: async (h) => names.get(h) ?? [] });
    others.push(g);
    const near = await fetch(`${g.address!.url}coap://node.example:${port}/light`);
    assert.equal(await near.text(), 'on');
    const far = await fetch(`${g.address!.url}coap://far.example/light`);
    assert.equal(far.status, 403);
    assert.match(await far.text(), /the target 198\.51\.100\.7 is not in the gateway's allow-list/);
    const none = await fetch(`${g.address!.url}coap://none.example/light`);
    assert.equal(none.status, 502);
    assert.match(await none.text(), /cannot resolve none\.example: no address/);
  });

  it('closes connections beyond its limit', T, async () => {
    const g = await startHttpGateway({ port: 0, limits: { connections: 1 } });
    others.push(g);
    const held = connect(g.address!.port, '127.0.0.1');
    await new Promise<void>((r) => held.once('connect', () => r()));
    // Bounded polling until the server counts the held connection.
    let refused = false;
    for (let i = 0; i < 20 && !refused; i++) {
      refused = await fetch(`${g.address!.origin}/.well-known/core`, {
        headers: { Connection: 'close' },
      }).then(
        () => false,
        () => true,
      );
      if (!refused) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(refused, 'a second connection is closed');
    held.destroy();
  });

  it(
    'reaches an IPv6 target with percent-encoded brackets (curl) and raw ones (fetch) (RFC 8075 §5.3.2)',
    T,
    async () => {
      const encoded = await curl([`${url}coap://%5B::1%5D:${port}/six`]);
      assert.equal(encoded.status, 200);
      assert.equal(encoded.body.toString(), 'v6');
      const raw = await fetch(`${url}coap://[::1]:${port}/six`);
      assert.equal(await raw.text(), 'v6');
    },
  );

  it("reads and changes a node's /coap-group (application/coap-group+json, RFC 7390 §2.6.2)", T, async () => {
    const type = 'application/coap-group+json';
    const created = await fetch(`${url}${base}/coap-group`, {
      method: 'POST',
      body: JSON.stringify({ n: 'all-devices', a: `239.0.0.1:${port}` }),
      headers: { 'Content-Type': type },
    });
    assert.equal(created.status, 201, await created.clone().text());
    const location = created.headers.get('location')!;
    assert.match(location, new RegExp(`^/hc/coap://127\\.0\\.0\\.60:${port}/coap-group/\\w+$`));
    const list = await fetch(`${url}${base}/coap-group`);
    assert.equal(list.status, 200);
    assert.equal(list.headers.get('content-type'), type);
    const collection = (await list.json()) as Record<string, { a: string }>;
    assert.deepEqual(Object.values(collection), [{ n: 'all-devices', a: `239.0.0.1:${port}` }]);
    const origin = gw!.address!.origin;
    const one = await fetch(`${origin}${location}`);
    assert.deepEqual(await one.json(), { n: 'all-devices', a: `239.0.0.1:${port}` });
    const changed = await fetch(`${origin}${location}`, {
      method: 'PUT',
      body: JSON.stringify({ a: `239.0.0.2:${port}` }),
      headers: { 'Content-Type': type },
    });
    assert.equal(changed.status, 204);
    const bad = await fetch(`${origin}${location}`, {
      method: 'PUT',
      body: '{',
      headers: { 'Content-Type': type },
    });
    assert.equal(bad.status, 400);
    const removed = await fetch(`${origin}${location}`, { method: 'DELETE' });
    assert.equal(removed.status, 204);
    assert.equal((await fetch(`${origin}${location}`)).status, 404);
  });

  it('registers with a resource directory and looks it up (RFC 9176)', T, async () => {
    const reg = await fetch(`${url}${base}/rd?ep=lamp1`, {
      method: 'POST',
      body: '</light>;rt="light"',
      headers: { 'Content-Type': 'application/link-format' },
    });
    assert.equal(reg.status, 201);
    assert.match(reg.headers.get('location') ?? '', new RegExp(`^/hc/${base.replace(/\./g, '\\.')}/rd/`));
    const found = await fetch(`${url}${base}/rd-lookup/res?rt=light`);
    assert.equal(found.status, 200);
    assert.equal(found.headers.get('content-type'), 'application/link-format');
    assert.match(await found.text(), /^<coap:\/\/127\.0\.0\.1:\d+\/light>;rt="light"/);
  });

  it('answers 504 when no response comes in time, and 502 for a Reset', T, async () => {
    const silent = createSocket('udp4');
    const resetting = createSocket('udp4');
    sockets.push(silent, resetting);
    resetting.on('message', (m, rinfo) => {
      // RFC 7252 §4.2: a Reset with the Message ID of the CON.
      resetting.send(Buffer.from([0x70, 0x00, m[2]!, m[3]!]), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => silent.bind(0, '127.0.0.61', r));
    await new Promise<void>((r) => resetting.bind(0, '127.0.0.62', r));
    const slow = await fetch(`${url}coap://127.0.0.61:${silent.address().port}/x`);
    assert.equal(slow.status, 504);
    assert.match(await slow.text(), /^no response from coap:\/\/127\.0\.0\.61:\d+\/x within 1 s/);
    const reset = await fetch(`${url}coap://127.0.0.62:${resetting.address().port}/x`);
    assert.equal(reset.status, 502);
    assert.match(await reset.text(), /answered with a Reset/);
  });

  it(
    'refuses targets outside the allow-list (403, RFC 8075 §10.4) and limits the rate (429)',
    T,
    async () => {
      const g = await startHttpGateway({
        port: 0,
        targets: ['127.0.0.63/32'],
        limits: { clientRate: { rate: 0.5, burst: 1 }, unicastTimeout: 1 },
      });
      others.push(g);
      const denied = await fetch(`${g.address!.url}${base}/light`);
      assert.equal(denied.status, 403);
      assert.match(
        await denied.text(),
        /the target 127\.0\.0\.60 is not in the gateway's allow-list of targets/,
      );
      // A refused request takes no token: the first one allowed still goes through.
      const first = await fetch(`${g.address!.url}coap://127.0.0.63:${port}/x`);
      assert.equal(first.status, 504);
      const second = await fetch(`${g.address!.url}coap://127.0.0.63:${port}/x`);
      assert.equal(second.status, 429);
      assert.ok(['1', '2'].includes(second.headers.get('retry-after')!));
    },
  );

  it('answers bad input with a status and one line saying how to mend it', T, async () => {
    const cases: Array<[string, RequestInit, number, RegExp]> = [
      [`${url}127.0.0.60/light`, {}, 400, /has no scheme: write \/hc\/coap:\/\/127\.0\.0\.60\/light/],
      [url, {}, 400, /^no target CoAP URI/],
      [`${url}coap://127.0.0.60:notaport/x`, {}, 400, /invalid CoAP URI/],
      [`${url}coaps://127.0.0.60/x`, {}, 501, /coaps:\/\/ is not forwarded/],
      [`${url}${base}/light`, { method: 'OPTIONS' }, 501, /OPTIONS has no CoAP counterpart/],
      [
        `${url}${base}/json`,
        { method: 'PUT', body: 'x'.repeat(70_000), headers: { 'Content-Type': 'text/plain' } },
        413,
        /larger than 65536 bytes/,
      ],
      [`${url}${base}/light`, { headers: { 'If-Match': 'nonsense' } }, 400, /not an entity-tag list/],
      [`${url}coap://unknown.invalid/x`, {}, 502, /cannot resolve unknown\.invalid/],
      [`${gw!.address!.origin}/elsewhere`, {}, 404, /CoAP targets are under \/hc\//],
    ];
    for (const [target, init, status, re] of cases) {
      const res = await fetch(target, init);
      const text = await res.text();
      assert.equal(res.status, status, `${target}: ${text}`);
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.match(text, re);
      assert.equal(text.split('\n').length, 2, 'one line');
    }
  });

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin (403)', T, async () => {
    const host = await curl(['-H', 'Host: evil.example', `${url}${base}/light`]);
    assert.equal(host.status, 403);
    assert.match(host.body.toString(), /does not answer to the name evil\.example/);
    const origin = await curl(['-X', 'POST', '-H', 'Origin: http://evil.example', `${url}${base}/things`]);
    assert.equal(origin.status, 403);
    const own = await curl(['-H', `Origin: ${gw!.address!.origin}`, `${url}${base}/light`]);
    assert.equal(own.status, 200);
  });

  it(
    'publishes its URI mapping on /.well-known/core (RFC 8075 §5.5), and hands other paths to a fallback',
    T,
    async () => {
      const origin = gw!.address!.origin;
      const res = await fetch(`${origin}/.well-known/core?rt=core.hc`);
      assert.equal(res.headers.get('content-type'), 'application/link-format');
      assert.equal(await res.text(), '</hc/>;rt="core.hc",</hc/>;rt="core.hc";hct="?target_uri={+tu}"');
      const none = await fetch(`${origin}/.well-known/core?rt=core.rd`);
      assert.equal(await none.text(), '');
      assert.equal((await fetch(`${origin}/.well-known/core`, { method: 'POST' })).status, 405);
      const g = await startHttpGateway({
        port: 0,
        path: '/coap/',
        fallback: (_req, r) => r.end('console'),
      });
      others.push(g);
      assert.equal(await (await fetch(`${g.address!.origin}/index.html`)).text(), 'console');
      assert.equal(await (await fetch(`${g.address!.url}${base}/light`)).text(), 'on');
    },
  );
});
