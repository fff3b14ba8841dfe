/**
 * The default Leisure of a node with a security layer follows the request received
 * (groupcomm-bis §3.1.5 sizes DEFAULT_LEISURE by the response, RFC 7252 §8.2): a verified Group
 * OSCORE request waits the secured default (20 s for the group mode), an unprotected one the
 * plain DEFAULT_LEISURE (5 s), and a Leisure the application set applies to both.
 *
 * Each case sends two requests that reach one node at the same moment, from two clients (so
 * NSTART holds neither back). The first response takes one whole Leisure period, and the second
 * is drawn within the next (RFC 7252 §8.2), so the second arrives within [L, 2L] of the requests:
 * that tells the period length L whatever the random draws.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CoapClient } from '../../src/client/client.js';
import type { GroupResponse } from '../../src/client/group.js';
import { group, keyringOf } from '../fixtures/oscore-keys.js';
import { type Room, room } from '../support/oscore-group-room.js';

const T = { timeout: 30_000 };

/** Member 2 is the node; members 1 and 3 are the clients. No first-contact challenges. */
async function node(leisure?: number): Promise<{ r: Room; secured: CoapClient[]; plain: CoapClient[] }> {
  const files = group(3, 'leisure');
  const r = await room(1, {
    files,
    echo: false,
    ...(leisure !== undefined ? { leisure } : {}),
    // An unprotected resource next to the protected /light.
    setup: (s) => s.resource('/open', { multicast: true }).get(() => ({ payload: 'open' })),
  });
  const secured = [
    (await r.n.client(keyringOf(files[0]!), '192.0.2.101')).client,
    (await r.n.client(keyringOf(files[2]!), '192.0.2.102')).client,
  ];
  const plain = [
    (await r.n.client(undefined, '192.0.2.103')).client,
    (await r.n.client(undefined, '192.0.2.104')).client,
  ];
  return { r, secured, plain };
}

/** Both clients ask `path` of the group at once; the elapsed times of their responses, in order. */
async function both(r: Room, clients: CoapClient[], path: string): Promise<number[]> {
  const ask = (c: CoapClient) => c.group({ uri: `coap://224.0.1.187${path}`, window: 45_000 }).collect();
  const got: GroupResponse[][] = await r.n.rt.settle(Promise.all(clients.map(ask)));
  for (const g of got) assert.equal(g.length, 1);
  return got.map((g) => g[0]!.elapsedMs).sort((a, b) => a - b);
}

describe('Leisure of a node with a security layer (groupcomm-bis §3.1.5)', () => {
  it('answers unprotected group requests within the plain 5 s DEFAULT_LEISURE', T, async () => {
    const { r, plain } = await node();
    try {
      const [first, second] = await both(r, plain, '/open');
      assert.ok(first! <= 5_000, `first after ${first} ms`);
      assert.ok(second! >= 5_000 && second! <= 10_000, `second after ${second} ms: a 5 s period`);
    } finally {
      await r.n.close();
    }
  });

  it('answers verified Group OSCORE requests within the secured 20 s default', T, async () => {
    const { r, secured } = await node();
    try {
      assert.equal(r.keyrings[0]!.defaultLeisure, 20);
      const [first, second] = await both(r, secured, '/light');
      assert.ok(first! <= 20_000, `first after ${first} ms`);
      assert.ok(second! >= 20_000 && second! <= 40_000, `second after ${second} ms: a 20 s period`);
    } finally {
      await r.n.close();
    }
  });

  it('applies a Leisure the application set to both kinds of request', T, async () => {
    const { r, secured, plain } = await node(2);
    try {
      const [, second] = await both(r, plain, '/open');
      assert.ok(second! >= 2_000 && second! <= 4_000, `plain second after ${second} ms`);
      await r.n.rt.advance(5_000);
      const [, secondSecured] = await both(r, secured, '/light');
      assert.ok(
        secondSecured! >= 2_000 && secondSecured! <= 4_000,
        `secured second after ${secondSecured} ms`,
      );
    } finally {
      await r.n.close();
    }
  });
});
