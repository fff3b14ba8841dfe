/**
 * The `coap-group` command with OSCORE (RFC 8613) and Group OSCORE
 * (draft-ietf-core-oscore-groupcomm), run as child processes exactly as a user would: key files
 * made by `keys oscore|group`, nodes started by `serve --oscore FILE [--require-oscore]
 * [--config-controller KID]`, and requests sent by `get|post --oscore FILE`.
 *
 * On loopback (nodes on 127.0.0.120-127.0.0.129, no multicast, no group joined):
 * - an RFC 8613 pair: the first protected GET after the node starts is challenged with Echo and
 *   repeated transparently (two exchanges on the wire, one for the next GET), neither the path
 *   nor the value travels in clear, and an unprotected GET gets 4.01 (exit 1, one line);
 * - wrong key material (another pair's file, a file with another Master Secret, a file others may
 *   read) fails with a one-line error and a non-zero exit, and the node still serves the right
 *   client afterwards;
 * - a unicast request to a group member's address is protected in the pairwise mode (no Group
 *   Flag on the wire), challenged once and answered.
 * A relay in this process stands between client and node where the wire is checked: it forwards
 * every datagram unchanged and decodes a copy.
 *
 * In a private network namespace whose only interface is lo (multicast never leaves it):
 * - `/coap-group` changes are accepted from the OSCORE identity named by `--config-controller`,
 *   refused with 4.01 when unprotected and with 4.03 from another known identity, and the accepted
 *   membership is joined;
 * - one Group OSCORE GET to 224.0.1.187 (pinned to lo) gets three verified answers from three
 *   members that just started, so each challenges it with Echo and the client repeats it to that
 *   member by unicast: all three answers arrive, and one datagram goes to the group per request;
 *   an unprotected group GET gets silence.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { decodeMessage } from '../../src/message/decode.js';
import type { CoapMessage } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { findOption } from '../../src/options/values.js';
import { decodeOscoreOption, type OscoreOptionValue } from '../../src/oscore/option.js';
import {
  type CliResult,
  exits,
  killAll,
  lines,
  runCli,
  type ServeNode,
  startServe,
} from '../support/cli-run.js';
import { assertOnlyInterfaces, insideNetns, LOOPBACK_SETUP, runSelfInNetns } from '../support/netns.js';

const T = { timeout: 60_000 };
const GROUP = '224.0.1.187';

const dirs: string[] = [];
const nodes: ServeNode[] = [];
const taps: Tap[] = [];

after(async () => {
  for (const n of nodes) await n.stop();
  killAll();
  for (const t of taps) await t.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Asserts an exit status, showing what the command printed when it differs. */

/** Asserts a failed command said why in exactly one line on stderr, and nothing on stdout. */
function oneLineError(r: CliResult, pattern: RegExp): void {
  assert.equal(r.stdout, '', `nothing on stdout; got ${r.stdout}`);
  const l = lines(r.stderr);
  assert.equal(l.length, 1, `one line on stderr; got:\n${r.stderr}`);
  assert.match(l[0]!, pattern);
}

/** A fresh private directory, removed in `after`. */
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'coap-group-cli-oscore-'));
  dirs.push(d);
  return d;
}

// biome-ignore lint/suspicious/noExplicitAny: key files are plain JSON read back for their IDs.
function readJson(file: string): any {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Writes a key file the way `coap-group keys` does: mode 0600. */
function writeKeyFile(file: string, content: unknown): void {
  writeFileSync(file, JSON.stringify(content), { mode: 0o600 });
}

/** `coap-group serve ARGS`, stopped in `after`, with the endpoint its ready line names. */
async function serve(args: readonly string[]): Promise<ServeNode & { address: string; port: number }> {
  const node = await startServe(args);
  nodes.push(node);
  const m = /^ready coap:\/\/([0-9.]+):(\d+) /.exec(node.ready);
  assert.ok(m, node.ready);
  return Object.assign(node, { address: m[1]!, port: Number(m[2]) });
}

/** One datagram the relay forwarded, decoded. */
interface Seen {
  readonly dir: 'request' | 'response';
  readonly message: CoapMessage;
  readonly bytes: Buffer;
}

/**
 * A UDP relay on `address` (random port): each client gets its own socket towards `target`,
 * every datagram is forwarded unchanged both ways and a decoded copy is kept in `seen`.
 */
interface Tap {
  readonly address: string;
  readonly port: number;
  target: { address: string; port: number } | undefined;
  readonly seen: Seen[];
  close(): Promise<void>;
}

async function startTap(address: string): Promise<Tap> {
  const bindSocket = (s: Socket, port: number, at: string) =>
    new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, at, () => {
        s.off('error', reject);
        s.on('error', () => {});
        resolve();
      });
    });
  const front = createSocket('udp4');
  await bindSocket(front, 0, address);
  const backs = new Map<string, Socket>();
  const record = (dir: Seen['dir'], bytes: Buffer) => {
    try {
      tap.seen.push({ dir, message: decodeMessage(bytes), bytes: Buffer.from(bytes) });
    } catch {
      // Not CoAP: forwarded all the same, and the assertions on `seen` will miss it.
    }
  };
  const tap: Tap = {
    address,
    port: front.address().port,
    target: undefined,
    seen: [],
    async close() {
      for (const s of [front, ...backs.values()]) await new Promise<void>((r) => s.close(() => r()));
      backs.clear();
    },
  };
  front.on('message', (data, rinfo) => {
    const target = tap.target;
    if (target === undefined) return;
    record('request', data);
    const key = `${rinfo.address}:${rinfo.port}`;
    let back = backs.get(key);
    if (back === undefined) {
      const s = createSocket('udp4');
      backs.set(key, s);
      s.on('error', () => {});
      s.on('message', (answer) => {
        record('response', answer);
        front.send(answer, rinfo.port, rinfo.address);
      });
      s.bind(0, address);
      back = s;
    }
    back.send(data, target.port, target.address);
  });
  taps.push(tap);
  return tap;
}

/** The OSCORE option of a message, decoded, or undefined when it has none. */
function oscoreOf(m: CoapMessage): OscoreOptionValue | undefined {
  const o = findOption(m.options, Opt.Oscore);
  return o === undefined ? undefined : decodeOscoreOption(o.value, { allowGroupFlag: true });
}

const isRequest = (m: CoapMessage) => m.code !== 0 && m.code >> 5 === 0;
const isResponse = (m: CoapMessage) => m.code >> 5 >= 2;

/** The distinct requests (by Message ID, so a retransmission counts once) among `seen`. */
function requestsIn(seen: readonly Seen[]): CoapMessage[] {
  const byMid = new Map<number, CoapMessage>();
  for (const s of seen)
    if (s.dir === 'request' && isRequest(s.message)) byMid.set(s.message.messageId, s.message);
  return [...byMid.values()];
}

/** Asserts that every request and response in `seen` is OSCORE-protected and hides `secrets`. */
function assertProtected(seen: readonly Seen[], secrets: readonly string[]): void {
  for (const s of seen) {
    if (s.message.code === 0) continue; // an empty ACK
    assert.ok(oscoreOf(s.message) !== undefined, `${s.dir} without an OSCORE option`);
    // Uri-Path is Class E (RFC 8613 §4.1): it travels inside the ciphertext only.
    assert.equal(findOption(s.message.options, Opt.UriPath), undefined, `${s.dir} with an outer Uri-Path`);
    for (const secret of secrets) assert.ok(!s.bytes.includes(secret), `"${secret}" in clear in a ${s.dir}`);
  }
}

if (!insideNetns()) {
  describe('coap-group with OSCORE on loopback', () => {
    it(
      'keys oscore, serve --oscore --require-oscore, get --oscore: the first GET is challenged with Echo and repeated; unprotected gets 4.01',
      T,
      async () => {
        const dir = tempDir();
        const keys = join(dir, 'keys');
        const tap = await startTap('127.0.0.120');
        const made = await runCli([
          'keys',
          'oscore',
          '--out',
          keys,
          '--peer',
          `coap://127.0.0.120:${tap.port}`,
        ]);
        exits(made, 0);
        assert.deepEqual(lines(made.stdout), [
          `wrote ${join(keys, 'client.json')} (mode 0600)`,
          `wrote ${join(keys, 'server.json')} (mode 0600)`,
        ]);
        assert.equal(statSync(keys).mode & 0o777, 0o700);
        for (const f of ['client.json', 'server.json'])
          assert.equal(statSync(join(keys, f)).mode & 0o777, 0o600);
        const client = readJson(join(keys, 'client.json'));
        assert.ok(!made.stdout.includes(client.oscore[0].masterSecret), 'the Master Secret is not printed');

        const node = await serve([
          '--bind',
          '127.0.0.121',
          '--port',
          '0',
          '--no-default-groups',
          '--oscore',
          join(keys, 'server.json'),
          '--require-oscore',
          '--resource',
          '/light=on-121',
        ]);
        tap.target = node;
        const uri = `coap://127.0.0.120:${tap.port}/light`;

        const first = await runCli(['get', uri, '--oscore', join(keys, 'client.json')]);
        exits(first, 0);
        assert.equal(first.stdout, 'on-121\n');
        assert.equal(first.stderr, '');
        // On the wire: the request, its Echo challenge, the repeated request and the answer.
        const firstRequests = requestsIn(tap.seen);
        assert.equal(firstRequests.length, 2, 'the first request and its repetition with Echo');
        const pivs = firstRequests.map((m) => oscoreOf(m)?.partialIv?.toString('hex'));
        assert.equal(new Set(pivs).size, 2, `two Partial IVs: ${pivs.join(', ')}`);
        for (const m of firstRequests)
          assert.equal(oscoreOf(m)?.kid?.toString('hex'), client.oscore[0].senderId);
        assert.ok(tap.seen.filter((s) => s.dir === 'response' && isResponse(s.message)).length >= 2);
        assertProtected(tap.seen, ['on-121', 'light']);

        // The node's window is valid now: the next client (a new process) is answered at once.
        const mark = tap.seen.length;
        const second = await runCli(['get', uri, '--oscore', join(keys, 'client.json')]);
        exits(second, 0);
        assert.equal(second.stdout, 'on-121\n');
        assert.equal(requestsIn(tap.seen.slice(mark)).length, 1, 'no challenge the second time');
        assertProtected(tap.seen.slice(mark), ['on-121', 'light']);

        const plain = await runCli(['get', `coap://${node.address}:${node.port}/light`]);
        exits(plain, 1);
        oneLineError(plain, /^4\.01 Unauthorized/);
        assert.equal(node.output().stderr, '');
      },
    );

    it(
      'wrong key material fails with a one-line error and a non-zero exit; the node keeps serving the right client',
      T,
      async () => {
        const dir = tempDir();
        // Without --peer: client.json protects requests to any server.
        exits(await runCli(['keys', 'oscore', '--out', join(dir, 'right')]), 0);
        exits(await runCli(['keys', 'oscore', '--out', join(dir, 'other')]), 0);
        const node = await serve([
          '--bind',
          '127.0.0.122',
          '--port',
          '0',
          '--no-default-groups',
          '--oscore',
          join(dir, 'right', 'server.json'),
          '--require-oscore',
          '--resource',
          '/light=on-122',
        ]);
        const uri = `coap://${node.address}:${node.port}/light`;
        const at = `${node.address}:${node.port}`;

        // Another pair's client file: its Sender ID is unknown to the node.
        const other = await runCli(['get', uri, '--oscore', join(dir, 'other', 'client.json')]);
        exits(other, 1);
        oneLineError(other, new RegExp(`^coap-group: ${at} answered .*4\\.01 "Security context not found"$`));

        // The right Sender ID with another Master Secret: the node cannot decrypt it.
        const forged = readJson(join(dir, 'right', 'client.json'));
        forged.oscore[0].masterSecret = 'ab'.repeat(32);
        writeKeyFile(join(dir, 'forged.json'), forged);
        const wrong = await runCli(['get', uri, '--oscore', join(dir, 'forged.json')]);
        exits(wrong, 1);
        oneLineError(wrong, new RegExp(`^coap-group: ${at} answered .*4\\.00 "Decryption failed"$`));

        // The right file, but readable by others: refused before anything is sent (usage, exit 2).
        const open = join(dir, 'open.json');
        writeKeyFile(open, readJson(join(dir, 'right', 'client.json')));
        chmodSync(open, 0o644);
        const refused = await runCli(['get', uri, '--oscore', open]);
        exits(refused, 2);
        oneLineError(refused, /^coap-group: --oscore .*open\.json: .*mode 0644.*chmod 600/);

        // None of that left state behind: the right client is challenged once and answered.
        const right = await runCli(['get', uri, '--oscore', join(dir, 'right', 'client.json')]);
        exits(right, 0);
        assert.equal(right.stdout, 'on-122\n');
        assert.equal(right.stderr, '');
        assert.equal(node.output().stderr, '');
      },
    );

    it(
      'get --oscore member-1.json to a member address is protected in the pairwise mode and answered by that member',
      T,
      async () => {
        const dir = tempDir();
        const tap = await startTap('127.0.0.123');
        const member2 = `127.0.0.123:${tap.port}`;
        const made = await runCli([
          'keys',
          'group',
          '--members',
          '2',
          '--out',
          dir,
          '--member-address',
          '127.0.0.124',
          '--member-address',
          member2,
        ]);
        exits(made, 0);
        const file1 = readJson(join(dir, 'member-1.json'));
        const groupId: string = file1.group[0].groupId;
        assert.equal(file1.group[0].members[1].address, member2);

        const node = await serve([
          '--bind',
          '127.0.0.125',
          '--port',
          '0',
          '--no-default-groups',
          '--oscore',
          join(dir, 'member-2.json'),
          '--require-oscore',
          '--resource',
          '/light=member-2',
          '--leisure',
          '0.2',
        ]);
        tap.target = node;
        const uri = `coap://${member2}/light`;

        const first = await runCli(['get', uri, '--oscore', join(dir, 'member-1.json')]);
        exits(first, 0);
        assert.equal(first.stdout, 'member-2\n');
        assert.equal(first.stderr, '');
        const requests = requestsIn(tap.seen);
        // The member has not seen member 1 since it started: Echo, then the repetition.
        assert.equal(requests.length, 2, 'the first request and its repetition with Echo');
        for (const m of requests) {
          const o = oscoreOf(m);
          assert.equal(o?.groupFlag, undefined, 'pairwise mode: no Group Flag');
          assert.equal(o?.kid?.toString('hex'), '01');
          assert.equal(o?.kidContext?.toString('hex'), groupId);
        }
        for (const s of tap.seen)
          if (isResponse(s.message)) assert.equal(oscoreOf(s.message)?.groupFlag, undefined);
        assertProtected(tap.seen, ['member-2', 'light']);

        const mark = tap.seen.length;
        const second = await runCli(['get', uri, '--oscore', join(dir, 'member-1.json')]);
        exits(second, 0);
        assert.equal(second.stdout, 'member-2\n');
        assert.equal(requestsIn(tap.seen.slice(mark)).length, 1, 'no challenge the second time');
        assert.equal(node.output().stderr, '');
      },
    );
  });

  test(
    'coap-group with OSCORE: /coap-group by identity and Group OSCORE multicast, in a private network namespace',
    { timeout: 180_000 },
    (t) => runSelfInNetns(t, import.meta.filename, LOOPBACK_SETUP, { timeoutMs: 170_000 }),
  );
} else {
  describe('coap-group with OSCORE in a private network namespace (lo only)', () => {
    before(() => assertOnlyInterfaces(['lo']));

    it(
      'serve --config-controller KID: /coap-group changes from that identity only (4.01 unprotected, 4.03 another identity)',
      T,
      async () => {
        const dir = tempDir();
        const at = '127.0.0.10';
        exits(await runCli(['keys', 'oscore', '--out', join(dir, 'a'), '--peer', `coap://${at}`]), 0);
        exits(await runCli(['keys', 'oscore', '--out', join(dir, 'b'), '--peer', `coap://${at}`]), 0);
        // The node knows both clients; only A is a controller. A keyring takes one context
        // without `peer` at most, so B's gets one (a client-role field: the node never uses it).
        const both = join(dir, 'node.json');
        const contextB = { ...readJson(join(dir, 'b', 'server.json')).oscore[0], peer: 'coap://127.0.0.11' };
        writeKeyFile(both, {
          version: 1,
          oscore: [readJson(join(dir, 'a', 'server.json')).oscore[0], contextB],
        });
        const kidA: string = readJson(join(dir, 'a', 'client.json')).oscore[0].senderId;
        await serve([
          '--bind',
          at,
          '--no-default-groups',
          '--leisure',
          '0.2',
          '--oscore',
          both,
          '--config-controller',
          kidA,
          '--resource',
          '/light=on',
        ]);
        const node = `coap://${at}`;
        const entry = '{"a":"239.255.0.3"}';

        const unprotected = await runCli(['groups', 'add', node, '--address', '239.255.0.3']);
        exits(unprotected, 1);
        oneLineError(unprotected, /^coap-group: 4\.01 Unauthorized/);

        const b = await runCli([
          'post',
          `${node}/coap-group`,
          '--oscore',
          join(dir, 'b', 'client.json'),
          '--format',
          '256',
          '--payload',
          entry,
        ]);
        exits(b, 1);
        oneLineError(b, /^4\.03 Forbidden/);

        // The controller writes with a protected POST (RFC 7390 §2.6.2.2), or with groups --oscore.
        const a = await runCli([
          'post',
          `${node}/coap-group`,
          '--oscore',
          join(dir, 'a', 'client.json'),
          '--format',
          '256',
          '--payload',
          entry,
          '--json',
        ]);
        exits(a, 0);
        assert.equal(JSON.parse(a.stdout).code, '2.01');

        const added = await runCli([
          'groups',
          'add',
          node,
          '--address',
          '239.255.0.4',
          '--oscore',
          join(dir, 'a', 'client.json'),
        ]);
        exits(added, 0);

        const removed = await runCli(['groups', 'remove', node, '1']);
        exits(removed, 1);
        oneLineError(removed, /^coap-group: 4\.01 Unauthorized/);

        // Reading stays open; the two accepted changes are there, in plain and protected reads.
        const list = await runCli(['groups', 'list', node, '--json']);
        exits(list, 0);
        assert.deepEqual(JSON.parse(list.stdout).groups, [
          { index: '1', a: '239.255.0.3' },
          { index: '2', a: '239.255.0.4' },
        ]);
        const read = await runCli(['get', `${node}/coap-group`, '--oscore', join(dir, 'a', 'client.json')]);
        exits(read, 0);
        assert.deepEqual(JSON.parse(read.stdout), { 1: { a: '239.255.0.3' }, 2: { a: '239.255.0.4' } });

        // The node joined the group it was given: it answers discovery there.
        const found = await runCli(['discover', 'coap://239.255.0.3', '--iface', '127.0.0.1', '--wait', '3']);
        exits(found, 0);
        assert.match(found.stdout, new RegExp(`^${at.replaceAll('.', '\\.')}:5683 `, 'm'));
      },
    );

    it(
      'get coap://224.0.1.187/light --oscore member-1.json: three members that just started challenge it and all three answers arrive, verified',
      T,
      async () => {
        const dir = tempDir();
        const members = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
        const made = await runCli([
          'keys',
          'group',
          '--members',
          '4',
          '--out',
          dir,
          ...members.flatMap((m) => ['--member-address', m]),
        ]);
        exits(made, 0);
        assert.equal(lines(made.stdout).length, 4);
        const started = [2, 3, 4].map((i) =>
          serve([
            '--bind',
            members[i - 1]!,
            '--iface',
            '127.0.0.1',
            '--oscore',
            join(dir, `member-${i}.json`),
            '--require-oscore',
            '--resource',
            `/light=member-${i}`,
            '--multicast',
            '/light',
            '--leisure',
            '0.2',
            // One member answers group mode requests in the pairwise mode: the client takes both.
            ...(i === 4 ? ['--pairwise-responses'] : []),
          ]),
        );
        for (const node of await Promise.all(started)) {
          assert.ok(node.ready.endsWith(` groups ${GROUP}:5683`), node.ready);
        }

        // A listener in the group sees every datagram sent to it.
        const listener = createSocket({ type: 'udp4', reuseAddr: true });
        const toGroup: Buffer[] = [];
        listener.on('message', (d) => toGroup.push(Buffer.from(d)));
        await new Promise<void>((r) => listener.bind(5683, GROUP, r));
        listener.addMembership(GROUP, '127.0.0.1');
        try {
          const get = (...extra: string[]) =>
            runCli([
              'get',
              `coap://${GROUP}/light`,
              '--iface',
              '127.0.0.1',
              '--wait',
              '4',
              '--json',
              ...extra,
            ]);
          const expected = [2, 3, 4].map((i) => ({ from: `${members[i - 1]}:5683`, payload: `member-${i}` }));
          const answers = (r: CliResult) =>
            lines(r.stdout)
              .map((l) => JSON.parse(l))
              .map((o) => {
                assert.equal(o.code, '2.05', JSON.stringify(o));
                return { from: o.from, payload: o.payload };
              })
              .sort((x, y) => x.from.localeCompare(y.from));

          const first = await get('--oscore', join(dir, 'member-1.json'));
          exits(first, 0);
          assert.deepEqual(answers(first), expected);
          assert.match(
            first.stderr,
            /^\{"responses":3,"endpoints":3,"ms":\d+,"reason":"window","target":"224\.0\.1\.187:5683","exit":0\}\n$/,
          );
          // One group request; the Echo follow-ups went to each member by unicast.
          assert.equal(toGroup.length, 1, 'one datagram to the group');
          const request = decodeMessage(toGroup[0]!);
          const o = oscoreOf(request);
          assert.equal(o?.groupFlag, true, 'group mode');
          assert.equal(o?.kid?.toString('hex'), '01');
          assert.ok(!toGroup[0]!.includes('light'), 'the Uri-Path is encrypted');

          // The members know member 1 now: answered at once, again three.
          const second = await get('--oscore', join(dir, 'member-1.json'));
          exits(second, 0);
          assert.deepEqual(answers(second), expected);
          assert.equal(toGroup.length, 2);

          // Without protection: silence from every member (--require-oscore, multicast), which
          // the CLI reports as a group that did not answer, exit 3.
          const plain = await get();
          exits(plain, 3);
          assert.equal(plain.stdout, '');
          assert.match(
            plain.stderr,
            /^\{"responses":0,"endpoints":0,.*"exit":3,"error":"no response from the group /,
          );
        } finally {
          await new Promise<void>((r) => listener.close(() => r()));
        }
      },
    );
  });
}
