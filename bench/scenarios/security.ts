// Security: what message protection costs, in this process on the memory network (no sockets).
// The same GET /light, plain against protected: a group GET to 3 members in the Group OSCORE group
// mode (Ed25519 signatures; all 3 responses verified by the client), a unicast GET with OSCORE
// (RFC 8613) and a unicast GET to a group member in the Group OSCORE pairwise mode. One request
// is in flight and the network's deliveries run on setImmediate (immediateRuntime), so the figure
// is the CPU of a round trip, client and servers together. Each path first sends one unmeasured
// request: for a protected one, the Echo challenge of a first contact (RFC 9175, Group OSCORE
// draft §10) and its unicast follow-up. Then the sizes of one request and its response as
// datagrams, plain against protected, and the best of `rounds` interleaved measurements. Servers
// answer group requests with a Leisure of 0, and a group request ends with the third response
// (`limit: 3`). Runs in every bench run; `--only` does not name it (bench/config.ts).

import { decodeMessage } from '../../src/entry/codec.js';
import {
  CoapClient,
  CoapServer,
  findOption,
  generateGroup,
  generateOscorePair,
  MemoryNetwork,
  type MemoryTransport,
  Opt,
  OscoreClientSecurity,
  type OscoreKeyring,
  OscoreServerSecurity,
  parseOscoreConfig,
  type Runtime,
  systemRuntime,
  type TimerHandle,
} from '../../src/index.js';
import { decodeOscoreOption } from '../../src/oscore/index.js';
import type { BenchConfig } from '../config.js';
import { drive } from '../load/drive.js';
import type { Row, SectionResult } from '../report/types.js';

const GROUP = '224.0.1.187';
const CLIENT = '192.0.2.1';
const MEMBERS = ['192.0.2.2', '192.0.2.3', '192.0.2.4'] as const;
const GROUP_URI = `coap://${GROUP}/light`;
const UNICAST_URI = `coap://${MEMBERS[0]}/light`;
const PAYLOAD = '{"state":"on"}';
/** The client's collection window: only a lost response would make a group request wait for it. */
const GROUP_WINDOW_MS = 250;
/** A unicast request that needs longer has failed (nothing is lost on the memory network). */
const TIMEOUT_MS = 2000;

/**
 * The system clock and timers, except that a zero-delay timer (each delivery of the memory
 * network, a Leisure of 0) runs on setImmediate: Node's setTimeout waits at least 1 ms, so a
 * round trip would measure the timer granularity instead of the CPU.
 */
function immediateRuntime(): Runtime {
  const immediates = new WeakSet<object>();
  return {
    now: systemRuntime.now,
    random: systemRuntime.random,
    randomBytes: systemRuntime.randomBytes,
    randomInt: systemRuntime.randomInt,
    setTimeout(fn, ms) {
      if (ms > 0) return setTimeout(fn, ms);
      const h = setImmediate(fn);
      immediates.add(h);
      return h as unknown as TimerHandle;
    },
    clearTimeout(h) {
      if (immediates.has(h as object)) clearImmediate(h as unknown as NodeJS.Immediate);
      else clearTimeout(h as NodeJS.Timeout);
    },
  };
}

/** The datagrams a client sent and received while `on`. */
interface Wire {
  on: boolean;
  readonly sent: Buffer[];
  readonly received: Buffer[];
}

/** Servers at MEMBERS (protected when given a keyring) and a client at CLIENT on a network of their own. */
interface Rig {
  readonly client: CoapClient;
  readonly wire: Wire;
  close(): Promise<void>;
}

async function makeRig(
  runtime: Runtime,
  servers: readonly (OscoreKeyring | undefined)[],
  clientKeyring: OscoreKeyring | undefined,
): Promise<Rig> {
  const net = new MemoryNetwork({ runtime });
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c();
  };
  try {
    for (const [i, keyring] of servers.entries()) {
      const transport = net.createTransport({
        bind: [{ address: MEMBERS[i]!, port: 5683 }],
        ipv4Interface: 'mem0',
      });
      const server = new CoapServer({
        transport,
        runtime,
        leisure: 0,
        discovery: false,
        ...(keyring ? { security: new OscoreServerSecurity(keyring, { runtime }) } : {}),
      });
      closers.push(() => server.close());
      server
        .resource('/light', { multicast: true, ...(keyring ? { protected: true } : {}) })
        .get(() => ({ payload: PAYLOAD }));
      await server.listen();
    }
    const transport = net.createTransport({
      bind: [{ address: CLIENT, port: 40000 }],
      ipv4Interface: 'mem0',
    });
    const wire = tap(transport);
    const client = await CoapClient.create({
      transport,
      runtime,
      ...(clientKeyring ? { security: new OscoreClientSecurity(clientKeyring) } : {}),
    });
    closers.push(() => client.close());
    return { client, wire, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Records the client's datagrams while `wire.on`; must be called before the client takes the transport. */
function tap(t: MemoryTransport): Wire {
  const wire: Wire = { on: false, sent: [], received: [] };
  const send = t.send.bind(t);
  t.send = (data, ...rest) => {
    if (wire.on) wire.sent.push(Buffer.from(data));
    send(data, ...rest);
  };
  const setReceiver = t.setReceiver.bind(t);
  t.setReceiver = (receiver) =>
    setReceiver((d) => {
      if (wire.on) wire.received.push(Buffer.from(d.data));
      receiver(d);
    });
  return wire;
}

/** A group GET: true when each of the 3 members answered 2.05 with the payload (verified, if protected). */
async function groupGet(client: CoapClient): Promise<boolean> {
  const rs = await client.group({ uri: GROUP_URI, window: GROUP_WINDOW_MS, limit: MEMBERS.length }).collect();
  const from = new Set(rs.map((r) => r.source.address));
  return (
    rs.length === MEMBERS.length &&
    from.size === MEMBERS.length &&
    rs.every((r) => r.code === 0x45 && r.text() === PAYLOAD)
  );
}

async function unicastGet(client: CoapClient): Promise<boolean> {
  try {
    const r = await client.request({ uri: UNICAST_URI, timeout: TIMEOUT_MS });
    return r.code === 0x45 && r.text() === PAYLOAD;
  } catch {
    return false;
  }
}

/** How a datagram is protected: not at all, or in the group mode (group flag) or another mode. */
type Protection = 'plain' | 'group' | 'single';

function protectionOf(datagram: Buffer): Protection {
  const o = findOption(decodeMessage(datagram).options, Opt.Oscore);
  if (o === undefined) return 'plain';
  return decodeOscoreOption(o.value, { allowGroupFlag: true }).groupFlag ? 'group' : 'single';
}

/** Sizes of one exchange's datagrams: the request, and its response(s); null when the exchange failed. */
async function sizes(
  rig: Rig,
  get: (c: CoapClient) => Promise<boolean>,
  protection: Protection,
  notes: string[],
  label: string,
): Promise<{ request: number; response: number } | null> {
  rig.wire.sent.length = 0;
  rig.wire.received.length = 0;
  rig.wire.on = true;
  const ok = await get(rig.client);
  rig.wire.on = false;
  const { sent, received } = rig.wire;
  if (!ok || sent.length !== 1 || received.length === 0) {
    notes.push(
      `${label}: size not measured (${ok ? `${sent.length} sent, ${received.length} received` : 'failed'})`,
    );
    return null;
  }
  const seen = new Set([...sent, ...received].map(protectionOf));
  if (seen.size !== 1 || !seen.has(protection))
    notes.push(`${label}: datagrams protected as ${[...seen].join('/')}, expected ${protection} only`);
  const lengths = new Set(received.map((b) => b.length));
  if (lengths.size > 1)
    notes.push(`${label}: responses of ${[...lengths].join('/')} bytes; the largest shown`);
  return { request: sent[0]!.length, response: Math.max(...lengths) };
}

export async function securitySection(cfg: BenchConfig, log: (s: string) => void): Promise<SectionResult> {
  const notes: string[] = [];
  const rows: Row[] = [];
  const runtime = immediateRuntime();
  // Fresh key material each run; Sender Sequence Numbers count from 0 in memory (used once).
  const groupFiles = generateGroup({
    members: 1 + MEMBERS.length,
    addresses: [GROUP],
    memberAddresses: [CLIENT, ...MEMBERS],
  });
  const pair = generateOscorePair({ peer: `coap://${MEMBERS[0]}` });
  const keyring = (f: Parameters<typeof parseOscoreConfig>[0]) => parseOscoreConfig(f);
  const rigs: Rig[] = [];
  try {
    const plain = await makeRig(runtime, [undefined, undefined, undefined], undefined);
    rigs.push(plain);
    const group = await makeRig(runtime, groupFiles.slice(1).map(keyring), keyring(groupFiles[0]!));
    rigs.push(group);
    const oscore = await makeRig(runtime, [keyring(pair.server)], keyring(pair.client));
    rigs.push(oscore);

    const cases = {
      'group plain': { rig: plain, get: groupGet, protection: 'plain' },
      'group mode': { rig: group, get: groupGet, protection: 'group' },
      'unicast plain': { rig: plain, get: unicastGet, protection: 'plain' },
      oscore: { rig: oscore, get: unicastGet, protection: 'single' },
      pairwise: { rig: group, get: unicastGet, protection: 'single' },
    } as const;
    type Name = keyof typeof cases;
    const names = Object.keys(cases) as Name[];

    // The first request of each path: the Echo round trip of a first contact, not counted.
    const usable = new Set<Name>();
    for (const name of names) {
      const c = cases[name];
      if (await c.get(c.rig.client)) usable.add(name);
      else notes.push(`${name}: the first request failed; not measured`);
    }

    const size: Partial<Record<Name, { request: number; response: number } | null>> = {};
    for (const name of names) {
      const c = cases[name];
      if (usable.has(name)) size[name] = await sizes(c.rig, c.get, c.protection, notes, name);
    }

    // Every path once before any is measured, so the first measured does not pay for the JIT.
    for (const name of names) {
      const c = cases[name];
      if (usable.has(name)) await drive(() => c.get(c.rig.client), 1, 0, cfg.warmupMs);
    }
    // Best of the rounds: the highest rate and the lowest median round trip.
    const best: Partial<Record<Name, { rate: number; p50Us: number }>> = {};
    for (let round = 0; round < cfg.rounds; round++) {
      for (const name of names) {
        if (!usable.has(name)) continue;
        const c = cases[name];
        const r = await drive(() => c.get(c.rig.client), 1, cfg.warmupMs, cfg.durationMs);
        log(
          `  security ${name.padEnd(13)} round ${round + 1}: ${Math.round(r.reqPerSec)} req/s, p50 ${r.p50Us.toFixed(0)} µs, p99 ${r.p99Us.toFixed(0)} µs, failed ${r.failed}`,
        );
        if (r.failed > 0) notes.push(`${name} round ${round + 1}: ${r.failed} requests failed`);
        const b = best[name];
        best[name] = {
          rate: Math.max(b?.rate ?? 0, r.reqPerSec),
          p50Us: Math.min(b?.p50Us ?? Number.POSITIVE_INFINITY, r.p50Us),
        };
      }
    }

    const figure = (
      scenario: string,
      unit: string,
      p: Name,
      q: Name,
      f: (b: { rate: number; p50Us: number }) => number,
    ): Row => ({
      scenario,
      unit,
      higherIsBetter: unit !== 'µs',
      values: {
        protected: best[p] === undefined ? null : f(best[p]!),
        plain: best[q] === undefined ? null : f(best[q]!),
      },
    });
    const rate = (b: { rate: number }) => b.rate;
    const median = (b: { p50Us: number }) => b.p50Us;
    rows.push(
      figure('group GET to 3, group mode (Ed25519): requests', 'req/s', 'group mode', 'group plain', rate),
      figure(
        'group GET to 3, group mode: responses verified',
        'resp/s',
        'group mode',
        'group plain',
        (b) => rate(b) * MEMBERS.length,
      ),
      figure('group GET to 3, group mode: median round trip', 'µs', 'group mode', 'group plain', median),
      figure('unicast GET, OSCORE (RFC 8613)', 'req/s', 'oscore', 'unicast plain', rate),
      figure('unicast GET, OSCORE: median round trip', 'µs', 'oscore', 'unicast plain', median),
      figure('unicast GET to a member, pairwise mode', 'req/s', 'pairwise', 'unicast plain', rate),
      figure('unicast GET, pairwise mode: median round trip', 'µs', 'pairwise', 'unicast plain', median),
    );

    const overheads: string[] = [];
    for (const [label, p, q] of [
      ['OSCORE', 'oscore', 'unicast plain'],
      ['group mode', 'group mode', 'group plain'],
      ['pairwise mode', 'pairwise', 'unicast plain'],
    ] as const) {
      const a = size[p];
      const b = size[q];
      for (const part of ['request', 'response'] as const) {
        rows.push({
          scenario: `${label}: ${part} datagram`,
          unit: 'B',
          higherIsBetter: false,
          values: { protected: a?.[part] ?? null, plain: b?.[part] ?? null },
        });
      }
      if (a && b) overheads.push(`${label} +${a.request - b.request}/+${a.response - b.response}`);
    }
    if (overheads.length > 0)
      notes.push(`bytes added by protection, request/response: ${overheads.join(', ')}`);
    notes.push(
      'sizes: one exchange after the first (1-byte Partial IVs); a Partial IV grows by a byte at Sender Sequence Number 256 and 65536',
    );
  } finally {
    for (const r of rigs.reverse()) await r.close();
  }
  return {
    name: 'security',
    title: 'Security: plain vs protected GET in this process (memory network), one request in flight',
    columns: ['protected', 'plain'],
    rows,
    notes,
  };
}
