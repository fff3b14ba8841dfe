/**
 * libcoap's coap-client-notls configures our /coap-group (RFC 7390 §2.6.2) with Content-Format
 * 256: POST creates an entry (2.01 + Location-Path), GET reads the collection, DELETE removes the
 * entry, and the node's memberships follow. Unicast on loopback only.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { killAll, startServe } from '../support/cli-run.js';
import { randomPort } from '../support/handles.js';
import { libcoapClient, libcoapMissing } from '../support/peer-libcoap.js';

const missing = libcoapMissing();
if (missing) process.stdout.write(`# SKIPPED (libcoap): ${missing}\n`);
after(killAll);

describe('coap-client-notls against /coap-group', { skip: missing }, () => {
  it('creates, reads and deletes a membership with Content-Format 256', { timeout: 60_000 }, async () => {
    const port = randomPort();
    const node = await startServe(['--bind', '127.0.0.185', '--port', String(port), '--no-default-groups']);
    try {
      const base = `coap://127.0.0.185:${port}/coap-group`;
      const post = await libcoapClient([
        '-m',
        'post',
        '-t',
        '256',
        '-e',
        '{"a":"239.255.0.185"}',
        '-v',
        '6',
        base,
      ]);
      assert.equal(post.code, 0, post.stderr);
      // The created entry's location comes back as Location-Path options (visible in the log).
      assert.match(`${post.stdout}${post.stderr}`, /2\.01/);
      const list = await libcoapClient(['-m', 'get', '-A', '256', base]);
      const doc = JSON.parse(list.stdout.trim()) as Record<string, { a: string }>;
      const [index, entry] = Object.entries(doc)[0] ?? [];
      assert.ok(index, `no entry in ${list.stdout}`);
      assert.equal(entry?.a, '239.255.0.185');
      const wrong = await libcoapClient(['-m', 'post', '-t', '0', '-e', '{"a":"239.255.0.186"}', base]);
      assert.match(wrong.stderr, /4\.15/);
      const del = await libcoapClient(['-m', 'delete', `${base}/${index}`]);
      assert.equal(del.code, 0, del.stderr);
      const empty = await libcoapClient(['-m', 'get', base]);
      assert.equal(empty.stdout.trim(), '{}');
    } finally {
      await node.stop();
    }
  });
});
