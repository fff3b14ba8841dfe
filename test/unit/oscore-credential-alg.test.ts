/**
 * The COSE_Key of every CCS credential we write names its algorithm (`alg`, label 3, RFC 9052
 * §7.1): -8 EdDSA for Ed25519 keys (RFC 9053 §2.2), -7 ES256 for P-256 keys (RFC 9053 §2.1),
 * as aiocoap requires. Checked on `ccsCredential`, byte for byte against the credentials aiocoap
 * built for the independent vectors, on the files `keys group` writes and the credentials a
 * keyring builds from them; and a credential without `alg` (as older files hold) is still read
 * and works in a group.
 */
import assert from 'node:assert/strict';
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MessageType } from '../../src/message/types.js';
import { type CborValue, decodeCbor, encodeCbor } from '../../src/oscore/cbor.js';
import { parseOscoreConfig } from '../../src/oscore/endpoint/config.js';
import { generateGroup } from '../../src/oscore/endpoint/generate.js';
import {
  ccsCredential,
  credentialKey,
  protectGroupRequest,
  unprotectGroupRequest,
} from '../../src/oscore/group/index.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** The COSE_Key inside a CCS: claim 8 ('cnf'), then 1 ('COSE_Key'). */
function coseKeyOf(ccs: Buffer): Map<CborValue, CborValue> {
  const claims = decodeCbor(ccs) as Map<CborValue, CborValue>;
  return (claims.get(8) as Map<CborValue, CborValue>).get(1) as Map<CborValue, CborValue>;
}

const edPublic = (seed: string): KeyObject =>
  createPublicKey(
    createPrivateKey({
      key: Buffer.concat([hex('302e020100300506032b657004220420'), hex(seed)]),
      format: 'der',
      type: 'pkcs8',
    }),
  );

function p256Public(scalar: string): KeyObject {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(hex(scalar));
  const point = ecdh.getPublicKey();
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
}

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));

describe('CCS credentials name their algorithm', () => {
  it('puts alg -8 (EdDSA) in an Ed25519 key, -7 (ES256) in a P-256 key, none in an X25519 key', () => {
    const ed = coseKeyOf(ccsCredential('a', generateKeyPairSync('ed25519').publicKey));
    assert.deepEqual([...ed.keys()], [1, 3, -1, -2], 'kty, alg, crv, x in deterministic order');
    assert.equal(ed.get(3), -8);
    const ec = coseKeyOf(ccsCredential('b', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey));
    assert.deepEqual([...ec.keys()], [1, 3, -1, -2, -3]);
    assert.equal(ec.get(3), -7);
    const x = coseKeyOf(ccsCredential('c', generateKeyPairSync('x25519').publicKey));
    assert.equal(x.has(3), false);
  });

  it("builds aiocoap's credentials byte for byte from the same keys (EdDSA and ES256 vectors)", () => {
    const g = fixture('oscore-group-independent.json').inputs;
    assert.equal(ccsCredential('client', edPublic(g.clientSeed)).toString('hex'), g.clientCredential);
    assert.equal(ccsCredential('server', edPublic(g.serverSeed)).toString('hex'), g.serverCredential);
    const e = fixture('oscore-group-ecdsa-independent.json').inputs;
    assert.equal(
      ccsCredential('client', p256Public(e.client.privateKey)).toString('hex'),
      e.client.credential,
    );
    assert.equal(
      ccsCredential('server', p256Public(e.server.privateKey)).toString('hex'),
      e.server.credential,
    );
  });

  for (const signature of ['eddsa', 'es256'] as const) {
    it(`writes alg into every credential of a ${signature} group made by keys group, and the keyring's`, () => {
      const alg = signature === 'es256' ? -7 : -8;
      const files = generateGroup({ members: 3, signature });
      const g = files[0]!.group as Array<Record<string, string>>;
      assert.equal(coseKeyOf(hex(g[0]!.gmCredential!)).get(3), alg, 'the Group Manager credential');
      const entry = parseOscoreConfig(files[0]!).groupEntries[0]!;
      assert.equal(entry.members.size, 2);
      for (const cred of entry.members.values()) assert.equal(coseKeyOf(cred).get(3), alg);
      assert.equal(coseKeyOf(entry.context.sender.credential).get(3), alg, "the member's own credential");
    });
  }
});

describe('credentials without alg (as older files hold)', () => {
  /** A CCS like ccsCredential made before it named the algorithm. */
  function withoutAlg(subject: string, key: KeyObject): Buffer {
    const ccs = ccsCredential(subject, key);
    const coseKey = coseKeyOf(ccs);
    coseKey.delete(3);
    return encodeCbor(
      new Map<CborValue, CborValue>([
        [2, subject],
        [8, new Map([[1, coseKey]])],
      ]),
    );
  }

  it('are read: the key comes out of an Ed25519 and a P-256 credential alike', () => {
    for (const k of [generateKeyPairSync('ed25519'), generateKeyPairSync('ec', { namedCurve: 'P-256' })]) {
      const old = withoutAlg('old', k.publicKey);
      assert.equal(coseKeyOf(old).has(3), false);
      const read = credentialKey(old);
      assert.ok(read.publicKey.equals(k.publicKey));
    }
  });

  it('work in a key file: members given as credentials without alg exchange a group request', () => {
    const files = generateGroup({ members: 2 });
    const keys = files.map((f) => {
      const g = (f.group as Array<Record<string, unknown>>)[0]!;
      return createPublicKey(
        createPrivateKey({
          key: Buffer.concat([hex('302e020100300506032b657004220420'), hex(g.privateKey as string)]),
          format: 'der',
          type: 'pkcs8',
        }),
      );
    });
    const gm = withoutAlg('group-manager', generateKeyPairSync('ed25519').publicKey).toString('hex');
    const members = keys.map((k, i) => ({
      id: `0${i + 1}`,
      credential: withoutAlg(`m${i}`, k).toString('hex'),
    }));
    const [a, b] = files.map((f) => {
      const g = (f.group as Array<Record<string, unknown>>)[0]!;
      return parseOscoreConfig({ ...f, group: [{ ...g, gmCredential: gm, members }] }).groupEntries[0]!;
    });
    // The member's own credential is the one listed for it, bytes as given (no alg).
    assert.equal(a!.context.sender.credential.toString('hex'), members[0]!.credential);
    const req = {
      type: MessageType.NON,
      code: 1,
      messageId: 1,
      token: Buffer.from([1]),
      options: [],
      payload: Buffer.from('old'),
    };
    const { message } = protectGroupRequest(req, a!.context);
    b!.context.addRecipient(hex('01'), hex(members[0]!.credential));
    assert.equal(unprotectGroupRequest(message, b!.context).request.payload.toString(), 'old');
  });
});
