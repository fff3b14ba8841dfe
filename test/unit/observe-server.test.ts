/**
 * The server side of Observe (RFC 7641), driven by a raw messenger on the memory network:
 * registration (§3.1, §4.1), notifications made by the GET handler for each observer (§4.2),
 * increasing sequence numbers (§4.4), NON with a CON every `conEvery`-th or 24 hours (§4.5),
 * and every way an observer leaves: GET with Observe 1 (§3.6), RST (§3.6), a CON notification
 * that times out (§4.5), an error notification (§4.2); and the bound on the observer table.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeUint, encodeUint } from '../../src/entry/codec.js';
import { codeToString, findOption, MessageType, Opt } from '../../src/index.js';
import type { CoapMessage, CoapOption } from '../../src/message/types.js';
import type { ObserveOptions } from '../../src/server/observe.js';
import { BASE, type BwPair, bwPair, type RawPeer, rawPeer, SERVER_ADDR } from '../support/bw-mem.js';
import { sendRaw } from '../support/mem-net.js';

const T = { timeout: 20_000 };

/** A GET of `/obs` with Observe `observe`, token `token` and an optional query. */
function observe(peer: RawPeer, token: string, observe: number, query?: string): Promise<CoapMessage> {
  const options: CoapOption[] = [
    { number: Opt.Observe, value: encodeUint(observe) },
    { number: Opt.UriPath, value: Buffer.from('obs') },
  ];
  if (query !== undefined) options.push({ number: Opt.UriQuery, value: Buffer.from(query) });
  return peer.request({ code: 1, token: Buffer.from(token), options });
}

const seqOf = (m: CoapMessage) => {
  const o = findOption(m.options, Opt.Observe);
  return o === undefined ? undefined : decodeUint(o.value);
};

interface State {
  value: string;
  calls: number;
  code?: string;
}

async function withObs(o: ObserveOptions, fn: (p: BwPair, s: State) => Promise<void>) {
  const state: State = { value: 'v0', calls: 0 };
  const p = await bwPair({
    server: { observe: o },
    setup: (s) =>
      s.resource('/obs', { obs: true }).get((req) => {
        state.calls++;
        if (state.code) return { code: state.code };
        return { payload: `${state.value}${req.query.length ? ` ${req.query.join('&')}` : ''}` };
      }),
  });
  try {
    await fn(p, state);
  } finally {
    await p.close();
  }
}

/** Notifications (not piggy-backed responses) the raw peer received. */
const notifications = (peer: RawPeer) => peer.responses.filter((m) => m.type !== MessageType.ACK);

describe('Observe at the server', () => {
  it('registers with Observe 0 and notifies each observer with its own representation', T, async () => {
    await withObs({}, async (p, state) => {
      const peer = p.raw();
      const a = await p.rt.settle(observe(peer, 'tok-a', 0, 'who=a'));
      const b = await p.rt.settle(observe(peer, 'tok-b', 0, 'who=b'));
      assert.equal(a.payload.toString(), 'v0 who=a');
      assert.notEqual(seqOf(a), undefined, 'the registration response carries Observe');
      assert.equal(p.server.stats()!.observers, 2);
      state.value = 'v1';
      assert.equal(p.server.notify('/obs'), 2);
      await p.rt.advance(10);
      assert.equal(state.calls, 4, 'the handler ran again for each observer');
      const got = notifications(peer).map((m) => [m.token.toString(), m.payload.toString()]);
      assert.deepEqual(got.sort(), [
        ['tok-a', 'v1 who=a'],
        ['tok-b', 'v1 who=b'],
      ]);
      assert.ok(seqOf(notifications(peer)[0]!)! > seqOf(b)!, 'the sequence number grows');
    });
  });

  it('sends notifications as NON with increasing sequence numbers, and every 3rd as CON', T, async () => {
    await withObs({ conEvery: 3 }, async (p, state) => {
      const peer = p.raw();
      await p.rt.settle(observe(peer, 'tok', 0));
      for (let i = 1; i <= 7; i++) {
        state.value = `v${i}`;
        p.server.notify('/obs');
        await p.rt.advance(10);
      }
      const n = notifications(peer);
      assert.deepEqual(
        n.map((m) => (m.type === MessageType.CON ? 'CON' : 'NON')),
        ['NON', 'NON', 'CON', 'NON', 'NON', 'CON', 'NON'],
      );
      const seqs = n.map((m) => seqOf(m)!);
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, seqs.join(' '));
      assert.equal(n.at(-1)!.payload.toString(), 'v7');
    });
  });

  it('sends a CON notification once 24 hours passed since the last CON (RFC 7641 §4.5)', T, async () => {
    await withObs({}, async (p) => {
      const peer = p.raw();
      await p.rt.settle(observe(peer, 'tok', 0));
      p.server.notify('/obs');
      await p.rt.advance(10);
      await p.rt.advance(24 * 3600 * 1000);
      p.server.notify('/obs');
      await p.rt.advance(10);
      p.server.notify('/obs');
      await p.rt.advance(10);
      assert.deepEqual(
        notifications(peer).map((m) => m.type),
        [MessageType.NON, MessageType.CON, MessageType.NON],
      );
      assert.equal(p.server.stats()!.observers, 1);
    });
  });

  it('removes the observer on a GET with Observe 1 and answers it without Observe', T, async () => {
    await withObs({}, async (p) => {
      const peer = p.raw();
      await p.rt.settle(observe(peer, 'tok', 0));
      const res = await p.rt.settle(observe(peer, 'tok', 1));
      assert.equal(codeToString(res.code), '2.05');
      assert.equal(seqOf(res), undefined);
      assert.equal(p.server.stats()!.observers, 0);
      assert.equal(p.server.notify('/obs'), 0);
    });
  });

  it('keeps one entry when the same token registers again (RFC 7641 §4.1)', T, async () => {
    await withObs({}, async (p) => {
      const peer = p.raw();
      await p.rt.settle(observe(peer, 'tok', 0));
      await p.rt.settle(observe(peer, 'tok', 0));
      assert.equal(p.server.stats()!.observers, 1);
    });
  });

  it('removes the observer that answers a NON notification with RST', T, async () => {
    await withObs({}, async (p) => {
      const peer = p.raw();
      await p.rt.settle(observe(peer, 'tok', 0));
      p.server.notify('/obs');
      await p.rt.advance(10);
      const n = notifications(peer)[0]!;
      assert.equal(n.type, MessageType.NON);
      const rst = { type: MessageType.RST, code: 0, messageId: n.messageId, token: Buffer.alloc(0) };
      sendRaw(peer.transport, { ...rst, options: [], payload: Buffer.alloc(0) }, SERVER_ADDR);
      await p.rt.advance(10);
      assert.equal(p.server.stats()!.observers, 0);
    });
  });

  it('removes the observer whose CON notification is never acknowledged', T, async () => {
    await withObs({ conEvery: 1 }, async (p) => {
      const peer = p.raw();
      await p.rt.settle(observe(peer, 'tok', 0));
      await peer.messenger.close(); // the observer is gone: nothing will ACK
      p.server.notify('/obs');
      await p.rt.advance(40_000);
      assert.equal(p.server.stats()!.observers, 1, 'still retransmitting');
      await p.rt.advance(60_000);
      assert.equal(p.server.stats()!.observers, 0);
      assert.equal(p.server.stats()!.messenger.pending, 0);
    });
  });

  it('ends the observation with an error notification without Observe (RFC 7641 §4.2)', T, async () => {
    await withObs({}, async (p, state) => {
      const peer = p.raw();
      await p.rt.settle(observe(peer, 'tok', 0));
      state.code = '4.04';
      p.server.notify('/obs');
      await p.rt.advance(10);
      const n = notifications(peer);
      assert.equal(n.length, 1);
      assert.equal(codeToString(n[0]!.code), '4.04');
      assert.equal(seqOf(n[0]!), undefined);
      assert.equal(p.server.stats()!.observers, 0);
    });
  });

  it(
    'serves registrations past maxObservers without Observe and keeps the table at the bound',
    T,
    async () => {
      await withObs({ maxObservers: 2 }, async (p) => {
        const peer = p.raw();
        const seqs = [];
        for (const t of ['t1', 't2', 't3', 't4']) seqs.push(seqOf(await p.rt.settle(observe(peer, t, 0))));
        assert.equal(seqs.filter((s) => s !== undefined).length, 2);
        assert.equal(seqs[2], undefined);
        assert.equal(p.server.stats()!.observers, 2);
        // Room again after one leaves.
        await p.rt.settle(observe(peer, 't1', 1));
        assert.notEqual(seqOf(await p.rt.settle(observe(peer, 't5', 0))), undefined);
        assert.equal(p.server.stats()!.observers, 2);
      });
    },
  );

  it('tells observers apart by endpoint as well as token', T, async () => {
    await withObs({}, async (p) => {
      const second = rawPeer(p.rt, p.net.createTransport({ bind: [{ address: '192.0.2.9', port: 40001 }] }));
      try {
        await p.rt.settle(observe(p.raw(), 'same', 0));
        await p.rt.settle(observe(second, 'same', 0));
        assert.equal(p.server.stats()!.observers, 2);
        await p.rt.settle(observe(second, 'same', 1));
        assert.equal(p.server.stats()!.observers, 1, 'only that endpoint left');
      } finally {
        await second.messenger.close();
      }
    });
  });
});

describe('observers whose client is gone (RFC 7641 §4.5)', () => {
  it('removes an observer whose client is gone even when notifications keep replacing each other', {
    timeout: 30_000,
  }, async () => {
    let n = 0;
    const s = await bwPair({
      server: { observe: { conEvery: 1 } },
      setup: (server) => server.resource('/c', { obs: true }).get(() => ({ payload: String(n) })),
    });
    const obs = s.client.observe(`${BASE}/c`);
    const it = obs[Symbol.asyncIterator]();
    await s.rt.settle(it.next());
    assert.equal(s.server.stats()!.observers, 1);
    // The client vanishes without deregistering.
    await s.client.messenger.transport.close();
    for (let i = 0; i < 60; i++) {
      n++;
      s.server.notify('/c');
      await s.rt.advance(10_000);
    }
    assert.equal(s.server.stats()!.observers, 0);
    await s.close();
  });
});
