/**
 * Cancellation as `fetch` does it: a request whose signal fires rejects with an error named
 * `AbortError` (a CoapError, `ERR_COAP_ABORTED`) whose `cause` is `signal.reason`, and a signal
 * from `AbortSignal.timeout()` surfaces as a timeout (`ERR_COAP_TIMEOUT`, `TimeoutError`).
 * request(), send(), a request queued behind NSTART and one aborted during name resolution;
 * group requests and observations end quietly, the group summary carrying the reason.
 * Memory network and FakeRuntime.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapAbortError, CoapError, type CoapErrorCode, CoapTimeoutError } from '../../src/index.js';
import { IFACE, TestNet } from '../support/test-net.js';

const T = { timeout: 10_000 };

async function setup(resolver?: (host: string) => Promise<string[]>) {
  const t = new TestNet({ seed: 3 });
  const { server } = await t.server(
    { address: '192.0.2.2', port: 5683, ipv4Interface: IFACE },
    { leisure: 1 },
    (s) => {
      // /slow never answers: the request waits (a CON is ACKed after 1 s, then waits for the response).
      s.get('/slow', () => new Promise(() => {}));
      s.resource('/v', { multicast: true }).get(() => ({ payload: 'v' }));
    },
  );
  const { client } = await t.client(
    { address: '192.0.2.1', port: 40000, ipv4Interface: IFACE },
    resolver ? { resolver } : {},
  );
  return { rt: t.rt, net: t.net, server, client, close: () => t.close() };
}

/** What `fetch` users check for an abort with `reason`. */
function isAbort(reason: unknown) {
  return (e: unknown) =>
    e instanceof CoapAbortError &&
    e instanceof CoapError &&
    e.name === 'AbortError' &&
    e.code === 'ERR_COAP_ABORTED' &&
    e.cause === reason;
}

describe('request() aborted by its signal', () => {
  it('rejects with an AbortError whose cause is the signal reason', T, async () => {
    const s = await setup();
    try {
      const ac = new AbortController();
      const p = s.client.request({ uri: 'coap://192.0.2.2/slow', signal: ac.signal });
      await s.rt.advance(2000);
      const reason = new Error('user left');
      ac.abort(reason);
      await assert.rejects(p, isAbort(reason));
      // The default reason is the DOMException AbortError.
      const ac2 = new AbortController();
      const p2 = s.client.request({ uri: 'coap://192.0.2.2/slow', signal: ac2.signal });
      await s.rt.advance(10);
      ac2.abort();
      await assert.rejects(p2, isAbort(ac2.signal.reason));
      assert.equal((ac2.signal.reason as Error).name, 'AbortError');
    } finally {
      await s.close();
    }
  });

  it('rejects at once, sending nothing, when the signal fired already', T, async () => {
    const s = await setup();
    try {
      const reason = 'stop';
      const before = s.net.stats.sent;
      await assert.rejects(
        s.client.request({ uri: 'coap://192.0.2.2/slow', signal: AbortSignal.abort(reason) }),
        isAbort(reason),
      );
      await assert.rejects(
        s.client.send({ uri: 'coap://192.0.2.2/slow', signal: AbortSignal.abort(reason) }),
        isAbort(reason),
      );
      assert.equal(s.net.stats.sent, before);
    } finally {
      await s.close();
    }
  });

  it('rejects when the signal fires while the name is resolved, sending nothing', T, async () => {
    let answer: (a: string[]) => void = () => {};
    const s = await setup(() => new Promise((r) => (answer = r)));
    try {
      const ac = new AbortController();
      const p = s.client.request({ uri: 'coap://slow.example/slow', signal: ac.signal });
      const before = s.net.stats.sent;
      ac.abort('late');
      answer(['192.0.2.2']);
      await assert.rejects(p, isAbort('late'));
      await s.rt.advance(100);
      assert.equal(s.net.stats.sent, before);
    } finally {
      await s.close();
    }
  });

  it('rejects a request queued behind NSTART the same way', T, async () => {
    const s = await setup();
    try {
      const first = s.client.request({ uri: 'coap://192.0.2.2/slow', timeout: 5000 });
      const ac = new AbortController();
      const queued = s.client.request({ uri: 'coap://192.0.2.2/slow', signal: ac.signal });
      await s.rt.advance(10);
      ac.abort('queued');
      await assert.rejects(queued, isAbort('queued'));
      await assert.rejects(s.rt.settle(first), { code: 'ERR_COAP_TIMEOUT' });
    } finally {
      await s.close();
    }
  });

  it(
    'surfaces AbortSignal.timeout() as a timeout: ERR_COAP_TIMEOUT, TimeoutError, cause the reason',
    T,
    async () => {
      const s = await setup();
      try {
        // A real timer: the request waits (virtual time stands still) until the signal fires. The
        // signal's timer does not keep the process alive, so this one does meanwhile.
        const signal = AbortSignal.timeout(20);
        const alive = setTimeout(() => {}, 5000);
        const err = await s.client
          .request({ uri: 'coap://192.0.2.2/slow', signal })
          .then(
            () => assert.fail('resolved'),
            (e: unknown) => e,
          )
          .finally(() => clearTimeout(alive));
        assert.ok(err instanceof CoapTimeoutError);
        assert.equal(err.code, 'ERR_COAP_TIMEOUT');
        assert.equal(err.name, 'TimeoutError');
        assert.equal(err.cause, signal.reason);
        assert.equal((signal.reason as Error).name, 'TimeoutError');
        // Any reason named TimeoutError counts, as fetch does.
        const ac = new AbortController();
        const p = s.client.send({ uri: 'coap://192.0.2.2/slow', confirmable: true, signal: ac.signal });
        const reason = new DOMException('too slow', 'TimeoutError');
        ac.abort(reason);
        await assert.rejects(p, (e: unknown) => e instanceof CoapTimeoutError && e.cause === reason);
      } finally {
        await s.close();
      }
    },
  );

  it('names every other timeout TimeoutError too', T, async () => {
    const s = await setup();
    try {
      await assert.rejects(s.rt.settle(s.client.request({ uri: 'coap://192.0.2.2/slow', timeout: 3000 })), {
        name: 'TimeoutError',
        code: 'ERR_COAP_TIMEOUT',
      });
    } finally {
      await s.close();
    }
  });
});

describe('group requests and observations aborted by their signal', () => {
  it('end a group request quietly with reason aborted and the signal reason as cause', T, async () => {
    const s = await setup();
    try {
      const ac = new AbortController();
      const rs = s.client.group({ uri: 'coap://224.0.1.187/v', window: 5000, signal: ac.signal });
      const all = s.rt.settle(rs.collect());
      await s.rt.advance(10);
      const reason = new DOMException('enough', 'TimeoutError');
      ac.abort(reason);
      assert.deepEqual(await all, []);
      const summary = await rs.done;
      assert.equal(summary.reason, 'aborted');
      assert.equal(summary.cause, reason);
      // Leaving the loop is no signal: no cause.
      const rs2 = s.client.group({ uri: 'coap://224.0.1.187/v', window: 5000 });
      const left = (async () => {
        for await (const _ of rs2) break;
      })();
      await s.rt.settle(left);
      assert.equal((await rs2.done).reason, 'aborted');
      assert.equal('cause' in (await rs2.done), false);
    } finally {
      await s.close();
    }
  });

  it('end a group request queued behind NSTART quietly, with the cause', T, async () => {
    const s = await setup();
    try {
      const first = s.client.group({ uri: 'coap://224.0.1.187/v', window: 3000 });
      const ac = new AbortController();
      const queued = s.client.group({ uri: 'coap://224.0.1.187/v', signal: ac.signal });
      await s.rt.advance(10);
      ac.abort('queued');
      assert.deepEqual(await s.rt.settle(queued.collect()), []);
      assert.deepEqual(await queued.done, {
        responses: 0,
        endpoints: 0,
        elapsedMs: 0,
        reason: 'aborted',
        cause: 'queued',
      });
      await s.rt.settle(first.collect());
    } finally {
      await s.close();
    }
  });

  it('end an observation quietly', T, async () => {
    const s = await setup();
    try {
      s.server.resource('/o', { obs: true }).get(() => ({ payload: 'o' }));
      const ac = new AbortController();
      const got: string[] = [];
      const loop = (async () => {
        for await (const r of s.client.observe({ uri: 'coap://192.0.2.2/o', signal: ac.signal }))
          got.push(r.text());
      })();
      await s.rt.advance(100);
      ac.abort(new DOMException('t', 'TimeoutError'));
      await s.rt.settle(loop);
      assert.deepEqual(got, ['o']);
    } finally {
      await s.close();
    }
  });
});

describe('CoapError.code', () => {
  it('is a union of the documented codes a caller can narrow on', () => {
    const describe = (e: CoapError): string => {
      const code: CoapErrorCode = e.code;
      switch (code) {
        case 'ERR_COAP_TIMEOUT':
          return 'timeout';
        case 'ERR_COAP_ABORTED':
          return 'aborted';
        default:
          return code;
      }
    };
    assert.equal(describe(new CoapTimeoutError('x')), 'timeout');
    assert.equal(describe(new CoapAbortError()), 'aborted');
    // @ts-expect-error: not a code of this library
    const wrong: CoapErrorCode = 'ERR_COAP_NO_SUCH_CODE';
    assert.equal(typeof wrong, 'string');
  });
});
