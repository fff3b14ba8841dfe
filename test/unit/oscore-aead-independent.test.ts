/**
 * RFC 8613 with the AEAD algorithms other than AES-CCM-16-64-128 (RFC 9053 §4: 11
 * AES-CCM-16-64-256, 30 AES-CCM-16-128-128, 1 A128GCM, 3 A256GCM, 24 ChaCha20/Poly1305) against
 * vectors computed by an independent implementation, aiocoap: test/fixtures/oscore-aead-independent.json
 * names its version and commit and holds the inputs and aiocoap's outputs. Algorithm 10 is in the
 * fixture too, as the control: there aiocoap's bytes are those of RFC 8613 Appendix C.
 *
 * The inputs are those of RFC 8613 Appendix C.1.1 (Master Secret, Master Salt, no ID Context,
 * client Sender ID empty, server Sender ID 0x01) and the exchange of Appendix C.4 (GET
 * coap://localhost/tv1 with Sender Sequence Number 20), C.7 (2.05 "Hello World!" with the
 * request's nonce) and C.8 (the same response with the server's Partial IV 0).
 *
 * Checked byte for byte, per algorithm: the HKDF `info` (key length and nonce length as L, the
 * algorithm as alg_aead, RFC 8613 §3.2.1), the Sender and Recipient Keys and the Common IV of
 * both endpoints; for the request and both responses the plaintext (§5.3), AAD (§5.4), nonce
 * (§5.2: 12 bytes for AES-GCM and ChaCha20/Poly1305, 13 for AES-CCM), OSCORE option (§6.1),
 * Outer Code and payload (ciphertext with tag) of `protectRequest`/`protectResponse`, and the
 * whole message. Our `unprotectRequest`/`unprotectResponse` must accept aiocoap's messages.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeMessage } from '../../src/message/decode.js';
import { encodeMessage } from '../../src/message/encode.js';
import type { CoapMessage } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { type AeadAlgorithm, aeadParameters } from '../../src/oscore/algorithms.js';
import { deriveInfo, SecurityContext } from '../../src/oscore/context.js';
import { computeNonce, oscoreAad } from '../../src/oscore/cose.js';
import { encodePlaintext } from '../../src/oscore/plaintext.js';
import { protectRequest, protectResponse } from '../../src/oscore/protect.js';
import { CounterSequence } from '../../src/oscore/sequence.js';
import { unprotectRequest, unprotectResponse } from '../../src/oscore/unprotect.js';

interface MessageVector {
  plaintext: string;
  aad: string;
  nonce: string;
  key: string;
  oscoreOption: string;
  code: number;
  payload: string;
  message: string;
}
interface AlgorithmVector {
  alg: AeadAlgorithm;
  name: string;
  keyLength: number;
  nonceLength: number;
  tagLength: number;
  infoClientSenderKey: string;
  infoClientRecipientKey: string;
  infoCommonIv: string;
  clientSenderKey: string;
  clientRecipientKey: string;
  commonIv: string;
  request: MessageVector;
  response: MessageVector;
  responseNewPartialIv: MessageVector;
}
interface Fixture {
  source: { implementation: string; version: string; commit: string };
  inputs: {
    masterSecret: string;
    masterSalt: string;
    clientSenderId: string;
    serverSenderId: string;
    clientSenderSequenceNumber: number;
    serverSenderSequenceNumber: number;
    unprotectedRequest: string;
    unprotectedResponse: string;
  };
  vectors: AlgorithmVector[];
}

const F: Fixture = JSON.parse(
  readFileSync(new URL('../fixtures/oscore-aead-independent.json', import.meta.url), 'utf8'),
);
const I = F.inputs;
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const h = (b: Buffer): string => b.toString('hex');

const CLIENT_ID = hex(I.clientSenderId);
const SERVER_ID = hex(I.serverSenderId);

function client(alg: AeadAlgorithm): SecurityContext {
  return SecurityContext.derive({
    masterSecret: hex(I.masterSecret),
    masterSalt: hex(I.masterSalt),
    senderId: CLIENT_ID,
    recipientId: SERVER_ID,
    aeadAlgorithm: alg,
    senderSequence: new CounterSequence(I.clientSenderSequenceNumber),
  });
}

function server(alg: AeadAlgorithm): SecurityContext {
  return SecurityContext.derive({
    masterSecret: hex(I.masterSecret),
    masterSalt: hex(I.masterSalt),
    senderId: SERVER_ID,
    recipientId: CLIENT_ID,
    aeadAlgorithm: alg,
    senderSequence: new CounterSequence(I.serverSenderSequenceNumber),
  });
}

/** Outer Code, OSCORE option, payload and the whole message against aiocoap's. */
function assertWire(out: CoapMessage, v: MessageVector): void {
  assert.equal(out.code, v.code);
  const oscore = out.options.filter((o) => o.number === Opt.Oscore);
  assert.equal(oscore.length, 1);
  assert.equal(h(oscore[0]!.value), v.oscoreOption);
  assert.equal(h(out.payload), v.payload);
  assert.equal(h(encodeMessage(out)), v.message);
}

/** The inner plaintext of RFC 8613 §5.3: Code, Class E options, payload. */
function plaintextOf(unprotected: string): string {
  const m = decodeMessage(hex(unprotected));
  // Uri-Host (3) is Class U; in these messages every other option is Class E.
  const inner = m.options.filter((o) => o.number !== Opt.UriHost);
  return h(encodePlaintext({ code: m.code, options: inner, payload: m.payload }));
}

describe(`RFC 8613 with other AEAD algorithms, against aiocoap ${F.source.version}`, () => {
  it('has a vector for every algorithm the project implements, sized as ours', () => {
    assert.deepEqual(
      F.vectors.map((v) => v.alg),
      [10, 11, 30, 1, 3, 24],
    );
    for (const v of F.vectors) {
      const p = aeadParameters(v.alg);
      assert.deepEqual(
        [p.keyLength, p.nonceLength, p.tagLength],
        [v.keyLength, v.nonceLength, v.tagLength],
        v.name,
      );
    }
  });

  for (const v of F.vectors) {
    describe(`${v.name} (COSE ${v.alg})`, () => {
      it('derives the HKDF info, both keys and the Common IV of client and server', () => {
        assert.equal(h(deriveInfo(CLIENT_ID, undefined, v.alg, 'Key', v.keyLength)), v.infoClientSenderKey);
        assert.equal(
          h(deriveInfo(SERVER_ID, undefined, v.alg, 'Key', v.keyLength)),
          v.infoClientRecipientKey,
        );
        assert.equal(h(deriveInfo(Buffer.alloc(0), undefined, v.alg, 'IV', v.nonceLength)), v.infoCommonIv);
        const c = client(v.alg);
        assert.equal(h(c.sender.key), v.clientSenderKey);
        assert.equal(h(c.recipient.key), v.clientRecipientKey);
        assert.equal(h(c.common.commonIv), v.commonIv);
        const s = server(v.alg);
        assert.equal(h(s.sender.key), v.clientRecipientKey);
        assert.equal(h(s.recipient.key), v.clientSenderKey);
        assert.equal(h(s.common.commonIv), v.commonIv);
      });

      it('protects the request of C.4 byte for byte', () => {
        const c = client(v.alg);
        const piv = Buffer.from([I.clientSenderSequenceNumber]);
        assert.equal(plaintextOf(I.unprotectedRequest), v.request.plaintext);
        assert.equal(h(oscoreAad(v.alg, CLIENT_ID, piv)), v.request.aad);
        assert.equal(h(computeNonce(c.common.commonIv, CLIENT_ID, piv)), v.request.nonce);
        assert.equal(h(c.sender.key), v.request.key);
        const { message, binding } = protectRequest(decodeMessage(hex(I.unprotectedRequest)), c);
        assert.equal(h(binding.nonce), v.request.nonce);
        assertWire(message, v.request);
      });

      it("accepts aiocoap's request on the server", () => {
        const { request, binding } = unprotectRequest(decodeMessage(hex(v.request.message)), server(v.alg));
        assert.equal(h(encodeMessage(request)), I.unprotectedRequest);
        assert.equal(h(binding.nonce), v.request.nonce);
      });

      for (const [what, key, fresh] of [
        ["C.7 response (the request's nonce)", 'response', false],
        ['C.8 response (Partial IV 0)', 'responseNewPartialIv', true],
      ] as const) {
        const r = v[key];

        it(`protects the ${what} byte for byte`, () => {
          const s = server(v.alg);
          const { binding } = unprotectRequest(decodeMessage(hex(v.request.message)), s);
          assert.equal(plaintextOf(I.unprotectedResponse), r.plaintext);
          // The AAD of a response is built from the request's 'kid' and Partial IV (§5.4).
          assert.equal(h(oscoreAad(v.alg, CLIENT_ID, binding.partialIv)), r.aad);
          const nonce = fresh ? computeNonce(s.common.commonIv, SERVER_ID, Buffer.from([0])) : binding.nonce;
          assert.equal(h(nonce), r.nonce);
          assert.equal(h(s.sender.key), r.key);
          const out = protectResponse(decodeMessage(hex(I.unprotectedResponse)), s, binding, {
            newPartialIv: fresh,
          });
          assertWire(out, r);
        });

        it(`accepts aiocoap's ${what} on the client`, () => {
          const c = client(v.alg);
          const { binding } = protectRequest(decodeMessage(hex(I.unprotectedRequest)), c);
          const { response } = unprotectResponse(decodeMessage(hex(r.message)), c, binding);
          assert.equal(h(encodeMessage(response)), I.unprotectedResponse);
        });
      }
    });
  }
});
