/**
 * IPv6 multicast over real UDP sockets (RFC 7390 §2.2, §5.4.2; design.md §Multicast on Node),
 * inside a private network namespace with a veth pair v0/v1 (IPv6 multicast does not work on
 * lo): three nodes on fd99::1-3 answer group requests to the link-local and site-local All CoAP
 * Nodes groups (ff02::fd, ff05::fd); a wider scope is refused unless allowed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { formatUri } from '../../src/uri/index.js';
import { runGroupTestsInNetns } from '../support/group-netns.js';
import { closeNodes, collectGroup, responders, startUdpNodes, type UdpNode } from '../support/group-udp.js';
import { randomPort, trackHandles } from '../support/handles.js';
import { assertOnlyInterfaces, IPV6_SETUP, insideNetns } from '../support/netns.js';

const T = { timeout: 20000 };
const NODES = ['fd99::1', 'fd99::2', 'fd99::3'];
/** Leisure 0.2 s, so a window of 0.7 s hears every node. */
const WINDOW = 700;

function newClient(): Promise<CoapClient> {
  return CoapClient.create({ iface: 'v0', bind: [{ address: 'fd99::6', port: 0 }] });
}

if (!insideNetns()) {
  test('IPv6 multicast on a veth pair, in a private network namespace', { timeout: 120000 }, (t) =>
    runGroupTestsInNetns(t, import.meta.filename, IPV6_SETUP, { probeSetup: true }),
  );
} else {
  describe('IPv6 multicast on v0 over UDP (RFC 7390 §2.2)', () => {
    const port = randomPort();
    let nodes: UdpNode[] = [];
    let client: CoapClient | undefined;
    let checkHandles: () => Promise<void> = async () => {};

    before(async () => {
      // Nothing is sent before it is certain that only the namespace's own links exist.
      assertOnlyInterfaces(['lo', 'v0', 'v1']);
      checkHandles = trackHandles();
      nodes = await startUdpNodes({
        addresses: NODES,
        port,
        iface: 'v0',
        leisure: 0.2,
        few: [0, 2],
        // Joined explicitly with its zone: the default join of ff02::fd on `iface: 'v0'` fails
        // with EINVAL (the group socket is bound without a scope id) and only warns.
        groups: ['[ff02::fd%v0]'],
      });
      client = await newClient();
    });

    after(async () => {
      await client?.close();
      await closeNodes(nodes);
      await checkHandles();
    });

    it('holds the All CoAP Nodes memberships ff05::fd and ff02::fd on v0', T, () => {
      for (const n of nodes) {
        const groups = n.server.memberships().map((m) => `${m.group} ${m.iface}`);
        assert.ok(groups.includes('ff05::fd ::%v0'), groups.join(', '));
        assert.ok(groups.includes('ff02::fd ::%v0'), groups.join(', '));
      }
    });

    it('gets an answer from every node to a GET on [ff02::fd%25v0]', T, async () => {
      const uri = `coap://[ff02::fd%25v0]:${port}/light`;
      const { responses, reason } = await collectGroup(client!, { uri, window: WINDOW });
      assert.equal(reason, 'window');
      assert.deepEqual(responders(responses), NODES);
      for (const r of responses) {
        assert.equal(r.source.port, port);
        assert.equal(formatUri(r.baseUri), `coap://[${r.source.address}]:${port}/light`);
      }
    });

    it('gets an answer from every node to a GET on [ff05::fd]', T, async () => {
      const { responses } = await collectGroup(client!, {
        uri: `coap://[ff05::fd]:${port}/light`,
        window: WINDOW,
      });
      assert.deepEqual(responders(responses), NODES);
      assert.deepEqual(responses.map((r) => r.text()).sort(), ['node0', 'node1', 'node2']);
    });

    it('processes each multicast request once per node and suppresses the 4.04s', T, async () => {
      const before = nodes.map((n) => n.calls.get('GET /few') ?? 0);
      const { responses } = await collectGroup(client!, {
        uri: `coap://[ff05::fd]:${port}/few`,
        window: WINDOW,
      });
      assert.deepEqual(responders(responses), ['fd99::1', 'fd99::3']);
      assert.deepEqual(
        nodes.map((n, i) => (n.calls.get('GET /few') ?? 0) - before[i]!),
        [1, 0, 1],
      );
      const res = await client!.request(`coap://[fd99::2]:${port}/few`);
      assert.equal(res.codeString, '4.04');
    });

    it('refuses a scope wider than site-local (ff0e::fd) unless allowWideScope', T, async () => {
      const c = await newClient();
      try {
        const uri = `coap://[ff0e::fd]:${port}/light`;
        await assert.rejects(collectGroup(c, { uri, window: WINDOW }), { code: 'ERR_COAP_GROUP_SCOPE' });
        // Allowed, it is sent (hop limit 1, inside the namespace); no node joined ff0e::fd.
        const { responses, reason } = await collectGroup(c, { uri, window: 200, allowWideScope: true });
        assert.equal(reason, 'window');
        assert.deepEqual(responses, []);
      } finally {
        await c.close();
      }
    });
  });
}
