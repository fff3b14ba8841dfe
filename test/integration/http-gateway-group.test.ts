/**
 * The HTTP gateway and CoAP groups (groupcomm-proxy §9, RFC 8075 §8.4), over real sockets inside
 * a private network namespace whose only interface is `lo`: three nodes on 127.0.0.2-4 in All
 * CoAP Nodes on a random port, the gateway on 127.0.0.1 sending group requests itself on lo.
 * curl and Node's fetch ask it for the multipart batch (every part parsed and checked: status
 * line, header fields, Reply-From), the JSON document and the event stream (an event arrives
 * before the summary); Multicast-Timeout missing (400 with an empty field), 0 (204 right after
 * sending), capped; discovery of a group; group PUT; who may ask (403) and how often (429).
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it, test } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { CoapResponseError } from '../../src/errors.js';
import { HttpGateway, type HttpGatewayOptions, startHttpGateway } from '../../src/http-gateway/index.js';
import { CoapServer } from '../../src/server/server.js';
import { runGroupTestsInNetns } from '../support/group-netns.js';
import { randomPort, trackHandles } from '../support/handles.js';
import { curl, curlHeader, header, parseBatch, parseReplyFrom, readEvents } from '../support/http-gateway.js';
import { assertOnlyInterfaces, insideNetns, LOOPBACK_SETUP } from '../support/netns.js';

const T = { timeout: 30_000 };
const ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
/** A group the nodes joined where no resource answers: for silence. */
const QUIET = '239.255.7.7';

interface Node {
  readonly address: string;
  readonly server: CoapServer;
  value: string;
  calls: number;
}

async function startNodes(port: number): Promise<Node[]> {
  const nodes: Node[] = [];
  for (const address of ADDRESSES) {
    const server = new CoapServer({
      bind: [address],
      port,
      iface: '127.0.0.1',
      leisure: 0.3,
      groups: [QUIET],
    });
    const node: Node = { address, server, value: address === '127.0.0.3' ? 'off' : 'on', calls: 0 };
    server
      .resource('/light', { multicast: true, rt: 'light' })
      .get(() => {
        node.calls++;
        return { payload: node.value, maxAge: 30 };
      })
      .put((req) => {
        if (req.text() !== 'on' && req.text() !== 'off') throw new CoapResponseError('4.00', 'on or off');
        node.value = req.text();
        return undefined;
      });
    server.resource('/secret', { multicast: true }).get(() => {
      throw new CoapResponseError('4.03');
    });
    nodes.push(node);
    await server.listen();
  }
  return nodes;
}

if (!insideNetns()) {
  test('the HTTP gateway and groups, in a private network namespace', { timeout: 240_000 }, (t) =>
    runGroupTestsInNetns(t, import.meta.filename, LOOPBACK_SETUP),
  );
} else {
  describe('the HTTP gateway and CoAP groups (groupcomm-proxy §9)', () => {
    const port = randomPort();
    const group = `224.0.1.187:${port}`;
    let nodes: Node[] = [];
    let gw: HttpGateway | undefined;
    let url = '';
    let checkHandles: () => Promise<void> = async () => {};
    /** More gateways a test starts, closed at the end. */
    const others: HttpGateway[] = [];
    const start = async (o: HttpGatewayOptions) => {
      const g = await startHttpGateway({
        iface: '127.0.0.1',
        port: 0,
        coapBind: [{ address: '127.0.0.1', port: 0 }],
        ...o,
      });
      others.push(g);
      return g.address!.url;
    };

    before(async () => {
      assertOnlyInterfaces(['lo']);
      checkHandles = trackHandles();
      nodes = await startNodes(port);
      gw = await startHttpGateway({
        iface: '127.0.0.1',
        port: 0,
        coapBind: [{ address: '127.0.0.1', port: 0 }],
        limits: { groupRate: { rate: 100, burst: 100 }, clientRate: { rate: 100, burst: 100 } },
      });
      url = gw.address!.url;
    });

    after(async () => {
      await gw?.close();
      for (const g of others) await g.close();
      for (const n of nodes) await n.server.close();
      await checkHandles();
    });

    /** Checks one part of a batch against the node it names. */
    const checkPart = (m: ReturnType<typeof parseBatch>[number]) => {
      const from = parseReplyFrom(header(m, 'reply-from'));
      const node = nodes.find((n) => n.address === from.address);
      assert.ok(node, `Reply-From names ${from.address}, not a node`);
      assert.equal(from.port, port);
      assert.equal(m.status, 200);
      assert.equal(m.reason, 'OK');
      assert.equal(header(m, 'content-type'), 'text/plain; charset=utf-8');
      assert.match(header(m, 'cache-control') ?? '', /^max-age=(30|29)$/);
      assert.equal(m.body.toString(), node.value);
      return from.address;
    };

    it(
      'answers curl with the multipart batch: one application/http part per member, with Reply-From',
      T,
      async () => {
        const r = await curl(['-H', 'Multicast-Timeout: 2', `${url}coap://${group}/light`]);
        assert.equal(r.status, 200);
        assert.equal(curlHeader(r, 'cache-control'), 'no-store');
        assert.equal(Number(curlHeader(r, 'content-length')), r.body.length);
        const parts = parseBatch(curlHeader(r, 'content-type'), r.body);
        assert.deepEqual(parts.map(checkPart).sort(), ADDRESSES);
      },
    );

    it('answers fetch with the same batch through the Simple Form (RFC 8075 §5.4.1)', T, async () => {
      const res = await fetch(`${url}?target_uri=coap://${group}/light`, {
        headers: { 'Multicast-Timeout': '2' },
      });
      assert.equal(res.status, 200);
      const parts = parseBatch(res.headers.get('content-type'), Buffer.from(await res.arrayBuffer()));
      assert.deepEqual(parts.map(checkPart).sort(), ADDRESSES);
    });

    it('answers Accept: application/json with one document of every response and a summary', T, async () => {
      const res = await fetch(`${url}coap://${group}/light`, {
        headers: { 'Multicast-Timeout': '1', Accept: 'application/json' },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json');
      const doc = (await res.json()) as {
        target: string;
        method: string;
        responses: Array<{ from: string; code: string; format: number; payload: string; ms: number }>;
        summary: { responses: number; endpoints: number; ms: number; reason: string; timeout: number };
      };
      assert.equal(doc.target, `coap://${group}/light`);
      assert.equal(doc.method, 'GET');
      assert.deepEqual(
        doc.responses.map((r) => [r.from, r.code, r.format, r.payload]).sort(),
        nodes.map((n) => [`${n.address}:${port}`, '2.05', 0, n.value]),
      );
      for (const r of doc.responses) assert.ok(Number.isInteger(r.ms) && r.ms >= 0);
      assert.deepEqual(Object.keys(doc.summary), ['responses', 'endpoints', 'ms', 'reason', 'timeout']);
      assert.equal(doc.summary.responses, 3);
      assert.equal(doc.summary.endpoints, 3);
      assert.equal(doc.summary.reason, 'window');
      assert.equal(doc.summary.timeout, 1);
    });

    it('streams Accept: text/event-stream: each response as it arrives, before the summary', T, async () => {
      const res = await fetch(`${url}coap://${group}/light`, {
        headers: { 'Multicast-Timeout': '2', Accept: 'text/event-stream' },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      const events = await readEvents(res.body);
      assert.deepEqual(
        events.map((e) => e.event),
        ['response', 'response', 'response', 'summary'],
      );
      const summary = events[3]!;
      assert.deepEqual(summary.data, {
        responses: 3,
        endpoints: 3,
        ms: (summary.data as { ms: number }).ms,
        reason: 'window',
        timeout: 2,
      });
      // Live: every response arrived before the window ended and the summary came.
      for (const e of events.slice(0, 3))
        assert.ok(e.at < summary.at, 'a response event arrived before the summary');
      assert.deepEqual(
        events
          .slice(0, 3)
          .map((e) => (e.data as { from: string }).from)
          .sort(),
        ADDRESSES.map((a) => `${a}:${port}`),
      );
    });

    it('streams to curl -N as well', T, async () => {
      const r = await curl([
        '-N',
        '-H',
        'Multicast-Timeout: 1',
        '-H',
        'Accept: text/event-stream',
        `${url}coap://${group}/light`,
      ]);
      const text = r.body.toString();
      assert.equal(
        text.match(/^event: response\ndata: \{"from":"127\.0\.0\.[234]:\d+","code":"2\.05"/gm)?.length,
        3,
      );
      assert.match(
        text,
        /event: summary\ndata: \{"responses":3,"endpoints":3,"ms":\d+,"reason":"window","timeout":1\}\n\n$/,
      );
    });

    it(
      'needs Multicast-Timeout: 400 with an empty Multicast-Timeout field and a diagnostic (§9.1)',
      T,
      async () => {
        const res = await fetch(`${url}coap://${group}/light`);
        assert.equal(res.status, 400);
        assert.equal(res.headers.get('multicast-timeout'), '');
        assert.match(await res.text(), /^a group request needs a Multicast-Timeout header/);
        const bad = await fetch(`${url}coap://${group}/light`, { headers: { 'Multicast-Timeout': 'soon' } });
        assert.equal(bad.status, 400);
        assert.match(await bad.text(), /"soon" is not a number of seconds/);
      },
    );

    it('answers Multicast-Timeout: 0 with 204 right after sending, in every envelope (§9.5)', T, async () => {
      for (const accept of ['*/*', 'application/json', 'text/event-stream']) {
        const before = nodes.map((n) => n.calls);
        const res = await fetch(`${url}coap://${group}/light`, {
          headers: { 'Multicast-Timeout': '0', Accept: accept },
        });
        assert.equal(res.status, 204);
        assert.equal(await res.text(), '');
        // The request was still sent: every node runs its handler (and, asked for no response, stays silent).
        for (let i = 0; i < 100 && nodes.some((n, k) => n.calls === before[k]); i++)
          await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(
          nodes.map((n, k) => n.calls - before[k]!),
          [1, 1, 1],
        );
      }
    });

    it('lowers a Multicast-Timeout above its cap to the cap', T, async () => {
      const capped = await start({ limits: { maxTimeout: 1 } });
      const res = await fetch(`${capped}coap://${group}/light`, {
        headers: { 'Multicast-Timeout': '3600', Accept: 'application/json' },
      });
      const doc = (await res.json()) as { summary: { timeout: number; responses: number } };
      assert.equal(doc.summary.timeout, 1);
      assert.equal(doc.summary.responses, 3);
    });

    it('discovers the group: GET /.well-known/core with a query, as JSON', T, async () => {
      const res = await fetch(`${url}coap://${group}/.well-known/core?rt=light`, {
        headers: { 'Multicast-Timeout': '1', Accept: 'application/json' },
      });
      const doc = (await res.json()) as {
        responses: Array<{ from: string; format: number; payload: string }>;
      };
      assert.equal(doc.responses.length, 3);
      for (const r of doc.responses) {
        assert.equal(r.format, 40);
        assert.equal(r.payload, '</light>;rt="light"');
      }
    });

    it(
      'forwards a group PUT with its Content-Format, and each member answers (2.04 → 204 parts)',
      T,
      async () => {
        const res = await fetch(`${url}coap://${group}/light`, {
          method: 'PUT',
          body: 'off',
          headers: { 'Multicast-Timeout': '1', 'Content-Type': 'text/plain' },
        });
        assert.equal(res.status, 200);
        const parts = parseBatch(res.headers.get('content-type'), Buffer.from(await res.arrayBuffer()));
        assert.equal(parts.length, 3);
        for (const p of parts) {
          assert.equal(p.status, 204);
          assert.equal(p.body.length, 0);
          assert.equal(header(p, 'content-length'), undefined);
        }
        assert.deepEqual(
          nodes.map((n) => n.value),
          ['off', 'off', 'off'],
        );
        for (const n of nodes) n.value = n.address === '127.0.0.3' ? 'off' : 'on';
      },
    );

    it(
      'answers 204 when nobody answered, then holds the silent group back with 429 (RFC 7252 §4.7)',
      T,
      async () => {
        const quiet = `${QUIET}:${port}`;
        const none = await curl(['-H', 'Multicast-Timeout: 1', `${url}coap://${quiet}/nothing`]);
        assert.equal(none.status, 204);
        assert.equal(none.body.length, 0);
        // A gateway with a client of its own: JSON has a document even when nobody answered.
        const fresh = await start({});
        const empty = await fetch(`${fresh}coap://${quiet}/nothing`, {
          headers: { 'Multicast-Timeout': '1', Accept: 'application/json' },
        });
        assert.equal(empty.status, 200);
        const doc = (await empty.json()) as {
          responses: unknown[];
          summary: { responses: number; reason: string };
        };
        assert.deepEqual(doc.responses, []);
        assert.equal(doc.summary.responses, 0);
        assert.equal(doc.summary.reason, 'window');
        const again = await fetch(`${url}coap://${quiet}/nothing`, {
          headers: { 'Multicast-Timeout': '1', Accept: 'application/json' },
        });
        assert.equal(again.status, 429);
        assert.ok(Number(again.headers.get('retry-after')) >= 1);
        assert.match(await again.text(), /answered nothing .* \(RFC 7252 §4\.7\)/);
      },
    );

    it(
      'refuses groups to clients outside groupClients, and when no interface is configured (403, §8.4)',
      T,
      async () => {
        const limited = await start({
          groupClients: [{ from: '127.0.0.1', groups: [`coap://${QUIET}:${port}`] }],
        });
        const res = await fetch(`${limited}coap://${group}/light`, { headers: { 'Multicast-Timeout': '1' } });
        assert.equal(res.status, 403);
        assert.match(
          await res.text(),
          /group requests to 224\.0\.1\.187:\d+ are not allowed from 127\.0\.0\.1/,
        );
        const g = new HttpGateway({ port: 0 });
        others.push(g);
        const plain = (await g.listen()).url;
        const no = await fetch(`${plain}coap://${group}/light`, { headers: { 'Multicast-Timeout': '1' } });
        assert.equal(no.status, 403);
        assert.match(
          await no.text(),
          /group requests are not configured: the gateway has no multicast interface/,
        );
      },
    );

    it(
      'answers 429 with Retry-After past the per-client and per-group limits, and frees a slot when a client leaves',
      T,
      async () => {
        const one = await start({
          limits: { groupRequestsPerClient: 1, groupRate: { rate: 100, burst: 100 } },
        });
        const leaving = new AbortController();
        const first = fetch(`${one}coap://${group}/light`, {
          headers: { 'Multicast-Timeout': '20', Accept: 'text/event-stream' },
          signal: leaving.signal,
        });
        const events = (await first).body!.getReader();
        await events.read(); // the first response: the request is under way
        const busy = await fetch(`${one}coap://${group}/.well-known/core`, {
          headers: { 'Multicast-Timeout': '1' },
        });
        assert.equal(busy.status, 429);
        assert.ok(Number(busy.headers.get('retry-after')) >= 1);
        assert.match(await busy.text(), /1 group requests of this client are under way \(at most 1\)/);
        leaving.abort();
        await events.cancel().catch(() => {});
        // The slot comes back once the gateway sees the client gone; bounded polling.
        let status = 429;
        for (let i = 0; i < 50 && status === 429; i++) {
          await new Promise((r) => setTimeout(r, 50));
          const r = await fetch(`${one}coap://${group}/light`, { headers: { 'Multicast-Timeout': '0' } });
          status = r.status;
          await r.arrayBuffer();
        }
        assert.equal(status, 204);

        const rated = await start({ limits: { groupRate: { rate: 0.01, burst: 1 } } });
        const ok = await fetch(`${rated}coap://${group}/light`, { headers: { 'Multicast-Timeout': '0' } });
        assert.equal(ok.status, 204);
        const tooOften = await fetch(`${rated}coap://${group}/light`, {
          headers: { 'Multicast-Timeout': '0' },
        });
        assert.equal(tooOften.status, 429);
        assert.equal(tooOften.headers.get('retry-after'), '100');
        assert.match(await tooOften.text(), /the group is asked too often; retry in 100 s/);
      },
    );

    it('ends collection when the responses outgrow their budget (summary reason "buffer")', T, async () => {
      const small = await start({ limits: { responseBytes: 300 } });
      const res = await fetch(`${small}coap://${group}/light`, {
        headers: { 'Multicast-Timeout': '2', Accept: 'application/json' },
      });
      const doc = (await res.json()) as {
        responses: unknown[];
        summary: { reason: string; responses: number };
      };
      assert.equal(doc.summary.reason, 'buffer');
      assert.equal(doc.responses.length, 1);
      assert.equal(doc.summary.responses, 1);
    });

    it('tells a stream that the gateway is closing (summary reason "closed")', T, async () => {
      const closing = new HttpGateway({
        iface: '127.0.0.1',
        port: 0,
        coapBind: [{ address: '127.0.0.1', port: 0 }],
      });
      const at = (await closing.listen()).url;
      const res = await fetch(`${at}coap://${group}/light`, {
        headers: { 'Multicast-Timeout': '30', Accept: 'text/event-stream' },
      });
      const reader = res.body!.getReader();
      await reader.read();
      const closed = closing.close();
      let text = '';
      for (let i = 0; i < 100; i++) {
        const { done, value } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
      await closed;
      assert.match(
        text,
        /event: summary\ndata: \{"responses":\d,"endpoints":\d,"ms":\d+,"reason":"closed","timeout":30\}\n\n$/,
      );
    });

    it('keeps the last response of a member in the batch, and every one in JSON (§9.6)', T, async () => {
      // A member of our own making that answers twice: NON 2.05 "one", then "two", same token.
      const group = createSocket({ type: 'udp4', reuseAddr: true });
      const unicast = createSocket('udp4');
      await new Promise<void>((r) => group.bind(port, '224.0.1.187', r));
      group.addMembership('224.0.1.187', '127.0.0.1');
      await new Promise<void>((r) => unicast.bind(0, '127.0.0.5', r));
      group.on('message', (m, from) => {
        if (!m.includes('twice')) return;
        const token = m.subarray(4, 4 + (m[0]! & 0x0f));
        const reply = (mid: number, text: string) =>
          Buffer.concat([
            Buffer.from([0x50 | token.length, 0x45, 0x12, mid]),
            token,
            Buffer.from([0xff]),
            Buffer.from(text),
          ]);
        unicast.send(reply(1, 'one'), from.port, from.address);
        setTimeout(() => unicast.send(reply(2, 'two'), from.port, from.address), 100);
      });
      try {
        const batch = await fetch(`${url}coap://${group.address().address}:${port}/twice`, {
          headers: { 'Multicast-Timeout': '1' },
        });
        const parts = parseBatch(batch.headers.get('content-type'), Buffer.from(await batch.arrayBuffer()));
        assert.deepEqual(
          parts.map((p) => [parseReplyFrom(header(p, 'reply-from')).address, p.body.toString()]),
          [['127.0.0.5', 'two']],
        );
        const json = await fetch(`${url}coap://224.0.1.187:${port}/twice`, {
          headers: { 'Multicast-Timeout': '1', Accept: 'application/json' },
        });
        const doc = (await json.json()) as {
          responses: Array<{ payload: string }>;
          summary: { endpoints: number };
        };
        assert.deepEqual(
          doc.responses.map((r) => r.payload),
          ['one', 'two'],
        );
        assert.equal(doc.summary.endpoints, 1);
      } finally {
        await new Promise<void>((r) => group.close(() => r()));
        await new Promise<void>((r) => unicast.close(() => r()));
      }
    });

    it('refuses a group wider than a site (403, RFC 7390 §5.4.2)', T, async () => {
      const res = await fetch(`${url}coap://[ff0e::1]:${port}/light`, {
        headers: { 'Multicast-Timeout': '1', Accept: 'text/event-stream' },
      });
      assert.equal(res.status, 403);
      assert.match(
        await res.text(),
        /^ff0e::1 has scope 14, wider than site-local \(5\) \(RFC 7390 §5\.4\.2\): the gateway sends group requests within a site only\n$/,
      );
    });

    it('takes a name that resolves to a group address as a group target (RFC 8075 §8.4)', T, async () => {
      const named = await start({ resolver: async (h) => (h === 'all.example' ? ['224.0.1.187'] : []) });
      const res = await fetch(`${named}coap://all.example:${port}/light`, {
        headers: { 'Multicast-Timeout': '1', Accept: 'application/json' },
      });
      const doc = (await res.json()) as { responses: unknown[] };
      assert.equal(doc.responses.length, 3);
    });

    it('uses the client it is given and leaves it open', T, async () => {
      const client = await CoapClient.create({
        iface: '127.0.0.1',
        bind: [{ address: '127.0.0.1', port: 0 }],
      });
      try {
        const given = await start({ client });
        const res = await fetch(`${given}coap://${group}/light`, { headers: { 'Multicast-Timeout': '1' } });
        assert.equal(
          parseBatch(res.headers.get('content-type'), Buffer.from(await res.arrayBuffer())).length,
          3,
        );
        await others.pop()!.close();
        assert.equal(client.isClosed, false);
      } finally {
        await client.close();
      }
    });
  });
}
