/**
 * What the user asked to protect never reaches the wire in the clear, checked on the wire itself:
 * in a private network namespace whose only interface is lo, `dumpcap` captures every UDP
 * datagram while the library and the CLI are asked to send secrets
 * - to `coaps://`, `coap+tcp://` and `coaps+ws://` URIs, for which there is no transport here
 *   (refused with ERR_COAP_UNSUPPORTED_SCHEME before the host is resolved);
 * - with Group OSCORE key material made without `--member-address`, unicast to a member's
 *   address, and to a group the file does not have (refused with ERR_OSCORE_NO_CONTEXT).
 * No datagram at all may reach the ports those requests were for, and no captured byte may hold
 * a secret. As controls, in a later phase of the same capture: permitted plaintext requests
 * (library and CLI) are seen with their payloads, so the capture does see CoAP; and a request
 * protected for a member configured with its address is seen going there, its secret absent.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, test } from 'node:test';
import {
  CoapClient,
  CoapServer,
  generateGroup,
  OscoreClientSecurity,
  OscoreServerSecurity,
  parseOscoreConfig,
  writeKeyFile,
} from '../../src/index.js';
import { type Capture, type CapturedDatagram, captureUnavailable, startCapture } from '../support/capture.js';
import { type CliResult, exits, killAll, lines, runCli } from '../support/cli-run.js';
import { assertOnlyInterfaces, insideNetns, LOOPBACK_SETUP, runSelfInNetns } from '../support/netns.js';

const T = { timeout: 90_000 };
const GROUP = '239.255.0.7';
const NO_GROUP = '239.255.0.9';
/** The node that holds member 2's keys in both groups, and a plain node. */
const MEMBER = '127.0.0.3';
const PLAIN = '127.0.0.4';
const CONFIGURED = '127.0.0.5';

const secret = (label: string) => `secret-${label}-${randomBytes(6).toString('hex')}`;

function oneLine(r: CliResult, pattern: RegExp): void {
  const l = lines(r.stderr);
  assert.equal(l.length, 1, `one line on stderr; got:\n${r.stderr}`);
  assert.match(l[0]!, pattern);
}

/** Datagrams in [from, to) of the capture, marker datagrams left out. */
function between(all: readonly CapturedDatagram[], from: number, to: number): CapturedDatagram[] {
  return all.slice(from, to).filter((d) => d.dstPort !== 9);
}

function holds(d: CapturedDatagram, text: string): boolean {
  return d.payload.includes(Buffer.from(text));
}

if (!insideNetns()) {
  test('nothing the user asked to protect is sent in the clear (captured in a private namespace)', T, (t) => {
    const why = captureUnavailable();
    if (why !== undefined) {
      // Printed, so a skipped run is never mistaken for a passing one.
      process.stdout.write(`# SKIPPED (no packet capture): ${why}\n`);
      t.skip(why);
      return;
    }
    runSelfInNetns(t, import.meta.filename, LOOPBACK_SETUP, { timeoutMs: 85_000 });
  });
} else {
  const dir = mkdtempSync(join(tmpdir(), 'coap-group-wire-'));
  const closers: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('on the wire', () => {
    it('refused requests send nothing; permitted and protected ones are seen, secrets never', T, async () => {
      assertOnlyInterfaces(['lo']);
      // Group A: made without member addresses, as `keys group --members 3` makes it.
      const a = generateGroup({ members: 3, addresses: [GROUP] });
      // Group B: made with `--member-address`, so a unicast request to member 2 is protected.
      const b = generateGroup({ members: 3, addresses: [GROUP], memberAddresses: ['127.0.0.2', CONFIGURED] });
      for (const [name, file] of [
        ['a-1.json', a[0]!],
        ['b-1.json', b[0]!],
      ] as const)
        writeKeyFile(join(dir, name), file);

      // Servers: member 2 of group A (protected resource), a plain node, member 2 of group B.
      const seen: string[] = [];
      const node = async (address: string, security?: OscoreServerSecurity) => {
        const s = new CoapServer({ bind: [address], port: 5683, ...(security ? { security } : {}) });
        s.resource('/secret', { protected: security !== undefined }).put((req) => {
          seen.push(req.text());
          return { code: '2.04' };
        });
        await s.listen();
        closers.push(() => s.close());
      };
      await node(MEMBER, new OscoreServerSecurity(parseOscoreConfig(a[1]!)));
      await node(PLAIN);
      await node(CONFIGURED, new OscoreServerSecurity(parseOscoreConfig(b[1]!)));

      const capture: Capture = await startCapture('lo');
      closers.push(() => capture.stop());
      const S = {
        coaps: secret('coaps'),
        tcp: secret('tcp'),
        cliCoaps: secret('cli-coaps'),
        unicast: secret('unicast'),
        send: secret('send'),
        observe: secret('observe'),
        group: secret('group'),
        cliUnicast: secret('cli-unicast'),
        cliGroup: secret('cli-group'),
        protected: secret('protected'),
      };

      // Phase 1: every one of these must be refused, and send nothing.
      const plainClient = await CoapClient.create({ iface: '127.0.0.1' });
      closers.push(() => plainClient.close());
      const put = (uri: string, payload: string) => ({ uri, method: 'PUT' as const, payload });
      await assert.rejects(plainClient.request(put('coaps://127.0.0.1/secret', S.coaps)), {
        code: 'ERR_COAP_UNSUPPORTED_SCHEME',
      });
      await assert.rejects(plainClient.send(put(`coap+tcp://${PLAIN}/secret`, S.tcp)), {
        code: 'ERR_COAP_UNSUPPORTED_SCHEME',
      });
      await assert.rejects(plainClient.request(put('coaps+ws://wire-test.invalid/secret', S.tcp)), {
        code: 'ERR_COAP_UNSUPPORTED_SCHEME',
      });
      const coaps = await runCli(['put', 'coaps://127.0.0.1/secret', '--payload', S.cliCoaps]);
      exits(coaps, 2);
      oneLine(coaps, /coaps:\/\/ needs DTLS.*nothing was sent.*--oscore/);
      const named = await runCli(['get', 'coaps://wire-test.invalid/secret']);
      exits(named, 2);
      oneLine(named, /coaps:\/\/ needs DTLS/); // not a resolver error: refused before the lookup

      const secured = await CoapClient.create({
        iface: '127.0.0.1',
        security: new OscoreClientSecurity(parseOscoreConfig(a[0]!)),
      });
      closers.push(() => secured.close());
      const noContext = { code: 'ERR_OSCORE_NO_CONTEXT' };
      await assert.rejects(secured.request(put(`coap://${MEMBER}/secret`, S.unicast)), noContext);
      await assert.rejects(secured.send(put(`coap://${MEMBER}/secret`, S.send)), noContext);
      await assert.rejects(async () => {
        for await (const _ of secured.observe({ uri: `coap://${MEMBER}/secret?${S.observe}` })) assert.fail();
      }, noContext);
      await assert.rejects(secured.group(put(`coap://${NO_GROUP}/secret`, S.group)).collect(), noContext);
      const cliUnicast = await runCli([
        'put',
        `coap://${MEMBER}/secret`,
        '--payload',
        S.cliUnicast,
        '--oscore',
        join(dir, 'a-1.json'),
      ]);
      exits(cliUnicast, 2);
      oneLine(cliUnicast, /no context in the file protects requests to 127\.0\.0\.3:5683.*--member-address/);
      const cliGroup = await runCli([
        'put',
        `coap://${NO_GROUP}/secret`,
        '--payload',
        S.cliGroup,
        '--oscore',
        join(dir, 'a-1.json'),
      ]);
      exits(cliGroup, 2);
      oneLine(cliGroup, /no group in the file has the address 239\.255\.0\.9:5683/);
      const phase2 = await capture.mark('phase 2');

      // Phase 2, the controls: permitted plaintext is seen; a protected request is seen, sealed.
      const control = secret('control');
      await plainClient.request(put(`coap://${PLAIN}/secret`, control));
      const cliControl = secret('cli-control');
      exits(await runCli(['put', `coap://${PLAIN}/secret`, '--payload', cliControl]), 0);
      const chosen = secret('chosen');
      const res = await secured.request({ ...put(`coap://${PLAIN}/secret`, chosen), unprotected: true });
      assert.equal(res.codeString, '2.04');
      const sealed = await runCli([
        'put',
        `coap://${CONFIGURED}/secret`,
        '--payload',
        S.protected,
        '--oscore',
        join(dir, 'b-1.json'),
      ]);
      exits(sealed, 0);
      assert.deepEqual(seen, [control, cliControl, chosen, S.protected], 'what the servers took');
      const end = await capture.mark('end');
      const all = await capture.stop();

      const refused = between(all, 0, phase2);
      assert.deepEqual(
        refused.map((d) => `${d.dst}:${d.dstPort}`),
        [],
        'no datagram at all while the refused requests were tried (nor a DNS query)',
      );
      const controls = between(all, phase2, end);
      for (const text of [control, cliControl, chosen]) {
        assert.ok(
          controls.some((d) => d.dst === PLAIN && d.dstPort === 5683 && holds(d, text)),
          `the permitted plaintext ${text} is in the capture`,
        );
      }
      assert.ok(
        controls.filter((d) => d.dst === CONFIGURED && d.dstPort === 5683).length >= 2,
        'the protected request (and its Echo repetition) went to the member',
      );
      for (const [label, text] of Object.entries(S)) {
        assert.ok(!all.some((d) => holds(d, text)), `the ${label} secret is nowhere in the capture`);
      }
    });
  });
}
