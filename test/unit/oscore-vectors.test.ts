/**
 * The test vectors of RFC 8613 Appendix C, byte for byte: key derivation (C.1-C.3), request
 * protection (C.4-C.6) and response protection (C.7-C.8), plus the AAD example of §5.4.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMessage } from '../../src/message/decode.js';
import { encodeMessage } from '../../src/message/encode.js';
import { encodeCbor } from '../../src/oscore/cbor.js';
import { deriveInfo, SecurityContext } from '../../src/oscore/context.js';
import { aadArray, computeNonce, encStructure, externalAad, oscoreAad } from '../../src/oscore/cose.js';
import { encodePlaintext } from '../../src/oscore/plaintext.js';
import { protectRequest, protectResponse } from '../../src/oscore/protect.js';
import { CounterSequence } from '../../src/oscore/sequence.js';
import { unprotectRequest, unprotectResponse } from '../../src/oscore/unprotect.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const h = (b: Buffer): string => b.toString('hex');

const SECRET = hex('0102030405060708090a0b0c0d0e0f10');
const SALT = hex('9e7ca92223786340');
const ID_CONTEXT = hex('37cbf3210017a2d3');
const PIV0 = Buffer.from([0]);

interface KeyVector {
  name: string;
  salt?: Buffer;
  idContext?: Buffer;
  sid: string;
  rid: string;
  infoSender: string;
  infoRecipient: string;
  infoIv: string;
  senderKey: string;
  recipientKey: string;
  commonIv: string;
  senderNonce: string;
  recipientNonce: string;
}

const KEY_VECTORS: KeyVector[] = [
  {
    name: 'C.1.1 client, with Master Salt',
    salt: SALT,
    sid: '',
    rid: '01',
    infoSender: '8540f60a634b657910',
    infoRecipient: '854101f60a634b657910',
    infoIv: '8540f60a6249560d',
    senderKey: 'f0910ed7295e6ad4b54fc793154302ff',
    recipientKey: 'ffb14e093c94c9cac9471648b4f98710',
    commonIv: '4622d4dd6d944168eefb54987c',
    senderNonce: '4622d4dd6d944168eefb54987c',
    recipientNonce: '4722d4dd6d944169eefb54987c',
  },
  {
    name: 'C.1.2 server, with Master Salt',
    salt: SALT,
    sid: '01',
    rid: '',
    infoSender: '854101f60a634b657910',
    infoRecipient: '8540f60a634b657910',
    infoIv: '8540f60a6249560d',
    senderKey: 'ffb14e093c94c9cac9471648b4f98710',
    recipientKey: 'f0910ed7295e6ad4b54fc793154302ff',
    commonIv: '4622d4dd6d944168eefb54987c',
    senderNonce: '4722d4dd6d944169eefb54987c',
    recipientNonce: '4622d4dd6d944168eefb54987c',
  },
  {
    name: 'C.2.1 client, without Master Salt',
    sid: '00',
    rid: '01',
    infoSender: '854100f60a634b657910',
    infoRecipient: '854101f60a634b657910',
    infoIv: '8540f60a6249560d',
    senderKey: '321b26943253c7ffb6003b0b64d74041',
    recipientKey: 'e57b5635815177cd679ab4bcec9d7dda',
    commonIv: 'be35ae297d2dace910c52e99f9',
    senderNonce: 'bf35ae297d2dace910c52e99f9',
    recipientNonce: 'bf35ae297d2dace810c52e99f9',
  },
  {
    name: 'C.2.2 server, without Master Salt',
    sid: '01',
    rid: '00',
    infoSender: '854101f60a634b657910',
    infoRecipient: '854100f60a634b657910',
    infoIv: '8540f60a6249560d',
    senderKey: 'e57b5635815177cd679ab4bcec9d7dda',
    recipientKey: '321b26943253c7ffb6003b0b64d74041',
    commonIv: 'be35ae297d2dace910c52e99f9',
    senderNonce: 'bf35ae297d2dace810c52e99f9',
    recipientNonce: 'bf35ae297d2dace910c52e99f9',
  },
  {
    name: 'C.3.1 client, with ID Context',
    salt: SALT,
    idContext: ID_CONTEXT,
    sid: '',
    rid: '01',
    infoSender: '85404837cbf3210017a2d30a634b657910',
    infoRecipient: '8541014837cbf3210017a2d30a634b657910',
    infoIv: '85404837cbf3210017a2d30a6249560d',
    senderKey: 'af2a1300a5e95788b356336eeecd2b92',
    recipientKey: 'e39a0c7c77b43f03b4b39ab9a268699f',
    commonIv: '2ca58fb85ff1b81c0b7181b85e',
    senderNonce: '2ca58fb85ff1b81c0b7181b85e',
    recipientNonce: '2da58fb85ff1b81d0b7181b85e',
  },
  {
    name: 'C.3.2 server, with ID Context',
    salt: SALT,
    idContext: ID_CONTEXT,
    sid: '01',
    rid: '',
    infoSender: '8541014837cbf3210017a2d30a634b657910',
    infoRecipient: '85404837cbf3210017a2d30a634b657910',
    infoIv: '85404837cbf3210017a2d30a6249560d',
    senderKey: 'e39a0c7c77b43f03b4b39ab9a268699f',
    recipientKey: 'af2a1300a5e95788b356336eeecd2b92',
    commonIv: '2ca58fb85ff1b81c0b7181b85e',
    senderNonce: '2da58fb85ff1b81d0b7181b85e',
    recipientNonce: '2ca58fb85ff1b81c0b7181b85e',
  },
];

function context(
  v: { salt?: Buffer; idContext?: Buffer; sid: string; rid: string },
  seq = 0,
): SecurityContext {
  return SecurityContext.derive({
    masterSecret: SECRET,
    ...(v.salt ? { masterSalt: v.salt } : {}),
    ...(v.idContext ? { idContext: v.idContext } : {}),
    senderId: hex(v.sid),
    recipientId: hex(v.rid),
    senderSequence: new CounterSequence(seq),
  });
}

describe('RFC 8613 Appendix C.1-C.3: key derivation', () => {
  for (const v of KEY_VECTORS) {
    it(`derives info, keys, Common IV and nonces of ${v.name}`, () => {
      const ctx = context(v);
      assert.equal(h(deriveInfo(hex(v.sid), v.idContext, 10, 'Key', 16)), v.infoSender);
      assert.equal(h(deriveInfo(hex(v.rid), v.idContext, 10, 'Key', 16)), v.infoRecipient);
      assert.equal(h(deriveInfo(Buffer.alloc(0), v.idContext, 10, 'IV', 13)), v.infoIv);
      assert.equal(h(ctx.sender.key), v.senderKey);
      assert.equal(h(ctx.recipient.key), v.recipientKey);
      assert.equal(h(ctx.common.commonIv), v.commonIv);
      assert.equal(h(computeNonce(ctx.common.commonIv, ctx.sender.id, PIV0)), v.senderNonce);
      assert.equal(h(computeNonce(ctx.common.commonIv, ctx.recipient.id, PIV0)), v.recipientNonce);
    });
  }
});

describe('RFC 8613 §5.4: the AAD example', () => {
  it('builds aad_array, external_aad and Enc_structure for kid 0x00, piv 0x25', () => {
    const arr = aadArray(10, hex('00'), hex('25'));
    assert.equal(h(encodeCbor(arr)), '8501810a4100412540');
    assert.equal(h(encodeCbor(externalAad(arr))), '498501810a4100412540');
    assert.equal(h(encStructure(externalAad(arr))), '8368456e63727970743040498501810a4100412540');
  });
});

interface RequestVector {
  name: string;
  ctx: KeyVector;
  kidContext: boolean;
  unprotected: string;
  aad: string;
  plaintext: string;
  nonce: string;
  protected: string;
}

const REQUEST_VECTORS: RequestVector[] = [
  {
    name: 'C.4 (context of C.1, empty Sender ID)',
    ctx: KEY_VECTORS[0]!,
    kidContext: false,
    unprotected: '44015d1f00003974396c6f63616c686f737483747631',
    aad: '8368456e63727970743040488501810a40411440',
    plaintext: '01b3747631',
    nonce: '4622d4dd6d944168eefb549868',
    protected: '44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e',
  },
  {
    name: 'C.5 (context of C.2, Sender ID 0x00)',
    ctx: KEY_VECTORS[2]!,
    kidContext: false,
    unprotected: '440171c30000b932396c6f63616c686f737483747631',
    aad: '8368456e63727970743040498501810a4100411440',
    plaintext: '01b3747631',
    nonce: 'bf35ae297d2dace910c52e99ed',
    protected: '440271c30000b932396c6f63616c686f737463091400ff4ed339a5a379b0b8bc731fffb0',
  },
  {
    name: "C.6 (context of C.3, with 'kid context')",
    ctx: KEY_VECTORS[4]!,
    kidContext: true,
    unprotected: '44012f8eef9bbf7a396c6f63616c686f737483747631',
    aad: '8368456e63727970743040488501810a40411440',
    plaintext: '01b3747631',
    nonce: '2ca58fb85ff1b81c0b7181b84a',
    protected: '44022f8eef9bbf7a396c6f63616c686f73746b19140837cbf3210017a2d3ff72cd7273fd331ac45cffbe55c3',
  },
];

describe('RFC 8613 Appendix C.4-C.6: protected requests', () => {
  for (const v of REQUEST_VECTORS) {
    it(`protects the request of ${v.name} byte for byte`, () => {
      const ctx = context(v.ctx, 20);
      const original = decodeMessage(hex(v.unprotected));
      const sid = ctx.sender.id;
      const piv = Buffer.from([0x14]);
      assert.equal(h(oscoreAad(10, sid, piv)), v.aad);
      assert.equal(
        h(
          encodePlaintext({
            code: 1,
            options: original.options.filter((o) => o.number !== 3),
            payload: original.payload,
          }),
        ),
        v.plaintext,
      );
      assert.equal(h(computeNonce(ctx.common.commonIv, sid, piv)), v.nonce);
      const { message, binding } = protectRequest(original, ctx, { kidContext: v.kidContext });
      assert.equal(h(encodeMessage(message)), v.protected);
      assert.equal(h(binding.partialIv), '14');
      assert.equal(ctx.sender.sequence.peek(), 21);
    });

    it(`verifies the request of ${v.name} on the server`, () => {
      const mirror = { ...v.ctx, sid: v.ctx.rid, rid: v.ctx.sid };
      const server = context(mirror);
      const { request, binding } = unprotectRequest(decodeMessage(hex(v.protected)), server);
      assert.equal(h(encodeMessage(request)), v.unprotected);
      assert.equal(h(binding.kid), v.ctx.sid);
      assert.equal(h(binding.partialIv), '14');
      assert.equal(binding.kidContext === undefined, !v.kidContext);
    });
  }
});

describe('RFC 8613 Appendix C.7-C.8: protected responses', () => {
  const UNPROTECTED = '64455d1f00003974ff48656c6c6f20576f726c6421';
  const REQUEST = REQUEST_VECTORS[0]!;

  function exchange(): {
    serverBinding: ReturnType<typeof unprotectRequest>['binding'];
    server: SecurityContext;
  } {
    const server = context(KEY_VECTORS[1]!, 0);
    const { binding } = unprotectRequest(decodeMessage(hex(REQUEST.protected)), server);
    return { serverBinding: binding, server };
  }

  it('protects the 2.05 "Hello World!" of C.7 without Partial IV (the request nonce)', () => {
    const { server, serverBinding } = exchange();
    assert.equal(
      h(encodePlaintext({ code: 0x45, options: [], payload: Buffer.from('Hello World!') })),
      '45ff48656c6c6f20576f726c6421',
    );
    const out = protectResponse(decodeMessage(hex(UNPROTECTED)), server, serverBinding);
    assert.equal(h(encodeMessage(out)), '64445d1f0000397490ffdbaad1e9a7e7b2a813d3c31524378303cdafae119106');
    assert.equal(server.sender.sequence.peek(), 0);
  });

  it('protects the response of C.8 with Partial IV 0', () => {
    const { server, serverBinding } = exchange();
    assert.equal(
      h(computeNonce(server.common.commonIv, server.sender.id, PIV0)),
      '4722d4dd6d944169eefb54987c',
    );
    const out = protectResponse(decodeMessage(hex(UNPROTECTED)), server, serverBinding, {
      newPartialIv: true,
    });
    assert.equal(
      h(encodeMessage(out)),
      '64445d1f00003974920100ff4d4c13669384b67354b2b6175ff4b8658c666a6cf88e',
    );
    assert.equal(server.sender.sequence.peek(), 1);
  });

  for (const [name, wire] of [
    ['C.7', '64445d1f0000397490ffdbaad1e9a7e7b2a813d3c31524378303cdafae119106'],
    ['C.8', '64445d1f00003974920100ff4d4c13669384b67354b2b6175ff4b8658c666a6cf88e'],
  ] as const) {
    it(`verifies the response of ${name} on the client`, () => {
      const client = context(KEY_VECTORS[0]!, 20);
      const { binding } = protectRequest(decodeMessage(hex(REQUEST.unprotected)), client);
      const { response } = unprotectResponse(decodeMessage(hex(wire)), client, binding);
      assert.equal(h(encodeMessage(response)), UNPROTECTED);
    });
  }
});
