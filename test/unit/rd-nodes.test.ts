/**
 * The nodes' side of the resource directory on the memory network with virtual time: a node
 * finds the RD (by multicast, RFC 7390 §3.3, or by address), registers its own links, renews
 * before its lifetime ends, registers again when its registration is gone, waits out a 5.03,
 * and removes the registration when it stops (RFC 9176 §5, §5.3). Nodes follow the groups of
 * their sector (RFC 9176 Appendix A, §10.1): they join a group registered after they started,
 * leave it when it is removed or expires, and one multicast request to the group reaches
 * exactly them (RFC 7390 §3.6).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { RdRegistration, type RdRegistrationEvent } from '../../src/rd/endpoint.js';
import { type RdGroupEvent, RdGroupMembership } from '../../src/rd/group-joiner.js';
import { CoapServer } from '../../src/server/server.js';
import { CT, drive, location, type RdMem, rdMem } from '../support/rd-mem.js';

const T = { timeout: 30_000 };
const GROUP = '239.255.0.4';

interface Node {
  server: CoapServer;
  client: CoapClient;
  address: string;
  close(): Promise<void>;
}

async function node(m: RdMem, address: string, paths: readonly string[] = ['/light']): Promise<Node> {
  const transport = m.net.createTransport({ bind: [{ address, port: 5683 }], ipv4Interface: 'mem0' });
  const server = new CoapServer({ transport, runtime: m.rt, joinAllCoapNodes: false, leisure: 0 });
  for (const p of paths)
    server.resource(p, { rt: 'light', multicast: true }).get(() => ({ payload: address }));
  await server.listen();
  const client = await CoapClient.create({ messenger: server.messenger });
  return {
    server,
    client,
    address,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

const inGroup = (n: Node) => n.server.memberships().some((g) => g.group === GROUP);

describe('a node registered with a resource directory', () => {
  it(
    'registers its /.well-known/core, renews before the lifetime ends, and removes it on close',
    T,
    async () => {
      const m = await rdMem();
      const n = await node(m, '192.0.2.40', ['/light', '/temp']);
      const events: RdRegistrationEvent[] = [];
      try {
        const reg = await drive(
          m.rt,
          RdRegistration.start(n.server, {
            rd: 'coap://192.0.2.2',
            client: n.client,
            ep: 'lamp-1',
            sector: 'room3',
            lifetime: 100,
            onEvent: (e) => events.push(e),
          }),
        );
        assert.match(reg.location!, /^coap:\/\/192\.0\.2\.2\/rd\/\d+$/);
        const [r] = m.rd.registrations();
        assert.equal(r!.ep, 'lamp-1');
        assert.equal(r!.d, 'room3');
        assert.equal(
          r!.base,
          'coap://192.0.2.40',
          'the base is the node itself: it registered from its own port',
        );
        assert.deepEqual(
          r!.links.map((l) => l.href),
          ['/light', '/temp'],
        );
        const first = r!.expiresAt;
        await m.rt.advance(80_000); // 80 % of the lifetime
        await m.rt.advance(10);
        assert.ok(m.rd.registrations()[0]!.expiresAt > first, 'renewed');
        assert.equal(events.filter((e) => e.kind === 'renewed').length, 1);
        // Removed behind its back: the next renewal gets 4.04 and registers again.
        assert.equal(
          (await m.send(CT, { method: 'DELETE', path: new URL(reg.location!).pathname })).codeString,
          '2.02',
        );
        await m.rt.advance(80_000);
        await m.rt.advance(10);
        assert.equal(m.rd.registrations().length, 1);
        assert.notEqual(reg.location, events[0]!.kind === 'registered' ? events[0]!.location : '');
        assert.deepEqual(
          events.map((e) => e.kind),
          ['registered', 'renewed', 'registered'],
        );
        await drive(m.rt, reg.close());
        assert.equal(m.rd.registrations().length, 0, 'removed on close');
        assert.equal(events.at(-1)!.kind, 'removed');
      } finally {
        await n.close();
        await m.close();
      }
    },
  );

  it('finds the directory by multicast (rd auto), and reports a 5.03 with how long to wait', T, async () => {
    const m = await rdMem({ limits: { maxRegistrations: 1 } });
    const n = await node(m, '192.0.2.41');
    const events: RdRegistrationEvent[] = [];
    try {
      const other = await m.send(CT, { method: 'POST', path: '/rd?ep=other&lt=30', payload: '</x>' });
      const reg = await drive(
        m.rt,
        RdRegistration.start(n.server, {
          rd: 'auto',
          windowMs: 500,
          client: n.client,
          ep: 'lamp-2',
          onEvent: (e) => events.push(e),
        }).catch((err: Error) => err),
      );
      assert.ok(reg instanceof Error);
      assert.equal((reg as { code?: string }).code, 'ERR_COAP_RD_REFUSED', 'the directory is full: 5.03');
      assert.equal((reg as { responseCode?: string }).responseCode, '5.03');
      assert.equal((reg as { retryAfter?: number }).retryAfter, 30, 'Max-Age: when the other one expires');
      await m.send(CT, { method: 'DELETE', path: location(other) });
      const ok = await drive(
        m.rt,
        RdRegistration.start(n.server, { rd: 'auto', windowMs: 500, client: n.client, ep: 'lamp-2' }),
      );
      assert.match(ok.location!, /^coap:\/\/192\.0\.2\.2\/rd\/\d+$/, 'found by multicast at the RD');
      await drive(m.rt, ok.close());
    } finally {
      await n.close();
      await m.close();
    }
  });
});

describe('nodes that follow their groups in a resource directory', () => {
  it(
    'join a group registered after they started, answer it, and leave it when it is removed',
    T,
    async () => {
      const m = await rdMem();
      const room = [await node(m, '192.0.2.50'), await node(m, '192.0.2.51')];
      const elsewhere = await node(m, '192.0.2.52'); // another sector
      const noLight = await node(m, '192.0.2.53', ['/fan']); // the room, without /light
      const all = [...room, elsewhere, noLight];
      const events: RdGroupEvent[] = [];
      const memberships: RdGroupMembership[] = [];
      const controller = await m.client('192.0.2.99');
      try {
        for (const n of all) {
          memberships.push(
            await drive(
              m.rt,
              RdGroupMembership.start(n.server, {
                client: n.client,
                rd: 'coap://192.0.2.2',
                sector: n === elsewhere ? 'room4' : 'room3',
                paths: n === noLight ? ['/fan'] : ['/light'],
                onEvent: (e) => events.push(e),
              }),
            ),
          );
        }
        assert.ok(!all.some(inGroup), 'no group yet');
        // The commissioning tool registers the room's group (RFC 9176 Appendix A).
        const g = await m.send(CT, {
          method: 'POST',
          path: `/rd?ep=room3-lights&d=room3&et=core.rd-group&base=coap://${GROUP}&lt=600`,
          payload: '</light>;rt=light',
          format: 40,
        });
        assert.equal(g.codeString, '2.01');
        await m.rt.advance(10);
        assert.deepEqual(all.map(inGroup), [true, true, false, false]);
        assert.deepEqual(memberships[0]!.groups(), [{ address: GROUP, port: 5683, paths: ['/light'] }]);
        // One multicast GET reaches exactly the room's lights.
        const answers = await m.rt.settle(
          controller.group({ uri: `coap://${GROUP}/light`, window: 1000 }).collect(),
        );
        assert.deepEqual(answers.map((r) => r.text()).sort(), ['192.0.2.50', '192.0.2.51']);
        // Removed from the RD: left.
        assert.equal((await m.send(CT, { method: 'DELETE', path: location(g) })).codeString, '2.02');
        await m.rt.advance(10);
        assert.ok(!all.some(inGroup), 'left when removed');
        const silent = await m.rt.settle(
          controller.group({ uri: `coap://${GROUP}/light`, window: 1000 }).collect(),
        );
        assert.equal(silent.length, 0);
        // Registered again with a short lifetime: joined, then left when it expires.
        await m.send(CT, {
          method: 'POST',
          path: `/rd?ep=room3-lights&d=room3&et=core.rd-group&base=coap://${GROUP}&lt=20`,
          payload: '</light>',
        });
        await m.rt.advance(10);
        assert.deepEqual(all.map(inGroup), [true, true, false, false]);
        await m.rt.advance(20_000);
        assert.ok(!all.some(inGroup), 'left when it expired');
        assert.deepEqual(
          events.filter((e) => e.kind !== 'failed').map((e) => e.kind),
          ['joined', 'joined', 'left', 'left', 'joined', 'joined', 'left', 'left'],
        );
      } finally {
        for (const g of memberships) await drive(m.rt, g.close());
        for (const n of all) await n.close();
        await m.close();
      }
    },
  );

  it('keep their groups while the directory is away, and follow it again when it is back', T, async () => {
    const m = await rdMem();
    const n = await node(m, '192.0.2.60');
    const events: RdGroupEvent[] = [];
    try {
      await m.send(CT, {
        method: 'POST',
        path: `/rd?ep=g&d=r&et=core.rd-group&base=coap://${GROUP}`,
        payload: '</light>',
      });
      const groups = await drive(
        m.rt,
        RdGroupMembership.start(n.server, {
          client: n.client,
          rd: 'coap://192.0.2.2',
          sector: 'r',
          paths: ['/light'],
          onEvent: (e) => events.push(e),
        }),
      );
      assert.ok(inGroup(n));
      await m.restart(); // the memory store keeps the group; the observation is lost with the old server
      await m.rt.advance(70_000); // Max-Age (60 s) and the margin: the node observes again
      assert.ok(inGroup(n), 'still in the group');
      const gone = await m.send(CT, { path: '/rd-lookup/ep?ep=g' });
      await m.send(CT, { method: 'DELETE', path: gone.text().slice(1, gone.text().indexOf('>')) });
      await m.rt.advance(10);
      assert.ok(!inGroup(n), 'the new observation saw the removal');
      await drive(m.rt, groups.close());
    } finally {
      await n.close();
      await m.close();
    }
  });

  it('report a directory without resource lookup', T, async () => {
    const m = await rdMem();
    const n = await node(m, '192.0.2.61');
    try {
      await assert.rejects(
        drive(
          m.rt,
          RdGroupMembership.start(n.server, {
            client: n.client,
            rd: {
              origin: 'coap://192.0.2.2',
              registration: 'coap://192.0.2.2/rd',
              lookupEp: undefined,
              lookupRes: undefined,
            },
            paths: ['/light'],
          }),
        ),
        { code: 'ERR_COAP_RD_NOT_FOUND', message: /offers no resource lookup/ },
      );
    } finally {
      await n.close();
      await m.close();
    }
  });
});
