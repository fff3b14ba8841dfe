/**
 * CoapServer and CoapClient in one process over real UDP on loopback: unicast round trips and
 * error codes (RFC 7252 §5.2, §5.8, §5.9, §5.10; RFC 8132 for FETCH/iPATCH), discovery filters
 * (RFC 6690 §4.1), the rules a group request must pass (RFC 7252 §8, RFC 7390 §2.5, §5.1) and one
 * IPv4 group exchange on lo (RFC 7390 §2.7). Addresses 127.0.0.20-127.0.0.29 and ::1 only;
 * multicast is always pinned to 127.0.0.1.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import diagnostics from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import {
  type ClientOptions,
  CoapAbortError,
  CoapClient,
  type CoapMessage,
  CoapResponseError,
  CoapServer,
  CoapTimeoutError,
  GroupRequestError,
  InvalidArgumentError,
  isMulticast,
  MessageType,
  type MethodName,
  Opt,
} from '../../src/index.js';
import { randomPort, trackHandles } from '../support/handles.js';

const T = { timeout: 15_000 };
const SERVER = '127.0.0.20';
const GROUP_SERVER = '127.0.0.24';

/** A port on `address` that nobody listens on (bound, then closed). */
async function silentPort(address: string): Promise<number> {
  const s = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Types and codes of the messages `from` sends us while `fn` runs (diagnostics channel). */
async function received(from: string, fn: () => Promise<unknown>): Promise<Array<[number, number]>> {
  const seen: Array<[number, number]> = [];
  const ch = diagnostics.channel('coap:message:received');
  const listen = (m: unknown) => {
    const { message, remote } = m as { message: CoapMessage; remote: { address: string } };
    if (remote.address === from) seen.push([message.type, message.code]);
  };
  ch.subscribe(listen);
  try {
    await fn();
  } finally {
    ch.unsubscribe(listen);
  }
  return seen;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` with a fresh client bound to 127.0.0.1, closes it, then checks nothing leaked. */
/**
 * Runs `fn` with a fresh client and checks nothing leaked. A server started before and used by
 * `fn` keeps timers of its own (duplicate detection sweeps) until it closes, so it is passed
 * in and closed before the check.
 */
async function withClient(
  o: ClientOptions,
  fn: (c: CoapClient) => Promise<void>,
  server?: CoapServer,
): Promise<void> {
  const check = trackHandles();
  const client = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }], ...o });
  try {
    await fn(client);
  } finally {
    await client.close();
    await server?.close();
  }
  await check();
}

describe('unicast requests on 127.0.0.20', () => {
  let server: CoapServer;
  let client: CoapClient;
  let base: string;
  let check: () => Promise<void>;
  let value = 'off';

  before(async () => {
    check = trackHandles();
    server = new CoapServer({ bind: [SERVER], port: 0, joinAllCoapNodes: false, ackDelayMs: 50 });
    server
      .resource('/light', { rt: 'light', ct: 0, obs: true, title: 'Lamp' })
      .get(() => ({ payload: value }))
      .put((req) => void (value = req.text()))
      .post((req) => ({ code: '2.01', payload: `made ${req.text()}`, location: ['light', '2'] }))
      .delete(() => void (value = ''))
      .fetch((req) => ({ payload: { asked: req.json() }, format: 50 }))
      .ipatch((req) => ({ payload: `patched ${req.text()}` }));
    server.resource('/temp', { rt: 'temperature', ct: 0 }).get(() => ({ payload: '21' }));
    server.get('/lights/:id', (req) => ({ payload: `light ${req.params.id}` }), { hidden: true });
    server.post('/json', (req) => ({ payload: req.json() as object }), { accepts: [50] });
    const fail = (err: Error) => () => {
      throw err;
    };
    server.get('/forbidden', fail(new CoapResponseError('4.03', 'no')));
    server.get('/broken', fail(new Error('secret internals')));
    server.get('/slow', () => sleep(150).then(() => ({ payload: 'late' })));
    await server.listen();
    base = `coap://${SERVER}:${server.endpoints[0]!.port}`;
    client = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }] });
  });

  after(async () => {
    await client?.close();
    await server?.close();
    await check?.();
  });

  it('answers GET, PUT, POST, DELETE, FETCH and iPATCH with payloads and formats', T, async () => {
    const req = (method: MethodName, payload?: string, format?: number) =>
      client.request({ uri: `${base}/light`, method, payload, format });
    assert.equal((await req('PUT', 'on')).codeString, '2.04');
    const get = await req('GET');
    assert.deepEqual([get.codeString, get.format, get.text()], ['2.05', 0, 'on']);
    const post = await req('POST', 'two');
    assert.deepEqual([post.codeString, post.text()], ['2.01', 'made two']);
    const fetch = await req('FETCH', '[1]', 50);
    assert.deepEqual([fetch.codeString, fetch.format, fetch.json()], ['2.05', 50, { asked: [1] }]);
    const patch = await req('iPATCH', 'x');
    assert.deepEqual([patch.codeString, patch.text()], ['2.04', 'patched x']);
    assert.equal((await req('DELETE')).codeString, '2.02');
    assert.equal((await req('GET')).text(), '');
  });

  it('binds /lights/:id; answers 4.04 to an unknown path, 4.05 to a wrong method', T, async () => {
    assert.equal((await client.request(`${base}/lights/7`)).text(), 'light 7');
    assert.equal((await client.request(`${base}/nope`)).codeString, '4.04');
    const r = await client.request({ uri: `${base}/temp`, method: 'DELETE' });
    assert.deepEqual([r.codeString, r.ok], ['4.05', false]);
  });

  it('answers a CoapResponseError with its code and diagnostic, other errors with 5.00', T, async () => {
    const forbidden = await client.request(`${base}/forbidden`);
    assert.deepEqual([forbidden.codeString, forbidden.text()], ['4.03', 'no']);
    const broken = await client.request(`${base}/broken`);
    assert.deepEqual([broken.codeString, broken.payload.length], ['5.00', 0]);
  });

  it('sends an empty ACK, then a separate response, when a handler outlasts the ACK delay', T, async () => {
    let text = '';
    const seen = await received(SERVER, async () => {
      text = (await client.request(`${base}/slow`)).text();
    });
    assert.equal(text, 'late');
    assert.deepEqual(seen, [
      [MessageType.ACK, 0],
      [MessageType.CON, 0x45],
    ]);
  });

  it('answers a NON request with a NON response', T, async () => {
    let code = '';
    const seen = await received(SERVER, async () => {
      code = (await client.request({ uri: `${base}/temp`, confirmable: false })).codeString;
    });
    assert.equal(code, '2.05');
    assert.deepEqual(seen, [[MessageType.NON, 0x45]]);
  });

  it('lists resources in /.well-known/core, filtered by rt and href (RFC 6690 §4.1)', T, async () => {
    const all = await client.request(`${base}/.well-known/core`);
    assert.equal(all.format, 40);
    assert.match(all.text(), /<\/light>;rt="light";ct=0;title="Lamp";obs/);
    assert.match(all.text(), /<\/temp>;rt="temperature";ct=0/);
    assert.doesNotMatch(all.text(), /lights\/:id/);
    const rt = await client.request(`${base}/.well-known/core?rt=light`);
    assert.equal(rt.text(), '</light>;rt="light";ct=0;title="Lamp";obs');
    const href = (await client.request(`${base}/.well-known/core?href=/li*`)).text();
    assert.deepEqual(
      href.split(',').map((l) => l.split(';')[0]),
      ['</light>'],
    );
  });

  it('answers 4.06 to an Accept it cannot meet, 4.15 to a format it does not take', T, async () => {
    assert.equal((await client.request({ uri: `${base}/temp`, accept: 50 })).codeString, '4.06');
    const post = (payload: string, format?: number) =>
      client.request({ uri: `${base}/json`, method: 'POST', payload, format });
    assert.equal((await post('x')).codeString, '4.15');
    const good = await post('{"a":1}', 50);
    assert.deepEqual([good.codeString, good.json()], ['2.04', { a: 1 }]);
  });

  it('answers 5.05 to a Proxy-Uri: it is not a proxy (RFC 7252 §5.7.2)', T, async () => {
    const proxy = { number: Opt.ProxyUri, value: Buffer.from('coap://127.0.0.21/x') };
    const r = await client.request({ uri: `${base}/temp`, options: [proxy] });
    assert.equal(r.codeString, '5.05');
  });
});

describe('failures of unicast requests', () => {
  it('times out with CoapTimeoutError when nobody answers', T, async () => {
    const port = await silentPort('127.0.0.21');
    await withClient({ transmission: { ackTimeout: 0.05, maxRetransmit: 1 } }, async (client) => {
      await assert.rejects(client.request(`coap://127.0.0.21:${port}/x`), CoapTimeoutError);
    });
  });

  it('rejects with CoapAbortError when the signal aborts', T, async () => {
    const port = await silentPort('127.0.0.21');
    await withClient({}, async (client) => {
      const abort = new AbortController();
      const pending = client.request({ uri: `coap://127.0.0.21:${port}/x`, signal: abort.signal });
      await sleep(30);
      abort.abort();
      await assert.rejects(pending, (e) => e instanceof CoapAbortError && e.code === 'ERR_COAP_ABORTED');
    });
  });

  it('serves and answers over IPv6 on ::1', T, async (t) => {
    try {
      await silentPort('::1');
    } catch (err) {
      const why = `::1 cannot be bound: ${(err as Error).message}`;
      process.stdout.write(`# SKIPPED: ${why}\n`);
      return t.skip(why);
    }
    const server = new CoapServer({ bind: ['::1'], port: 0, joinAllCoapNodes: false });
    server.get('/v6', (req) => ({ payload: `hello ${req.source.address}` }));
    await server.listen();
    try {
      await withClient(
        { bind: [{ address: '::1', port: 0 }] },
        async (client) => {
          const r = await client.request(`coap://[::1]:${server.endpoints[0]!.port}/v6`);
          assert.deepEqual([r.codeString, r.text(), r.source.address], ['2.05', 'hello ::1', '::1']);
        },
        server,
      );
    } finally {
      await server.close();
    }
  });
});

describe('group requests (RFC 7390)', () => {
  const etag = { number: Opt.ETag, value: Buffer.from([1]) };

  it('refuses what a group request must not be, before sending anything', T, async () => {
    const group = `coap://224.0.1.187:${randomPort()}/light`;
    await withClient({}, async (client) => {
      const is = (code: string) => (e: unknown) => e instanceof GroupRequestError && e.code === code;
      await assert.rejects(client.request(group), is('ERR_COAP_GROUP_USE_GROUP'));
      assert.throws(() => client.group({ uri: group, confirmable: true }), is('ERR_COAP_GROUP_CONFIRMABLE'));
      assert.throws(() => client.group('coaps://224.0.1.187/x'), is('ERR_COAP_GROUP_SECURE_SCHEME'));
      assert.throws(() => client.group({ uri: group, options: [etag] }), is('ERR_COAP_GROUP_ETAG'));
    });
  });

  it('fails without a multicast interface and sends nothing', T, async () => {
    const sentTo: string[] = [];
    const original = dgram.Socket.prototype.send;
    // Guard: record, and never pass on, a multicast send made while this test runs.
    dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
      const address = args.find((a) => typeof a === 'string' && isMulticast(a)) as string | undefined;
      if (address !== undefined) return void sentTo.push(address);
      return (original as (...a: unknown[]) => void).apply(this, args);
    } as typeof original;
    try {
      await withClient({}, async (client) => {
        const responses = client.group({ uri: `coap://224.0.1.187:${randomPort()}/light`, window: 300 });
        await assert.rejects(responses.collect(), { code: 'ERR_COAP_NO_MULTICAST_INTERFACE' });
        assert.equal((await responses.done).responses, 0);
      });
    } finally {
      dgram.Socket.prototype.send = original;
    }
    assert.deepEqual(sentTo, []);
  });

  it('gets the answer of a node on lo from its unicast address, processed once', T, async () => {
    const port = randomPort();
    const hits = { light: 0, private: 0 };
    const server = new CoapServer({ bind: [GROUP_SERVER], port, iface: '127.0.0.1', leisure: 0.2 });
    server.get('/light', () => ({ payload: `on ${++hits.light}` }), { multicast: true });
    server.get('/private', () => ({ payload: `secret ${++hits.private}` }));
    const info = await server.listen();
    try {
      assert.deepEqual(
        info.groups.map((g) => [g.group, g.port]),
        [['224.0.1.187', port]],
      );
      await withClient(
        { iface: '127.0.0.1' },
        async (client) => {
          const uri = `coap://224.0.1.187:${port}`;
          const got = await client.group({ uri: `${uri}/light`, window: 1000 }).collect();
          const src = { address: GROUP_SERVER, port };
          assert.deepEqual(
            got.map((r) => [r.source, r.codeString, r.text()]),
            [[src, '2.05', 'on 1']],
          );
          assert.equal(hits.light, 1);
          // groupcomm-bis §3.2.1 allows the ETag that RFC 7252 §8.2.1 forbids.
          const bis = { uri: `${uri}/light`, window: 1000, options: [etag], groupcommBis: true };
          assert.deepEqual(
            (await client.group(bis).collect()).map((r) => r.text()),
            ['on 2'],
          );
          // RFC 7390 §2.7: a resource that did not opt in ignores multicast. Last: a silent
          // window makes the next request to the group wait (PROBING_RATE).
          const quiet = await client.group({ uri: `${uri}/private`, window: 1000 }).collect();
          assert.deepEqual([quiet.length, hits.private], [0, 0]);
        },
        server,
      );
    } finally {
      await server.close();
    }
  });

  it('refuses to construct a server on a wildcard address', () => {
    assert.throws(() => new CoapServer({ bind: ['0.0.0.0'] }), InvalidArgumentError);
    assert.throws(() => new CoapServer({ bind: ['::'] }), /wildcard/);
  });
});
