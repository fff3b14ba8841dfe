/**
 * @module cli/demo-rd
 * The resource directory part of `coap-group demo`: a directory (RFC 9176) on the loopback
 * address after the nodes' (127.0.0.N+2, so it does not meet a node already on 127.0.0.1); every
 * node registers with it in its sector (room 4 or the hall) and follows the groups of its
 * sector. The commissioning tool registers room 4's group (RFC 9176 Appendix A: et=core.rd-group,
 * a multicast base, the links its members offer); the room's nodes learn it from their observed
 * lookup and join by themselves (RFC 7390 §3.6), and one multicast PUT reaches exactly them.
 */
import {
  attachResourceDirectory,
  CoapClient,
  CoapServer,
  type GroupResponse,
  type RdGroupEvent,
  RdGroupMembership,
  RdRegistration,
  type ResourceDirectory,
} from '../index.js';
import { endpoint } from './output.js';

/** An administratively scoped group (RFC 2365 site-local) for room 4. */
export const RD_ROOM_GROUP = '239.255.0.4';

export interface RdSteps {
  readonly say: (line?: string) => void;
  readonly row: (r: GroupResponse, text: string) => string;
  /** The commissioning tool and controller (on 127.0.0.1, a commissioning tool by default). */
  readonly controller: CoapClient;
  readonly nodes: readonly CoapServer[];
  readonly port: number;
  readonly window: number;
}

/**
 * A demo node registered as `lamp-N` in the directory `rd`, in its sector, and following the
 * sector's groups for its `/light` (RFC 9176 §5, RFC 7390 §3.6); its closers join `closers`.
 */
export async function registerLamp(
  node: CoapServer,
  o: { readonly rd: string; readonly index: number; readonly sector: string },
  closers: Array<() => Promise<void> | void>,
  onEvent?: (e: RdGroupEvent) => void,
): Promise<void> {
  const client = await CoapClient.create({ messenger: node.messenger });
  closers.push(() => client.close());
  const reg = await RdRegistration.start(node, {
    rd: o.rd,
    client,
    ep: `lamp-${o.index + 1}`,
    sector: o.sector,
    lifetime: 300,
  });
  closers.push(() => reg.close());
  const groups = await RdGroupMembership.start(node, {
    client,
    rd: reg.interfaces,
    sector: o.sector,
    paths: ['/light'],
    ...(onEvent !== undefined ? { onEvent } : {}),
  });
  closers.push(() => groups.close());
}

/** Steps 8 and 9; resolves true when exactly room 4's nodes joined and answered. */
export async function runRdSteps(s: RdSteps): Promise<boolean> {
  const room = new Set(s.nodes.slice(Math.floor(s.nodes.length / 2)));
  const address = `127.0.0.${s.nodes.length + 2}`;
  const server = new CoapServer({
    bind: [address],
    port: s.port,
    iface: '127.0.0.1',
    joinAllCoapNodes: false,
  });
  const closers: Array<() => Promise<void> | void> = [];
  let rd: ResourceDirectory | undefined;
  try {
    await server.listen();
    rd = await attachResourceDirectory(server, { joinAllRds: false });
    const at = `coap://${address}:${s.port}`;
    const joined = new Map<CoapServer, string>();
    let allJoined: () => void = () => {};
    const everyoneJoined = new Promise<void>((resolve) => {
      allJoined = resolve;
    });
    for (const [i, node] of s.nodes.entries()) {
      await registerLamp(
        node,
        { rd: at, index: i, sector: room.has(node) ? 'room4' : 'hall' },
        closers,
        (e) => {
          if (e.kind !== 'joined') return;
          joined.set(
            node,
            `${endpoint(node.endpoints[0]!)} joined ${endpoint(e.group)} for ${e.group.paths.join(' ')}`,
          );
          if (joined.size === room.size) allJoined();
        },
      );
    }
    s.say();
    s.say(
      `8. Commission room 4 through a resource directory at ${at} (RFC 9176): ${s.nodes.length} nodes registered in their sectors; the tool registers the group`,
    );
    const groupUri = `coap://${RD_ROOM_GROUP}:${s.port}`;
    const res = await s.controller.request({
      uri: `${at}/rd?ep=room4-lights&d=room4&et=core.rd-group&base=${encodeURIComponent(groupUri)}`,
      method: 'POST',
      payload: '</light>;rt=light',
      format: 40,
    });
    const location = res.options
      .filter((o) => o.number === 8)
      .map((o) => `/${o.value.toString()}`)
      .join('');
    s.say(
      `   POST /rd?ep=room4-lights&d=room4&et=core.rd-group&base=${groupUri}  ${res.codeString} ${res.reason} ${location}`,
    );
    // The nodes learn it from their observed lookup (RFC 7641); bounded wait.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([everyoneJoined, new Promise((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
    for (const node of s.nodes) if (joined.has(node)) s.say(`   ${joined.get(node)}`);
    s.say(`   ${joined.size} of ${room.size} room 4 nodes joined by themselves, from the directory`);

    s.say();
    s.say(`9. Switch on room 4 only: one multicast PUT ${groupUri}/light "on"`);
    const on = await s.controller
      .group({ uri: `${groupUri}/light`, method: 'PUT', payload: 'on', window: s.window })
      .collect();
    for (const r of on) s.say(s.row(r, ''));
    const expected = new Set([...room].map((n) => n.endpoints[0]!.address));
    const exact = on.length === room.size && on.every((r) => expected.has(r.source.address));
    s.say(
      `   ${on.length} node${on.length === 1 ? '' : 's'} answered: ${exact ? 'exactly the ones of room 4' : 'NOT the ones of room 4'}.`,
    );
    return res.codeString === '2.01' && joined.size === room.size && exact;
  } finally {
    for (const close of closers.reverse()) await close();
    await rd?.close();
    await server.close();
  }
}
