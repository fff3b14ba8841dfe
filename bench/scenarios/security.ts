// Security: what message protection costs, in this process on the memory network (no sockets;
// the rig is bench/scenarios/security-rig.ts). The same GET /light, plain against protected: a
// group GET to 3 members in the Group OSCORE group mode (Ed25519 signatures; all 3 responses
// verified by the client), the same with members that answer in the pairwise mode
// (`serve --pairwise-responses`), a unicast GET with OSCORE (RFC 8613) and a unicast GET to a
// group member in the Group OSCORE pairwise mode. One request is in flight and the network's
// deliveries run on setImmediate (immediateRuntime), so the figure is the CPU of a round trip,
// client and servers together. Each path first sends one unmeasured request: for a protected
// one, the Echo challenge of a first contact (RFC 9175, Group OSCORE draft §10) and its unicast
// follow-up. Then the sizes of one request and its response as datagrams, plain against
// protected; the signatures, verifications, key agreements, key parses and HKDF derivations of
// one request (counted in node:crypto, bench/load/crypto-count.ts); and the best of `rounds`
// interleaved measurements. Servers answer group requests with a Leisure of 0, and a group
// request ends with the third response (`limit: 3`). `--only=security` runs it alone.
import { decodeMessage } from '../../src/entry/codec.js';
import {
  type CoapClient,
  findOption,
  generateGroup,
  generateOscorePair,
  Opt,
  parseOscoreConfig,
} from '../../src/index.js';
import { decodeOscoreOption } from '../../src/oscore/index.js';
import type { BenchConfig } from '../config.js';
import { type CryptoCounts, type CryptoOp, installCryptoCounter } from '../load/crypto-count.js';
import { drive } from '../load/drive.js';
import type { Row, SectionResult } from '../report/types.js';
import {
  CLIENT,
  GROUP,
  groupGet,
  immediateRuntime,
  MEMBERS,
  makeRig,
  type Rig,
  unicastGet,
} from './security-rig.js';

/** How a datagram is protected: not at all, or in the group mode (group flag) or another mode. */
type Protection = 'plain' | 'group' | 'single';
/** How the request is protected, and how its responses are. */
type Protections = readonly [request: Protection, responses: Protection];

/** Requests per count of the crypto operations: the counts are per request, so small and exact. */
const COUNTED_REQUESTS = 20;

function protectionOf(datagram: Buffer): Protection {
  const o = findOption(decodeMessage(datagram).options, Opt.Oscore);
  if (o === undefined) return 'plain';
  return decodeOscoreOption(o.value, { allowGroupFlag: true }).groupFlag ? 'group' : 'single';
}

/** Sizes of one exchange's datagrams: the request, and its response(s); null when the exchange failed. */
async function sizes(
  rig: Rig,
  get: (c: CoapClient) => Promise<boolean>,
  protection: Protections,
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
  const seen = [sent, received].map((d) => [...new Set(d.map(protectionOf))].join('/'));
  if (seen[0] !== protection[0] || seen[1] !== protection[1])
    notes.push(
      `${label}: request/responses protected as ${seen.join(', ')}, expected ${protection.join(', ')}`,
    );
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
  // The group whose members answer in the pairwise mode has key material of its own.
  const pairwiseGroupFiles = generateGroup({
    members: 1 + MEMBERS.length,
    addresses: [GROUP],
    memberAddresses: [CLIENT, ...MEMBERS],
  });
  const pair = generateOscorePair({ peer: `coap://${MEMBERS[0]}` });
  const keyring = (f: Parameters<typeof parseOscoreConfig>[0]) => parseOscoreConfig(f);
  const rigs: Rig[] = [];
  const counter = installCryptoCounter();
  try {
    const plain = await makeRig(runtime, [undefined, undefined, undefined], undefined);
    rigs.push(plain);
    const group = await makeRig(runtime, groupFiles.slice(1).map(keyring), keyring(groupFiles[0]!));
    rigs.push(group);
    const oscore = await makeRig(runtime, [keyring(pair.server)], keyring(pair.client));
    rigs.push(oscore);
    // serve --pairwise-responses: group mode requests, answered in the pairwise mode.
    const groupPairwise = await makeRig(
      runtime,
      pairwiseGroupFiles.slice(1).map(keyring),
      keyring(pairwiseGroupFiles[0]!),
      { groupResponses: 'pairwise' },
    );
    rigs.push(groupPairwise);

    const cases = {
      'group plain': { rig: plain, get: groupGet, protection: ['plain', 'plain'] },
      'group mode': { rig: group, get: groupGet, protection: ['group', 'group'] },
      'pairwise resp': { rig: groupPairwise, get: groupGet, protection: ['group', 'single'] },
      'unicast plain': { rig: plain, get: unicastGet, protection: ['plain', 'plain'] },
      oscore: { rig: oscore, get: unicastGet, protection: ['single', 'single'] },
      pairwise: { rig: group, get: unicastGet, protection: ['single', 'single'] },
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
    // The public-key operations and key derivations of one request, client and servers together.
    const opCounts: Partial<Record<Name, CryptoCounts>> = {};
    for (const name of names) {
      const c = cases[name];
      if (!usable.has(name)) continue;
      opCounts[name] = await counter.count(async () => {
        for (let i = 0; i < COUNTED_REQUESTS; i++) await c.get(c.rig.client);
      });
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
      figure(
        'group GET to 3, group mode, pairwise responses: requests',
        'req/s',
        'pairwise resp',
        'group plain',
        rate,
      ),
      figure(
        'group GET to 3, pairwise responses: median round trip',
        'µs',
        'pairwise resp',
        'group plain',
        median,
      ),
      figure('unicast GET, OSCORE (RFC 8613)', 'req/s', 'oscore', 'unicast plain', rate),
      figure('unicast GET, OSCORE: median round trip', 'µs', 'oscore', 'unicast plain', median),
      figure('unicast GET to a member, pairwise mode', 'req/s', 'pairwise', 'unicast plain', rate),
      figure('unicast GET, pairwise mode: median round trip', 'µs', 'pairwise', 'unicast plain', median),
    );

    // Per request, client and servers together; the plain column is the plain path's (none).
    const perRequest = (p: Name, q: Name, label: string, ops: readonly CryptoOp[], what: string) =>
      rows.push({
        scenario: `${label}: ${what} per request`,
        unit: 'ops',
        higherIsBetter: false,
        values: Object.fromEntries(
          (
            [
              ['protected', p],
              ['plain', q],
            ] as const
          ).map(([col, n]) => {
            const c = opCounts[n];
            return [col, c === undefined ? null : ops.reduce((sum, op) => sum + c[op], 0) / COUNTED_REQUESTS];
          }),
        ),
      });
    for (const [label, p, q] of [
      ['group mode', 'group mode', 'group plain'],
      ['group mode, pairwise responses', 'pairwise resp', 'group plain'],
      ['OSCORE', 'oscore', 'unicast plain'],
      ['pairwise mode', 'pairwise', 'unicast plain'],
    ] as const) {
      perRequest(p, q, label, ['sign'], 'signatures');
      perRequest(p, q, label, ['verify'], 'signature verifications');
      perRequest(
        p,
        q,
        label,
        ['diffieHellman', 'createPublicKey', 'createPrivateKey'],
        'key agreements and key parses',
      );
      perRequest(p, q, label, ['hkdfSync'], 'HKDF derivations');
    }

    const overheads: string[] = [];
    for (const [label, p, q] of [
      ['OSCORE', 'oscore', 'unicast plain'],
      ['group mode', 'group mode', 'group plain'],
      ['group mode, pairwise responses', 'pairwise resp', 'group plain'],
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
    counter.restore();
  }
  return {
    name: 'security',
    title: 'Security: plain vs protected GET in this process (memory network), one request in flight',
    columns: ['protected', 'plain'],
    rows,
    notes,
  };
}
