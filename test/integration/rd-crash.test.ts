/**
 * Registrations survive SIGKILL at any moment (RFC 9176 §5: an RD keeps a registration for its
 * lifetime; here, across crashes): the `coap-group rd` process is killed with SIGKILL at a
 * random moment while four endpoints register as fast as they can, then restarted on the same
 * state directory, again and again (a bounded loop). After every restart each registration
 * that was acknowledged (2.01) is there at the location it was given, and the state always
 * loads (the directory refuses to start on a corrupt state).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { parseLinks } from '../../src/link-format/index.js';
import { Opt } from '../../src/options/registry.js';
import { findOptions } from '../../src/options/values.js';
import { killAll, type ServeNode, startServe } from '../support/cli-run.js';
import { randomPort } from '../support/handles.js';

after(killAll);

const RD = '127.0.0.236';
const ROUNDS = 6;
const WRITERS = 4;

describe('the resource directory under SIGKILL', () => {
  it('keeps every acknowledged registration through kill -9 at random moments', {
    timeout: 180_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coap-rd-crash-'));
    const port = randomPort();
    const args = ['--bind', RD, '--port', String(port), '--state', dir];
    const acknowledged = new Map<string, string>(); // ep -> location
    const clients: CoapClient[] = [];
    let rd: ServeNode | undefined;
    let next = 0;
    let busyRounds = 0;
    try {
      for (let i = 0; i < WRITERS; i++) {
        clients.push(await CoapClient.create({ bind: [{ address: `127.0.0.${240 + i}`, port: 0 }] }));
      }
      for (let round = 0; round < ROUNDS; round++) {
        rd = await startServe(args, 15_000, 'rd');
        // Everything acknowledged so far is there, where it was.
        const res = await clients[0]!.request({ uri: `coap://${RD}:${port}/rd-lookup/ep`, timeout: 10_000 });
        assert.equal(res.codeString, '2.05');
        const found = new Map(
          parseLinks(res.text()).map((l) => [l.attributes.find(([k]) => k === 'ep')![1] as string, l.href]),
        );
        for (const [ep, loc] of acknowledged) assert.equal(found.get(ep), loc, `round ${round}: ${ep} lost`);
        // Registrations as fast as each writer gets answers, until the kill.
        const stop = new AbortController();
        const writers = clients.map(async (c) => {
          while (!stop.signal.aborted) {
            const ep = `n${next++}`;
            try {
              const r = await c.request({
                uri: `coap://${RD}:${port}/rd?ep=${ep}&lt=3600`,
                method: 'POST',
                payload: Buffer.from(`</light/${ep}>;rt=light,</temp>;rt=temp;obs`),
                format: 40,
                signal: stop.signal,
                timeout: 3_000,
              });
              if (r.codeString !== '2.01') throw new Error(`${ep}: ${r.codeString} ${r.text()}`);
              const loc = findOptions(r.options, Opt.LocationPath).map((o) => `/${o.value.toString()}`);
              acknowledged.set(ep, loc.join(''));
            } catch (err) {
              const code = (err as { code?: string }).code;
              if (code === 'ERR_COAP_ABORTED' || code === 'ERR_COAP_TIMEOUT') return;
              throw err;
            }
          }
        });
        const before = acknowledged.size;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
        await rd.kill();
        stop.abort();
        await Promise.all(writers);
        if (acknowledged.size > before) busyRounds++;
        rd = undefined;
      }
      rd = await startServe(args, 15_000, 'rd');
      const res = await clients[0]!.request({ uri: `coap://${RD}:${port}/rd-lookup/ep`, timeout: 10_000 });
      const found = new Set(parseLinks(res.text()).map((l) => l.href));
      for (const [ep, loc] of acknowledged) assert.ok(found.has(loc), `${ep} at ${loc} lost`);
      assert.ok(acknowledged.size >= ROUNDS, `registrations went through (${acknowledged.size})`);
      assert.ok(busyRounds >= ROUNDS / 2, 'most kills came while registrations were streaming in');
    } finally {
      for (const c of clients) await c.close();
      await rd?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
