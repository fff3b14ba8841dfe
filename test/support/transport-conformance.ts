/**
 * The shared conformance suite of the `Transport` contract (src/transport/types.ts; design.md
 * §Multicast on Node), run against each implementation: test/unit/transport-memory.test.ts
 * (MemoryTransport) and test/integration/transport-udp-conformance.test.ts (UdpTransport, on
 * loopback, its multicast cases on lo in a private network namespace). A harness says how to
 * make transports and how to let datagrams arrive; the cases are the same for both.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Address, Datagram, MulticastOptions, Transport } from '../../src/transport/types.js';

/** How one implementation is driven; a fresh harness for each case. */
export interface TransportHarness {
  /** Three unicast addresses a transport may bind. */
  readonly hosts: readonly [string, string, string];
  /** A port for a group, or for a bind that needs a known one; different at every call. */
  port(): number;
  create(options: { bind: readonly Address[] } & MulticastOptions): Promise<Transport>;
  /** Lets the network deliver until `done()` holds (bounded); false if it never did. */
  until(done: () => boolean): Promise<boolean>;
  /** Closes what the case left open and checks nothing leaked. */
  finish(): Promise<void>;
}

export interface ConformanceOptions {
  /** An IPv4 group and the interface pinned for it, when multicast may be sent here. */
  readonly multicast?: { readonly group: string; readonly iface: string };
  /** The interface to pin for the refusal cases (nothing is sent in them). */
  readonly iface: string;
  readonly timeoutMs?: number;
}

/** A receiver that records what arrives. */
function record(t: Transport): Datagram[] {
  const got: Datagram[] = [];
  t.setReceiver((d) => got.push(d));
  return got;
}

/** Sends and resolves with what the callback reported. */
function sent(
  t: Transport,
  data: string,
  to: Address,
  via?: Address & { family: 4 | 6 },
): Promise<Error | null> {
  return new Promise((resolve) => t.send(Buffer.from(data), to.address, to.port, via, resolve));
}

const texts = (got: readonly Datagram[]) => got.map((d) => d.data.toString());
const from = (d: Datagram): Address => ({ address: d.remote.address, port: d.remote.port });

/**
 * Defines the conformance cases of `name` under node:test. `make` gives a fresh harness for
 * each case; the multicast cases run only where `options.multicast` says multicast may be sent.
 */
export function transportConformance(
  name: string,
  make: () => Promise<TransportHarness>,
  options: ConformanceOptions,
): void {
  const T = { timeout: options.timeoutMs ?? 20_000 };
  const withHarness = (fn: (h: TransportHarness) => Promise<void>) => async () => {
    const h = await make();
    try {
      await fn(h);
    } finally {
      await h.finish();
    }
  };

  describe(`${name}: the Transport contract (unicast)`, () => {
    it(
      'binds its unicast sockets in the order given, each with its family, port 0 picking one',
      T,
      withHarness(async (h) => {
        const port = h.port();
        const t = await h.create({
          bind: [
            { address: h.hosts[0], port: 0 },
            { address: h.hosts[1], port },
          ],
        });
        assert.equal(t.sockets.length, 2);
        assert.equal(t.sockets[0]!.address, h.hosts[0]);
        assert.ok(t.sockets[0]!.port > 0, 'port 0 picks a port');
        assert.deepEqual(t.sockets[1], { address: h.hosts[1], port, family: 4 });
        assert.equal(t.sockets[0]!.family, 4);
        await t.close();
      }),
    );

    it(
      'delivers a unicast datagram once, with its source, the socket that received it, and multicast false',
      T,
      withHarness(async (h) => {
        const a = await h.create({ bind: [{ address: h.hosts[0], port: 0 }] });
        const b = await h.create({
          bind: [
            { address: h.hosts[1], port: 0 },
            { address: h.hosts[2], port: 0 },
          ],
        });
        const got = record(b);
        assert.equal(await sent(a, 'hello', b.sockets[1]!), null, 'a send that worked reports null');
        assert.ok(await h.until(() => got.length > 0));
        assert.equal(await sent(a, 'marker', b.sockets[0]!), null);
        assert.ok(await h.until(() => got.length > 1));
        assert.deepEqual(texts(got), ['hello', 'marker']);
        const d = got[0]!;
        assert.deepEqual(from(d), { address: a.sockets[0]!.address, port: a.sockets[0]!.port });
        assert.equal(d.local, b.sockets[1], 'local is the receiving socket itself');
        assert.equal(d.multicast, false);
        assert.equal(d.group, undefined);
        await a.close();
        await b.close();
      }),
    );

    it(
      'sends from the socket given as via',
      T,
      withHarness(async (h) => {
        const a = await h.create({
          bind: [
            { address: h.hosts[0], port: 0 },
            { address: h.hosts[1], port: 0 },
          ],
        });
        const b = await h.create({ bind: [{ address: h.hosts[2], port: 0 }] });
        const got = record(b);
        await sent(a, 'first', b.sockets[0]!);
        await sent(a, 'second', b.sockets[0]!, a.sockets[1]);
        assert.ok(await h.until(() => got.length === 2));
        const from = new Map(got.map((d) => [d.data.toString(), d.remote.address]));
        assert.equal(from.get('first'), h.hosts[0], 'without via: the first socket of the family');
        assert.equal(from.get('second'), h.hosts[1]);
        await a.close();
        await b.close();
      }),
    );

    it(
      'gives every datagram to the receiver installed last',
      T,
      withHarness(async (h) => {
        const a = await h.create({ bind: [{ address: h.hosts[0], port: 0 }] });
        const b = await h.create({ bind: [{ address: h.hosts[1], port: 0 }] });
        const first = record(b);
        const second = record(b);
        await sent(a, 'x', b.sockets[0]!);
        assert.ok(await h.until(() => second.length > 0));
        assert.deepEqual(first, []);
        await a.close();
        await b.close();
      }),
    );

    it(
      'closes idempotently; then a send reports ERR_COAP_CLOSED and nothing more is delivered',
      T,
      withHarness(async (h) => {
        const a = await h.create({ bind: [{ address: h.hosts[0], port: 0 }] });
        const b = await h.create({ bind: [{ address: h.hosts[1], port: 0 }] });
        const c = await h.create({ bind: [{ address: h.hosts[2], port: 0 }] });
        const atB = record(b);
        const atC = record(c);
        await b.close();
        await b.close();
        const err = await sent(b, 'from a closed transport', c.sockets[0]!);
        assert.equal((err as { code?: string } | null)?.code, 'ERR_COAP_CLOSED');
        // To the closed one, then a marker to c: once the marker is in, the first is not coming.
        await sent(a, 'to a closed transport', b.sockets[0]!);
        await sent(a, 'marker', c.sockets[0]!);
        assert.ok(await h.until(() => atC.length > 0));
        assert.deepEqual(texts(atC), ['marker']);
        assert.deepEqual(atB, []);
        await a.close();
        await c.close();
      }),
    );

    it(
      'refuses to send to a group, or join one, without a multicast interface of its family',
      T,
      withHarness(async (h) => {
        const t = await h.create({ bind: [{ address: h.hosts[0], port: 0 }] });
        const err = await sent(t, 'x', { address: '239.255.7.7', port: h.port() });
        assert.equal((err as { code?: string } | null)?.code, 'ERR_COAP_NO_MULTICAST_INTERFACE');
        await assert.rejects(t.join('239.255.7.7', h.port()), { code: 'ERR_COAP_NO_MULTICAST_INTERFACE' });
        assert.deepEqual(t.memberships(), []);
        await t.close();
      }),
    );

    it(
      'refuses to join an address that is not multicast, and to bind one as a unicast socket',
      T,
      withHarness(async (h) => {
        const t = await h.create({ bind: [{ address: h.hosts[0], port: 0 }], ipv4Interface: options.iface });
        await assert.rejects(t.join(h.hosts[1], h.port()), { code: 'ERR_COAP_INVALID_ARGUMENT' });
        assert.deepEqual(t.memberships(), []);
        await t.close();
        await assert.rejects(h.create({ bind: [{ address: '239.255.7.8', port: 0 }] }), {
          code: 'ERR_COAP_INVALID_ARGUMENT',
        });
      }),
    );
  });

  const mc = options.multicast;
  if (mc === undefined) return;

  describe(`${name}: the Transport contract (multicast, RFC 7252 §8.1)`, () => {
    /** A member bound on `host` with the group joined `joins` times, and a sender. */
    const setup = async (h: TransportHarness, joins = 1) => {
      const port = h.port();
      const member = await h.create({ bind: [{ address: h.hosts[0], port }], ipv4Interface: mc.iface });
      for (let i = 0; i < joins; i++) await member.join(mc.group, port);
      const sender = await h.create({ bind: [{ address: h.hosts[1], port: 0 }], ipv4Interface: mc.iface });
      return { port, member, sender, got: record(member) };
    };

    it(
      'delivers a datagram sent to a joined group once, flagged multicast with its group, to the unicast socket of its family',
      T,
      withHarness(async (h) => {
        const { port, member, sender, got } = await setup(h);
        assert.equal(await sent(sender, 'to the group', { address: mc.group, port }), null);
        assert.ok(await h.until(() => got.length > 0));
        await sent(sender, 'marker', member.sockets[0]!);
        assert.ok(await h.until(() => got.length > 1));
        assert.deepEqual(texts(got), ['to the group', 'marker']);
        const d = got[0]!;
        assert.equal(d.multicast, true);
        assert.equal(d.group, mc.group);
        assert.equal(d.local, member.sockets[0], 'answered from the unicast socket of its family');
        assert.deepEqual(from(d), { address: h.hosts[1], port: sender.sockets[0]!.port });
        await sender.close();
        await member.close();
      }),
    );

    it(
      'keeps unicast and group datagrams on one port apart: each arrives once, flagged as it was sent',
      T,
      withHarness(async (h) => {
        const { port, member, sender, got } = await setup(h);
        await sent(sender, 'unicast', member.sockets[0]!);
        await sent(sender, 'group', { address: mc.group, port });
        await sent(sender, 'unicast again', member.sockets[0]!);
        assert.ok(await h.until(() => got.length >= 3));
        const seen = got.map((d) => `${d.data.toString()} ${d.multicast}`).sort();
        assert.deepEqual(seen, ['group true', 'unicast again false', 'unicast false']);
        await sender.close();
        await member.close();
      }),
    );

    it(
      'counts joins per (group, port, interface): it stays a member until the last leave',
      T,
      withHarness(async (h) => {
        const { port, member, sender, got } = await setup(h, 2);
        assert.deepEqual(
          member.memberships().map((m) => ({ ...m })),
          [{ group: mc.group, port, iface: mc.iface, refs: 2 }],
        );
        await member.leave(mc.group, port);
        assert.deepEqual(
          member.memberships().map((m) => m.refs),
          [1],
        );
        await sent(sender, 'still a member', { address: mc.group, port });
        assert.ok(await h.until(() => got.length > 0));
        await member.leave(mc.group, port);
        assert.deepEqual(member.memberships(), []);
        await sent(sender, 'after the last leave', { address: mc.group, port });
        await sent(sender, 'marker', member.sockets[0]!);
        assert.ok(await h.until(() => got.length > 1));
        assert.deepEqual(texts(got), ['still a member', 'marker']);
        // A leave of a group not held changes nothing.
        await member.leave(mc.group, port);
        assert.deepEqual(member.memberships(), []);
        await sender.close();
        await member.close();
      }),
    );

    it(
      'stops delivering group datagrams once closed, and holds no membership',
      T,
      withHarness(async (h) => {
        const { port, member, sender, got } = await setup(h);
        const other = await h.create({ bind: [{ address: h.hosts[2], port: 0 }] });
        const atOther = record(other);
        await member.close();
        assert.deepEqual(member.memberships(), []);
        await sent(sender, 'to the group', { address: mc.group, port });
        await sent(sender, 'marker', other.sockets[0]!);
        assert.ok(await h.until(() => atOther.length > 0));
        assert.deepEqual(got, []);
        await sender.close();
        await other.close();
      }),
    );
  });
}

/** Polls `done` every `stepMs` of real time, at most `maxMs`: for transports on real sockets. */
export async function untilReal(done: () => boolean, maxMs = 5000, stepMs = 5): Promise<boolean> {
  for (let waited = 0; waited <= maxMs; waited += stepMs) {
    if (done()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return done();
}

export type { Datagram };
