/**
 * Robustness under churn, in virtual time: thousands of peers (each a CoapClient on its own
 * memory transport) come and go around one server on a lossy MemoryNetwork driven by a
 * FakeRuntime. They send CON and NON requests, separate-response and block-wise requests,
 * register observations, abort requests, and vanish mid-exchange; some requests go to a peer
 * that does not exist. Once every exchange has settled and the lifetimes have passed
 * (EXCHANGE_LIFETIME, 247 s), the server's tables and a long-lived client's tables must be empty.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CoapClient,
  CoapServer,
  DEFAULT_TIMES,
  FakeRuntime,
  MemoryNetwork,
  type MemoryTransport,
} from '../../src/index.js';

const PEERS = Number(process.env.CHURN_PEERS ?? 2000);
const WAVE = 250;
const SERVER = { address: '10.0.0.1', port: 5683 };
const BASE = `coap://${SERVER.address}:${SERVER.port}`;

/** The unicast address of peer i: 10.1.0.1 onwards. */
const peerAddress = (i: number) => `10.1.${Math.floor(i / 250)}.${1 + (i % 250)}`;

interface Tally {
  issued: number;
  settled: number;
  ok: number;
  failed: number;
}

function track(tally: Tally, p: Promise<unknown>): void {
  tally.issued++;
  p.then(
    () => tally.ok++,
    () => tally.failed++,
  ).finally(() => tally.settled++);
}

/** Advances virtual time in steps until every tracked request settled (bounded by `maxMs`). */
async function settle(rt: FakeRuntime, tally: Tally, maxMs: number): Promise<void> {
  for (let t = 0; t < maxMs && tally.settled < tally.issued; t += 250) await rt.advance(250);
}

interface Outcome {
  readonly tally: Tally;
  readonly server: NonNullable<ReturnType<CoapServer['stats']>>;
  readonly client: ReturnType<CoapClient['stats']>;
  readonly summary: string;
}

/** Runs the whole churn scenario and returns the tables once the lifetimes have passed. */
async function churn(): Promise<Outcome> {
  const rt = new FakeRuntime({ seed: 11 });
  const net = new MemoryNetwork({
    runtime: rt,
    conditions: { loss: 0.02, duplicate: 0.02, reorder: 0.02, delay: 1, jitter: 3 },
  });
  const server = new CoapServer({
    transport: net.createTransport({ bind: [SERVER], ipv4Interface: '127.0.0.1' }),
    runtime: rt,
    joinAllCoapNodes: false,
    // Every other notification CON, so observers that vanished are found out (RFC 7641 §4.5).
    observe: { conEvery: 2 },
  });
  let state = 0;
  server.get('/hello', () => ({ payload: 'hello' }));
  server.get('/big', () => ({ payload: Buffer.alloc(3000, 0x61) }));
  server.get('/obs', () => ({ payload: `state ${state}` }), { obs: true });
  // Longer than the ACK delay: a separate response (RFC 7252 §5.2.2).
  server.get('/slow', () => new Promise((r) => rt.setTimeout(() => r({ payload: 'slow' }), 1500)));
  await server.listen();
  const longLived = await CoapClient.create({
    transport: net.createTransport({ bind: [{ address: '10.0.0.2', port: 40000 }] }),
    runtime: rt,
  });
  const tally: Tally = { issued: 0, settled: 0, ok: 0, failed: 0 };
  let closedMidFlight = 0;
  let observations = 0;
  try {
    for (let w = 0; w < PEERS; w += WAVE) {
      const clients: CoapClient[] = [];
      for (let i = w; i < Math.min(PEERS, w + WAVE); i++) {
        const transport: MemoryTransport = net.createTransport({
          bind: [{ address: peerAddress(i), port: 40000 + (i % 7) }],
        });
        const c = await CoapClient.create({ transport, runtime: rt });
        clients.push(c);
        track(tally, c.request(`${BASE}/hello`));
        track(tally, c.request({ uri: `${BASE}/hello`, confirmable: false }));
        if (i % 3 === 0) track(tally, c.request(`${BASE}/slow`));
        if (i % 5 === 0) track(tally, c.request(`${BASE}/big`));
        if (i % 7 === 0) {
          const ac = new AbortController();
          track(tally, c.request({ uri: `${BASE}/slow`, signal: ac.signal }));
          rt.setTimeout(() => ac.abort(), 500);
        }
        // A peer that is not there: retransmitted, then timed out (RFC 7252 §4.2).
        if (i % 50 === 0) track(tally, c.request('coap://10.9.9.9:5683/hello'));
        if (i % 4 === 0) {
          observations++;
          const obs = c.observe(`${BASE}/obs`);
          track(tally, obs[Symbol.asyncIterator]().next());
          // Some cancel properly (RFC 7641 §3.6); the others simply vanish with their peer.
          if (i % 8 === 0) rt.setTimeout(() => void obs.cancel(), 3000);
        }
        track(tally, longLived.request({ uri: `${BASE}/hello`, confirmable: i % 2 === 0 }));
      }
      await rt.advance(2000);
      state++;
      server.notify('/obs');
      // Half the peers vanish now, whatever is in flight; the rest once their requests settled.
      for (const c of clients.splice(0, clients.length / 2)) {
        closedMidFlight++;
        await c.close();
      }
      await settle(rt, tally, 600_000);
      for (const c of clients) await c.close();
    }
    // Notifications find the observers whose peers vanished: CON ones time out (RFC 7641 §4.5).
    for (let i = 0; i < 4; i++) {
      state++;
      server.notify('/obs');
      await rt.advance(100_000);
    }
    await rt.advance((DEFAULT_TIMES.exchangeLifetime + 10) * 1000);
    const s = server.stats()!;
    const c = longLived.stats();
    const summary =
      `${PEERS} peers (${closedMidFlight} closed mid-flight), ${observations} observations, requests ` +
      `${tally.issued} (${tally.ok} ok, ${tally.failed} failed), network ${JSON.stringify(net.stats)}; ` +
      `after the lifetimes: server ${JSON.stringify(s)}, long-lived client ${JSON.stringify(c)}`;
    return { tally, server: s, client: c, summary };
  } finally {
    await longLived.close();
    await server.close();
  }
}

describe(`${PEERS} peers come and go in virtual time`, { timeout: 60_000 }, () => {
  let outcome: Promise<Outcome> | undefined;
  const run = () => (outcome ??= churn());

  it('every request settles, most of them successfully', { timeout: 60_000 }, async (t) => {
    const o = await run();
    t.diagnostic(o.summary);
    assert.equal(o.tally.settled, o.tally.issued, 'every request settled');
    assert.ok(
      o.tally.ok > o.tally.issued / 2,
      `most requests succeeded (${o.tally.ok} of ${o.tally.issued})`,
    );
  });

  it('afterwards the exchange, timer, observer and token tables are empty', { timeout: 60_000 }, async () => {
    const { server: s, client: c } = await run();
    assert.deepEqual(
      {
        observers: s.observers,
        block1: s.block1.bodies,
        pending: s.messenger.pending,
        timers: s.messenger.timers,
      },
      { observers: 0, block1: 0, pending: 0, timers: 0 },
      'server tables',
    );
    assert.deepEqual(
      { tokens: c.tokens, peers: c.peers, pending: c.messenger.pending, timers: c.messenger.timers },
      { tokens: 0, peers: 0, pending: 0, timers: 0 },
      'long-lived client tables',
    );
  });

  it('afterwards the dedup and block-wise caches are empty too, without new traffic', {
    timeout: 60_000,
  }, async () => {
    const { server: s, client: c } = await run();
    assert.deepEqual(
      { serverDedup: s.messenger.dedup, clientDedup: c.messenger.dedup, representations: s.representations },
      { serverDedup: 0, clientDedup: 0, representations: 0 },
      'entries past EXCHANGE_LIFETIME (dedup) and past their 60 s (representations) are still held',
    );
  });
});
