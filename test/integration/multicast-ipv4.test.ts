/**
 * IPv4 multicast over real UDP sockets on `lo` (RFC 7390 §2, design.md §Multicast on Node), inside
 * a private network namespace whose only interface is `lo`: five nodes on 127.0.0.2-6 answer
 * group requests to All CoAP Nodes (224.0.1.187) on a random port. Checks the answers, the
 * suppression of errors, multicast opt-in, exactly-once processing (the wildcard-bind hazard),
 * and leaving groups with reference-counted membership.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { runGroupTestsInNetns } from '../support/group-netns.js';
import { closeNodes, collectGroup, responders, startUdpNodes, type UdpNode } from '../support/group-udp.js';
import { randomPort, trackHandles } from '../support/handles.js';
import { assertOnlyInterfaces, insideNetns, LOOPBACK_SETUP } from '../support/netns.js';

const T = { timeout: 20000 };
const ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];
/** Leisure 0.3 s, so a window of 0.8 s hears every node. */
const WINDOW = 800;

/** A client whose sockets are bound to 127.0.0.1 and whose multicast goes out on lo. */
function newClient(): Promise<CoapClient> {
  return CoapClient.create({ iface: '127.0.0.1', bind: [{ address: '127.0.0.1', port: 0 }] });
}

/**
 * Runs `body` with a fresh client. Requests that draw no answer use one, so PROBING_RATE
 * (RFC 7252 §4.7) does not hold back the shared client's next request to that group.
 */
async function withClient(body: (c: CoapClient) => Promise<void>): Promise<void> {
  const c = await newClient();
  try {
    await body(c);
  } finally {
    await c.close();
  }
}

if (!insideNetns()) {
  test('IPv4 multicast on lo, in a private network namespace', { timeout: 120000 }, (t) =>
    runGroupTestsInNetns(t, import.meta.filename, LOOPBACK_SETUP),
  );
} else {
  describe('IPv4 multicast on lo over UDP (RFC 7390 §2)', () => {
    const port = randomPort();
    const group = `coap://224.0.1.187:${port}`;
    let nodes: UdpNode[] = [];
    let client: CoapClient | undefined;
    let checkHandles: () => Promise<void> = async () => {};

    before(async () => {
      // Nothing is sent before it is certain that only lo exists.
      assertOnlyInterfaces(['lo']);
      checkHandles = trackHandles();
      nodes = await startUdpNodes({
        addresses: ADDRESSES,
        port,
        iface: '127.0.0.1',
        leisure: 0.3,
        few: [1, 3],
      });
      client = await newClient();
    });

    after(async () => {
      await client?.close();
      await closeNodes(nodes);
      await checkHandles();
    });

    it('gets one answer from each of the five nodes, each from its unicast address', T, async () => {
      const { responses, reason } = await collectGroup(client!, { uri: `${group}/light`, window: WINDOW });
      assert.equal(reason, 'window');
      assert.deepEqual(responders(responses), ADDRESSES);
      for (const r of responses) {
        assert.equal(r.source.port, port);
        assert.equal(r.codeString, '2.05');
        assert.equal(r.text(), `node${ADDRESSES.indexOf(r.source.address)}`);
        assert.equal(r.baseUri.host, r.source.address);
      }
    });

    it('processes each multicast request exactly once per node (no wildcard socket)', T, async () => {
      const before = nodes.map((n) => n.calls.get('GET /light') ?? 0);
      for (let i = 0; i < 3; i++) {
        const { responses } = await collectGroup(client!, { uri: `${group}/light`, window: WINDOW });
        // A node that also saw the datagram as unicast would answer twice, once without Leisure.
        assert.equal(responses.length, 5);
      }
      assert.deepEqual(
        nodes.map((n, i) => (n.calls.get('GET /light') ?? 0) - before[i]!),
        [3, 3, 3, 3, 3],
      );
    });

    it('suppresses the 4.04s of nodes without the resource', T, async () => {
      const { responses } = await collectGroup(client!, { uri: `${group}/few`, window: WINDOW });
      assert.deepEqual(responders(responses), ['127.0.0.3', '127.0.0.5']);
      assert.deepEqual(
        responses.map((r) => r.codeString),
        ['2.05', '2.05'],
      );
    });

    it('still answers 4.04 to a unicast request for a missing path', T, async () => {
      const res = await client!.request(`coap://127.0.0.2:${port}/missing`);
      assert.equal(res.codeString, '4.04');
    });

    it('ignores a multicast PUT to a resource that did not opt in, and serves it by unicast', T, async () => {
      await withClient(async (c) => {
        const { responses } = await collectGroup(c, {
          uri: `${group}/private`,
          method: 'PUT',
          payload: 'on',
          window: WINDOW,
        });
        assert.deepEqual(responses, []);
      });
      for (const n of nodes) {
        assert.equal(n.calls.get('PUT /private'), undefined);
        const res = await client!.request(`coap://${n.address}:${port}/private`);
        assert.equal(res.text(), 'off');
      }
      const put = await client!.request({
        uri: `coap://127.0.0.4:${port}/private`,
        method: 'PUT',
        payload: 'on',
      });
      assert.equal(put.codeString, '2.04');
      assert.equal(nodes[2]!.value, 'on');
    });

    it('stops answering for a group it left while another member still answers', T, async () => {
      const spec = `239.1.2.3:${port}`;
      await nodes[0]!.server.join(spec);
      await nodes[1]!.server.join(spec);
      try {
        const both = await collectGroup(client!, { uri: `coap://239.1.2.3:${port}/light`, window: WINDOW });
        assert.deepEqual(responders(both.responses), ['127.0.0.2', '127.0.0.3']);
        await nodes[0]!.server.leave(spec);
        assert.ok(!nodes[0]!.server.memberships().some((m) => m.group === '239.1.2.3'));
        const one = await collectGroup(client!, { uri: `coap://239.1.2.3:${port}/light`, window: WINDOW });
        assert.deepEqual(responders(one.responses), ['127.0.0.3']);
      } finally {
        await nodes[1]!.server.leave(spec);
      }
    });

    it('keeps a membership joined twice until it is left twice', T, async () => {
      const spec = `239.1.2.4:${port}`;
      const uri = `coap://239.1.2.4:${port}/light`;
      const node = nodes[2]!;
      await node.server.join(spec);
      await node.server.join(spec);
      assert.equal(node.server.memberships().find((m) => m.group === '239.1.2.4')?.refs, 2);
      await node.server.leave(spec);
      assert.equal(node.server.memberships().find((m) => m.group === '239.1.2.4')?.refs, 1);
      const still = await collectGroup(client!, { uri, window: WINDOW });
      assert.deepEqual(responders(still.responses), ['127.0.0.4']);
      await node.server.leave(spec);
      assert.equal(
        node.server.memberships().find((m) => m.group === '239.1.2.4'),
        undefined,
      );
      await withClient(async (c) => {
        const gone = await collectGroup(c, { uri, window: WINDOW });
        assert.deepEqual(gone.responses, []);
      });
    });
  });
}
