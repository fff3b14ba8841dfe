/**
 * The README's table of diagnostics channels is what the library publishes: each channel it
 * lists is published in a real exchange on loopback, with the fields the table names, and no
 * channel of the source is missing from the table.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import diagnostics from 'node:diagnostics_channel';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { encodeMessage } from '../../src/entry/codec.js';
import {
  CoapClient,
  CoapServer,
  generateOscorePair,
  MessageType,
  OscoreServerSecurity,
  parseOscoreConfig,
} from '../../src/index.js';
import { ROOT } from '../support/cli-run.js';
import { readDoc } from '../support/doc-examples.js';
import { randomPort } from '../support/handles.js';

/** The table's rows: channel and the fields of its message. */
function documented(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const m of readDoc('README.md').matchAll(/^\| `(coap:[\w:-]+)` \| `\{ ([^}]*) \}` \|/gm)) {
    rows.set(
      m[1]!,
      m[2]!.split(',').map((f) => f.trim()),
    );
  }
  return rows;
}

/** Every channel name the source publishes on. */
function published(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts'))
        for (const m of readFileSync(p, 'utf8').matchAll(/diagnostics\.channel\('([^']+)'\)/g))
          names.add(m[1]!);
    }
  };
  walk(join(ROOT, 'src'));
  return names;
}

describe('the README diagnostics table', () => {
  it('lists every channel the library publishes on', () => {
    assert.deepEqual([...documented().keys()].sort(), [...published()].sort());
  });

  it('matches what each channel publishes', { timeout: 30_000 }, async () => {
    const table = documented();
    const seen = new Map<string, Record<string, unknown>>();
    const listeners = [...table.keys()].map((name) => {
      const fn = (m: unknown) => {
        if (!seen.has(name)) seen.set(name, m as Record<string, unknown>);
      };
      diagnostics.subscribe(name, fn);
      return () => diagnostics.unsubscribe(name, fn);
    });
    const port = randomPort();
    const at = `127.0.0.58:${port}`;
    const keys = generateOscorePair();
    const server = new CoapServer({
      bind: ['127.0.0.58'],
      port,
      joinAllCoapNodes: false,
      security: new OscoreServerSecurity(parseOscoreConfig(keys.server)),
    });
    server.get('/bug', () => {
      throw new TypeError('a bug');
    });
    await server.listen();
    const client = await CoapClient.create({ iface: 'lo', transmission: { probingRate: 100 } });
    const raw = dgram.createSocket('udp4');
    try {
      // sent, received, server:error
      assert.equal((await client.request(`coap://${at}/bug`)).codeString, '5.00');
      // message:rejected: a ping is answered with a Reset (RFC 7252 §4.3)
      assert.equal(await client.ping(`coap://${at}`), true);
      // oscore:rejected: an OSCORE option that does not decode
      await new Promise<void>((r) => raw.bind(0, '127.0.0.1', () => r()));
      const bad = encodeMessage({
        type: MessageType.NON,
        code: 1,
        messageId: 7,
        token: Buffer.from([1]),
        options: [{ number: 9, value: Buffer.from([0xff]) }],
        payload: Buffer.from([1, 2, 3]),
      });
      await new Promise<void>((r) => raw.send(bad, port, '127.0.0.58', () => r()));
      // group:wait: a second request to a group that did not answer
      const group = `coap://224.0.1.187:${randomPort()}/x`;
      await client.group({ uri: group, window: 50 }).collect();
      await client.group({ uri: group, window: 50 }).collect();
      for (let i = 0; i < 50 && !seen.has('coap:oscore:rejected'); i++)
        await new Promise((r) => setTimeout(r, 20));
    } finally {
      for (const off of listeners) off();
      raw.close();
      await client.close();
      await server.close();
    }
    for (const [name, fields] of table) {
      const m = seen.get(name);
      assert.ok(m, `nothing was published on ${name}`);
      for (const f of fields) assert.ok(f in m, `${name} has no ${f}: ${Object.keys(m).join(', ')}`);
    }
  });
});
