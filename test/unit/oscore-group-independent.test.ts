/**
 * Group OSCORE (draft-ietf-core-oscore-groupcomm-28) against vectors computed by an independent
 * implementation, aiocoap: test/fixtures/oscore-group-independent.json names its version, commit and
 * the draft version it implements, and holds the inputs (Master Secret and Salt, Gid, Sender IDs,
 * Ed25519 seeds, CCS credentials, Sender Sequence Numbers) and aiocoap's outputs.
 *
 * Checked byte for byte: the Common IV, Sender/Recipient Keys and Signature Encryption Key
 * (§2.1.4, §2.1.9, §2.3), the X25519 shared secret and pairwise keys (§2.5.1, §2.5.2); for group
 * mode (§7) and pairwise mode (§8) requests and responses the OSCORE option (§4.1), plaintext,
 * external_aad (§3.4), nonce (§3.3), ciphertext and, in group mode, the keystream (§4.2). Our
 * unprotect functions must accept aiocoap's bytes (in group mode with the signature noted below).
 *
 * Where the two differ, the fixture's "differences" says why and with which sections:
 * - aiocoap's Countersign_structure keeps an empty 'sign_protected' that RFC 9338 §3.3 omits for
 *   Countersignature0 version 2, so its 64 signature bytes differ. Here aiocoap's signature is
 *   checked to cover our external_aad and ciphertext, and our whole group mode payload is compared
 *   with the fixture's "rfc9338" payload: aiocoap's ciphertext and keystream with a signature over
 *   the RFC 9338 structure.
 * - aiocoap also sends 'kid' in pairwise responses (allowed, RFC 8613 §5); that form is checked
 *   through unprotect only.
 * - With the `countersignature: 'rfc8152'` layout, our group mode messages are aiocoap's byte
 *   for byte, signature included. aiocoap's own messages verify in either layout setting, since
 *   a member tries the other layout when its own fails.
 * - A group mode request may be answered in pairwise mode (draft §1, §6, §7.4; aiocoap's default).
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeMessage } from '../../src/message/decode.js';
import { encodeMessage } from '../../src/message/encode.js';
import { type CoapMessage, EMPTY, MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { encodeCbor } from '../../src/oscore/cbor.js';
import { computeNonce } from '../../src/oscore/cose.js';
import {
  countersignatureKeystream,
  credentialKey,
  GroupSecurityContext,
  protectGroupRequest,
  protectGroupResponse,
  sharedSecret,
  unprotectGroupRequest,
  unprotectGroupResponse,
  verifyCountersignature,
  xorKeystream,
} from '../../src/oscore/group/index.js';
import { type GroupOscoreMode, groupAad } from '../../src/oscore/group/mode.js';
import { encodePlaintext } from '../../src/oscore/plaintext.js';
import { CounterSequence } from '../../src/oscore/sequence.js';

interface InnerVector {
  code: number;
  options: [number, string][];
  payload: string;
}
interface MessageVector {
  description?: string;
  inner: InnerVector;
  protected: { code: number; oscoreOption: string; payload: string };
  partialIv?: string;
  plaintext: string;
  aad: string;
  externalAad: string;
  nonce: string;
  key: string;
  ciphertext: string;
  keystreamInfo?: { id: string; salt: string; request: boolean };
  keystream?: string;
  countersignStructure?: string;
  signature?: string;
  rfc9338?: { countersignStructure: string; signature: string; payload: string };
}
interface Inputs {
  masterSecret: string;
  masterSalt: string;
  idContext: string;
  clientSenderId: string;
  serverSenderId: string;
  clientSeed: string;
  serverSeed: string;
  clientCredential: string;
  serverCredential: string;
  groupManagerCredential: string;
  clientFirstSequenceNumber: number;
  serverFirstSequenceNumber: number;
}
type KeyName =
  | 'commonIv'
  | 'signatureEncryptionKey'
  | 'clientSenderKey'
  | 'serverSenderKey'
  | 'sharedSecret'
  | 'clientPairwiseSenderKey'
  | 'clientPairwiseRecipientKey'
  | 'serverPairwiseSenderKey'
  | 'serverPairwiseRecipientKey';
interface Fixture {
  source: { implementation: string; version: string; commit: string; draftVersion: string };
  inputs: Inputs;
  keys: Record<KeyName, string>;
  messages: {
    groupRequest: MessageVector;
    groupResponse: MessageVector;
    groupResponseWithPartialIv: MessageVector;
    pairwiseRequest: MessageVector;
    pairwiseResponse: MessageVector;
    pairwiseResponseWithKid: MessageVector;
    groupRequestPairwiseResponse: { request: MessageVector; response: MessageVector };
  };
  differences: { part: string }[];
}

const V: Fixture = JSON.parse(
  readFileSync(new URL('../fixtures/oscore-group-independent.json', import.meta.url), 'utf8'),
);
const M = V.messages;
const I = V.inputs;
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const h = (b: Buffer): string => b.toString('hex');
const SIG = 64;

const edKey = (seed: string): KeyObject =>
  createPrivateKey({
    key: Buffer.concat([hex('302e020100300506032b657004220420'), hex(seed)]),
    format: 'der',
    type: 'pkcs8',
  });
const CLIENT = { id: hex(I.clientSenderId), key: edKey(I.clientSeed), cred: hex(I.clientCredential) };
const SERVER = { id: hex(I.serverSenderId), key: edKey(I.serverSeed), cred: hex(I.serverCredential) };

/** A member's context whose Sender Sequence Number starts at `seq`. */
function member(
  who: 'client' | 'server',
  seq: number,
  countersignature: 'rfc9338' | 'rfc8152' = 'rfc9338',
): GroupSecurityContext {
  const [me, peer] = who === 'client' ? [CLIENT, SERVER] : [SERVER, CLIENT];
  const ctx = GroupSecurityContext.derive({
    masterSecret: hex(I.masterSecret),
    masterSalt: hex(I.masterSalt),
    idContext: hex(I.idContext),
    gmCredential: hex(I.groupManagerCredential),
    groupEncryptionAlgorithm: 10,
    signatureAlgorithm: -8,
    aeadAlgorithm: 10,
    pairwiseKeyAgreementAlgorithm: -27,
    senderId: me.id,
    privateKey: me.key,
    credential: me.cred,
    senderSequence: new CounterSequence(seq),
    countersignature,
  });
  ctx.addRecipient(peer.id, peer.cred);
  return ctx;
}

const inner = (v: InnerVector): CoapMessage => ({
  type: MessageType.NON,
  code: v.code,
  messageId: 0x1234,
  token: hex('a1b2'),
  options: v.options.map(([number, value]) => ({ number, value: hex(value) })),
  payload: hex(v.payload),
});

const wire = (m: CoapMessage): CoapMessage => decodeMessage(encodeMessage(m));

/** aiocoap's protected message, on the wire; `payload` replaces its payload. */
const outer = (v: MessageVector, payload = v.protected.payload): CoapMessage =>
  wire({
    type: MessageType.NON,
    code: v.protected.code,
    messageId: 0x1234,
    token: hex('a1b2'),
    options: [{ number: Opt.Oscore, value: hex(v.protected.oscoreOption) }],
    payload: hex(payload),
  });

const oscoreOf = (m: CoapMessage): string => h(m.options.find((o) => o.number === Opt.Oscore)!.value);

/**
 * Compares a message we protected with aiocoap's: outer code, OSCORE option, plaintext,
 * external_aad, AAD, nonce and key, and the payload (in group mode: the ciphertext, the keystream
 * and the payload with the RFC 9338 countersignature).
 */
function assertSameProtection(
  ours: CoapMessage,
  v: MessageVector,
  ctx: GroupSecurityContext,
  mode: GroupOscoreMode,
  request: { kid: Buffer; piv: Buffer },
  key: Buffer,
): void {
  const m = wire(ours);
  assert.equal(m.code, v.protected.code, 'outer code');
  assert.equal(oscoreOf(m), v.protected.oscoreOption, 'OSCORE option');
  const plain = inner(v.inner);
  assert.equal(
    h(encodePlaintext({ code: plain.code, options: plain.options, payload: plain.payload })),
    v.plaintext,
  );
  const aad = groupAad(ctx.common, {
    requestKid: request.kid,
    requestPiv: request.piv,
    requestKidContext: ctx.common.idContext,
    oscoreOption: hex(v.protected.oscoreOption),
    senderCredential: ctx.sender.credential,
  });
  assert.equal(h(aad.externalAad), v.externalAad, 'external_aad');
  assert.equal(h(aad.aad), v.aad, 'Enc_structure');
  const [nonceId, nonceIv] =
    v.partialIv === undefined ? [request.kid, request.piv] : [ctx.sender.id, hex(v.partialIv)];
  assert.equal(h(computeNonce(ctx.common.commonIv, nonceId, nonceIv, 13)), v.nonce, 'nonce');
  assert.equal(h(key), v.key, 'key');
  if (mode === 'pairwise') {
    assert.equal(h(m.payload), v.ciphertext);
    assert.equal(h(m.payload), v.protected.payload);
    return;
  }
  assert.equal(h(m.payload.subarray(0, -SIG)), v.ciphertext, 'ciphertext');
  const ks = countersignatureKeystream({
    signatureEncryptionKey: ctx.common.signatureEncryptionKey!,
    partialIv: hex(v.keystreamInfo!.salt),
    id: hex(v.keystreamInfo!.id),
    idContext: ctx.common.idContext,
    request: v.keystreamInfo!.request,
    length: SIG,
  });
  assert.equal(h(ks), v.keystream, 'keystream');
  assert.equal(h(m.payload), v.rfc9338!.payload, 'payload with the RFC 9338 countersignature');
}

/**
 * aiocoap's own countersignature, decrypted with the keystream, verifies over aiocoap's
 * Countersign_structure `["CounterSignature0", h'', h'', external_aad, ciphertext]` of the
 * external_aad and ciphertext that both implementations compute (checked in the protect tests).
 */
function assertAiocoapSignatureCovers(v: MessageVector, signer: KeyObject): void {
  const payload = hex(v.protected.payload);
  assert.equal(h(payload.subarray(0, -SIG)), v.ciphertext);
  const sig = xorKeystream(payload.subarray(-SIG), hex(v.keystream!));
  assert.equal(h(sig), v.signature);
  const structure = encodeCbor(['CounterSignature0', EMPTY, EMPTY, hex(v.externalAad), hex(v.ciphertext)]);
  assert.equal(h(structure), v.countersignStructure);
  assert.ok(verify(null, structure, createPublicKey(signer), sig));
}

describe(`Group OSCORE against ${V.source.implementation.split(' ')[0]} ${V.source.version} (${V.source.commit.slice(0, 12)})`, () => {
  it('records its source, the draft version it implements and the differences', () => {
    assert.match(V.source.commit, /^[0-9a-f]{40}$/);
    assert.match(V.source.draftVersion, /draft-ietf-core-oscore-groupcomm-\d\d/);
    assert.equal(V.differences.length, 3);
  });

  it('derives the same Common IV, Signature Encryption Key and Sender/Recipient Keys (§2.1.4, §2.1.9, §2.3)', () => {
    const [c, s] = [member('client', 0), member('server', 0)];
    assert.equal(h(c.common.commonIv), V.keys.commonIv);
    assert.equal(h(c.common.signatureEncryptionKey!), V.keys.signatureEncryptionKey);
    assert.equal(h(c.sender.key), V.keys.clientSenderKey);
    assert.equal(h(s.sender.key), V.keys.serverSenderKey);
    assert.equal(h(c.recipient(SERVER.id)!.key), V.keys.serverSenderKey);
    assert.equal(h(s.recipient(CLIENT.id)!.key), V.keys.clientSenderKey);
  });

  it('derives the same X25519 shared secret from the Ed25519 keys, and the same pairwise keys (§2.5)', () => {
    const serverX = credentialKey(SERVER.cred).x;
    const clientX = credentialKey(CLIENT.cred).x;
    assert.equal(h(sharedSecret(CLIENT.key, serverX, 'Ed25519')), V.keys.sharedSecret);
    assert.equal(h(sharedSecret(SERVER.key, clientX, 'Ed25519')), V.keys.sharedSecret);
    const c = member('client', 0).recipient(SERVER.id)!.pairwiseKeys();
    const s = member('server', 0).recipient(CLIENT.id)!.pairwiseKeys();
    assert.equal(h(c.sender), V.keys.clientPairwiseSenderKey);
    assert.equal(h(c.recipient), V.keys.clientPairwiseRecipientKey);
    assert.equal(h(s.sender), V.keys.serverPairwiseSenderKey);
    assert.equal(h(s.recipient), V.keys.serverPairwiseRecipientKey);
  });
});

describe('Group OSCORE group mode against the independent vectors (§7)', () => {
  const clientPiv = hex(M.groupRequest.partialIv!);

  it('protects the request like aiocoap: option, external_aad, nonce, ciphertext, keystream', () => {
    const client = member('client', I.clientFirstSequenceNumber);
    const { message } = protectGroupRequest(inner(M.groupRequest.inner), client);
    assertSameProtection(
      message,
      M.groupRequest,
      client,
      'group',
      { kid: CLIENT.id, piv: clientPiv },
      client.sender.key,
    );
  });

  it("finds aiocoap's countersignature over the same external_aad and ciphertext (see 'differences')", () => {
    assertAiocoapSignatureCovers(M.groupRequest, CLIENT.key);
    assertAiocoapSignatureCovers(M.groupResponse, SERVER.key);
    assertAiocoapSignatureCovers(M.groupResponseWithPartialIv, SERVER.key);
  });

  it("verifies aiocoap's request, and protects both responses like aiocoap (request nonce, then a fresh Partial IV)", () => {
    const server = member('server', I.serverFirstSequenceNumber);
    const got = unprotectGroupRequest(outer(M.groupRequest, M.groupRequest.rfc9338!.payload), server);
    assert.equal(got.mode, 'group');
    assert.equal(got.request.code, M.groupRequest.inner.code);
    assert.deepEqual(
      got.request.options.map((o) => [o.number, h(o.value)]),
      M.groupRequest.inner.options,
    );
    const request = { kid: CLIENT.id, piv: clientPiv };
    const first = protectGroupResponse(inner(M.groupResponse.inner), server, got.binding);
    assertSameProtection(first, M.groupResponse, server, 'group', request, server.sender.key);
    const second = protectGroupResponse(inner(M.groupResponseWithPartialIv.inner), server, got.binding);
    assertSameProtection(second, M.groupResponseWithPartialIv, server, 'group', request, server.sender.key);
  });

  it("verifies aiocoap's two responses", () => {
    const client = member('client', I.clientFirstSequenceNumber);
    const { binding } = protectGroupRequest(inner(M.groupRequest.inner), client);
    for (const v of [M.groupResponse, M.groupResponseWithPartialIv]) {
      const got = unprotectGroupResponse(outer(v, v.rfc9338!.payload), client, binding);
      assert.equal(h(got.serverId), h(SERVER.id));
      assert.equal(got.partialIv === undefined ? undefined : h(got.partialIv), v.partialIv);
      assert.equal(got.response.code, v.inner.code);
      assert.deepEqual(
        got.response.options.map((o) => [o.number, h(o.value)]),
        v.inner.options,
      );
      assert.equal(h(got.response.payload), v.inner.payload);
    }
  });
});

describe('Group OSCORE pairwise mode against the independent vectors (§8)', () => {
  const v = M.pairwiseRequest;
  const clientSeq = Number.parseInt(v.partialIv!, 16);

  it('protects the request byte for byte', () => {
    const client = member('client', clientSeq);
    const { message } = protectGroupRequest(inner(v.inner), client, {
      mode: 'pairwise',
      recipientId: SERVER.id,
    });
    const key = client.recipient(SERVER.id)!.pairwiseKeys().sender;
    assertSameProtection(message, v, client, 'pairwise', { kid: CLIENT.id, piv: hex(v.partialIv!) }, key);
  });

  it("verifies aiocoap's request and protects the response byte for byte (no 'kid', the request nonce)", () => {
    const server = member('server', I.serverFirstSequenceNumber);
    const got = unprotectGroupRequest(outer(v), server);
    assert.equal(got.mode, 'pairwise');
    assert.equal(got.request.code, v.inner.code);
    assert.deepEqual(
      got.request.options.map((o) => [o.number, h(o.value)]),
      v.inner.options,
    );
    const resp = protectGroupResponse(inner(M.pairwiseResponse.inner), server, got.binding);
    const key = server.recipient(CLIENT.id)!.pairwiseKeys().sender;
    assertSameProtection(
      resp,
      M.pairwiseResponse,
      server,
      'pairwise',
      { kid: CLIENT.id, piv: hex(v.partialIv!) },
      key,
    );
  });

  it("verifies aiocoap's responses, without and with 'kid'", () => {
    const client = member('client', clientSeq);
    const { binding } = protectGroupRequest(inner(v.inner), client, {
      mode: 'pairwise',
      recipientId: SERVER.id,
    });
    for (const r of [M.pairwiseResponse, M.pairwiseResponseWithKid]) {
      const got = unprotectGroupResponse(outer(r), client, binding);
      assert.equal(h(got.serverId), h(SERVER.id));
      assert.equal(got.partialIv === undefined ? undefined : h(got.partialIv), r.partialIv);
      assert.equal(h(got.response.payload), r.inner.payload);
      assert.deepEqual(
        got.response.options.map((o) => [o.number, h(o.value)]),
        r.inner.options,
      );
    }
  });
});

describe('Group OSCORE: a group mode request answered in pairwise mode (§1, §6, §7.4)', () => {
  const { request: q, response: r } = M.groupRequestPairwiseResponse;
  const clientSeq = Number.parseInt(q.partialIv!, 16);

  it('protects the group mode request like aiocoap', () => {
    const client = member('client', clientSeq);
    const { message } = protectGroupRequest(inner(q.inner), client);
    assertSameProtection(
      message,
      q,
      client,
      'group',
      { kid: CLIENT.id, piv: hex(q.partialIv!) },
      client.sender.key,
    );
  });

  it("verifies aiocoap's pairwise mode response to it", () => {
    const client = member('client', clientSeq);
    const { binding } = protectGroupRequest(inner(q.inner), client);
    const got = unprotectGroupResponse(outer(r), client, binding);
    assert.equal(h(got.serverId), h(SERVER.id));
    assert.equal(h(got.response.payload), r.inner.payload);
  });
});

describe("Group OSCORE group mode with the RFC 8152 Countersign_structure (aiocoap's layout)", () => {
  const clientSeq = Number.parseInt(M.groupRequest.partialIv!, 16);

  it('protects the request and both responses byte for byte, signatures included', () => {
    const client = member('client', clientSeq, 'rfc8152');
    const { message } = protectGroupRequest(inner(M.groupRequest.inner), client);
    assert.equal(h(wire(message).payload), M.groupRequest.protected.payload);
    const server = member('server', I.serverFirstSequenceNumber, 'rfc8152');
    const got = unprotectGroupRequest(outer(M.groupRequest), server);
    const first = protectGroupResponse(inner(M.groupResponse.inner), server, got.binding);
    assert.equal(h(wire(first).payload), M.groupResponse.protected.payload);
    const second = protectGroupResponse(inner(M.groupResponseWithPartialIv.inner), server, got.binding);
    assert.equal(h(wire(second).payload), M.groupResponseWithPartialIv.protected.payload);
  });

  it("verifies aiocoap's own request and responses, also when set to the RFC 9338 layout", () => {
    const server = member('server', I.serverFirstSequenceNumber, 'rfc8152');
    assert.equal(
      unprotectGroupRequest(outer(M.groupRequest), server).request.code,
      M.groupRequest.inner.code,
    );
    const client = member('client', clientSeq, 'rfc8152');
    const { binding } = protectGroupRequest(inner(M.groupRequest.inner), client);
    for (const v of [M.groupResponse, M.groupResponseWithPartialIv]) {
      assert.equal(h(unprotectGroupResponse(outer(v), client, binding).response.payload), v.inner.payload);
    }
    // Set to the RFC 9338 layout (the default), a member still accepts aiocoap's messages: the
    // RFC 9338 structure alone does not verify aiocoap's signature, the RFC 8152 one tried next does.
    const g = M.groupRequest;
    const clientPublic = createPublicKey(CLIENT.key);
    assert.throws(
      () =>
        verifyCountersignature(
          clientPublic,
          hex(g.externalAad),
          hex(g.ciphertext),
          hex(g.signature!),
          'rfc9338',
        ),
      (e: unknown) => (e as { code?: string }).code === 'ERR_OSCORE_SIGNATURE',
    );
    const strict = member('server', I.serverFirstSequenceNumber);
    assert.equal(unprotectGroupRequest(outer(g), strict).request.code, g.inner.code);
    const strictClient = member('client', clientSeq);
    const { binding: b2 } = protectGroupRequest(inner(g.inner), strictClient);
    for (const v of [M.groupResponse, M.groupResponseWithPartialIv]) {
      assert.equal(h(unprotectGroupResponse(outer(v), strictClient, b2).response.payload), v.inner.payload);
    }
  });
});
