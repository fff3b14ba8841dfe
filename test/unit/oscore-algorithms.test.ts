/**
 * The AEAD algorithms beyond the mandatory AES-CCM-16-64-128 (RFC 9053 §4; RFC 8613 §3.2 lets
 * the context choose): each one protects an RFC 8613 exchange and a Group OSCORE group request
 * (group and pairwise modes) end to end through the hooks, the sizes on the wire follow the
 * algorithm's tag, and a key file naming an unknown algorithm is refused by field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aeadParameters } from '../../src/oscore/algorithms.js';
import { parseOscoreConfig } from '../../src/oscore/endpoint/config.js';
import { OscoreConfigError } from '../../src/oscore/endpoint/errors.js';
import type { OscoreConfigFile } from '../../src/oscore/endpoint/generate.js';
import { group, keyringOf, pair } from '../fixtures/oscore-keys.js';
import { collect, room, texts } from '../support/oscore-group-room.js';
import { makeNet } from '../support/oscore-net.js';

const T = { timeout: 30_000 };
const ALGORITHMS = [10, 11, 30, 1, 3, 24];

const withAead = (f: OscoreConfigFile, fields: Record<string, unknown>): OscoreConfigFile => ({
  ...f,
  ...(f.oscore
    ? { oscore: (f.oscore as Array<Record<string, unknown>>).map((e) => ({ ...e, ...fields })) }
    : {}),
  ...(f.group
    ? { group: (f.group as Array<Record<string, unknown>>).map((e) => ({ ...e, ...fields })) }
    : {}),
});

describe('AEAD algorithms other than AES-CCM-16-64-128', () => {
  for (const alg of ALGORITHMS) {
    it(`protects an OSCORE exchange with COSE algorithm ${alg}`, T, async () => {
      const n = makeNet();
      const p = pair();
      const { server } = await n.server(keyringOf(withAead(p.server, { aeadAlgorithm: alg })), {
        oscore: { echo: false },
      });
      server.resource('/x', { protected: true }).get(() => ({ payload: 'secret' }));
      const { client, log } = await n.client(keyringOf(withAead(p.client, { aeadAlgorithm: alg })));
      const res = await n.rt.settle(client.request('coap://192.0.2.2/x'));
      assert.equal(res.text(), 'secret');
      // Code, Content-Format (an empty option: 1 byte), payload marker, payload, then the tag.
      const tag = aeadParameters(alg).tagLength;
      assert.equal(log[0]!.msg!.payload.length, 1 + 1 + 1 + 'secret'.length + tag);
      await n.close();
    });

    it(`protects a group request and its pairwise follow-ups with COSE algorithm ${alg}`, T, async () => {
      const files = group(3, `alg-${alg}`).map((f) =>
        withAead(f, { aeadAlgorithm: alg, groupEncryptionAlgorithm: alg }),
      );
      const r = await room(2, { leisure: 1, files });
      assert.deepEqual(texts(await collect(r, keyringOf(files[0]!))), ['node1', 'node2']);
      assert.equal(r.keyrings[0]!.groupEntries[0]!.context.common.groupEncryption!.alg, alg);
      await r.n.close();
    });
  }

  it('refuses a key file naming an algorithm it does not implement, by field', () => {
    for (const bad of [0, 12, 'A128GCM']) {
      assert.throws(
        () => parseOscoreConfig(withAead(pair().client, { aeadAlgorithm: bad })),
        (e: unknown) => e instanceof OscoreConfigError && e.field === 'oscore[0].aeadAlgorithm',
      );
    }
    assert.throws(
      () => parseOscoreConfig(withAead(group(2)[0]!, { groupEncryptionAlgorithm: 2 })),
      (e: unknown) => e instanceof OscoreConfigError && e.field === 'group[0].groupEncryptionAlgorithm',
    );
  });
});
