/**
 * Group OSCORE freshness after a restart and what follows a group request by unicast
 * (draft-ietf-core-oscore-groupcomm §2.6.1.2, §8, §10; RFC 9175 §2.4), on the memory transport:
 * a member's first request is answered by a protected 4.01 with Echo and not delivered; the
 * client repeats it by unicast to that member alone, in the pairwise mode when the group uses
 * it (else the group mode), and that request sets the member's replay window. A recorded
 * request replayed to a restarted member is never delivered. Block-wise continuations,
 * observations and their cancellation, and requests sent to a member's own address are
 * protected for that member.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapError } from '../../src/errors.js';
import type { CoapMessage } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { findOption } from '../../src/options/values.js';
import { parseOscoreConfig } from '../../src/oscore/endpoint/config.js';
import type { OscoreConfigFile } from '../../src/oscore/endpoint/generate.js';
import { decodeOscoreOption, type OscoreOptionValue } from '../../src/oscore/option.js';
import { CounterSequence } from '../../src/oscore/sequence.js';
import { group, keyringOf, pair } from '../fixtures/oscore-keys.js';
import type { Received } from '../support/mem-net.js';
import { collect, inject, room, texts } from '../support/oscore-group-room.js';

const T = { timeout: 30_000 };

const oscoreOf = (m: CoapMessage): OscoreOptionValue | undefined => {
  const o = findOption(m.options, Opt.Oscore);
  if (o === undefined) return undefined;
  const v = decodeOscoreOption(o.value, { allowGroupFlag: true });
  return { ...v, groupFlag: v.groupFlag === true };
};

/** Requests a member received by unicast, with their OSCORE option. */
const unicastAt = (log: readonly Received[]) =>
  log.filter((x) => !x.multicast && x.msg !== undefined && x.msg.code <= 31).map((x) => oscoreOf(x.msg!));

/** The same key files with every group entry changed by `edit`. */
function edited(files: OscoreConfigFile[], edit: (g: Record<string, unknown>) => object): OscoreConfigFile[] {
  return files.map((f) => ({ ...f, group: (f.group as Array<Record<string, unknown>>).map(edit) }));
}

describe('Group OSCORE Echo challenge and unicast follow-ups (draft §10)', () => {
  it(
    'challenges a first contact, which the client answers by pairwise unicast, once per member',
    T,
    async () => {
      const r = await room(3, { leisure: 1 });
      const client = keyringOf(r.files[0]!);
      const { client: c, log } = await r.n.client(client, '192.0.2.90');
      const first = await r.n.rt.settle(c.group({ uri: 'coap://224.0.1.187/light', window: 3000 }).collect());
      assert.deepEqual(texts(first), ['node1', 'node2', 'node3']);
      assert.equal(r.seen.length, 3, 'each member delivered the request once, after the follow-up');
      const gid = (r.files[0]!.group as Array<{ groupId: string }>)[0]!.groupId;
      for (const [i, at] of r.atServers.entries()) {
        const follow = unicastAt(at);
        assert.equal(follow.length, 1, `member ${i + 2}: one unicast follow-up`);
        assert.equal(follow[0]!.groupFlag, false, 'pairwise mode');
        assert.equal(follow[0]!.kidContext!.toString('hex'), gid);
        assert.equal(follow[0]!.kid!.toString('hex'), '01');
      }
      // Each member's challenge: group mode (like the request), with the member's own Partial IV.
      const answers = log.map((x) => oscoreOf(x.msg!)!);
      const challenges = answers.filter((o) => o.groupFlag);
      assert.equal(challenges.length, 3);
      assert.ok(challenges.every((o) => o.partialIv !== undefined && o.kid !== undefined));
      assert.equal(answers.filter((o) => !o.groupFlag).length, 3, 'the answers come in the pairwise mode');
      // Fresh now: the next group request is delivered at once, with no unicast.
      const second = await collect(r, client);
      assert.deepEqual(texts(second), ['node1', 'node2', 'node3']);
      assert.equal(r.seen.length, 6);
      assert.ok(r.atServers.every((at) => unicastAt(at).length === 1));
      await r.n.close();
    },
  );

  it('never delivers a recorded request replayed to a member after it restarted', T, async () => {
    const r = await room(3, { leisure: 1 });
    const member = keyringOf(r.files[0]!);
    await collect(r, member);
    assert.equal(r.seen.length, 3);
    const multicast = r.atServers[0]!.find((x) => x.multicast)!;
    const followUp = r.atServers[0]!.find((x) => !x.multicast)!;
    await r.restart(1);
    // The restarted member verifies the recording and challenges it; the others know it is a replay.
    assert.equal(await inject(r, Buffer.from(multicast.bytes)), 1);
    // The recorded follow-up echoes an old value: challenged again, not delivered.
    const { transport, log } = r.n.raw('192.0.2.150');
    transport.send(Buffer.from(followUp.bytes), '192.0.2.2', 5683);
    await r.n.rt.advance(1000);
    assert.equal(log.length, 1);
    assert.equal(oscoreOf(log[0]!.msg!)!.groupFlag, false, 'a challenge in the mode of the request');
    assert.equal(r.seen.length, 3, 'nothing replayed was delivered');
    // The genuine member gets through: challenged by the restarted member, fresh at the others.
    const again = await collect(r, member);
    assert.deepEqual(texts(again), ['node1', 'node2', 'node3']);
    assert.equal(r.seen.length, 6);
    await r.n.close();
  });

  it(
    'answers at most four replayed recordings per member with a challenge, then stays silent',
    T,
    async () => {
      const r = await room(3, { leisure: 1 });
      const member = keyringOf(r.files[0]!);
      for (let i = 0; i < 6; i++) await collect(r, member);
      const recorded = r.atServers[0]!.filter((x) => x.multicast).map((x) => Buffer.from(x.bytes));
      assert.equal(recorded.length, 6);
      await r.restart(1);
      const seen = r.seen.length;
      let answers = 0;
      for (const bytes of recorded) answers += await inject(r, bytes);
      assert.equal(answers, 4, 'four challenges from the restarted member, nothing from the others');
      assert.equal(r.seen.length, seen);
      await r.n.close();
    },
  );

  it('follows up with the group even where an RFC 8613 context is bound to the member', T, async () => {
    const r = await room(2, { leisure: 1 });
    // The client also has an RFC 8613 context for 192.0.2.2 (member 02), which that node lacks.
    const p = pair();
    const bound = (p.client.oscore as Array<Record<string, unknown>>).map((e) => ({
      ...e,
      peer: '192.0.2.2',
    }));
    const client = keyringOf({ ...r.files[0]!, oscore: bound });
    assert.deepEqual(texts(await collect(r, client)), ['node1', 'node2']);
    const follow = unicastAt(r.atServers[0]!);
    assert.equal(follow.length, 1);
    assert.equal(
      follow[0]!.kidContext?.toString('hex'),
      (r.files[0]!.group as Array<{ groupId: string }>)[0]!.groupId,
    );
    await r.n.close();
  });

  it(
    'learns no address from traffic: a request to a member it was not configured for is not protected for it',
    T,
    async () => {
      const r = await room(1, { leisure: 1 });
      const member = keyringOf(r.files[0]!);
      await collect(r, member);
      // Plaintext to a server without a context is an explicit choice (else it is refused).
      const { client } = await r.n.client(member, '192.0.2.91', { plaintext: 'allow' });
      const res = await r.n.rt.settle(client.request('coap://192.0.2.2/light'));
      assert.equal(res.codeString, '4.01', 'sent unprotected, so the protected resource refuses it');
      assert.equal(oscoreOf(r.atServers[0]!.at(-1)!.msg!), undefined);
      await r.n.close();
    },
  );

  it("counts an Echo value's lifetime from when Leisure lets the challenge go", T, async () => {
    // Leisure of 10 s, values valid for 2 s: a lifetime counted from verification would expire.
    const r = await room(3, { leisure: 10, echoLifetimeMs: 2000 });
    const { client } = await r.n.client(keyringOf(r.files[0]!), '192.0.2.90');
    const rs = await r.n.rt.settle(
      client.group({ uri: 'coap://224.0.1.187/light', window: 12_000 }).collect(),
    );
    assert.deepEqual(texts(rs), ['node1', 'node2', 'node3']);
    assert.ok(
      rs.some((x) => x.elapsedMs > 2000),
      'at least one challenge waited longer than the lifetime',
    );
    await r.n.close();
  });

  it('sends no challenge to a group request that disclaimed 4.xx (No-Response)', T, async () => {
    const r = await room(2, { leisure: 1 });
    const { client, log } = await r.n.client(keyringOf(r.files[0]!), '192.0.2.90');
    await r.n.rt.settle(
      client
        .group({
          uri: 'coap://224.0.1.187/light',
          method: 'PUT',
          payload: 'x',
          noResponse: [4],
          window: 3000,
        })
        .collect(),
    );
    assert.equal(log.length, 0, 'no challenge, no answer');
    assert.equal(r.seen.length, 0, 'not delivered either: its freshness is unknown');
    await r.n.close();
  });

  it(
    'reports the challenge as it is when the follow-up cannot be protected, and does not throw',
    T,
    async () => {
      const r = await room(2, { leisure: 1 });
      // The client's last Sender Sequence Number goes to the group request itself (RFC 8613 §7.2.1).
      const last = parseOscoreConfig(r.files[0]!, { sequence: () => new CounterSequence(2 ** 40 - 1) });
      const { client } = await r.n.client(last, '192.0.2.90');
      const rs = await r.n.rt.settle(
        client.group({ uri: 'coap://224.0.1.187/light', window: 3000 }).collect(),
      );
      assert.deepEqual(
        rs.map((x) => x.codeString),
        ['4.01', '4.01'],
        "each member's verified challenge, since no follow-up could go",
      );
      assert.equal(r.seen.length, 0);
      assert.ok(
        r.atServers.every((at) => unicastAt(at).length === 0),
        'nothing went in the clear',
      );
      await r.n.close();
    },
  );

  it('follows up in the group mode where the group does not use the pairwise mode', T, async () => {
    const files = edited(group(4, 'group-only'), (g) => ({ ...g, modes: ['group'] }));
    const r = await room(3, { leisure: 1, files });
    assert.deepEqual(texts(await collect(r, keyringOf(files[0]!))), ['node1', 'node2', 'node3']);
    for (const at of r.atServers) {
      const follow = unicastAt(at);
      assert.equal(follow.length, 1);
      assert.equal(follow[0]!.groupFlag, true);
    }
    await r.n.close();
  });

  it(
    'completes a multi-block response from each member with requests protected for that member',
    T,
    async () => {
      const big = 'x'.repeat(300);
      const r = await room(2, {
        leisure: 1,
        setup: (s) => s.resource('/big', { multicast: true, protected: true }).get(() => ({ payload: big })),
      });
      const { client } = await r.n.client(keyringOf(r.files[0]!), '192.0.2.90');
      const rs = await r.n.rt.settle(
        client.group({ uri: 'coap://224.0.1.187/big', window: 3000, blockSize: 64 }).collect(),
      );
      assert.equal(rs.length, 2);
      assert.ok(rs.every((x) => x.text() === big));
      for (const at of r.atServers) {
        const unicast = unicastAt(at);
        assert.equal(unicast.length, 1 + 4, 'the follow-up, then blocks 1-4');
        assert.ok(unicast.every((o) => o !== undefined && !o.groupFlag));
      }
      await r.n.close();
    },
  );

  it(
    'observes a group after the challenge, and cancels every member with a protected request',
    T,
    async () => {
      let value = 0;
      const r = await room(3, {
        leisure: 1,
        setup: (s) =>
          s
            .resource('/count', { obs: true, multicast: true, protected: true })
            .get(() => ({ payload: String(value) })),
      });
      const { client } = await r.n.client(keyringOf(r.files[0]!), '192.0.2.90');
      const got: string[] = [];
      const done = (async () => {
        for await (const x of client.group({ uri: 'coap://224.0.1.187/count', observe: true })) {
          got.push(`${x.source.address}=${x.text()}`);
          if (got.length === 6) break;
        }
      })();
      await r.n.rt.advance(2000);
      assert.deepEqual(
        r.servers.map((s) => s.stats()!.observers),
        [1, 1, 1],
      );
      value = 1;
      for (const s of r.servers) s.notify('/count');
      await r.n.rt.settle(done);
      assert.equal(got.filter((g) => g.endsWith('=1')).length, 3);
      await r.n.rt.advance(1000);
      // The deregistrations were verified: every member dropped its observer (RFC 7641 §3.6).
      assert.deepEqual(
        r.servers.map((s) => s.stats()!.observers),
        [0, 0, 0],
      );
      for (const at of r.atServers) {
        const dereg = at.filter((x) => !x.multicast && x.msg !== undefined && x.msg.code <= 31).at(-1)!;
        assert.ok(oscoreOf(dereg.msg!) !== undefined, 'the deregistration is protected');
        assert.equal(findOption(dereg.msg!.options, Opt.Observe)?.value[0], 1, 'Outer Observe 1');
      }
      await r.n.close();
    },
  );
});

describe('unicast requests to a group member (draft §8)', () => {
  /** Member files where every member's unicast address is known: member 0N at 192.0.2.N. */
  const withAddresses = (files: OscoreConfigFile[]) =>
    edited(files, (g) => ({
      ...g,
      members: (g.members as Array<{ id: string }>).map((m) => ({
        ...m,
        address: `192.0.2.${Number.parseInt(m.id, 16)}`,
      })),
    }));

  it('protects a request to a configured member address in the pairwise mode', T, async () => {
    const files = withAddresses(group(3, 'addressed'));
    const r = await room(2, { leisure: 1, files });
    const { client, log } = await r.n.client(keyringOf(files[0]!), '192.0.2.90');
    const res = await r.n.rt.settle(client.request('coap://192.0.2.3/light'));
    assert.equal(res.text(), 'node2');
    assert.deepEqual(r.seen, [
      { node: 2, security: { kind: 'group-oscore', kid: '01', idContext: r.seen[0]!.security!.idContext } },
    ]);
    // Challenged first (the member had just started), then answered; both in the pairwise mode.
    const sent = unicastAt(r.atServers[1]!);
    assert.equal(sent.length, 2);
    assert.ok(sent.every((o) => o !== undefined && !o.groupFlag && o.kid!.toString('hex') === '01'));
    assert.equal(log.length, 2);
    assert.equal(r.atServers[0]!.length, 0, 'nothing went to the other member');
    await r.n.close();
  });

  it('does not accept an answer from another member than the one the address names', T, async () => {
    // The file puts member 02 at member 03's address: only 02 could open the request.
    // (Other members' addresses are left out, so that 03's is not known twice.)
    const files = edited(withAddresses(group(3, 'misplaced')), (g) => ({
      ...g,
      members: (g.members as Array<{ id: string; address?: string }>).map(({ address: _, ...m }) =>
        m.id === '02' ? { ...m, address: '192.0.2.3' } : m,
      ),
    }));
    const r = await room(2, { leisure: 1, files });
    const { client } = await r.n.client(keyringOf(files[0]!), '192.0.2.90');
    const err = await r.n.rt.settle(client.request('coap://192.0.2.3/light').catch((e: unknown) => e));
    assert.ok(err instanceof CoapError);
    assert.equal(err.code, 'ERR_OSCORE_UNPROTECTED', 'member 03 cannot decrypt: an OSCORE error comes back');
    assert.equal(r.seen.length, 0);
    await r.n.close();
  });

  it(
    'uses the 13 s default Leisure for a pairwise-only group, and refuses to multicast with it',
    T,
    async () => {
      const files = edited(group(3, 'pairwise-only'), (g) => ({ ...g, modes: ['pairwise'] }));
      const r = await room(2, { files });
      assert.equal(r.keyrings[0]!.defaultLeisure, 13);
      const { client } = await r.n.client(keyringOf(files[0]!), '192.0.2.90');
      const err = await r.n.rt.settle(
        client
          .group({ uri: 'coap://224.0.1.187/light', window: 1000 })
          .collect()
          .catch((e: unknown) => e),
      );
      assert.ok(err instanceof CoapError);
      assert.equal(err.code, 'ERR_COAP_INVALID_ARGUMENT');
      assert.match(err.message, /pairwise mode/);
      assert.equal(r.atServers.flat().length, 0, 'nothing was sent');
      await r.n.close();
    },
  );
});
