/**
 * Group OSCORE (draft-ietf-core-oscore-groupcomm) through the hooks, on the memory transport:
 * a group request protected in the group mode, verified by every member (countersignature
 * first, §7.2), answered protected (§7.3) and verified per responder by the client (§7.4);
 * Recipient Contexts made on first contact from known members only; replay per sender; the
 * groupcomm-bis §3.1.5 default Leisure; tampered, replayed and non-member requests dropped
 * silently by every node.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMessage } from '../../src/message/decode.js';
import { encodeMessage } from '../../src/message/encode.js';
import { MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { findOption } from '../../src/options/values.js';
import { OscoreClientSecurity } from '../../src/oscore/endpoint/client.js';
import type { OscoreConfigFile } from '../../src/oscore/endpoint/generate.js';
import { OscoreServerSecurity } from '../../src/oscore/endpoint/server.js';
import { protectGroupRequest } from '../../src/oscore/group/protect.js';
import { unprotectGroupResponse } from '../../src/oscore/group/unprotect.js';
import { decodeOscoreOption, decodePartialIv } from '../../src/oscore/option.js';
import type { CoapServer } from '../../src/server/server.js';
import { group, keyringOf } from '../fixtures/oscore-keys.js';
import { collect, GROUP, inject, type Room, room, texts, URI } from '../support/oscore-group-room.js';

const T = { timeout: 30_000 };

describe('Group OSCORE group requests through the hooks (draft-ietf-core-oscore-groupcomm §7)', () => {
  it('every member verifies, answers protected, and the client verifies each answer', T, async () => {
    const r = await room(3, { leisure: 1 });
    const client = keyringOf(r.files[0]!);
    const responses = await collect(r, client);
    assert.deepEqual(texts(responses), ['node1', 'node2', 'node3']);
    const gid = (r.files[0]!.group as Array<{ groupId: string }>)[0]!.groupId;
    for (const s of r.seen) assert.deepEqual(s.security, { kind: 'group-oscore', kid: '01', idContext: gid });
    // Each member made the client's Recipient Context on first contact, and the client each server's.
    for (const k of r.keyrings) assert.ok(k.groupEntries[0]!.context.recipient(Buffer.from([1])));
    for (const id of [2, 3, 4]) assert.ok(client.groupEntries[0]!.context.recipient(Buffer.from([id])));
    await r.n.close();
  });

  it('drops a replayed group request at every member (per-sender replay window)', T, async () => {
    const r = await room(3, { leisure: 1 });
    await collect(r, keyringOf(r.files[0]!));
    const seen = r.seen.length;
    const captured = Buffer.from(encodeMessage({ ...decodeMessage(firstRequest(r)), messageId: 0x5151 }));
    assert.equal(await inject(r, captured), 0);
    assert.equal(r.seen.length, seen);
    await r.n.close();
  });

  it('drops a request with one byte flipped at every member, leaving no state behind', T, async () => {
    // Without first-contact challenges, so that the untampered request is delivered at once.
    const r = await room(3, { leisure: 1, echo: false });
    const sec = new OscoreClientSecurity(keyringOf(r.files[0]!));
    const path = {
      code: 1,
      options: [{ number: Opt.UriPath, value: Buffer.from('light') }],
      payload: Buffer.alloc(0),
    };
    const prot = sec.protect(path, GROUP, 'group')!;
    const request = (mid: number, parts = prot.parts) =>
      encodeMessage({ type: MessageType.NON, messageId: mid, token: Buffer.from([1, 2, 3, 4]), ...parts });
    const flips: Array<(p: Buffer, o: Buffer) => void> = [
      (p) => {
        p[0]! ^= 1;
      }, // ciphertext
      (p) => {
        p[p.length - 1]! ^= 1;
      }, // encrypted countersignature
      (_p, o) => {
        o[1]! ^= 1;
      }, // Partial IV in the OSCORE option (part of the AAD)
    ];
    for (const [i, flip] of flips.entries()) {
      const payload = Buffer.from(prot.parts.payload);
      const options = prot.parts.options.map((o) => ({ number: o.number, value: Buffer.from(o.value) }));
      flip(payload, options.find((o) => o.number === Opt.Oscore)!.value);
      assert.equal(await inject(r, request(0x100 + i, { ...prot.parts, options, payload })), 0);
    }
    // Signature one byte short: the wrong length.
    const short = { ...prot.parts, payload: prot.parts.payload.subarray(0, -1) };
    assert.equal(await inject(r, request(0x200, short)), 0);
    assert.equal(r.seen.length, 0, 'no handler ran');
    for (const k of r.keyrings)
      assert.equal(k.groupEntries[0]!.context.recipient(Buffer.from([1])), undefined);
    // Nothing moved: the untampered request, same Partial IV, is still fresh everywhere.
    assert.equal(await inject(r, request(0x300)), 3);
    assert.equal(r.seen.length, 3);
    await r.n.close();
  });

  it('drops the request of a non-member at every member, and makes no context for it', T, async () => {
    const files = group(5, 'outsider');
    // Members 2-4 never heard of member 5: their rosters leave it out.
    const roster = (f: OscoreConfigFile): OscoreConfigFile => {
      const g = (f.group as Array<Record<string, unknown>>)[0]!;
      const members = (g.members as Array<{ id: string }>).filter((m) => m.id !== '05');
      return { ...f, group: [{ ...g, members }] };
    };
    const r = await room(3, { leisure: 1, files: [files[0]!, ...files.slice(1, 4).map(roster)] });
    const outsider = keyringOf(files[4]!);
    assert.deepEqual(await collect(r, outsider), []);
    assert.equal(r.seen.length, 0);
    for (const k of r.keyrings)
      assert.equal(k.groupEntries[0]!.context.recipient(Buffer.from([5])), undefined);
    // A member still gets through.
    assert.equal((await collect(r, keyringOf(files[0]!))).length, 3);
    await r.n.close();
  });

  it('answers nothing to an unprotected group request for a protected resource', T, async () => {
    const r = await room(3, { leisure: 1 });
    const { client } = await r.n.client(undefined, '192.0.2.151');
    assert.deepEqual(await r.n.rt.settle(client.group({ uri: URI, window: 2000 }).collect()), []);
    assert.equal(r.seen.length, 0);
    await r.n.close();
  });

  it(
    'protects group Observe: every notification has a fresh Partial IV and is verified per member',
    T,
    async () => {
      const servers: CoapServer[] = [];
      let value = 0;
      // Without first-contact challenges: the registrations are the group mode requests themselves.
      const r = await room(3, {
        leisure: 1,
        echo: false,
        setup: (s) => {
          servers.push(s);
          s.resource('/count', { obs: true, multicast: true, protected: true }).get(() => ({
            payload: String(value),
          }));
        },
      });
      const { client, log } = await r.n.client(keyringOf(r.files[0]!), '192.0.2.160');
      const got: string[] = [];
      const done = (async () => {
        for await (const x of client.group({ uri: 'coap://224.0.1.187/count', observe: true })) {
          got.push(`${x.source.address}=${x.text()}`);
          if (got.length === 6) break;
        }
      })();
      await r.n.rt.advance(2000);
      value = 1;
      for (const s of servers) s.notify('/count');
      await r.n.rt.settle(done);
      assert.equal(got.filter((g) => g.endsWith('=0')).length, 3);
      assert.equal(got.filter((g) => g.endsWith('=1')).length, 3);
      // Every notification, the first included, carries its member's own fresh Partial IV.
      const notes = log.map((x) => x.msg!).filter((m) => findOption(m.options, Opt.Observe) !== undefined);
      const oscore = notes.map((m) =>
        decodeOscoreOption(findOption(m.options, Opt.Oscore)!.value, { allowGroupFlag: true }),
      );
      assert.equal(oscore.length, 6);
      assert.ok(
        oscore.every((o) => o.kid !== undefined),
        'group mode responses name their sender',
      );
      for (const kid of ['02', '03', '04']) {
        const pivs = oscore
          .filter((o) => o.kid!.toString('hex') === kid)
          .map((o) => decodePartialIv(o.partialIv!));
        assert.equal(pivs.length, 2);
        assert.ok(pivs[1]! > pivs[0]!, `member ${kid}: increasing Partial IVs`);
      }
      await r.n.close();
    },
  );

  it(
    'answers group mode requests in the pairwise mode when told to, and the client verifies them',
    T,
    async () => {
      const r = await room(3, { leisure: 1, echo: false, groupResponses: 'pairwise' });
      const { client, log } = await r.n.client(keyringOf(r.files[0]!), '192.0.2.90');
      const rs = await r.n.rt.settle(client.group({ uri: URI, window: 2000 }).collect());
      assert.deepEqual(texts(rs), ['node1', 'node2', 'node3']);
      const oscore = log.map((x) =>
        decodeOscoreOption(findOption(x.msg!.options, Opt.Oscore)!.value, { allowGroupFlag: true }),
      );
      assert.equal(oscore.length, 3);
      assert.ok(
        oscore.every((o) => o.groupFlag !== true),
        'pairwise mode',
      );
      assert.deepEqual(
        oscore.map((o) => o.kid?.toString('hex')).sort(),
        ['02', '03', '04'],
        "'kid' names each member",
      );
      // Code, Content-Format, marker, "nodeN" and the tag: no countersignature.
      assert.ok(log.every((x) => x.msg!.payload.length === 1 + 1 + 1 + 5 + 8));
      await r.n.close();
    },
  );

  it('verifies a pairwise-mode request and answers it in the pairwise mode (draft §8)', () => {
    const files = group(2, 'pairwise');
    const client = keyringOf(files[0]!);
    const server = new OscoreServerSecurity(keyringOf(files[1]!), { echo: false });
    const g = client.groupEntries[0]!;
    client.ensureRecipient(g, Buffer.from([2]));
    const get = {
      type: MessageType.CON,
      code: 1,
      messageId: 1,
      token: Buffer.from([5]),
      options: [],
      payload: Buffer.alloc(0),
    };
    const { message, binding } = protectGroupRequest(get, g.context, {
      mode: 'pairwise',
      recipientId: Buffer.from([2]),
    });
    const v = server.open(message, {
      remote: { address: '192.0.2.100', port: 40000 },
      multicast: false,
      group: undefined,
    });
    assert.equal(v.kind, 'opened');
    if (v.kind !== 'opened') return;
    assert.equal(v.opened.security.kind, 'group-oscore');
    const sealed = v.opened.seal({ code: 0x45, options: [], payload: Buffer.from('pairwise') });
    const opened = unprotectGroupResponse({ ...get, ...sealed }, g.context, binding);
    assert.equal(opened.response.payload.toString(), 'pairwise');
    assert.equal(
      sealed.payload.length,
      1 + 1 + 'pairwise'.length + 8,
      'code, marker, payload, tag: no countersignature',
    );
  });

  it('uses the groupcomm-bis default Leisure of 20 s for a secured group unless configured', T, async () => {
    const r = await room(3);
    assert.equal(r.keyrings[0]!.defaultLeisure, 20);
    const client = keyringOf(r.files[0]!);
    const { client: c } = await r.n.client(client, '192.0.2.152');
    // No window given: the client collects for the secured default Leisure plus 1 s.
    const rs = c.group(URI);
    const responses = await r.n.rt.settle(rs.collect());
    assert.equal(responses.length, 3);
    assert.ok(responses.every((x) => x.elapsedMs <= 20_000));
    assert.ok(
      responses.some((x) => x.elapsedMs > 5_000),
      'spread beyond the plain 5 s default',
    );
    assert.ok((await rs.done).elapsedMs >= 21_000);
    await r.n.close();
  });
});

/** The first group request the first server received (as sent by the client). */
function firstRequest(r: Room): Buffer {
  const log = r.atServers[0] as unknown as Array<{ bytes: Buffer; multicast: boolean }>;
  return Buffer.from(log.find((x) => x.multicast)!.bytes);
}
