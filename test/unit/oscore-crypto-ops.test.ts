/**
 * The public-key cost of Group OSCORE per request (draft-ietf-core-oscore-groupcomm §7, §8):
 * in the group mode to 3 members, 4 signatures (the request, each response) and 6
 * verifications (each member, the client for each response); with pairwise responses (§8,
 * `groupResponses: 'pairwise'`) 1 and 3. Keys are parsed and pairwise keys agreed once per
 * peer, never per message. Counted in node:crypto (bench/load/crypto-count.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CryptoCounter, installCryptoCounter } from '../../bench/load/crypto-count.js';
import { keyringOf } from '../fixtures/oscore-keys.js';
import { room, texts, URI } from '../support/oscore-group-room.js';
import { settle } from '../support/oscore-net.js';

const T = { timeout: 30_000 };
const REQUESTS = 3;

async function perRequest(groupResponses: 'request' | 'pairwise') {
  const r = await room(3, { leisure: 1, echo: false, groupResponses });
  try {
    const { client } = await r.n.client(keyringOf(r.files[0]!), '192.0.2.90');
    const get = async () => {
      const rs = await settle(r.n.rt, client.group({ uri: URI, window: 2000 }).collect());
      assert.deepEqual(texts(rs), ['node1', 'node2', 'node3']);
    };
    // The first request makes the Recipient Contexts and derives what they hold.
    await get();
    const c = await counter.count(async () => {
      for (let i = 0; i < REQUESTS; i++) await get();
    });
    return {
      sign: c.sign / REQUESTS,
      verify: c.verify / REQUESTS,
      keys: (c.createPublicKey + c.createPrivateKey + c.diffieHellman) / REQUESTS,
    };
  } finally {
    await r.n.close();
  }
}

let counter: CryptoCounter;

describe('Group OSCORE signatures and verifications per request', () => {
  before(() => {
    counter = installCryptoCounter();
  });
  after(() => counter.restore());

  it('group mode to 3 members: 4 signatures, 6 verifications, no key parsed or agreed', T, async () => {
    assert.deepEqual(await perRequest('request'), { sign: 4, verify: 6, keys: 0 });
  });

  it('pairwise responses: 1 signature, 3 verifications, no key parsed or agreed', T, async () => {
    assert.deepEqual(await perRequest('pairwise'), { sign: 1, verify: 3, keys: 0 });
  });
});
