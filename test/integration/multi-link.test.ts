/**
 * A node on two links (RFC 7390 §4.1, §4.2, Appendix A; RFC 7252 §8.2), checked on the wire. Two
 * named namespaces: the node's, with links na and nb, and a client's, at their other ends (ca,
 * cb). On na the client has IPv4 and only a link-local IPv6 address; on nb also fd02::2.
 *
 *   node  na 198.18.1.1/24 fd01::1/64  <->  ca 198.18.1.2/24 (fe80:: only)  client
 *         nb 198.18.2.1/24 fd02::1/64  <->  cb 198.18.2.2/24 fd02::2/64
 *
 * `coap-group serve --iface na --iface nb` joins its groups on both links (an IGMP / MLD report
 * on each), answers a group request on the link it came in on from its address there, answers
 * ff02::fd from its link-local address so that block-wise follow-ups from a requester with only
 * a link-local address reach it, follows /coap-group joins and leaves with reports on both links,
 * serves an address added after start-up without a restart, and reports leaving when stopped.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { CoapServer } from '../../src/index.js';
import { type Capture, type CapturedDatagram, captureUnavailable, startCapture } from '../support/capture.js';
import { BIN, type CliResult, killAll, runCommand, type ServeNode, startServe } from '../support/cli-run.js';
import { assertOnlyInterfaces } from '../support/netns.js';
import { inNamespace, insideTopology, runSelfInTopology, type TopologySpec } from '../support/topology.js';

const T = { timeout: 40_000 };
const SPEC: TopologySpec = {
  namespaces: ['node', 'client'],
  links: [
    [
      { ns: 'node', name: 'na', addresses: ['198.18.1.1/24', 'fd01::1/64'] },
      { ns: 'client', name: 'ca', addresses: ['198.18.1.2/24'] },
    ],
    [
      { ns: 'node', name: 'nb', addresses: ['198.18.2.1/24', 'fd02::1/64'] },
      { ns: 'client', name: 'cb', addresses: ['198.18.2.2/24', 'fd02::2/64'] },
    ],
  ],
};
const GROUPS = ['224.0.1.187', 'ff02::fd', 'ff05::fd'];

if (!insideTopology()) {
  test('a node on two links, seen on the wire (named namespaces)', { timeout: 200_000 }, (t) => {
    const why = captureUnavailable();
    if (why !== undefined) {
      process.stdout.write(`# SKIPPED (no packet capture): ${why}\n`);
      t.skip(why);
      return;
    }
    runSelfInTopology(t, import.meta.filename, SPEC, 'node', 190_000);
  });
} else {
  const dir = mkdtempSync(join(tmpdir(), 'coap-group-links-'));
  const big = randomBytes(3000);
  const captures: Record<'na' | 'nb', Capture> = {} as never;
  let node: ServeNode | undefined;

  /** Runs the CLI in the client's namespace. */
  const client = (args: readonly string[]): Promise<CliResult> =>
    runCommand(
      inNamespace('client')[0]!,
      [...inNamespace('client').slice(1), process.execPath, BIN, ...args],
      30_000,
    );

  /** The node's link-local address on `iface`. */
  const linkLocal = (iface: string): string =>
    networkInterfaces()[iface]!.find((a) => a.address.startsWith('fe80'))!.address;

  /** What `action` put on each link between two markers, markers left out. */
  async function onTheWire(label: string, action: () => Promise<unknown>) {
    const from = { na: await captures.na.mark(`${label} a`), nb: await captures.nb.mark(`${label} b`) };
    await action();
    const to = { na: await captures.na.mark(`${label} a.`), nb: await captures.nb.mark(`${label} b.`) };
    const pick = (l: 'na' | 'nb'): CapturedDatagram[] =>
      captures[l].datagrams.slice(from[l], to[l]).filter((d) => d.dstPort !== 9);
    return { na: pick('na'), nb: pick('nb') };
  }

  const joined = (group: string) => (r: { changes: readonly { group: string; joined: boolean }[] }) =>
    r.changes.some((c) => c.group === group && c.joined);
  const left = (group: string) => (r: { changes: readonly { group: string; joined: boolean }[] }) =>
    r.changes.some((c) => c.group === group && !c.joined);

  before(async () => {
    // Nothing is sent before it is certain that only the namespace's own links exist.
    assertOnlyInterfaces(['lo', 'na', 'nb']);
    captures.na = await startCapture('na');
    captures.nb = await startCapture('nb');
    writeFileSync(join(dir, 'big.bin'), big);
  });

  after(async () => {
    await node?.stop();
    killAll();
    await captures.na?.stop();
    await captures.nb?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('coap-group serve --iface na --iface nb', () => {
    it(
      'binds every address of both links and joins its groups on each, with a report on each',
      T,
      async () => {
        node = await startServe([
          ...['--iface', 'na', '--iface', 'nb', '--leisure', '0.2', '--join', '239.255.0.6'],
          ...['--resource', '/light=on', '--multicast', '/light'],
          ...['--resource', `/big=@${join(dir, 'big.bin')}`, '--multicast', '/big'],
          ...['--state', join(dir, 'state'), '--allow-config-from', '198.18.0.0/16'],
        ]);
        for (const uri of [
          'coap://198.18.1.1:5683',
          'coap://198.18.2.1:5683',
          'coap://[fd01::1]:5683',
          'coap://[fd02::1]:5683',
          `coap://[${linkLocal('na')}%25na]:5683`,
          `coap://[${linkLocal('nb')}%25nb]:5683`,
        ])
          assert.ok(node.ready.includes(` ${uri} `), `${uri} in ${node.ready}`);
        assert.ok(
          node.ready.endsWith(' groups 224.0.1.187:5683,[ff02::fd]:5683,[ff05::fd]:5683,239.255.0.6:5683'),
        );
        for (const l of ['na', 'nb'] as const) {
          for (const g of [...GROUPS, '239.255.0.6']) {
            const r = await captures[l].waitForReport(joined(g));
            assert.equal(r.protocol, g.includes(':') ? 'mld' : 'igmp');
            assert.equal(r.hops, 1, 'membership reports stay on the link');
          }
        }
      },
    );

    it('answers on the link the request came in on, whichever the client chooses', T, async () => {
      for (const [iface, link, other, from] of [
        ['ca', 'na', 'nb', '198.18.1.1'],
        ['cb', 'nb', 'na', '198.18.2.1'],
      ] as const) {
        let r: CliResult | undefined;
        const seen = await onTheWire(iface, async () => {
          r = await client(['get', 'coap://224.0.1.187/light', '--iface', iface, '--wait', '1']);
        });
        assert.equal(r!.code, 0, r!.stderr);
        assert.equal(r!.stdout, `${from}:5683  2.05 Content  on\n`);
        const request = seen[link].filter((d) => d.dst === '224.0.1.187');
        assert.equal(request.length, 1, `the request came in on ${link}`);
        assert.equal(request[0]!.hops, 1);
        const answers = seen[link].filter((d) => d.src === from && d.srcPort === 5683);
        assert.equal(answers.length, 1, `the answer left on ${link}`);
        assert.equal(answers[0]!.dst, request[0]!.src);
        assert.deepEqual(seen[other], [], `nothing on ${other}`);
      }
      let r6: CliResult | undefined;
      const v6 = await onTheWire('ff05', async () => {
        r6 = await client(['get', 'coap://[ff05::fd]/light', '--iface', 'cb', '--wait', '1']);
      });
      assert.equal(r6!.stdout, '[fd02::1]:5683  2.05 Content  on\n', r6!.stderr);
      assert.ok(v6.nb.some((d) => d.src === 'fd02::1' && d.dst === 'fd02::2'));
      assert.deepEqual(v6.na, []);
    });

    it(
      'answers ff02::fd from its link-local address, which a link-local requester reaches for block-wise follow-ups',
      T,
      async () => {
        let r: CliResult | undefined;
        const seen = await onTheWire('ff02', async () => {
          r = await client(['get', 'coap://[ff02::fd%25ca]/big', '--iface', 'ca', '--wait', '2', '--json']);
        });
        assert.equal(r!.code, 0, r!.stderr);
        const lines = r!.stdout.trim().split('\n');
        assert.equal(lines.length, 1, r!.stdout);
        const answer = JSON.parse(lines[0]!) as { from: string; code: string; payloadBase64: string };
        const ll = linkLocal('na');
        assert.equal(answer.from, `[${ll}%ca]:5683`, 'the source is the node on that link');
        assert.equal(answer.code, '2.05');
        assert.ok(Buffer.from(answer.payloadBase64, 'base64').equals(big), 'the whole body, by follow-ups');
        const fromNode = seen.na.filter((d) => d.srcPort === 5683);
        assert.ok(fromNode.length >= 3, 'the first block and the follow-ups were answered');
        for (const d of fromNode) assert.equal(d.src, ll, 'every answer came from the link-local address');
        assert.ok(
          seen.na.some((d) => d.dst === ll && d.dstPort === 5683),
          'follow-ups went to it',
        );
        assert.deepEqual(seen.nb, []);
      },
    );

    it('joins and leaves /coap-group groups on both links, with a report each time', T, async () => {
      const add4 = await client(['groups', 'add', 'coap://198.18.1.1', '--address', '239.255.0.5']);
      assert.equal(add4.stdout, 'added index 1 (/coap-group/1)\n', add4.stderr);
      const add6 = await client(['groups', 'add', 'coap://198.18.2.1', '--address', '[ff05::1:5]']);
      assert.equal(add6.stdout, 'added index 2 (/coap-group/2)\n', add6.stderr);
      for (const l of ['na', 'nb'] as const) {
        await captures[l].waitForReport(joined('239.255.0.5'));
        await captures[l].waitForReport(joined('ff05::1:5'));
      }
      const answered = await client(['get', 'coap://[ff05::1:5]/light', '--iface', 'cb', '--wait', '1']);
      assert.equal(answered.stdout, '[fd02::1]:5683  2.05 Content  on\n', answered.stderr);
      for (const index of ['1', '2']) {
        const r = await client(['groups', 'remove', 'coap://198.18.1.1', index]);
        assert.equal(r.code, 0, r.stderr);
      }
      // The leave waits a grace period (RFC 7390 §6.2 churn), then is reported on both links.
      for (const l of ['na', 'nb'] as const) {
        await captures[l].waitForReport(left('239.255.0.5'));
        await captures[l].waitForReport(left('ff05::1:5'));
      }
    });

    it(
      'serves an address added after start-up without a restart, and drops one that went away',
      T,
      async () => {
        const add = await runCommand('ip', ['addr', 'add', '198.18.1.9/24', 'dev', 'na']);
        assert.equal(add.code, 0, add.stderr);
        await waitFor(() =>
          node!
            .output()
            .stderr.includes('address 198.18.1.9 appeared: now also serving coap://198.18.1.9:5683'),
        );
        const r = await client(['get', 'coap://198.18.1.9/light']);
        assert.deepEqual([r.code, r.stdout], [0, 'on\n'], r.stderr);
        const del = await runCommand('ip', ['addr', 'del', '198.18.1.9/24', 'dev', 'na']);
        assert.equal(del.code, 0, del.stderr);
        await waitFor(() => node!.output().stderr.includes('address 198.18.1.9 went away'));
      },
    );

    it('reports leaving every group on both links when it stops', T, async () => {
      const marks = { na: captures.na.reports.length, nb: captures.nb.reports.length };
      const r = await node!.stop();
      assert.equal(r.code, 0, r.stderr);
      for (const l of ['na', 'nb'] as const) {
        for (const g of [...GROUPS, '239.255.0.6']) {
          await captures[l].waitForReport(
            (x) => x.seq > 0 && captures[l].reports.indexOf(x) >= marks[l] && left(g)(x),
          );
        }
      }
    });
  });

  describe('CoapServer with iface: [na, nb]', () => {
    it('joins on both links, and one leave() leaves both', T, async () => {
      const server = new CoapServer({ bind: ['198.18.1.1', '198.18.2.1'], port: 5690, iface: ['na', 'nb'] });
      try {
        await server.listen();
        await server.join('239.255.0.8:5690');
        assert.deepEqual(
          server
            .memberships()
            .filter((m) => m.group === '239.255.0.8')
            .map((m) => m.iface)
            .sort(),
          ['198.18.1.1', '198.18.2.1'],
        );
        for (const l of ['na', 'nb'] as const) await captures[l].waitForReport(joined('239.255.0.8'));
        await server.leave('239.255.0.8:5690');
        assert.deepEqual(
          server.memberships().filter((m) => m.group === '239.255.0.8'),
          [],
        );
        for (const l of ['na', 'nb'] as const) await captures[l].waitForReport(left('239.255.0.8'));
      } finally {
        await server.close();
      }
    });
  });
}

/** Polls `check` every 50 ms, for at most 10 s. */
async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('not within 10 s');
}
