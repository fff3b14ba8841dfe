/**
 * Group OSCORE with ES256 (ECDSA on P-256, COSE -7) as Signature Algorithm and ECDH-SS + HKDF-256
 * (-27) on P-256 for the pairwise keys (draft-ietf-core-oscore-groupcomm §2.1.8, §2.5.1): CCS
 * credentials with an EC2 COSE_Key (RFC 9053 §7.1.1); 64-byte r || s countersignatures, checked
 * by verification since ECDSA is randomized; group requests verified by every member and answers
 * by the client through the hooks, with the Echo challenge's pairwise follow-up; tampered and
 * wrong-length signatures refused; the key file's `signatureAlgorithm` and P-256 keys, and
 * `coap-group keys group --signature es256`. The P-256 shared secret, pairwise keys, keystream and
 * an ES256 countersignature are checked against aiocoap's, recorded in
 * test/fixtures/oscore-group-ecdsa-independent.json (its "source" says how).
 */
import assert from 'node:assert/strict';
import { createECDH, createPublicKey, generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runKeys } from '../../src/cli/keys.js';
import { UsageError } from '../../src/cli/usage.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { encodeMessage } from '../../src/message/encode.js';
import { type CoapMessage, MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { findOption } from '../../src/options/values.js';
import { decodeCbor, encodeCbor as encodeAad } from '../../src/oscore/cbor.js';
import { OscoreClientSecurity } from '../../src/oscore/endpoint/client.js';
import { loadOscoreConfig, parseOscoreConfig } from '../../src/oscore/endpoint/config.js';
import { OscoreConfigError } from '../../src/oscore/endpoint/errors.js';
import { generateGroup, type OscoreConfigFile } from '../../src/oscore/endpoint/generate.js';
import { GroupSecurityContext } from '../../src/oscore/group/context.js';
import { ccsCredential, credentialKey, Ec2Curve } from '../../src/oscore/group/credential.js';
import { sharedSecretP256 } from '../../src/oscore/group/pairwise.js';
import { protectGroupRequest, protectGroupResponse } from '../../src/oscore/group/protect.js';
import {
  countersignatureKeystream,
  countersignStructure,
  verifyCountersignature,
  xorKeystream,
} from '../../src/oscore/group/signature.js';
import { unprotectGroupRequest, unprotectGroupResponse } from '../../src/oscore/group/unprotect.js';
import { decodeOscoreOption } from '../../src/oscore/option.js';
import { keyringOf, seededRandom } from '../fixtures/oscore-keys.js';
import type { Received } from '../support/mem-net.js';
import { collect, GROUP, inject, room, texts } from '../support/oscore-group-room.js';

const T = { timeout: 30_000 };
const code = (c: string) => ({ code: c });
const dir = mkdtempSync(join(tmpdir(), 'coap-es256-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const es256Group = (members: number, label = 'es256'): OscoreConfigFile[] =>
  generateGroup({ members, random: seededRandom(label), addresses: ['224.0.1.187'], signature: 'es256' });

const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** Two members of an ES256 group, each knowing the other. */
function pairOfMembers(): { a: GroupSecurityContext; b: GroupSecurityContext; keys: KeyObject[] } {
  const ka = p256();
  const kb = p256();
  const gmCredential = ccsCredential('gm', p256().publicKey);
  const base = {
    masterSecret: Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex'),
    masterSalt: Buffer.from('9e7ca92223786340', 'hex'),
    idContext: Buffer.from('dd11', 'hex'),
    gmCredential,
    signatureAlgorithm: -7 as const,
  };
  const ca = ccsCredential('a', ka.publicKey);
  const cb = ccsCredential('b', kb.publicKey);
  const a = GroupSecurityContext.derive({
    ...base,
    senderId: Buffer.from([0x25]),
    privateKey: ka.privateKey,
    credential: ca,
  });
  const b = GroupSecurityContext.derive({
    ...base,
    senderId: Buffer.from([0x52]),
    privateKey: kb.privateKey,
    credential: cb,
  });
  a.addRecipient(Buffer.from([0x52]), cb);
  b.addRecipient(Buffer.from([0x25]), ca);
  return { a, b, keys: [ka.privateKey, kb.privateKey] };
}

const GET: CoapMessage = {
  type: MessageType.NON,
  code: 1,
  messageId: 1,
  token: Buffer.from([1]),
  options: [{ number: Opt.UriPath, value: Buffer.from('light') }],
  payload: Buffer.alloc(0),
};

describe('ES256 primitives (draft §2.1.8, §2.4, §2.5.1)', () => {
  it('builds a CCS with an EC2 P-256 COSE_Key and reads it back', () => {
    const k = p256();
    const cred = ccsCredential('node', k.publicKey);
    const map = decodeCbor(cred) as Map<number, unknown>;
    const coseKey = (map.get(8) as Map<number, unknown>).get(1) as Map<number, unknown>;
    assert.deepEqual([...coseKey.keys()], [1, 3, -1, -2, -3], 'kty, alg, crv, x, y in deterministic order');
    assert.equal(coseKey.get(1), 2);
    assert.equal(coseKey.get(3), -7, 'alg ES256 (RFC 9053 §2.1)');
    assert.equal(coseKey.get(-1), Ec2Curve.P256);
    const read = credentialKey(cred);
    const jwk = k.publicKey.export({ format: 'jwk' });
    assert.equal(read.kty, 2);
    assert.equal(read.x.toString('base64url'), jwk.x);
    assert.equal(read.y!.toString('base64url'), jwk.y);
    // A point off the curve is refused as a credential format error.
    const off = Buffer.from(cred);
    off[off.length - 1]! ^= 1;
    assert.throws(() => credentialKey(off), code('ERR_OSCORE_FORMAT'));
  });

  it('derives the same P-256 shared secret on both sides (the x-coordinate, 32 bytes)', () => {
    const a = createECDH('prime256v1');
    a.generateKeys();
    const b = p256();
    const aKey = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: a.getPublicKey().subarray(1, 33).toString('base64url'),
        y: a.getPublicKey().subarray(33).toString('base64url'),
      },
      format: 'jwk',
    });
    const secret = sharedSecretP256(b.privateKey, aKey);
    assert.equal(secret.length, 32);
    const other = a.computeSecret(
      Buffer.from(b.publicKey.export({ format: 'der', type: 'spki' }).subarray(-65)),
    );
    assert.ok(secret.equals(other));
    assert.throws(
      () => sharedSecretP256(generateKeyPairSync('ed25519').privateKey, aKey),
      InvalidArgumentError,
    );
  });

  it('pairwise keys agree between two members', () => {
    const { a, b } = pairOfMembers();
    const ab = a.recipient(Buffer.from([0x52]))!.pairwiseKeys();
    const ba = b.recipient(Buffer.from([0x25]))!.pairwiseKeys();
    assert.ok(ab.sender.equals(ba.recipient));
    assert.ok(ab.recipient.equals(ba.sender));
    assert.ok(!ab.sender.equals(ab.recipient));
  });

  it('protects a group request with a 64-byte ES256 signature that verifies with SHA-256', () => {
    const { a, b } = pairOfMembers();
    assert.equal(a.common.signatureAlgorithm, -7);
    const { message, binding } = protectGroupRequest(GET, a);
    const opened = unprotectGroupRequest(message, b);
    assert.equal(opened.mode, 'group');
    assert.equal(opened.request.options[0]!.value.toString(), 'light');
    // Independently: decrypt the signature with the keystream and verify it with node:crypto.
    const oscore = findOption(message.options, Opt.Oscore)!.value;
    const o = decodeOscoreOption(oscore, { allowGroupFlag: true });
    const ks = countersignatureKeystream({
      signatureEncryptionKey: a.common.signatureEncryptionKey!,
      partialIv: o.partialIv!,
      id: o.kid!,
      idContext: o.kidContext!,
      request: true,
      length: 64,
    });
    const ct = message.payload.subarray(0, -64);
    const sig = xorKeystream(message.payload.subarray(-64), ks);
    const aad = groupAadOf(a, o.kid!, o.partialIv!, oscore);
    const tbs = countersignStructure(aad, ct);
    const pub = credentialKey(a.sender.credential).publicKey;
    assert.ok(verify('sha256', tbs, { key: pub, dsaEncoding: 'ieee-p1363' }, sig));
    // ECDSA is randomized: the same request protected twice signs differently.
    const again = protectGroupRequest(GET, a).message;
    assert.notDeepEqual(again.payload.subarray(-64), message.payload.subarray(-64));
    // The response, in the group mode and then in the pairwise mode (a fresh Partial IV).
    const reply = { ...GET, code: 0x45, payload: Buffer.from('on') };
    const r1 = protectGroupResponse(reply, b, opened.binding);
    assert.equal(unprotectGroupResponse(r1, a, binding).response.payload.toString(), 'on');
    const pw = protectGroupRequest(GET, a, { mode: 'pairwise', recipientId: Buffer.from([0x52]) });
    const pwOpened = unprotectGroupRequest(pw.message, b);
    assert.equal(pwOpened.mode, 'pairwise');
    const r2 = protectGroupResponse(reply, b, pwOpened.binding);
    assert.equal(unprotectGroupResponse(r2, a, pw.binding).response.payload.toString(), 'on');
  });

  it('refuses a tampered signature and one of the wrong length', () => {
    const { a, b } = pairOfMembers();
    const { message } = protectGroupRequest(GET, a);
    const flipped = Buffer.from(message.payload);
    flipped[flipped.length - 1]! ^= 1;
    assert.throws(
      () => unprotectGroupRequest({ ...message, payload: flipped }, b),
      code('ERR_OSCORE_SIGNATURE'),
    );
    // One byte short: the split leaves a ciphertext whose signature does not verify.
    assert.throws(
      () => unprotectGroupRequest({ ...message, payload: message.payload.subarray(1) }, b),
      code('ERR_OSCORE_SIGNATURE'),
    );
    // Too short to hold a signature and a tag.
    assert.throws(
      () => unprotectGroupRequest({ ...message, payload: message.payload.subarray(0, 70) }, b),
      code('ERR_OSCORE_FORMAT'),
    );
    const pub = credentialKey(a.sender.credential).publicKey;
    for (const n of [0, 63, 65, 72]) {
      assert.throws(
        () => verifyCountersignature(pub, Buffer.alloc(1), Buffer.alloc(9), Buffer.alloc(n)),
        code('ERR_OSCORE_SIGNATURE'),
      );
    }
    // The replay window did not move: the untampered request is accepted.
    assert.equal(unprotectGroupRequest(message, b).mode, 'group');
  });

  it('refuses keys of the other curve', () => {
    const { a } = pairOfMembers();
    const ed = generateKeyPairSync('ed25519');
    assert.throws(
      () => a.addRecipient(Buffer.from([9]), ccsCredential('ed', ed.publicKey)),
      InvalidArgumentError,
    );
    const base = {
      masterSecret: Buffer.alloc(16, 1),
      idContext: Buffer.from([1]),
      gmCredential: Buffer.alloc(0),
      senderId: Buffer.from([1]),
    };
    assert.throws(
      () =>
        GroupSecurityContext.derive({
          ...base,
          signatureAlgorithm: -7,
          privateKey: ed.privateKey,
          credential: ccsCredential('x', ed.publicKey),
        }),
      InvalidArgumentError,
    );
    const ec = p256();
    assert.throws(
      () =>
        GroupSecurityContext.derive({
          ...base,
          privateKey: ec.privateKey,
          credential: ccsCredential('x', ec.publicKey),
        }),
      InvalidArgumentError,
      'an EdDSA group (the default) takes no P-256 key',
    );
  });
});

interface Vectors {
  inputs: {
    masterSecret: string;
    masterSalt: string;
    gid: string;
    client: { id: string; privateKey: string; credential: string };
    server: { id: string; privateKey: string; credential: string };
    gmCredential: string;
  };
  pairwise: { sharedSecret: string; clientSenderKey: string; clientRecipientKey: string };
  groupRequest: Record<
    | 'oscoreOption'
    | 'payload'
    | 'externalAad'
    | 'ciphertext'
    | 'countersignStructure'
    | 'signature'
    | 'keystream',
    string
  >;
}
const V = JSON.parse(
  readFileSync(new URL('../fixtures/oscore-group-ecdsa-independent.json', import.meta.url), 'utf8'),
) as Vectors;
const hex = (s: string) => Buffer.from(s, 'hex');

/** A P-256 private key from its scalar, as the key file reads it. */
function scalarKey(d: Buffer): KeyObject {
  return parseOscoreConfig({
    group: [
      {
        groupId: '00',
        masterSecret: '01',
        senderId: '01',
        signatureAlgorithm: -7,
        privateKey: d.toString('hex'),
      },
    ],
  }).groupEntries[0]!.context.sender.privateKey;
}

describe('ES256 and P-256 pairwise keys agree with aiocoap', () => {
  const I = V.inputs;
  const client = GroupSecurityContext.derive({
    masterSecret: hex(I.masterSecret),
    masterSalt: hex(I.masterSalt),
    idContext: hex(I.gid),
    gmCredential: hex(I.gmCredential),
    signatureAlgorithm: -7,
    senderId: hex(I.client.id),
    privateKey: scalarKey(hex(I.client.privateKey)),
    credential: hex(I.client.credential),
  });
  const server = client.addRecipient(hex(I.server.id), hex(I.server.credential));

  it('the ECDH shared secret and both pairwise keys', () => {
    const secret = sharedSecretP256(client.sender.privateKey, server.publicKey);
    assert.equal(secret.toString('hex'), V.pairwise.sharedSecret);
    const keys = server.pairwiseKeys();
    assert.equal(keys.sender.toString('hex'), V.pairwise.clientSenderKey);
    assert.equal(keys.recipient.toString('hex'), V.pairwise.clientRecipientKey);
  });

  it("verifies aiocoap's ES256 countersignature and derives its keystream", () => {
    const g = V.groupRequest;
    const tbs = countersignStructure(hex(g.externalAad), hex(g.ciphertext), 'rfc8152');
    assert.equal(tbs.toString('hex'), g.countersignStructure);
    const pub = credentialKey(client.sender.credential).publicKey;
    verifyCountersignature(pub, hex(g.externalAad), hex(g.ciphertext), hex(g.signature), 'rfc8152');
    const o = decodeOscoreOption(hex(g.oscoreOption), { allowGroupFlag: true });
    const ks = countersignatureKeystream({
      signatureEncryptionKey: client.common.signatureEncryptionKey!,
      partialIv: o.partialIv!,
      id: o.kid!,
      idContext: o.kidContext!,
      request: true,
      length: 64,
    });
    assert.equal(ks.toString('hex'), g.keystream);
    assert.equal(
      Buffer.concat([hex(g.ciphertext), xorKeystream(hex(g.signature), ks)]).toString('hex'),
      g.payload,
    );
    const bad = hex(g.signature);
    bad[0]! ^= 1;
    assert.throws(
      () => verifyCountersignature(pub, hex(g.externalAad), hex(g.ciphertext), bad, 'rfc8152'),
      code('ERR_OSCORE_SIGNATURE'),
    );
  });
});

/** The external_aad of a request protected by `ctx`, recomputed from its fields. */
function groupAadOf(ctx: GroupSecurityContext, kid: Buffer, piv: Buffer, oscore: Buffer): Buffer {
  const c = ctx.common;
  return Buffer.from(
    encodeAad([
      1,
      [c.aead!.alg, c.groupEncryption!.alg, -7, -27],
      kid,
      piv,
      Buffer.alloc(0),
      c.idContext,
      oscore,
      ctx.sender.credential,
      c.gmCredential,
    ]),
  );
}

const oscoreOf = (m: CoapMessage) =>
  decodeOscoreOption(findOption(m.options, Opt.Oscore)!.value, { allowGroupFlag: true });
const unicastAt = (log: readonly Received[]) =>
  log.filter((x) => !x.multicast && x.msg !== undefined && x.msg.code <= 31).map((x) => oscoreOf(x.msg!));

describe('ES256 groups through the hooks on the memory network (draft §7, §8, §10)', () => {
  it(
    'members verify the group request; the client verifies answers after the pairwise Echo follow-up',
    T,
    async () => {
      const r = await room(3, { leisure: 1, files: es256Group(4) });
      const client = keyringOf(r.files[0]!);
      assert.equal(client.groupEntries[0]!.context.common.signatureAlgorithm, -7);
      const { client: c, log } = await r.n.client(client, '192.0.2.90');
      const first = await r.n.rt.settle(c.group({ uri: 'coap://224.0.1.187/light', window: 3000 }).collect());
      assert.deepEqual(texts(first), ['node1', 'node2', 'node3']);
      assert.equal(r.seen.length, 3, 'delivered once each, after the follow-up');
      for (const at of r.atServers) {
        const follow = unicastAt(at);
        assert.equal(follow.length, 1, 'one unicast follow-up per member');
        assert.equal(follow[0]!.groupFlag ?? false, false, 'in the pairwise mode: P-256 ECDH keys');
      }
      const answers = log.map((x) => oscoreOf(x.msg!));
      assert.equal(answers.filter((o) => o.groupFlag === true).length, 3, 'the challenges, signed');
      assert.equal(answers.filter((o) => o.groupFlag !== true).length, 3, 'the answers, pairwise');
      // Fresh now: the next group request is delivered at once, answered in the group mode.
      const second = await collect(r, client);
      assert.deepEqual(texts(second), ['node1', 'node2', 'node3']);
      assert.equal(r.seen.length, 6);
      await r.n.close();
    },
  );

  it('drops a tampered or shortened signature at every member', T, async () => {
    const r = await room(3, { leisure: 1, echo: false, files: es256Group(4, 'es256-tamper') });
    const sec = new OscoreClientSecurity(keyringOf(r.files[0]!));
    const prot = sec.protect(
      { code: 1, options: [{ number: Opt.UriPath, value: Buffer.from('light') }], payload: Buffer.alloc(0) },
      GROUP,
      'group',
    )!;
    const request = (mid: number, payload: Buffer) =>
      encodeMessage({
        type: MessageType.NON,
        messageId: mid,
        token: Buffer.from([1, 2]),
        ...prot.parts,
        payload,
      });
    const flipped = Buffer.from(prot.parts.payload);
    flipped[flipped.length - 5]! ^= 0x80;
    assert.equal(await inject(r, request(0x100, flipped)), 0);
    assert.equal(await inject(r, request(0x101, prot.parts.payload.subarray(0, -1))), 0);
    assert.equal(await inject(r, request(0x102, Buffer.concat([prot.parts.payload, Buffer.from([0])]))), 0);
    assert.equal(r.seen.length, 0);
    assert.equal(await inject(r, request(0x200, prot.parts.payload)), 3);
    assert.equal(r.seen.length, 3);
    await r.n.close();
  });
});

function mutate(f: OscoreConfigFile, change: (g: Record<string, unknown>) => void): OscoreConfigFile {
  const copy = JSON.parse(JSON.stringify(f)) as { group: Array<Record<string, unknown>> };
  change(copy.group[0]!);
  return copy as unknown as OscoreConfigFile;
}

function fieldError(f: OscoreConfigFile, field: string): void {
  assert.throws(
    () => parseOscoreConfig(f),
    (err: unknown) => err instanceof OscoreConfigError && err.field === field,
    field,
  );
}

describe('ES256 key files and coap-group keys group --signature', () => {
  const files = es256Group(3, 'es256-config');

  it('writes -7, 32-byte scalars and 65-byte points, which load; compressed points work too', () => {
    const g = files[0]!.group as Array<Record<string, unknown>>;
    assert.equal(g[0]!.signatureAlgorithm, -7);
    assert.match(g[0]!.privateKey as string, /^[0-9a-f]{64}$/);
    const members = g[0]!.members as Array<{ publicKey: string }>;
    for (const m of members) assert.match(m.publicKey, /^04[0-9a-f]{128}$/);
    const k = parseOscoreConfig(files[1]!);
    const ctx = k.groupEntries[0]!.context;
    assert.equal(ctx.common.signatureAlgorithm, -7);
    assert.equal(credentialKey(ctx.sender.credential).kty, 2);
    // A compressed point (SEC 1 §2.3.3) makes the same credential as the uncompressed one.
    const compressed = mutate(files[1]!, (e) => {
      for (const m of e.members as Array<{ publicKey: string }>)
        m.publicKey = compress(Buffer.from(m.publicKey, 'hex'));
    });
    const k2 = parseOscoreConfig(compressed);
    assert.deepEqual(k2.groupEntries[0]!.members, k.groupEntries[0]!.members);
    assert.equal(k.groupEntries[0]!.members.size, 2);
    // Default: EdDSA, and the file says nothing about it.
    const ed = generateGroup({ members: 1, random: seededRandom('ed') });
    assert.equal((ed[0]!.group as Array<Record<string, unknown>>)[0]!.signatureAlgorithm, undefined);
  });

  it('refuses bad values with OscoreConfigError naming the field', () => {
    fieldError(
      mutate(files[0]!, (e) => (e.signatureAlgorithm = -35)),
      'group[0].signatureAlgorithm',
    );
    fieldError(
      mutate(files[0]!, (e) => (e.signatureAlgorithm = '-7')),
      'group[0].signatureAlgorithm',
    );
    fieldError(
      mutate(files[0]!, (e) => (e.privateKey = 'ff'.repeat(32))),
      'group[0].privateKey',
    );
    fieldError(
      mutate(files[0]!, (e) => (e.privateKey = '00'.repeat(32))),
      'group[0].privateKey',
    );
    fieldError(
      mutate(files[0]!, (e) => (e.privateKey = '01'.repeat(31))),
      'group[0].privateKey',
    );
    const member = (i: number, v: string) =>
      mutate(files[0]!, (e) => {
        (e.members as Array<{ publicKey: string }>)[i]!.publicKey = v;
      });
    fieldError(member(1, '11'.repeat(32)), 'group[0].members[1].publicKey');
    fieldError(member(1, `04${'01'.repeat(64)}`), 'group[0].members[1].publicKey');
    fieldError(member(1, `05${'01'.repeat(64)}`), 'group[0].members[1].publicKey');
    // A CCS credential must hold a P-256 key too.
    const edCred = ccsCredential('ed', generateKeyPairSync('ed25519').publicKey).toString('hex');
    const withCred = mutate(files[0]!, (e) => {
      (e.members as Array<Record<string, unknown>>)[1] = { id: '02', credential: edCred };
    });
    fieldError(withCred, 'group[0].members[1].credential');
    // Its own entry must hold the public half of privateKey.
    const other = (files[0]!.group as Array<{ members: Array<{ publicKey: string }> }>)[0]!.members[1]!
      .publicKey;
    fieldError(member(0, other), 'group[0].members[0].publicKey');
    // An EdDSA file declared -7: its Ed25519 public keys are not P-256 points.
    const ed = generateGroup({ members: 2, random: seededRandom('ed2') });
    assert.throws(
      () => parseOscoreConfig(mutate(ed[0]!, (e) => (e.signatureAlgorithm = -7))),
      (err: unknown) => err instanceof OscoreConfigError && /^group\[0\]/.test(err.field),
    );
  });

  it('coap-group keys group --signature es256 writes loadable files; bad values are usage errors', {
    timeout: 30_000,
  }, async () => {
    const out = join(dir, 'es256');
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      assert.equal(await runKeys(['group', '--members', '2', '--out', out, '--signature', 'es256']), 0);
      await assert.rejects(
        runKeys(['group', '--members', '2', '--out', out, '--signature', 'rsa']),
        UsageError,
      );
      await assert.rejects(runKeys(['oscore', '--out', out, '--signature', 'es256']), UsageError);
    } finally {
      process.stdout.write = write;
    }
    for (const n of [1, 2]) {
      const k = loadOscoreConfig(join(out, `member-${n}.json`));
      assert.equal(k.groupEntries[0]!.context.common.signatureAlgorithm, -7);
    }
  });
});

/** The compressed SEC 1 form of an uncompressed P-256 point. */
function compress(point: Buffer): string {
  const y = point.subarray(33);
  return Buffer.concat([Buffer.from([2 + (y[31]! & 1)]), point.subarray(1, 33)]).toString('hex');
}
