/**
 * The two Countersign_structure layouts of the group mode (docs/security.md "Countersignature
 * layout"): RFC 9338 §3.3 omits 'sign_protected' for Countersignature0 version 2 (draft §3.1);
 * aiocoap and Californium sign the RFC 8152 layout, with an empty 'sign_protected'. A member
 * signs with its configured layout and accepts either on receipt, its own tried first: requests
 * and responses signed in each layout verify whatever the receiver's setting, with EdDSA and
 * with ES256; a tampered message fails in either layout and leaves no state behind.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeMessage } from '../../src/message/decode.js';
import { encodeMessage } from '../../src/message/encode.js';
import { type CoapMessage, MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { OscoreError } from '../../src/oscore/errors.js';
import {
  ccsCredential,
  countersign,
  GroupSecurityContext,
  protectGroupRequest,
  protectGroupResponse,
  unprotectGroupRequest,
  unprotectGroupResponse,
  verifyEitherLayout,
} from '../../src/oscore/group/index.js';
import type { CountersignLayout } from '../../src/oscore/group/signature.js';

type Layout = CountersignLayout;
const LAYOUTS: readonly Layout[] = ['rfc9338', 'rfc8152'];
const SIGNATURE = (e: unknown) => e instanceof OscoreError && e.code === 'ERR_OSCORE_SIGNATURE';
const wire = (m: CoapMessage): CoapMessage => decodeMessage(encodeMessage(m));

const ALGS = [
  { name: 'EdDSA', alg: -8 as const, keys: () => generateKeyPairSync('ed25519') },
  { name: 'ES256', alg: -7 as const, keys: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }) },
];

/** A client (0x25) and a server (0x52) of one group, each signing with its own layout. */
function members(
  a: (typeof ALGS)[number],
  clientLayout: Layout,
  serverLayout: Layout,
): { client: GroupSecurityContext; server: GroupSecurityContext } {
  const kc = a.keys();
  const ks = a.keys();
  const base = {
    masterSecret: Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex'),
    masterSalt: Buffer.from('9e7ca92223786340', 'hex'),
    idContext: Buffer.from('44616c', 'hex'),
    gmCredential: ccsCredential('gm', a.keys().publicKey),
    signatureAlgorithm: a.alg,
  };
  const cc = ccsCredential('client', kc.publicKey);
  const cs = ccsCredential('server', ks.publicKey);
  const make = (id: number, key: KeyObject, cred: Buffer, layout: Layout) =>
    GroupSecurityContext.derive({
      ...base,
      senderId: Buffer.from([id]),
      privateKey: key,
      credential: cred,
      countersignature: layout,
    });
  const client = make(0x25, kc.privateKey, cc, clientLayout);
  const server = make(0x52, ks.privateKey, cs, serverLayout);
  client.addRecipient(Buffer.from([0x52]), cs);
  server.addRecipient(Buffer.from([0x25]), cc);
  return { client, server };
}

const REQUEST: CoapMessage = {
  type: MessageType.NON,
  code: 3,
  messageId: 1,
  token: Buffer.from([1, 2, 3, 4]),
  options: [{ number: Opt.UriPath, value: Buffer.from('lock') }],
  payload: Buffer.from('locked'),
};
const RESPONSE: CoapMessage = { ...REQUEST, code: 0x44, options: [], payload: Buffer.from('done') };

/** Flips one bit of the payload at `at` (negative: from the end). */
function tamper(m: CoapMessage, at: number): CoapMessage {
  const payload = Buffer.from(m.payload);
  const i = at < 0 ? payload.length + at : at;
  payload[i] = payload[i]! ^ 0x01;
  return { ...m, payload };
}

describe('Group OSCORE countersignatures in either layout', () => {
  for (const a of ALGS) {
    for (const signer of LAYOUTS) {
      for (const verifier of LAYOUTS) {
        it(`${a.name}: a member set to ${verifier} accepts a request and a response signed with ${signer}`, () => {
          // The client signs requests with `signer`; the server, set to `verifier`, verifies them.
          const { client, server } = members(a, signer, verifier);
          const { message, binding } = protectGroupRequest(REQUEST, client);
          const got = unprotectGroupRequest(wire(message), server);
          assert.equal(got.request.payload.toString(), 'locked');
          // And the other way: the server signs with `verifier`, the client (set to `signer`) verifies.
          const res = protectGroupResponse(RESPONSE, server, got.binding);
          assert.equal(
            unprotectGroupResponse(wire(res), client, binding).response.payload.toString(),
            'done',
          );
        });
      }
      it(`${a.name}: a tampered ${signer} request or response fails in either layout, leaving no state`, () => {
        for (const verifier of LAYOUTS) {
          const { client, server } = members(a, signer, verifier);
          const { message, binding } = protectGroupRequest(REQUEST, client);
          // The last byte is the encrypted signature's; byte 0 is the ciphertext's.
          for (const at of [-1, 0]) {
            assert.throws(() => unprotectGroupRequest(wire(tamper(message, at)), server), SIGNATURE);
          }
          // The genuine request still verifies: the failures moved no replay window.
          const got = unprotectGroupRequest(wire(message), server);
          const res = protectGroupResponse(RESPONSE, server, got.binding);
          for (const at of [-1, 0]) {
            assert.throws(() => unprotectGroupResponse(wire(tamper(res, at)), client, binding), SIGNATURE);
          }
          assert.equal(unprotectGroupResponse(wire(res), client, binding).response.code, 0x44);
        }
      });
    }
  }
});

describe('verifyEitherLayout', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const aad = Buffer.from('external_aad');
  const ct = Buffer.from('ciphertext bytes');

  it('says which layout verified, trying the preferred one first', () => {
    for (const signed of LAYOUTS) {
      const sig = countersign(privateKey, aad, ct, signed);
      for (const preferred of LAYOUTS)
        assert.equal(verifyEitherLayout(publicKey, aad, ct, sig, preferred), signed);
    }
  });

  it('fails with ERR_OSCORE_SIGNATURE for a signature over other bytes, or of another length', () => {
    const sig = countersign(privateKey, aad, ct, 'rfc8152');
    for (const preferred of LAYOUTS) {
      assert.throws(
        () => verifyEitherLayout(publicKey, aad, Buffer.from('other bytes'), sig, preferred),
        SIGNATURE,
      );
      assert.throws(() => verifyEitherLayout(publicKey, aad, ct, sig.subarray(1), preferred), SIGNATURE);
    }
  });
});
