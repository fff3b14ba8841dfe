/**
 * Resource directory interop with libcoap 4.3 on host loopback: libcoap's `coap-rd-notls` as the
 * directory of our `serve --rd` nodes (found by multicast on lo, RFC 7390 §3.3, or by address),
 * and libcoap's `coap-client-notls` registering with, updating, removing from and looking up
 * (observing too) in our `coap-group rd`. Skipped, with the reason printed, when the programs
 * are not installed.
 *
 * What libcoap's example directory does (4.3.1): it takes registrations (2.01, a new location
 * each time, even for the same ep), lists them in /.well-known/core and serves their links with
 * GET, but has no lookup interface, answers a registration update (POST to the location) with
 * 4.05, and frees the registration twice on DELETE, which ends the process. Our node falls back
 * to registering again on the 4.05, as RFC 9176 §5.3.1 says, skips joining groups there, and
 * sends its DELETE on stop; the tests check what our node sends, not that the peer survives it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseLinks } from '../../src/entry/codec.js';
import { killAll, lines, runCli, type ServeNode, startServe } from '../support/cli-run.js';
import { randomPort } from '../support/handles.js';
import { libcoapClient, libcoapMissing } from '../support/peer-libcoap.js';
import { missingProgram, type Peer, startPeer } from '../support/peer-process.js';
import { printed } from '../support/rd-run.js';

after(killAll);

const missing = libcoapMissing() ?? missingProgram('coap-rd-notls');
if (missing !== undefined)
  process.stdout.write(`# SKIPPED (libcoap resource directory interop): ${missing}\n`);

const T = { timeout: 90_000 };

function startLibcoapRd(args: readonly string[]): Promise<Peer> {
  return startPeer('coap-rd-notls', [...args, '-v', '7'], {
    ready: args.includes('-g') ? /added mcast group/ : /created UDP\s+endpoint/,
    timeoutMs: 10_000,
  });
}

describe('libcoap coap-rd-notls as the directory of our nodes', { skip: missing }, () => {
  it(
    'a node finds it by multicast, registers, registers again when the update is refused, and deregisters',
    T,
    async () => {
      const rdPort = randomPort();
      const peer = await startLibcoapRd([
        '-A',
        '0.0.0.0',
        '-p',
        String(rdPort),
        '-g',
        '224.0.1.187',
        '-G',
        'lo',
      ]);
      let node: ServeNode | undefined;
      try {
        node = await startServe([
          '--bind',
          '127.0.0.220',
          '--port',
          String(randomPort()),
          '--leisure',
          '0.2',
          '--resource',
          '/light=off',
          '--multicast',
          '/light',
          '--rd',
          `coap://224.0.1.187:${rdPort}`,
          '--ep',
          'lamp-interop',
          '--lifetime',
          '3',
          '--join-rd-groups',
        ]);
        const first = (await printed(node, /rd: registered as /)).replace(/^.*registered as /, '');
        assert.match(first, new RegExp(`^coap://127\\.0\\.0\\.1:${rdPort}/rd/[0-9a-f-]+$`));
        assert.match(
          node.output().stderr,
          /offers no resource lookup \(rt=core\.rd-lookup-res\): not joining groups/,
        );
        // libcoap lists the registration and serves the node's links.
        const listed = await libcoapClient(['-m', 'get', `coap://127.0.0.1:${rdPort}/.well-known/core`]);
        assert.ok(listed.stdout.includes(`<${new URL(first).pathname}>`), listed.stdout);
        const links = await libcoapClient(['-m', 'get', first]);
        assert.deepEqual(
          parseLinks(links.stdout.trim()).map((l) => l.href),
          ['/light', '/coap-group'],
        );
        assert.match(
          peer.output(),
          /Uri-Path:rd, Content-Format:application\/link-format, Uri-Query:ep=lamp-interop, Uri-Query:lt=3/,
        );
        // At 80 % of 3 s the node renews; libcoap answers 4.05, so the node registers again.
        const again = await printed(node, new RegExp(`rd: registered as (?!${first}$)`));
        assert.match(
          peer.output(),
          new RegExp(`c:POST .*Uri-Path:rd, Uri-Path:${new URL(first).pathname.split('/')[2]} \\]`),
        );
        const second = again.replace(/^.*registered as /, '');
        await node.stop();
        const deleted = new URL(
          lines(node.output().stderr)
            .filter((l) => /registered as/.test(l))
            .at(-1)!
            .replace(/^.*registered as /, ''),
        ).pathname;
        assert.ok(second.length > 0);
        assert.match(peer.output(), new RegExp(`c:DELETE .*Uri-Path:rd, Uri-Path:${deleted.split('/')[2]}`));
      } finally {
        await node?.stop();
        await peer.stop();
      }
    },
  );
});

describe('coap-client-notls with our directory', { skip: missing }, () => {
  it('registers, looks up, observes a lookup, updates and removes', T, async () => {
    const port = randomPort();
    // The commissioning tool is our CLI on 127.0.0.1; the libcoap clients are endpoints.
    const rd = await startServe(
      ['--bind', '127.0.0.221', '--port', String(port), '--leisure', '0.2', '--allow-ct-from', '127.0.0.1'],
      15_000,
      'rd',
    );
    const at = `coap://127.0.0.221:${port}`;
    try {
      const reg = await libcoapClient([
        '-a',
        '127.0.0.222',
        '-v',
        '6',
        '-m',
        'post',
        '-t',
        '40',
        '-e',
        '</sensors/temp>;rt=temperature-c;if=sensor,<http://www.example.com/sensors/temp>;anchor="/sensors/temp";rel=describedby',
        `${at}/rd?ep=node1&lt=600&base=coap://127.0.0.222`,
      ]);
      const created = /c:2\.01 .*Location-Path:rd, Location-Path:(\d+)/.exec(`${reg.stdout}${reg.stderr}`);
      assert.ok(created, `${reg.stdout}${reg.stderr}`);
      const location = `${at}/rd/${created[1]}`;
      const found = await libcoapClient(['-a', '127.0.0.222', '-m', 'get', `${at}/rd-lookup/res?ep=node1`]);
      assert.deepEqual(
        parseLinks(found.stdout.trim()),
        parseLinks(
          '<coap://127.0.0.222/sensors/temp>;rt="temperature-c";if="sensor",<http://www.example.com/sensors/temp>;anchor="coap://127.0.0.222/sensors/temp";rel="describedby"',
        ),
      );
      // An observed lookup: libcoap is notified when a matching registration appears.
      const watching = libcoapClient([
        '-a',
        '127.0.0.223',
        '-s',
        '4',
        '-m',
        'get',
        `${at}/rd-lookup/ep?et=core.rd-group`,
      ]);
      await new Promise((r) => setTimeout(r, 1000));
      const group = await runCli([
        'rd',
        'register-group',
        at,
        '--name',
        'lights',
        '--base',
        'coap://239.255.0.45',
        '--links',
        '</light>',
      ]);
      assert.equal(group.code, 0, group.stderr);
      const seen = await watching;
      assert.match(
        seen.stdout,
        /<\/rd\/\d+>;ep="lights";base="coap:\/\/239\.255\.0\.45";et="core\.rd-group";rt="core\.rd-ep"/,
      );
      const update = await libcoapClient([
        '-a',
        '127.0.0.222',
        '-v',
        '6',
        '-m',
        'post',
        `${location}?lt=1200`,
      ]);
      assert.match(`${update.stdout}${update.stderr}`, /c:2\.04/);
      const other = await libcoapClient(['-a', '127.0.0.224', '-v', '6', '-m', 'delete', location]);
      assert.match(`${other.stdout}${other.stderr}`, /c:4\.03/, 'another endpoint may not remove it');
      const removed = await libcoapClient(['-a', '127.0.0.222', '-v', '6', '-m', 'delete', location]);
      assert.match(`${removed.stdout}${removed.stderr}`, /c:2\.02/);
      const gone = await libcoapClient(['-a', '127.0.0.222', '-m', 'get', `${at}/rd-lookup/res?ep=node1`]);
      assert.equal(gone.stdout.trim(), '');
    } finally {
      await rd.stop();
    }
  });
});
