/**
 * Robustness of the OSCORE layer: seeded mutations (bit flips, truncation, OSCORE option bytes
 * replaced, payload cut, Outer Block options added) of valid protected requests (RFC 8613
 * unicast, Group OSCORE group mode and pairwise mode), sent at a live server on the memory
 * network after the original was delivered. No mutation may be delivered (it fails to verify, or
 * it is a replay of the original's Partial IV), nothing may throw, the server makes no Recipient
 * Context for anyone outside the roster, its tables stay bounded, and afterwards it still serves
 * a fresh protected request. FUZZ_SEED and FUZZ_COUNT override the seed and the count per kind.
 */
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { encodeBlock } from '../../src/block/index.js';
import { encodeMessage } from '../../src/message/encode.js';
import { MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { OscoreClientSecurity } from '../../src/oscore/endpoint/client.js';
import type { SecuredRequest } from '../../src/oscore/endpoint/client-protection.js';
import type { OscoreKeyring } from '../../src/oscore/endpoint/keyring.js';
import { protectGroupRequest } from '../../src/oscore/group/protect.js';
import { group, keyringOf, pair } from '../fixtures/oscore-keys.js';
import { makeNet, SERVER } from '../support/oscore-net.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x05c0);
const COUNT = Number(process.env.FUZZ_COUNT ?? 3000);

/** xorshift32: the same seed gives the same mutations. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

type Parts = SecuredRequest['parts'];

/** One mutation of a protected request's parts (never the identity). */
function mutate(p: Parts, r: (n: number) => number): Parts {
  const payload = Buffer.from(p.payload);
  const options: Array<{ number: number; value: Buffer }> = p.options.map((o) => ({
    number: o.number,
    value: Buffer.from(o.value),
  }));
  const oscore = options.find((o) => o.number === Opt.Oscore)!;
  switch (r(6)) {
    case 0: // a bit of the ciphertext or countersignature
      if (payload.length > 0) payload[r(payload.length)]! ^= 1 << r(8);
      return { ...p, options, payload };
    case 1: // cut the payload short
      return { ...p, options, payload: payload.subarray(0, r(Math.max(payload.length, 1))) };
    case 2: // a bit of the OSCORE option (flags, Partial IV, kid context, kid)
      if (oscore.value.length > 0) oscore.value[r(oscore.value.length)]! ^= 1 << r(8);
      else oscore.value = Buffer.from([r(256)]);
      return { ...p, options, payload };
    case 3: // random OSCORE option bytes
      oscore.value = Buffer.from(Array.from({ length: r(12) }, () => r(256)));
      return { ...p, options, payload };
    case 4: {
      // the OSCORE option cut short
      oscore.value = oscore.value.subarray(0, r(Math.max(oscore.value.length, 1)));
      return { ...p, options, payload };
    }
    default: {
      // an Outer Block1 or Block2 option, possibly nonsense
      const n = r(2) === 0 ? Opt.Block1 : Opt.Block2;
      const value =
        r(3) === 0
          ? Buffer.from([r(256), r(256), r(256)])
          : encodeBlock({ num: r(4), more: r(2) === 1, szx: r(7) });
      options.push({ number: n, value });
      options.sort((a, b) => a.number - b.number);
      return { ...p, options, payload };
    }
  }
}

describe('OSCORE fuzzing: mutated protected requests at a live server', () => {
  it(`delivers none of ${3 * COUNT} mutations, throws nothing and keeps its tables bounded`, {
    timeout: 120_000,
  }, async () => {
    const n = makeNet(9);
    const p = pair();
    const files = group(3, 'fuzz');
    // The server holds an RFC 8613 context and is member 02 of a group; it trusts any freshness.
    const serverKeys: OscoreKeyring = keyringOf(p.server);
    const member = keyringOf(files[1]!);
    for (const g of member.groupEntries) {
      serverKeys.addGroup(g.context, {
        members: [...g.members].map(([id, credential]) => ({ id: Buffer.from(id, 'hex'), credential })),
        addresses: g.addresses,
      });
    }
    const { server } = await n.server(serverKeys, { oscore: { echo: false } });
    let delivered = 0;
    server.resource('/x', { protected: true, multicast: true }).put(() => {
      delivered++;
      return undefined;
    });
    const errors: unknown[] = [];
    const onError = (m: unknown) => errors.push(m);
    diagnostics.subscribe('coap:server:error', onError);
    const { transport } = n.raw('192.0.2.9');
    let mid = 1;
    const sendParts = (parts: Parts, to = SERVER) =>
      transport.send(
        encodeMessage({
          type: MessageType.NON,
          messageId: mid++ & 0xffff,
          token: Buffer.from([mid & 255]),
          ...parts,
        }),
        to.address,
        to.port,
      );
    const put = {
      code: 3,
      options: [{ number: Opt.UriPath, value: Buffer.from('x') }],
      payload: Buffer.from('on'),
    };
    const unicastKeys = keyringOf(p.client);
    // One keyring for both group originals: one Sender Sequence Number counter (RFC 8613 §7.2).
    const memberKeys = keyringOf(files[0]!);
    const originals: Parts[] = [
      new OscoreClientSecurity(unicastKeys).protect(put, SERVER, 'unicast')!.parts,
      new OscoreClientSecurity(memberKeys).protect(put, { address: '224.0.1.187', port: 5683 }, 'group')!
        .parts,
    ];
    const g = memberKeys.groupEntries[0]!;
    memberKeys.ensureRecipient(g, Buffer.from([2]));
    const pw = protectGroupRequest(
      { type: MessageType.NON, messageId: 0, token: Buffer.alloc(0), ...put },
      g.context,
      {
        mode: 'pairwise',
        recipientId: Buffer.from([2]),
      },
    ).message;
    originals.push({ code: pw.code, options: pw.options, payload: pw.payload });

    const r = rng(SEED);
    for (const original of originals) {
      sendParts(original);
      await n.rt.advance(10);
    }
    assert.equal(delivered, 3, 'each original is delivered once');
    for (const original of originals) {
      for (let i = 0; i < COUNT; i++) {
        sendParts(mutate(original, r));
        if (i % 200 === 0) await n.rt.advance(10);
      }
      await n.rt.advance(10);
    }
    await n.rt.advance(60_000);
    assert.equal(delivered, 3, 'no mutation was delivered');
    assert.deepEqual(errors, [], 'no handler or pipeline error');
    // Only the roster's members have Recipient Contexts; the tables are bounded and idle.
    const ctx = serverKeys.groupEntries[0]!.context;
    for (const kid of ['00', '03', '04', '05', 'ff'])
      assert.equal(ctx.recipient(Buffer.from(kid, 'hex')), undefined, `no context for kid ${kid}`);
    const stats = server.stats()!;
    assert.equal(stats.block1.bodies, 0);
    assert.equal(stats.observers, 0);
    // A fresh protected request (the next Sender Sequence Number) still gets through.
    const { client: fresh } = await n.client(unicastKeys, '192.0.2.10');
    const res = await n.rt.settle(fresh.request({ uri: 'coap://192.0.2.2/x', method: 'PUT', payload: 'on' }));
    diagnostics.unsubscribe('coap:server:error', onError);
    assert.equal(res.codeString, '2.04');
    assert.equal(delivered, 4);
    await n.close();
  });
});
