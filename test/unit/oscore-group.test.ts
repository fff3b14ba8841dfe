/**
 * Group OSCORE (draft-ietf-core-oscore-groupcomm): the compression examples of §4.3, the
 * Signature Encryption Key (§2.1.9), the keystream (§4.2), Ed25519-to-X25519 pairwise keys
 * (§2.5.1, §2.5.2), and group and pairwise mode round trips with their failure modes (§7, §8).
 * Keys come from fixed seeds (RFC 8032 §7.1 test 1-3), so every run is the same.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { Code, Method } from '../../src/message/codes.js';
import { decodeMessage } from '../../src/message/decode.js';
import { encodeMessage } from '../../src/message/encode.js';
import { type CoapMessage, EMPTY, MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { encodeUint } from '../../src/options/values.js';
import { deriveInfo } from '../../src/oscore/context.js';
import { OscoreError } from '../../src/oscore/errors.js';
import {
  ccsCredential,
  countersignatureKeystream,
  credentialKey,
  ed25519PrivateToX25519,
  ed25519PublicToX25519,
  GroupSecurityContext,
  protectGroupRequest,
  protectGroupResponse,
  sharedSecret,
  splitGroupPayload,
  unprotectGroupRequest,
  unprotectGroupResponse,
  xorKeystream,
} from '../../src/oscore/group/index.js';
import { decodeOscoreOption, encodeOscoreOption } from '../../src/oscore/option.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const code = (c: string) => (e: unknown) => e instanceof OscoreError && e.code === c;
const wire = (m: CoapMessage): CoapMessage => decodeMessage(encodeMessage(m));

/** Ed25519 private keys from RFC 8032 §7.1 TEST 1, 2, 3 seeds and a fourth for the Group Manager. */
const SEEDS = [
  '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
  'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
  '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
];
const edKey = (seed: string): KeyObject =>
  createPrivateKey({
    key: Buffer.concat([hex('302e020100300506032b657004220420'), hex(seed)]),
    format: 'der',
    type: 'pkcs8',
  });
const KEYS = SEEDS.map(edKey);
const CREDS = KEYS.map((k, i) => ccsCredential(`member-${i}`, createPublicKey(k)));

const GID = hex('44616c'); // "Dal", as in the draft's examples
const SECRET = hex('0102030405060708090a0b0c0d0e0f10');
const SALT = hex('9e7ca92223786340');
const IDS = [hex('25'), hex('52'), hex('53')];

function member(
  i: number,
  extra: Partial<Parameters<typeof GroupSecurityContext.derive>[0]> = {},
): GroupSecurityContext {
  const ctx = GroupSecurityContext.derive({
    masterSecret: SECRET,
    masterSalt: SALT,
    idContext: GID,
    gmCredential: CREDS[3]!,
    senderId: IDS[i]!,
    privateKey: KEYS[i]!,
    credential: CREDS[i]!,
    ...extra,
  });
  for (let j = 0; j < IDS.length; j++) if (j !== i) ctx.addRecipient(IDS[j]!, CREDS[j]!);
  return ctx;
}

function msg(c: number, options: CoapMessage['options'] = [], payload = EMPTY): CoapMessage {
  return { type: MessageType.NON, code: c, messageId: 7, token: hex('a1b2c3d4'), options, payload };
}

describe('Group OSCORE compression examples (draft §4.3)', () => {
  it('encodes the group mode request and response option values', () => {
    assert.equal(
      encodeOscoreOption({ partialIv: hex('05'), kidContext: GID, kid: hex('25'), groupFlag: true }).toString(
        'hex',
      ),
      '39050344616c25',
    );
    assert.equal(encodeOscoreOption({ kid: hex('52'), groupFlag: true }).toString('hex'), '2852');
    const back = decodeOscoreOption(hex('2852'), { allowGroupFlag: true });
    assert.deepEqual([back.groupFlag, back.kid?.toString('hex'), back.partialIv], [true, '52', undefined]);
  });

  it('encodes the pairwise mode request and response option values (Group Flag 0)', () => {
    assert.equal(
      encodeOscoreOption({ partialIv: hex('05'), kidContext: GID, kid: hex('25') }).toString('hex'),
      '19050344616c25',
    );
    assert.equal(encodeOscoreOption({}).length, 0);
  });

  it('splits a group mode payload into the 14-byte ciphertext and the 64-byte encrypted countersignature', () => {
    const ciphertext = hex('aea0155667924dff8a24e4cb35b9');
    const sig = hex(
      '66e6d9b0db009f3e105a673f8855611726caed57f530f8cae9d0b168513ab949fedc3e80a96ebe94ba08d3f8d3bf83487458e2ab4c2f936ff78b50e33c885e35',
    );
    const split = splitGroupPayload(Buffer.concat([ciphertext, sig]), 64, 8);
    assert.equal(split.ciphertext.toString('hex'), ciphertext.toString('hex'));
    assert.equal(split.encryptedSignature.toString('hex'), sig.toString('hex'));
    assert.throws(() => splitGroupPayload(sig, 64, 8), code('ERR_OSCORE_FORMAT'));
  });
});

describe('Group OSCORE key material', () => {
  it('derives the Signature Encryption Key with info [h\'\', Gid, 10, "SEKey", 16] (draft §2.1.9)', () => {
    const info = deriveInfo(EMPTY, GID, 10, 'SEKey', 16);
    assert.equal(info.toString('hex'), '85404344616c0a6553454b657910');
    const ctx = member(0);
    assert.equal(ctx.common.signatureEncryptionKey?.length, 16);
    assert.equal(ctx.common.commonIv.length, 13);
    assert.ok(!ctx.common.signatureEncryptionKey!.equals(ctx.sender.key));
  });

  it('gives every member the same Common Context and mirrored Sender/Recipient Keys', () => {
    const [a, b] = [member(0), member(1)];
    assert.ok(a.common.commonIv.equals(b.common.commonIv));
    assert.ok(a.sender.key.equals(b.recipient(IDS[0]!)!.key));
    assert.ok(b.sender.key.equals(a.recipient(IDS[1]!)!.key));
  });

  it('derives the keystream from info [id, Gid, true/false, 64] and XOR round-trips (draft §4.2)', () => {
    const base = {
      signatureEncryptionKey: hex('00112233445566778899aabbccddeeff'),
      partialIv: hex('05'),
      id: hex('25'),
    };
    const req = countersignatureKeystream({ ...base, idContext: GID, request: true, length: 64 });
    const resp = countersignatureKeystream({ ...base, idContext: GID, request: false, length: 64 });
    assert.equal(req.length, 64);
    assert.ok(!req.equals(resp), 'requests and responses use different keystreams');
    const sig = Buffer.alloc(64, 0x5a);
    assert.ok(xorKeystream(xorKeystream(sig, req), req).equals(sig));
  });

  it('maps Ed25519 keys to X25519 consistently and agrees on one shared secret (draft §2.5.2.1)', () => {
    for (const k of KEYS) {
      const edPublic = credentialKey(ccsCredential('x', createPublicKey(k))).x;
      const viaField = ed25519PublicToX25519(edPublic);
      const viaScalar = Buffer.from(
        createPublicKey(ed25519PrivateToX25519(k)).export({ format: 'jwk' }).x!,
        'base64url',
      );
      assert.equal(viaField.toString('hex'), viaScalar.toString('hex'));
    }
    const pubA = credentialKey(CREDS[0]!).x;
    const pubB = credentialKey(CREDS[1]!).x;
    assert.ok(sharedSecret(KEYS[0]!, pubB, 'Ed25519').equals(sharedSecret(KEYS[1]!, pubA, 'Ed25519')));
    assert.throws(
      () => ed25519PublicToX25519(Buffer.concat([Buffer.from([1]), Buffer.alloc(31)])),
      code('ERR_OSCORE_FORMAT'),
    );
  });

  it('derives mirrored pairwise keys that differ per pair (draft §2.5.1)', () => {
    const [a, b] = [member(0), member(1)];
    const ab = a.recipient(IDS[1]!)!.pairwiseKeys();
    const ba = b.recipient(IDS[0]!)!.pairwiseKeys();
    assert.ok(ab.sender.equals(ba.recipient));
    assert.ok(ab.recipient.equals(ba.sender));
    assert.ok(!ab.sender.equals(a.recipient(IDS[2]!)!.pairwiseKeys().sender));
    assert.ok(!ab.sender.equals(a.sender.key));
  });

  it('checks the inputs eagerly', () => {
    assert.throws(() => member(0, { credential: CREDS[1]! }), { code: 'ERR_COAP_INVALID_ARGUMENT' });
    assert.throws(() => member(0, { signatureAlgorithm: null }), { code: 'ERR_COAP_INVALID_ARGUMENT' });
    assert.throws(
      () => member(0, { groupEncryptionAlgorithm: null, signatureAlgorithm: null, aeadAlgorithm: null }),
      {
        code: 'ERR_COAP_INVALID_ARGUMENT',
      },
    );
    assert.throws(() => member(0).addRecipient(IDS[0]!, CREDS[1]!), { code: 'ERR_COAP_INVALID_ARGUMENT' });
    assert.throws(() => member(0, { maxRecipients: 1 }), { code: 'ERR_COAP_INVALID_ARGUMENT' });
    assert.throws(() => credentialKey(hex('a0')), code('ERR_OSCORE_FORMAT'));
  });
});

describe('Group OSCORE group mode', () => {
  it("protects one request that two servers verify, and verifies both servers' responses", () => {
    const [client, s1, s2] = [member(0), member(1), member(2)];
    const { message, binding } = protectGroupRequest(
      msg(Method.GET, [{ number: Opt.UriPath, value: Buffer.from('light') }]),
      client,
    );
    const outer = wire(message);
    assert.equal(outer.code, Method.POST);
    const oscore = outer.options.find((o) => o.number === Opt.Oscore)!.value;
    assert.equal(oscore.toString('hex'), '39000344616c25', 'Group Flag, Partial IV 0, kid context, kid');
    assert.equal(outer.payload.length, 1 + 5 + 1 + 8 + 64, 'code, Uri-Path, tag and signature');
    const answers = [s1, s2].map((s, i) => {
      const got = unprotectGroupRequest(outer, s);
      assert.equal(got.mode, 'group');
      assert.equal(got.request.options[0]?.value.toString(), 'light');
      return wire(protectGroupResponse(msg(Code.Content, [], Buffer.from(`on ${i}`)), s, got.binding));
    });
    assert.equal(answers[0]!.options.find((o) => o.number === Opt.Oscore)!.value.toString('hex'), '2852');
    const results = answers.map((a) => unprotectGroupResponse(a, client, binding));
    assert.deepEqual(
      results.map((r) => [r.serverId.toString('hex'), r.response.payload.toString()]),
      [
        ['52', 'on 0'],
        ['53', 'on 1'],
      ],
    );
    assert.throws(() => unprotectGroupResponse(answers[0]!, client, binding), code('ERR_OSCORE_REPLAY'));
  });

  it('rejects a replayed request, and a tampered countersignature without moving the replay window', () => {
    const [client, server] = [member(0), member(1)];
    const outer = wire(protectGroupRequest(msg(Method.POST, [], Buffer.from('x')), client).message);
    const bad = { ...outer, payload: Buffer.from(outer.payload) };
    bad.payload[bad.payload.length - 1]! ^= 1;
    assert.throws(() => unprotectGroupRequest(bad, server), code('ERR_OSCORE_SIGNATURE'));
    unprotectGroupRequest(outer, server);
    assert.throws(() => unprotectGroupRequest(outer, server), code('ERR_OSCORE_REPLAY'));
  });

  it("rejects a member impersonating another (signature checked with the claimed kid's key)", () => {
    const server = member(1);
    // Mallory (member 2) knows the group keys but signs with her own key while claiming kid 0x25.
    const forged = GroupSecurityContext.derive({
      masterSecret: SECRET,
      masterSalt: SALT,
      idContext: GID,
      gmCredential: CREDS[3]!,
      senderId: IDS[0]!,
      privateKey: KEYS[2]!,
      credential: CREDS[2]!,
    });
    const outer = wire(protectGroupRequest(msg(Method.GET), forged).message);
    assert.throws(() => unprotectGroupRequest(outer, server), code('ERR_OSCORE_SIGNATURE'));
  });

  it('carries Observe notifications with increasing Partial IVs per server', () => {
    const [client, server] = [member(0), member(1)];
    const { message, binding } = protectGroupRequest(
      msg(Method.GET, [{ number: Opt.Observe, value: EMPTY }]),
      client,
    );
    assert.equal(message.code, Method.FETCH);
    const got = unprotectGroupRequest(wire(message), server);
    const n = (v: number) =>
      wire(
        protectGroupResponse(
          msg(Code.Content, [{ number: Opt.Observe, value: encodeUint(v) }]),
          server,
          got.binding,
        ),
      );
    const [first, second, third] = [n(1), n(2), n(3)];
    unprotectGroupResponse(first, client, binding);
    unprotectGroupResponse(third, client, binding);
    assert.throws(() => unprotectGroupResponse(second, client, binding), code('ERR_OSCORE_REPLAY'));
    assert.equal(binding.server(IDS[1]!).responseNumber, 1);
  });

  it('answers unknown groups and members with ERR_OSCORE_UNKNOWN_KID', () => {
    const [client, server] = [member(0), member(1)];
    const outer = wire(protectGroupRequest(msg(Method.GET), client).message);
    server.removeRecipient(IDS[0]!);
    assert.throws(() => unprotectGroupRequest(outer, server), code('ERR_OSCORE_UNKNOWN_KID'));
    assert.throws(() => unprotectGroupRequest(outer, () => undefined), code('ERR_OSCORE_UNKNOWN_KID'));
  });

  it('discards group mode messages in a group without the group mode (draft §6)', () => {
    const client = member(0);
    const pairwiseOnly = member(1, { groupEncryptionAlgorithm: null, signatureAlgorithm: null });
    const outer = wire(protectGroupRequest(msg(Method.GET), client).message);
    assert.throws(() => unprotectGroupRequest(outer, pairwiseOnly), code('ERR_OSCORE_FORMAT'));
  });
});

describe('Group OSCORE pairwise mode', () => {
  it('protects for one server only; the response carries no kid', () => {
    const [client, s1, s2] = [member(0), member(1), member(2)];
    const { message, binding } = protectGroupRequest(msg(Method.GET), client, {
      mode: 'pairwise',
      recipientId: IDS[1]!,
    });
    const outer = wire(message);
    assert.equal(outer.options.find((o) => o.number === Opt.Oscore)!.value.toString('hex'), '19000344616c25');
    assert.equal(outer.payload.length, 1 + 8, 'no countersignature');
    assert.throws(() => unprotectGroupRequest(outer, s2), code('ERR_OSCORE_DECRYPT'));
    const got = unprotectGroupRequest(outer, s1);
    assert.equal(got.mode, 'pairwise');
    const resp = wire(protectGroupResponse(msg(Code.Content, [], Buffer.from('hi')), s1, got.binding));
    assert.equal(resp.options.find((o) => o.number === Opt.Oscore)!.value.length, 0);
    const back = unprotectGroupResponse(resp, client, binding);
    assert.equal(back.response.payload.toString(), 'hi');
    assert.equal(back.serverId.toString('hex'), '52');
  });

  it('needs a known recipient', () => {
    assert.throws(() => protectGroupRequest(msg(Method.GET), member(0), { mode: 'pairwise' }), {
      code: 'ERR_COAP_INVALID_ARGUMENT',
    });
  });
});
