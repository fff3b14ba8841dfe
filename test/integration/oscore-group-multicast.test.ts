/**
 * Group OSCORE over real IPv4 multicast on lo, inside a private network namespace whose only
 * interface is lo: three nodes on 127.0.0.2-4 are members of one group and serve a protected,
 * multicast-enabled /light. A protected group GET is verified by all three (countersignature,
 * draft-ietf-core-oscore-groupcomm §7.2), answered protected by all three, and each answer is
 * verified by the client (§7.4). A request with one byte flipped, a replay and a non-member's
 * request get silence from every node; an unprotected request gets silence by multicast and
 * 4.01 by unicast.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it, test } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { decodeMessage } from '../../src/message/decode.js';
import { encodeMessage } from '../../src/message/encode.js';
import { MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { OscoreClientSecurity } from '../../src/oscore/endpoint/client.js';
import { parseOscoreConfig } from '../../src/oscore/endpoint/config.js';
import { generateGroup, type OscoreConfigFile } from '../../src/oscore/endpoint/generate.js';
import { OscoreServerSecurity } from '../../src/oscore/endpoint/server.js';
import { CounterSequence } from '../../src/oscore/sequence.js';
import { CoapServer } from '../../src/server/server.js';
import type { RequestSecurity } from '../../src/server/site.js';
import { randomPort, trackHandles } from '../support/handles.js';
import { assertOnlyInterfaces, insideNetns, LOOPBACK_SETUP, runSelfInNetns } from '../support/netns.js';

const T = { timeout: 20_000 };
const ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const GROUP = '224.0.1.187';
const WINDOW = 800;

/** Sends one datagram to the group from a raw socket on lo; resolves with how many answers came in `ms`. */
async function rawToGroup(bytes: Buffer, port: number, ms = WINDOW): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  s.setMulticastInterface('127.0.0.1');
  s.setMulticastTTL(1);
  let answers = 0;
  s.on('message', () => answers++);
  await new Promise<void>((r, j) => s.send(bytes, port, GROUP, (e) => (e ? j(e) : r())));
  await new Promise((r) => setTimeout(r, ms));
  await new Promise<void>((r) => s.close(() => r()));
  return answers;
}

if (!insideNetns()) {
  test('Group OSCORE over IPv4 multicast on lo, in a private network namespace', { timeout: 120_000 }, (t) =>
    runSelfInNetns(t, import.meta.filename, LOOPBACK_SETUP),
  );
} else {
  describe('Group OSCORE over IPv4 multicast on lo (draft-ietf-core-oscore-groupcomm §7)', () => {
    const port = randomPort();
    const uri = `coap://${GROUP}:${port}/light`;
    const files: OscoreConfigFile[] = generateGroup({ members: 5, addresses: [`${GROUP}:${port}`] });
    // Member 5 is not in the nodes' rosters: a non-member with a well-formed key pair.
    const roster = (f: OscoreConfigFile): OscoreConfigFile => {
      const g = (f.group as Array<Record<string, unknown>>)[0]!;
      return {
        ...f,
        group: [{ ...g, members: (g.members as Array<{ id: string }>).filter((m) => m.id !== '05') }],
      };
    };
    const servers: CoapServer[] = [];
    const seen: Array<{ node: number; security: RequestSecurity | undefined }> = [];
    const clients: CoapClient[] = [];
    let checkHandles: () => Promise<void> = async () => {};

    const newClient = async (file: OscoreConfigFile | undefined): Promise<CoapClient> => {
      const c = await CoapClient.create({
        iface: '127.0.0.1',
        bind: [{ address: '127.0.0.1', port: 0 }],
        ...(file ? { security: new OscoreClientSecurity(parseOscoreConfig(file)) } : {}),
      });
      clients.push(c);
      return c;
    };

    before(async () => {
      assertOnlyInterfaces(['lo']);
      checkHandles = trackHandles();
      for (const [i, address] of ADDRESSES.entries()) {
        const server = new CoapServer({
          bind: [address],
          port,
          iface: '127.0.0.1',
          leisure: 0.3,
          security: new OscoreServerSecurity(parseOscoreConfig(roster(files[i + 1]!))),
        });
        server.resource('/light', { multicast: true, protected: true }).get((req) => {
          seen.push({ node: i, security: req.security });
          return { payload: `node${i}` };
        });
        servers.push(server);
        await server.listen();
      }
    });

    after(async () => {
      for (const c of clients) await c.close();
      for (const s of servers) await s.close();
      await checkHandles();
    });

    it('all three verify, all three answer protected, the client verifies each answer', T, async () => {
      const client = await newClient(files[0]);
      const responses = await client.group({ uri, window: WINDOW }).collect();
      assert.deepEqual(responses.map((r) => r.source.address).sort(), ADDRESSES);
      assert.deepEqual(responses.map((r) => r.text()).sort(), ['node0', 'node1', 'node2']);
      assert.equal(seen.length, 3);
      for (const s of seen) assert.equal(s.security?.kind, 'group-oscore');
      for (const s of seen) assert.equal(s.security?.kid, '01');
    });

    it(
      'a request with one byte flipped gets silence from every node, and so does its replay',
      T,
      async () => {
        // Sequence numbers above those member 1's client used in the first test.
        const sec = new OscoreClientSecurity(
          parseOscoreConfig(files[0]!, { sequence: () => new CounterSequence(1000) }),
        );
        const path = {
          code: 1,
          options: [{ number: Opt.UriPath, value: Buffer.from('light') }],
          payload: Buffer.alloc(0),
        };
        const prot = sec.protect(path, { address: GROUP, port }, 'group')!;
        const good = encodeMessage({
          type: MessageType.NON,
          messageId: 77,
          token: Buffer.from('tok1'),
          ...prot.parts,
        });
        const bad = Buffer.from(good);
        bad[bad.length - 20]! ^= 0x01;
        const before = seen.length;
        assert.equal(await rawToGroup(bad, port), 0);
        assert.equal(seen.length, before);
        // The untampered request is still fresh (nothing moved), and answered by all three...
        assert.equal(await rawToGroup(good, port), 3);
        // ...and its replay (another Message ID) is dropped by all three.
        const replay = encodeMessage({ ...decodeMessage(good), messageId: 78 });
        assert.equal(await rawToGroup(replay, port), 0);
        assert.equal(seen.length, before + 3);
      },
    );

    it("a non-member's request gets silence from every node", T, async () => {
      const before = seen.length;
      const outsider = await newClient(files[4]);
      assert.deepEqual(await outsider.group({ uri, window: WINDOW }).collect(), []);
      assert.equal(seen.length, before);
    });

    it('an unprotected request gets silence by multicast and 4.01 by unicast', T, async () => {
      const before = seen.length;
      const plain = await newClient(undefined);
      assert.deepEqual(await plain.group({ uri, window: WINDOW }).collect(), []);
      const res = await plain.request(`coap://127.0.0.2:${port}/light`);
      assert.equal(res.codeString, '4.01');
      assert.equal(seen.length, before);
    });
  });
}
