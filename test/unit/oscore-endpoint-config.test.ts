/**
 * The key-material file (docs/security.md) and `coap-group keys`: generated files have mode 0600
 * and load; a missing or malformed field throws ERR_OSCORE_CONFIG naming it and never showing a
 * value; a file others may read is refused; Sender Sequence Numbers persist beside the file
 * (RFC 8613 Appendix B.1.1); a keyring never shows its secrets.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { runKeys } from '../../src/cli/keys.js';
import { clientSecurity, serverSecurity } from '../../src/cli/oscore-config.js';
import { UsageError } from '../../src/cli/usage.js';
import { Opt } from '../../src/options/registry.js';
import { findOption } from '../../src/options/values.js';
import { OscoreClientSecurity } from '../../src/oscore/endpoint/client.js';
import { loadOscoreConfig, parseOscoreConfig } from '../../src/oscore/endpoint/config.js';
import { OscoreConfigError } from '../../src/oscore/endpoint/errors.js';
import { generateOscorePair, type OscoreConfigFile } from '../../src/oscore/endpoint/generate.js';
import { decodeOscoreOption, decodePartialIv } from '../../src/oscore/option.js';
import { group, pair, seededRandom } from '../fixtures/oscore-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'coap-oscore-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a CLI command with stdout captured. */
async function quiet(f: () => Promise<number>): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await f(), out };
  } finally {
    process.stdout.write = write;
  }
}

const mode = (p: string) => statSync(p).mode & 0o777;

function mutate(
  f: OscoreConfigFile,
  section: 'oscore' | 'group',
  change: (e: Record<string, unknown>) => void,
) {
  const copy = JSON.parse(JSON.stringify(f)) as Record<string, Array<Record<string, unknown>>>;
  change(copy[section]![0]!);
  return copy;
}

function refuses(json: unknown, field: string, secret?: string): void {
  assert.throws(
    () => parseOscoreConfig(json),
    (e: unknown) => {
      assert.ok(e instanceof OscoreConfigError, String(e));
      assert.equal(e.code, 'ERR_OSCORE_CONFIG');
      assert.equal(e.field, field, e.message);
      if (secret !== undefined) assert.ok(!e.message.includes(secret), 'the value is not shown');
      return true;
    },
  );
}

describe('coap-group keys', { timeout: 60_000 }, () => {
  it('keys oscore writes client.json and server.json with mode 0600 that load and talk', async () => {
    const out = join(dir, 'pair');
    const r = await quiet(() => runKeys(['oscore', '--out', out, '--peer', 'coap://127.0.0.2']));
    assert.equal(r.code, 0);
    assert.match(r.out, /client\.json \(mode 0600\)/);
    assert.ok(
      !r.out.includes(JSON.parse(readFileSync(join(out, 'client.json'), 'utf8')).oscore[0].masterSecret),
    );
    assert.equal(mode(out), 0o700);
    for (const f of ['client.json', 'server.json']) assert.equal(mode(join(out, f)), 0o600);
    assert.ok(clientSecurity(join(out, 'client.json')));
    assert.ok(serverSecurity(join(out, 'server.json')));
    await assert.rejects(
      quiet(() => runKeys(['oscore', '--out', out])),
      UsageError,
      'no overwrite without --force',
    );
    assert.equal((await quiet(() => runKeys(['oscore', '--out', out, '--force']))).code, 0);
  });

  it('keys group writes one file per member, mode 0600, with every public key and its own private key', async () => {
    const out = join(dir, 'group');
    assert.equal((await quiet(() => runKeys(['group', '--members', '3', '--out', out]))).code, 0);
    for (let i = 1; i <= 3; i++) {
      const file = join(out, `member-${i}.json`);
      assert.equal(mode(file), 0o600);
      const k = loadOscoreConfig(file);
      const g = k.groupEntries[0]!;
      assert.equal(g.context.sender.id.toString('hex'), `0${i}`);
      assert.equal(g.members.size, 2);
    }
    await assert.rejects(
      quiet(() => runKeys(['group', '--out', out])),
      /needs --members/,
    );
  });

  it("keys group writes the members' unicast addresses and the modes when given", async () => {
    const out = join(dir, 'addressed');
    const args = ['group', '--members', '3', '--out', out, '--member-address', '127.0.0.2'];
    const r = await quiet(() =>
      runKeys([...args, '--member-address', '127.0.0.3:5684', '--modes', 'pairwise']),
    );
    assert.equal(r.code, 0);
    const k = loadOscoreConfig(join(out, 'member-3.json'));
    assert.equal(k.memberAt({ address: '127.0.0.2', port: 5683 })?.kid.toString('hex'), '01');
    assert.equal(k.memberAt({ address: '127.0.0.3', port: 5684 })?.kid.toString('hex'), '02');
    assert.equal(k.defaultLeisure, 13, 'pairwise only');
    await assert.rejects(
      quiet(() => runKeys([...args, '--force', '--modes', 'both'])),
      /--modes both/,
    );
    await assert.rejects(
      quiet(() => runKeys(['group', '--members', '1', '--out', out, '--force', '--member-address', 'lamp'])),
      /members\[0\]\.address/,
    );
    await assert.rejects(
      quiet(() =>
        runKeys([
          ...args,
          '--force',
          '--member-address',
          '127.0.0.3',
          '--member-address',
          '127.0.0.4',
          '--member-address',
          '127.0.0.5',
        ]),
      ),
      /4 --member-address for 3 members/,
    );
  });
});

describe('the key-material file', () => {
  const p = pair();
  const g = group(3);
  const secret = (p.client.oscore as Array<{ masterSecret: string }>)[0]!.masterSecret;

  it('names the missing or malformed field and never shows its value', () => {
    refuses(
      mutate(p.client, 'oscore', (e) => delete e.masterSecret),
      'oscore[0].masterSecret',
    );
    refuses(
      mutate(p.client, 'oscore', (e) => (e.masterSecret = `${secret}z`)),
      'oscore[0].masterSecret',
      secret,
    );
    refuses(
      mutate(p.client, 'oscore', (e) => (e.masterSecret = 'base64:!!!')),
      'oscore[0].masterSecret',
    );
    refuses(
      mutate(p.client, 'oscore', (e) => (e.senderId = '0102030405060708')),
      'oscore[0].senderId',
    );
    refuses(
      mutate(p.client, 'oscore', (e) => (e.recipientId = e.senderId)),
      'oscore[0]',
    );
    refuses(
      mutate(p.client, 'oscore', (e) => (e.peer = 'coap://example.com')),
      'oscore[0].peer',
    );
    refuses(
      mutate(p.client, 'oscore', (e) => (e.masterSecrets = secret)),
      'oscore[0].masterSecrets',
    );
    refuses(
      mutate(p.client, 'oscore', (e) => (e.replayWindow = 0)),
      'oscore[0].replayWindow',
    );
    refuses({ ...p.client, version: 2 }, 'version');
    refuses({ version: 1 }, '');
    refuses([], '');
    refuses(
      mutate(g[0]!, 'group', (e) => delete e.groupId),
      'group[0].groupId',
    );
    refuses(
      mutate(g[0]!, 'group', (e) => (e.privateKey = 'abcd')),
      'group[0].privateKey',
    );
    refuses(
      mutate(g[0]!, 'group', (e) => ((e.members as Array<Record<string, unknown>>)[1]!.publicKey = '00')),
      'group[0].members[1].publicKey',
    );
    refuses(
      mutate(g[0]!, 'group', (e) => (e.members as unknown[]).push((e.members as unknown[])[1])),
      'group[0].members[3].id',
    );
    refuses(
      mutate(
        g[0]!,
        'group',
        (e) => ((e.members as Array<Record<string, unknown>>)[0]!.publicKey = '11'.repeat(32)),
      ),
      'group[0].members[0].publicKey',
    );
    refuses(
      mutate(g[0]!, 'group', (e) => (e.addresses = ['coap://[ff02::fd]:x'])),
      'group[0].addresses[0]',
    );
    refuses(
      mutate(
        g[0]!,
        'group',
        (e) => ((e.members as Array<Record<string, unknown>>)[1]!.address = 'host.example'),
      ),
      'group[0].members[1].address',
    );
    refuses(
      mutate(g[0]!, 'group', (e) => (e.modes = [])),
      'group[0].modes',
    );
    refuses(
      mutate(g[0]!, 'group', (e) => (e.modes = ['group', 'broadcast'])),
      'group[0].modes[1]',
    );
    refuses(
      mutate(g[0]!, 'group', (e) => (e.modes = 'group')),
      'group[0].modes',
    );
    refuses(
      mutate(g[0]!, 'group', (e) => (e.countersignature = 'rfc9052')),
      'group[0].countersignature',
    );
  });

  it("lets a server hold many clients' contexts; a client guesses no fallback among several", () => {
    const a = generateOscorePair({ random: seededRandom('client-a') });
    const b = generateOscorePair({ random: seededRandom('client-b') });
    const server = parseOscoreConfig({
      version: 1,
      oscore: [...(a.server.oscore as unknown[]), ...(b.server.oscore as unknown[])],
    });
    for (const c of [a, b]) {
      const id = Buffer.from((c.client.oscore as Array<{ senderId: string }>)[0]!.senderId, 'hex');
      assert.ok(server.resolve(id, undefined), `finds ${id.toString('hex')}`);
    }
    assert.equal(server.oscoreFor({ address: '192.0.2.9', port: 5683 }), undefined);
    const single = parseOscoreConfig(a.client);
    assert.ok(single.oscoreFor({ address: '192.0.2.9', port: 5683 }), 'a lone context is the fallback');
  });

  it("takes the modes a group uses and the members' unicast addresses", () => {
    const both = parseOscoreConfig(g[0]!).groupEntries[0]!;
    assert.ok(both.context.common.groupEncryption !== undefined && both.context.common.aead !== undefined);
    const pairwise = parseOscoreConfig(mutate(g[0]!, 'group', (e) => (e.modes = ['pairwise'])));
    assert.equal(pairwise.groupEntries[0]!.context.common.groupEncryption, undefined);
    assert.equal(pairwise.defaultLeisure, 13);
    const groupOnly = parseOscoreConfig(mutate(g[0]!, 'group', (e) => (e.modes = ['group'])));
    assert.equal(groupOnly.groupEntries[0]!.context.common.aead, undefined);
    assert.equal(groupOnly.defaultLeisure, 20);
    const legacy = parseOscoreConfig(mutate(g[0]!, 'group', (e) => (e.countersignature = 'rfc8152')));
    assert.equal(legacy.groupEntries[0]!.context.common.countersignature, 'rfc8152');
    assert.equal(both.context.common.countersignature, 'rfc9338');
    const addressed = parseOscoreConfig(
      mutate(
        g[0]!,
        'group',
        (e) => ((e.members as Array<Record<string, unknown>>)[1]!.address = '192.0.2.7'),
      ),
    );
    const at = addressed.memberAt({ address: '192.0.2.7', port: 5683 });
    assert.equal(at?.kid.toString('hex'), '02');
    assert.equal(addressed.memberAt({ address: '192.0.2.7', port: 5684 }), undefined, 'default port 5683');
    const linkLocal = parseOscoreConfig(
      mutate(g[0]!, 'group', (e) => ((e.members as Array<Record<string, unknown>>)[1]!.address = 'fe80::7')),
    );
    assert.equal(linkLocal.memberAt({ address: 'fe80::7%eth0', port: 5683 })?.kid.toString('hex'), '02');
    assert.equal(linkLocal.memberAt({ address: 'fe80:0::7', port: 5683 })?.kid.toString('hex'), '02');
    assert.equal(linkLocal.memberAt({ address: 'fe80::8%eth0', port: 5683 }), undefined);
  });

  it('accepts base64 secrets after "base64:"', () => {
    const b64 = `base64:${Buffer.from(secret, 'hex').toString('base64')}`;
    const k = parseOscoreConfig(mutate(p.client, 'oscore', (e) => (e.masterSecret = b64)));
    assert.deepEqual(k.oscoreEntries[0]!.context.common.masterSecret, Buffer.from(secret, 'hex'));
  });

  it('refuses a file others may read, a file that is not JSON (without quoting it), a missing file', () => {
    const file = join(dir, 'loose.json');
    writeFileSync(file, JSON.stringify(p.client), { mode: 0o644 });
    chmodSync(file, 0o644);
    assert.throws(() => loadOscoreConfig(file), /chmod 600/);
    chmodSync(file, 0o600);
    assert.ok(loadOscoreConfig(file));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, `{"oscore": [{"masterSecret": "${secret}" oops`, { mode: 0o600 });
    assert.throws(
      () => loadOscoreConfig(broken),
      (e: unknown) =>
        e instanceof OscoreConfigError && !e.message.includes(secret) && /not valid JSON/.test(e.message),
    );
    assert.throws(() => loadOscoreConfig(join(dir, 'absent.json')), { code: 'ERR_OSCORE_CONFIG' });
    assert.throws(() => clientSecurity(join(dir, 'absent.json')), UsageError);
  });

  it('keeps the Sender Sequence Number beside the file (mode 0600) and resumes after the reserved block', () => {
    const file = join(dir, 'seq-client.json');
    writeFileSync(file, JSON.stringify(p.client), { mode: 0o600 });
    const piv = (sec: OscoreClientSecurity) => {
      const parts = sec.protect(
        { code: 1, options: [], payload: Buffer.alloc(0) },
        { address: '127.0.0.2', port: 5683 },
        'unicast',
      )!.parts;
      return decodePartialIv(decodeOscoreOption(findOption(parts.options, Opt.Oscore)!.value).partialIv!);
    };
    const first = new OscoreClientSecurity(loadOscoreConfig(file));
    assert.deepEqual([piv(first), piv(first)], [0, 1]);
    const seq = `${file}.oscore-0.seq`;
    assert.equal(mode(seq), 0o600);
    assert.equal(readFileSync(seq, 'utf8').trim(), '100');
    assert.equal(piv(new OscoreClientSecurity(loadOscoreConfig(file))), 100);
    writeFileSync(seq, 'garbage');
    assert.throws(() => loadOscoreConfig(file), { code: 'ERR_OSCORE_CONFIG' });
  });

  it('never shows a secret when a keyring is inspected or serialized', () => {
    const k = parseOscoreConfig({ version: 1, oscore: p.client.oscore, group: g[0]!.group });
    const priv = (g[0]!.group as Array<{ privateKey: string }>)[0]!.privateKey;
    for (const text of [inspect(k), JSON.stringify(k)]) {
      assert.ok(!text.includes(secret));
      assert.ok(!text.includes(priv));
    }
  });
});
