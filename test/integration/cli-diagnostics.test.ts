/**
 * What the CLI shows on stderr from the library's diagnostics channels (src/cli/trace.ts), with
 * real sockets on loopback: `serve` logs a handler that failed (it is otherwise a silent 5.00),
 * and a group request that must wait for PROBING_RATE (RFC 7252 §4.7) says so when the wait is
 * longer than a second. The group has no members: it is a random port of 224.0.1.187 on lo.
 */
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { announceWaits, logServerErrors } from '../../src/cli/trace.js';
import { CoapClient, CoapServer } from '../../src/index.js';
import { randomPort } from '../support/handles.js';

const T = { timeout: 30_000 };

describe('serve logs failing handlers', () => {
  it(
    'a handler that throws a TypeError is answered 5.00 and logged, with the stack on --debug',
    T,
    async () => {
      for (const debug of [false, true]) {
        const logged: string[] = [];
        const off = logServerErrors((l) => logged.push(l), debug);
        const port = randomPort();
        const server = new CoapServer({ bind: ['127.0.0.57'], port, joinAllCoapNodes: false });
        server.get('/bug', () => {
          const missing = undefined as unknown as { value: string };
          return { payload: missing.value };
        });
        await server.listen();
        const client = await CoapClient.create();
        try {
          const res = await client.request(`coap://127.0.0.57:${port}/bug`);
          assert.equal(res.codeString, '5.00');
          assert.equal(res.text(), '', 'the details stay off the wire');
          assert.match(
            logged[0] ?? '',
            /^a request handler failed and was answered 5\.00: TypeError: Cannot read properties of undefined/,
          );
          assert.equal(logged.length, debug ? 2 : 1);
          if (debug) assert.match(logged[1]!, /^TypeError: .*\n\s+at /);
        } finally {
          off();
          await client.close();
          await server.close();
        }
      }
    },
  );

  it('a CoapResponseError is the handler’s answer, not a failure: nothing is logged', T, async () => {
    const logged: string[] = [];
    const off = logServerErrors((l) => logged.push(l), false);
    const port = randomPort();
    const server = new CoapServer({ bind: ['127.0.0.57'], port, joinAllCoapNodes: false });
    const { CoapResponseError } = await import('../../src/index.js');
    server.get('/no', () => {
      throw new CoapResponseError('4.03', 'not you');
    });
    await server.listen();
    const client = await CoapClient.create();
    try {
      assert.equal((await client.request(`coap://127.0.0.57:${port}/no`)).codeString, '4.03');
      assert.deepEqual(logged, []);
    } finally {
      off();
      await client.close();
      await server.close();
    }
  });
});

describe('a wait for a silent group is announced', () => {
  /** Two requests to a group without members; returns what was announced and the waits published. */
  async function twoRequests(probingRate: number): Promise<{ said: string[]; waits: number[] }> {
    const said: string[] = [];
    const waits: number[] = [];
    const onWait = (m: unknown) => waits.push((m as { waitMs: number }).waitMs);
    diagnostics.subscribe('coap:group:wait', onWait);
    const off = announceWaits((l) => said.push(l));
    // A faster PROBING_RATE than 1 byte/s keeps the test short; the rule is the same.
    const client = await CoapClient.create({ iface: 'lo', transmission: { probingRate } });
    const uri = `coap://224.0.1.187:${randomPort()}/light`;
    try {
      assert.equal((await client.group({ uri, window: 200 }).collect()).length, 0);
      assert.deepEqual(said, [], 'the first request does not wait');
      assert.equal((await client.group({ uri, window: 200 }).collect()).length, 0);
    } finally {
      off();
      diagnostics.unsubscribe('coap:group:wait', onWait);
      await client.close();
    }
    return { said, waits };
  }

  it('says how long and why when the wait is longer than a second', T, async () => {
    // A request of about 20 bytes at 10 bytes/s waits about 2 s.
    const { said, waits } = await twoRequests(10);
    assert.equal(waits.length, 1);
    assert.equal(said.length, 1, said.join('\n'));
    assert.match(
      said[0]!,
      /^waiting [23] s before asking 224\.0\.1\.187:\d+ again: it did not answer the last request \(PROBING_RATE, RFC 7252 §4\.7\)$/,
    );
  });

  it('says nothing for a wait of a second or less', T, async () => {
    // About 20 bytes at 25 bytes/s: some 800 ms after the first request, 600 ms after its window.
    const { said, waits } = await twoRequests(25);
    assert.equal(waits.length, 1, 'the request did wait');
    assert.ok(waits[0]! > 0 && waits[0]! <= 1000, String(waits[0]));
    assert.deepEqual(said, []);
  });
});
