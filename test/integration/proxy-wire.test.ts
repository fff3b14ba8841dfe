/**
 * `coap-group proxy` on real UDP sockets, driven by a raw client that checks every byte against
 * the test vectors of docs/proxy.md (draft-ietf-core-groupcomm-proxy §2, §3; option numbers
 * 65026 and 65016): three members on 127.0.0.2-4 in All CoAP Nodes on lo behind a proxy on
 * 127.0.0.10, inside a private network namespace. One proxied group GET gives an empty ACK and
 * three NON 2.05 with the members' Reply-From; a missing Multicast-Timeout gives the exact 4.00;
 * a member answering after T' is not relayed; T' = 0 reaches the group and relays nothing;
 * 5.01 without group forwarding and 4.01 outside the allow-list; SIGTERM exits 0.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { decodeMessage } from '../../src/message/decode.js';
import { CoapServer } from '../../src/server/server.js';
import { decodeReplyFrom } from '../../src/uri/cri-decode.js';
import { captureUnavailable, startCapture } from '../support/capture.js';
import { killAll, type ServeNode, startServe } from '../support/cli-run.js';
import { runGroupTestsInNetns } from '../support/group-netns.js';
import { assertOnlyInterfaces, insideNetns, LOOPBACK_SETUP } from '../support/netns.js';
import { type RawUdp, rawUdp } from '../support/raw-udp.js';

const T = { timeout: 30_000 };
const MEMBERS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const URI = Buffer.from('coap://224.0.1.187/light');
const hex = (s: string) => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');

/** CON GET, Proxy-Uri coap://224.0.1.187/light (the vector's), then `rest` (Multicast-Timeout and beyond). */
function request(type: number, mid: string, uri: Buffer, rest: string, token = 'a1b2c3d4'): Buffer {
  // dd 16 LL: Proxy-Uri (35 = 13 + 22), a length of 13 + LL.
  return Buffer.concat([
    hex(`${type === 0 ? '44' : '54'} 01 ${mid} ${token} dd 16`),
    Buffer.from([uri.length - 13]),
    uri,
    hex(rest),
  ]);
}

/** The bytes of a datagram with its Message ID (bytes 2-3) zeroed. */
const noMid = (b: Buffer) => Buffer.concat([b.subarray(0, 2), Buffer.alloc(2), b.subarray(4)]);

if (!insideNetns()) {
  test('coap-group proxy on the wire, in a private network namespace', { timeout: 120_000 }, (t) =>
    runGroupTestsInNetns(t, import.meta.filename, LOOPBACK_SETUP),
  );
} else {
  describe('coap-group proxy on the wire (groupcomm-proxy test vectors)', () => {
    const members: CoapServer[] = [];
    const calls = new Map<string, number>();
    let proxy: ServeNode | undefined;
    let plain: ServeNode | undefined;
    let strict: ServeNode | undefined;
    let raw: RawUdp | undefined;

    before(async () => {
      assertOnlyInterfaces(['lo']);
      for (const [i, address] of MEMBERS.entries()) {
        const s = new CoapServer({ bind: [address], iface: '127.0.0.1', leisure: 0.2 });
        s.resource('/light', { multicast: true }).get(() => {
          calls.set(address, (calls.get(address) ?? 0) + 1);
          return { payload: 'on', format: 0 };
        });
        // The last member answers /late after 2.5 s: past a T' of 1 s.
        s.resource('/late', { multicast: true }).get(async () => {
          if (i === 2) await new Promise((r) => setTimeout(r, 2500));
          return { payload: 'late', format: 0 };
        });
        await s.listen();
        members.push(s);
      }
      proxy = await startServe(
        ['--bind', '127.0.0.10', '--iface', '127.0.0.1', '--allow-groups-from', '127.0.0.0/8'],
        20_000,
        'proxy',
      );
      plain = await startServe(['--bind', '127.0.0.11'], 20_000, 'proxy');
      strict = await startServe(
        ['--bind', '127.0.0.12', '--allow-groups-from', '127.0.0.99/32'],
        20_000,
        'proxy',
      );
      raw = await rawUdp('127.0.0.1');
    });

    after(async () => {
      await raw?.close();
      for (const p of [proxy, plain, strict]) await p?.stop();
      for (const s of members) await s.close();
      killAll();
    });

    it('prints one ready line with the address clients reach it on', () => {
      assert.equal(proxy!.ready, 'ready coap://127.0.0.10:5683');
    });

    it('answers a request without Multicast-Timeout with the exact 4.00 (vector)', T, async () => {
      const before = raw!.received().length;
      await raw!.send(request(0, '1234', URI, ''), '127.0.0.10', 5683);
      const [m] = (await raw!.waitFor(before + 1, 5000)).slice(before);
      assert.deepEqual(
        m,
        hex('64 80 1234 a1b2c3d4 | e0 fc f5 | ff 4d756c7469636173742d54696d656f7574207265717569726564'),
      );
    });

    it(
      'relays each member response as a NON with its Reply-From, after an empty ACK (vectors)',
      T,
      async () => {
        const before = raw!.received().length;
        // Client → proxy: CON GET, MID 0x0001, token a1b2c3d4, Proxy-Uri, Multicast-Timeout 5.
        const req = request(0, '0001', URI, 'e1 fc d2 05');
        assert.deepEqual(
          req,
          hex('44 01 0001 a1b2c3d4 dd 16 0b 636f61703a2f2f3232342e302e312e3138372f6c69676874 e1 fc d2 05'),
        );
        await raw!.send(req, '127.0.0.10', 5683);
        const got = (await raw!.waitFor(before + 4, 8000)).slice(before);
        assert.deepEqual(got[0], hex('60 00 0001'), 'an empty ACK first');
        const relayed = got.slice(1).map(noMid);
        const expected = MEMBERS.map((m) =>
          noMid(
            hex(
              `54 45 0000 a1b2c3d4 | c0 | e8 fc df 82208144 ${Buffer.from(m.split('.').map(Number)).toString('hex')} | ff 6f6e`,
            ),
          ),
        );
        assert.deepEqual(
          relayed.map((b) => b.toString('hex')).sort(),
          expected.map((b) => b.toString('hex')).sort(),
          'NON 2.05, Content-Format 0, Reply-From [-1, [h\'7F00000X\']], "on"',
        );
      },
    );

    it('does not relay a member that answers after T', T, async () => {
      const before = raw!.received().length;
      await raw!.send(
        request(0, '0002', Buffer.from('coap://224.0.1.187/late'), 'e1 fc d2 01', 'a1b2c3d5'),
        '127.0.0.10',
        5683,
      );
      const got = (await raw!.waitFor(before + 10, 4500)).slice(before);
      const from = got.slice(1).map((b) => {
        const o = decodeMessage(b).options.find((x) => x.number === 65016);
        return o === undefined ? '-' : decodeReplyFrom(o.value).origin.host;
      });
      assert.deepEqual(from.sort(), ['127.0.0.2', '127.0.0.3'], 'the member at 127.0.0.4 came after T');
    });

    it('with T = 0 reaches the group and relays nothing', T, async () => {
      const before = raw!.received().length;
      const counted = MEMBERS.map((m) => calls.get(m) ?? 0);
      // NON, and Multicast-Timeout 0 as the empty value.
      await raw!.send(request(1, '0003', URI, 'e0 fc d2', 'a1b2c3d6'), '127.0.0.10', 5683);
      const got = (await raw!.waitFor(before + 1, 2000)).slice(before);
      assert.deepEqual(got, []);
      assert.deepEqual(
        MEMBERS.map((m) => calls.get(m) ?? 0),
        counted.map((n) => n + 1),
      );
    });

    it('answers 5.01 without group forwarding and 4.01 outside the allow-list', T, async () => {
      let before = raw!.received().length;
      await raw!.send(request(0, '0004', URI, 'e1 fc d2 05'), '127.0.0.11', 5683);
      const [a] = (await raw!.waitFor(before + 1, 5000)).slice(before);
      assert.deepEqual(a?.subarray(0, 4), hex('64 a1 0004'), 'ACK 5.01');
      before = raw!.received().length;
      await raw!.send(request(0, '0005', URI, 'e1 fc d2 05'), '127.0.0.12', 5683);
      const [b] = (await raw!.waitFor(before + 1, 5000)).slice(before);
      assert.deepEqual(b?.subarray(0, 4), hex('64 81 0005'), 'ACK 4.01');
    });

    it('sends the group request with its own --hops and on its --iface, whatever the request says', {
      ...T,
      skip: captureUnavailable(),
    }, async () => {
      const lo = await startCapture('lo');
      const hops3 = await startServe(
        ['--bind', '127.0.0.13', '--iface', '127.0.0.1', '--hops', '3', '--allow-groups-from', '127.0.0.0/8'],
        20_000,
        'proxy',
      );
      try {
        const from = await lo.mark('hops start');
        // NON GET with a CoAP Hop-Limit of 200 (RFC 8768: d1 03 c8), then Proxy-Uri (delta 19:
        // dd 06 0b) and Multicast-Timeout 1: nothing in it is the IP hop limit.
        for (const [address, token] of [
          ['127.0.0.10', 'b1b2c3d4'],
          ['127.0.0.13', 'b1b2c3d5'],
        ] as const) {
          const req = Buffer.concat([hex(`54 01 0007 ${token} d1 03 c8 dd 06 0b`), URI, hex('e1 fc d2 01')]);
          await raw!.send(req, address, 5683);
        }
        await new Promise((r) => setTimeout(r, 500));
        const to = await lo.mark('hops end');
        const sent = lo.datagrams
          .slice(from, to)
          .filter((d) => d.dst === '224.0.1.187' && d.dstPort === 5683);
        const bySource = Object.fromEntries(sent.map((d) => [d.src, d.hops]));
        assert.deepEqual(bySource, { '127.0.0.10': 1, '127.0.0.13': 3 });
      } finally {
        await hops3.stop();
        await lo.stop();
      }
    });

    it('exits 0 on SIGTERM', T, async () => {
      const r = await plain!.stop();
      plain = undefined;
      assert.equal(r.code, 0);
      assert.equal(r.stderr, '');
    });
  });
}
