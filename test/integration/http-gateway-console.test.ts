/**
 * What the gateway adds for the console, over real sockets inside a private network namespace
 * whose only interface is `lo`: the console's files at /console/ (only with the option, only by
 * GET, only flat script names, with a Content-Security-Policy that forbids anything from
 * elsewhere, behind the gateway's Host check); the node's own code on unicast answers
 * (`CoAP-Response-Code`: 4.01 and 4.03 are both 403); observation as an event stream
 * (`Observe: 0`, RFC 7641) of one node, cancelled by leaving (the node has no observer left), and
 * of a group for its Multicast-Timeout; the 400s of a wrong Observe and the observations limit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import {
  CoapResponseError,
  CoapServer,
  HttpGateway,
  type HttpGatewayOptions,
  InvalidArgumentError,
  startHttpGateway,
} from '../../src/index.js';
import { insideNetns, LOOPBACK_SETUP, runSelfInNetns } from '../support/netns.js';

const T = { timeout: 30_000 };

/** Reads server-sent events from a response until `stop` says enough or the stream ends. */
async function readEvents(
  res: Response,
  stop: (events: Array<{ event: string; data: Record<string, unknown> }>) => boolean,
): Promise<Array<{ event: string; data: Record<string, unknown> }>> {
  const events: Array<{ event: string; data: Record<string, unknown> }> = [];
  let text = '';
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
    let end = text.indexOf('\n\n');
    while (end >= 0) {
      const [e, d] = text.slice(0, end).split('\n');
      events.push({ event: e!.slice(7), data: JSON.parse(d!.slice(6)) });
      text = text.slice(end + 2);
      end = text.indexOf('\n\n');
    }
    if (stop(events)) {
      await reader.cancel();
      break;
    }
  }
  return events;
}

if (!insideNetns()) {
  test('HTTP gateway for the console, in a private network namespace', { timeout: 120_000 }, (t) =>
    runSelfInNetns(t, import.meta.filename, LOOPBACK_SETUP, { timeoutMs: 110_000 }),
  );
} else
  describe('HTTP gateway for the console', () => {
    const nodes: CoapServer[] = [];
    const values = ['on', 'off'];
    let gw: HttpGateway;
    let base: string;
    let scripts: string;

    before(async () => {
      for (const [i, address] of ['127.0.0.2', '127.0.0.3'].entries()) {
        const node = new CoapServer({ bind: [address], iface: '127.0.0.1', leisure: 0.2 });
        node
          .resource('/light', { multicast: true, obs: true })
          .get(() => ({ payload: values[i]!, format: 0 }))
          .put((req) => {
            values[i] = req.text();
            node.notify('/light');
            return { code: '2.04' };
          });
        node.get('/who', () => {
          throw new CoapResponseError('4.01', 'who are you?');
        });
        node.get('/no', () => {
          throw new CoapResponseError('4.03', 'not you');
        });
        await node.listen();
        nodes.push(node);
      }
      scripts = mkdtempSync(join(tmpdir(), 'console-scripts-'));
      writeFileSync(join(scripts, 'main.js'), 'export {};\n');
      gw = await startHttpGateway({
        iface: '127.0.0.1',
        port: 0,
        console: { rd: 'coap://127.0.0.9', wait: 2, scripts },
        limits: { observations: 1 },
      });
      base = gw.address!.origin;
    }, T);

    after(async () => {
      await gw?.close();
      for (const n of nodes) await n.close();
      rmSync(scripts, { recursive: true, force: true });
    }, T);

    it('serves the console: its page, style, settings and scripts, same origin only', T, async () => {
      const page = await fetch(`${base}/console/`);
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
      const csp = page.headers.get('content-security-policy')!;
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /connect-src 'self'/);
      assert.match(await page.text(), /<script type="module" src="main\.js"><\/script>/);
      const root = await fetch(`${base}/`, { redirect: 'manual' });
      assert.equal(root.status, 302);
      assert.equal(root.headers.get('location'), '/console/');
      assert.equal(
        (await fetch(`${base}/console/console.css`)).headers.get('content-type'),
        'text/css; charset=utf-8',
      );
      assert.deepEqual(await (await fetch(`${base}/console/config.json`)).json(), {
        hc: '/hc/',
        group: 'coap://224.0.1.187',
        rd: 'coap://127.0.0.9',
        wait: 2,
        maxWait: 60,
        iface: '127.0.0.1',
      });
      const script = await fetch(`${base}/console/main.js`);
      assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.equal(await script.text(), 'export {};\n');
      for (const p of ['/console/other.js', '/console/%2e%2e%2fmain.js', '/console/main.ts'])
        assert.equal((await fetch(`${base}${p}`)).status, 404, p);
      const post = await fetch(`${base}/console/`, { method: 'POST', body: 'x' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
      // A name the gateway was not given (DNS rebinding) is refused here too; fetch cannot set Host.
      const foreign = await new Promise<number>((resolve, reject) =>
        get(`${base}/console/`, { headers: { Host: 'evil.example' } }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        }).on('error', reject),
      );
      assert.equal(foreign, 403);
    });

    it('says when the scripts are not built, and serves no console without the option', T, async () => {
      const empty = mkdtempSync(join(tmpdir(), 'console-empty-'));
      const a = await startHttpGateway({ port: 0, console: { scripts: empty } });
      const b = await startHttpGateway({ port: 0 });
      try {
        const r = await fetch(`${a.address!.origin}/console/main.js`);
        assert.equal(r.status, 503);
        assert.match(await r.text(), /not built .* run npm run build/);
        assert.equal((await fetch(`${b.address!.origin}/console/`)).status, 404);
      } finally {
        await a.close();
        await b.close();
        rmSync(empty, { recursive: true, force: true });
      }
    });

    it('refuses bad console options with InvalidArgumentError', () => {
      const bad: HttpGatewayOptions[] = [
        { console: { group: 'coap://127.0.0.2' } },
        { console: { group: 'http://224.0.1.187' } },
        { console: { rd: 'not a uri' } },
        { console: { wait: 0 } },
      ];
      for (const o of bad) assert.throws(() => new HttpGateway(o), InvalidArgumentError, JSON.stringify(o));
    });

    it("names the node's CoAP code on a unicast answer", T, async () => {
      const who = await fetch(`${base}/hc/coap://127.0.0.2/who`);
      const no = await fetch(`${base}/hc/coap://127.0.0.2/no`);
      assert.equal(who.status, 403);
      assert.equal(no.status, 403);
      assert.equal(who.headers.get('coap-response-code'), '4.01');
      assert.equal(no.headers.get('coap-response-code'), '4.03');
      assert.equal(await who.text(), 'who are you?');
      // The gateway's own refusal names none.
      const own = await fetch(`${base}/hc/coap://192.0.2.1/light`);
      assert.equal(own.status, 403);
      assert.equal(own.headers.get('coap-response-code'), null);
    });

    it('streams the notifications of one node, and deregisters when the client leaves', T, async () => {
      const stop = new AbortController();
      const res = await fetch(`${base}/hc/coap://127.0.0.3/light`, {
        headers: { Observe: '0', Accept: 'text/event-stream' },
        signal: stop.signal,
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      let changed = false;
      const events = await readEvents(res, (ev) => {
        if (ev.length === 1 && !changed) {
          changed = true;
          void fetch(`${base}/hc/coap://127.0.0.3/light`, {
            method: 'PUT',
            body: 'dim',
            headers: { 'Content-Type': 'text/plain' },
          });
        }
        return ev.length === 2;
      });
      stop.abort();
      assert.deepEqual(
        events.map((e) => [e.event, e.data.from, e.data.payload, typeof e.data.observe]),
        [
          ['response', '127.0.0.3:5683', 'off', 'number'],
          ['response', '127.0.0.3:5683', 'dim', 'number'],
        ],
      );
      // The gateway deregistered (RFC 7641 §3.6): the node has nobody left to notify.
      let left = 1;
      for (let i = 0; i < 50 && left > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = nodes[1]!.notify('/light');
      }
      assert.equal(left, 0);
    });

    it('observes a group for its Multicast-Timeout', T, async () => {
      const res = await fetch(`${base}/hc/coap://224.0.1.187/light`, {
        headers: { Observe: '0', Accept: 'text/event-stream', 'Multicast-Timeout': '2' },
      });
      assert.equal(res.status, 200);
      let changed = false;
      const events = await readEvents(res, (ev) => {
        if (ev.filter((e) => e.event === 'response').length === 2 && !changed) {
          changed = true;
          void fetch(`${base}/hc/coap://127.0.0.2/light`, {
            method: 'PUT',
            body: 'bright',
            headers: { 'Content-Type': 'text/plain' },
          });
        }
        return false;
      });
      const responses = events.filter((e) => e.event === 'response').map((e) => e.data);
      assert.deepEqual(
        responses
          .slice(0, 2)
          .map((r) => r.from)
          .sort(),
        ['127.0.0.2:5683', '127.0.0.3:5683'],
      );
      assert.ok(responses.every((r) => typeof r.observe === 'number'));
      assert.deepEqual(
        responses.slice(2).map((r) => [r.from, r.payload]),
        [['127.0.0.2:5683', 'bright']],
      );
      assert.equal(events.at(-1)!.event, 'summary');
      assert.equal(events.at(-1)!.data.reason, 'window');
    });

    it(
      'refuses Observe other than 0, on other methods, without an event stream, and past the limit',
      T,
      async () => {
        const url = `${base}/hc/coap://127.0.0.2/light`;
        const sse = { Accept: 'text/event-stream' };
        const one = await fetch(url, { headers: { ...sse, Observe: '1' } });
        assert.equal(one.status, 400);
        assert.match(await one.text(), /only Observe: 0/);
        const put = await fetch(url, {
          method: 'PUT',
          body: 'x',
          headers: { ...sse, Observe: '0', 'Content-Type': 'text/plain' },
        });
        assert.equal(put.status, 400);
        assert.equal(values[0], 'bright');
        const plain = await fetch(url, { headers: { Observe: '0' } });
        assert.equal(plain.status, 400);
        assert.match(await plain.text(), /Accept: text\/event-stream/);
        const stop = new AbortController();
        const first = await fetch(url, { headers: { ...sse, Observe: '0' }, signal: stop.signal });
        assert.equal(first.status, 200);
        const second = await fetch(url, { headers: { ...sse, Observe: '0' } });
        assert.equal(second.status, 429);
        assert.ok(second.headers.get('retry-after'));
        stop.abort();
      },
    );
  });
