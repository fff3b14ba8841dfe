/**
 * Multicast interop (RFC 7390 §2.5, RFC 7252 §8): our group client against groups of libcoap and
 * node-coap servers, and libcoap's client against a group of our nodes. Everything runs inside a
 * private network namespace whose only interface is lo and whose only multicast route is lo, so
 * no datagram can reach a real network (coap-client-notls has no interface flag and follows the
 * route). Skipped, with the reason printed, where namespaces or the libcoap programs are missing.
 */
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { after, before, describe, it, test } from 'node:test';
import { CoapClient, type CoapMessage, CoapServer, type GroupResponse } from '../../src/index.js';
import { randomPort, trackHandles } from '../support/handles.js';
import { assertOnlyInterfaces, insideNetns, LOOPBACK_SETUP, runSelfInNetns } from '../support/netns.js';
import { libcoapClient, libcoapMissing, startLibcoapServer } from '../support/peer-libcoap.js';
import {
  closeNodeCoapServer,
  type NodeCoapHandler,
  type NodeCoapMember,
  type NodeCoapServer,
  startNodeCoapMember,
  startNodeCoapServer,
} from '../support/peer-node-coap.js';
import { type Peer, stopAll } from '../support/peer-process.js';

const GROUP = '224.0.1.187';
/** Longer than the 0-5 s random delay of libcoap's multicast responses. */
const WINDOW = 6500;
const missing = libcoapMissing();

if (!insideNetns()) {
  if (missing !== undefined) process.stdout.write(`# SKIPPED (libcoap multicast interop): ${missing}\n`);
  test(
    'multicast interop with libcoap and node-coap, in a private network namespace',
    { timeout: 120_000 },
    (t) =>
      runSelfInNetns(t, import.meta.filename, [
        ...LOOPBACK_SETUP,
        'ip route add 224.0.0.0/4 dev lo src 127.0.0.1',
      ]),
  );
} else {
  if (missing !== undefined) process.stdout.write(`# SKIPPED (libcoap multicast interop): ${missing}\n`);

  /** The received messages that carry `token`, from the messenger's diagnostics channel. */
  function recordReceived(): { byToken(token: Buffer): CoapMessage[]; stop(): void } {
    const seen: CoapMessage[] = [];
    const onMessage = (m: unknown) => seen.push((m as { message: CoapMessage }).message);
    diagnostics.subscribe('coap:message:received', onMessage);
    return {
      byToken: (token) => seen.filter((m) => m.token.equals(token)),
      stop: () => diagnostics.unsubscribe('coap:message:received', onMessage),
    };
  }

  const endpoint = (r: GroupResponse) => `${r.source.address}:${r.source.port}`;

  describe('multicast on lo in the test namespace', () => {
    it('has lo as its only interface (the pinning guarantee)', () => {
      assertOnlyInterfaces(['lo']);
    });
  });

  describe('our group client and two coap-server-notls group members', { skip: missing }, () => {
    const port = randomPort();
    const servers: Peer[] = [];
    let client: CoapClient | undefined;
    let checkHandles: () => Promise<void>;

    before(async () => {
      checkHandles = trackHandles();
      for (let i = 0; i < 2; i++) {
        servers.push(
          await startLibcoapServer({ address: '0.0.0.0', port, group: { address: GROUP, ifname: 'lo' } }),
        );
      }
      client = await CoapClient.create({ iface: '127.0.0.1' });
    });

    after(async () => {
      await client?.close();
      await stopAll(servers);
      await checkHandles?.();
    });

    it('collects the responses of both to GET /.well-known/core', { timeout: 30_000 }, async () => {
      const received = recordReceived();
      let responses: GroupResponse[];
      try {
        responses = await client!
          .group({ uri: `coap://${GROUP}:${port}/.well-known/core`, window: WINDOW })
          .collect();
      } finally {
        received.stop();
      }
      assert.ok(responses.length >= 1, 'no response');
      for (const r of responses) {
        assert.equal(r.codeString, '2.05');
        assert.equal(r.format, 40);
        assert.match(r.text(), /<\/time>/);
        // Both instances share the port, so both answer from 127.0.0.1:port (RFC 7252 §8.2).
        assert.deepEqual(r.source, { address: '127.0.0.1', port });
      }
      // Both instances answered: two datagrams with the request's token reached the client.
      const datagrams = received.byToken(responses[0]!.token);
      assert.equal(datagrams.length, 2, 'datagrams with the token');
      // libcoap 4.3.1 answers a NON request with the request's Message ID, so the two answers are
      // the same message from the same endpoint: a duplicate, processed once (RFC 7252 §4.5).
      // One response per distinct (endpoint, Message ID) reaches the application.
      const mids = new Set(datagrams.map((m) => m.messageId));
      assert.equal(responses.length, mids.size, `message IDs ${[...mids].join(', ')}`);
    });
  });

  /** node-coap answers only GET /name, with the member's name. */
  const nameHandler =
    (name: string): NodeCoapHandler =>
    (req, res) => {
      if (req.url !== '/name' || req.method !== 'GET') {
        res.code = '4.04';
        res.end();
        return;
      }
      res.setOption('Content-Format', 'text/plain');
      res.end(name);
    };

  describe('our group client and two node-coap multicast servers on one endpoint', () => {
    const port = randomPort();
    const servers: NodeCoapServer[] = [];
    let client: CoapClient | undefined;

    before(async () => {
      for (const name of ['nc1', 'nc2']) {
        servers.push(
          await startNodeCoapServer(
            { address: '0.0.0.0', port, multicast: { address: GROUP, iface: '127.0.0.1' } },
            nameHandler(name),
          ),
        );
      }
      client = await CoapClient.create({ iface: '127.0.0.1' });
    });

    after(async () => {
      await client?.close();
      for (const s of servers) await closeNodeCoapServer(s);
    });

    it('gets an answer from both and yields one per (endpoint, Message ID)', {
      timeout: 30_000,
    }, async () => {
      const received = recordReceived();
      let responses: GroupResponse[];
      try {
        responses = await client!.group({ uri: `coap://${GROUP}:${port}/name`, window: WINDOW }).collect();
      } finally {
        received.stop();
      }
      assert.ok(responses.length >= 1, 'no response');
      for (const r of responses) {
        assert.equal(r.codeString, '2.05');
        assert.ok(['nc1', 'nc2'].includes(r.text()), r.text());
        assert.deepEqual(r.source, { address: '127.0.0.1', port });
      }
      const datagrams = received.byToken(responses[0]!.token);
      assert.deepEqual(datagrams.map((m) => m.payload.toString()).sort(), ['nc1', 'nc2']);
      // node-coap 1.5 gives a NON response the request's Message ID; with one shared endpoint the
      // second answer is a duplicate by RFC 7252 §4.5, although its payload differs.
      const mids = new Set(datagrams.map((m) => m.messageId));
      assert.equal(responses.length, mids.size, `message IDs ${[...mids].join(', ')}`);
    });
  });

  describe('our group client and two node-coap group members with their own addresses', () => {
    const port = randomPort();
    const members: NodeCoapMember[] = [];
    let client: CoapClient | undefined;

    before(async () => {
      for (const [n, name] of [
        [5, 'nc1'],
        [6, 'nc2'],
      ] as const) {
        members.push(
          await startNodeCoapMember(
            { unicast: `127.0.0.${n}`, port, group: GROUP, iface: '127.0.0.1' },
            nameHandler(name),
          ),
        );
      }
      client = await CoapClient.create({ iface: '127.0.0.1' });
    });

    after(async () => {
      await client?.close();
      for (const m of members) await m.close();
    });

    it('collects the response of each member to GET /name', { timeout: 30_000 }, async () => {
      const responses = await client!
        .group({ uri: `coap://${GROUP}:${port}/name`, window: WINDOW })
        .collect();
      assert.deepEqual(responses.map((r) => `${endpoint(r)} ${r.codeString} ${r.text()}`).sort(), [
        `127.0.0.5:${port} 2.05 nc1`,
        `127.0.0.6:${port} 2.05 nc2`,
      ]);
    });
  });

  describe('coap-client-notls and three of our nodes in a group', { skip: missing }, () => {
    const port = randomPort();
    const nodes: CoapServer[] = [];
    const uri = (path: string) => `coap://${GROUP}:${port}${path}`;

    before(async () => {
      for (const n of [2, 3, 4]) {
        const node = new CoapServer({ bind: [`127.0.0.${n}`], port, iface: '127.0.0.1', leisure: 1 });
        node
          .resource('/light', { rt: 'light', ct: 0, multicast: true })
          .get(() => ({ payload: `n${n}`, format: 0 }));
        nodes.push(node);
        const info = await node.listen();
        assert.deepEqual(
          info.groups.map((g) => `${g.group}:${g.port}`),
          [`${GROUP}:${port}`],
        );
      }
    });

    after(async () => {
      for (const n of nodes) await n.close();
    });

    it('prints the response of every node to GET /light', { timeout: 30_000 }, async () => {
      const r = await libcoapClient(['-N', '-B', '4', '-w', uri('/light')]);
      const lines = r.stdout.split('\n').filter((l) => l !== '');
      assert.deepEqual(lines.sort(), ['n2', 'n3', 'n4'], `stdout ${r.stdout} stderr ${r.stderr}`);
    });

    it('discovers /light on every node with GET /.well-known/core', { timeout: 30_000 }, async () => {
      const r = await libcoapClient(['-N', '-B', '4', '-w', uri('/.well-known/core?rt=light')]);
      const lines = r.stdout.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 3, `stdout ${r.stdout} stderr ${r.stderr}`);
      for (const l of lines) assert.match(l, /^<\/light>/);
    });

    it('answers nothing to a multicast GET of an unknown path', { timeout: 30_000 }, async () => {
      const r = await libcoapClient(['-N', '-B', '4', '-w', uri('/nope')]);
      assert.equal(r.stdout, '');
      assert.doesNotMatch(r.stderr, /4\.04/);
    });
  });
}
