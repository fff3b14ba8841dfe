/**
 * @module oscore/endpoint/config-group
 * A `group` entry of the key-material file (docs/security.md): a Group OSCORE context with its
 * members' credentials, this node's private key, and the modes the group uses
 * (draft-ietf-core-oscore-groupcomm §2, §2.1.8, §2.4).
 */
import { createPublicKey } from 'node:crypto';
import { GroupSecurityContext } from '../group/context.js';
import { ccsCredential, credentialKey } from '../group/credential.js';
import {
  asObject,
  bytes,
  destination,
  fieldPath,
  id,
  type KeyAlgorithm,
  type Obj,
  onlyKeys,
  optionalArray,
  optionalInteger,
  optionalString,
  privateKey,
  publicKey,
  rawPublicKey,
  signatureAlgorithm,
} from './config-fields.js';
import { aeadField, COMMON, derive, type OscoreConfigOptions, sequenceFor } from './config-shared.js';
import { OscoreConfigError } from './errors.js';
import type { Destination, OscoreKeyring } from './keyring.js';

const GROUP = ['name', 'groupId', 'addresses', 'masterSecret', 'masterSalt', 'senderId', 'privateKey'];
const GROUP_MORE = [
  'gmCredential',
  'members',
  'maxRecipients',
  'modes',
  'countersignature',
  'aeadAlgorithm',
  'groupEncryptionAlgorithm',
  'signatureAlgorithm',
];

const MEMBER = ['id', 'name', 'publicKey', 'credential', 'address'];
const MODES = ['group', 'pairwise'];

/**
 * The modes a group uses (draft §2.1: the Group Encryption and Signature Algorithms are set for
 * the group mode, the AEAD and Pairwise Key Agreement Algorithms for the pairwise mode).
 */
function modesOf(o: Obj): { group: boolean; pairwise: boolean } {
  const path = fieldPath(o.path, 'modes');
  const list = optionalArray(o, 'modes');
  if (o.value.modes === undefined) return { group: true, pairwise: true };
  if (list.length === 0) throw new OscoreConfigError(path, 'must name "group", "pairwise" or both');
  for (const [i, m] of list.entries()) {
    if (typeof m !== 'string' || !MODES.includes(m))
      throw new OscoreConfigError(fieldPath(path, i), 'must be "group" or "pairwise"');
  }
  return { group: list.includes('group'), pairwise: list.includes('pairwise') };
}

/** A member's credential: given as CCS bytes, or built from its public key and name (subject). */
function memberCredential(
  m: Obj,
  memberId: Buffer,
  alg: KeyAlgorithm,
): { credential: Buffer; publicKey: Buffer } {
  const given = bytes(m, 'credential', false);
  if (given !== undefined && m.value.publicKey !== undefined) {
    throw new OscoreConfigError(m.path, 'give either credential or publicKey, not both');
  }
  if (given !== undefined) {
    // Draft §2.4: the Signature Algorithm fixes the key type (P-256 for -7, OKP for -8).
    let kty: number | undefined;
    try {
      kty = credentialKey(given).kty;
    } catch {
      kty = undefined; // left to first contact, as before
    }
    if (kty !== undefined && (kty === 2) !== (alg === -7))
      throw new OscoreConfigError(
        fieldPath(m.path, 'credential'),
        `holds no ${alg === -7 ? 'P-256' : 'Ed25519'} key, as signatureAlgorithm ${alg} needs`,
      );
    return { credential: given, publicKey: Buffer.alloc(0) };
  }
  const key = publicKey(m, 'publicKey', alg);
  const subject = optionalString(m, 'name') ?? `member-${memberId.toString('hex')}`;
  return { credential: ccsCredential(subject, key), publicKey: rawPublicKey(key) };
}

/** Adds the group of entry `o` (its sequence source keyed `key`) to `keyring`. */
export function groupEntry(
  keyring: OscoreKeyring,
  o: Obj,
  key: string,
  baseDir: string | undefined,
  opts: OscoreConfigOptions,
): void {
  onlyKeys(o, [...GROUP, ...GROUP_MORE, ...COMMON]);
  const groupId = bytes(o, 'groupId', true);
  const masterSecret = bytes(o, 'masterSecret', true);
  if (masterSecret.length === 0) throw new OscoreConfigError(fieldPath(o.path, 'masterSecret'), 'is empty');
  const masterSalt = bytes(o, 'masterSalt', false);
  const senderId = id(o, 'senderId')!;
  const sigAlg = signatureAlgorithm(o, 'signatureAlgorithm');
  const own = privateKey(o, 'privateKey', sigAlg);
  const ownPublic = rawPublicKey(own);
  const gmCredential = bytes(o, 'gmCredential', false) ?? Buffer.alloc(0);
  const addresses = optionalArray(o, 'addresses').map((a, i) =>
    destination(a, fieldPath(fieldPath(o.path, 'addresses'), i), undefined),
  );
  const members: Array<{ id: Buffer; credential: Buffer; address?: Destination }> = [];
  let ownCredential: Buffer | undefined;
  const seen = new Set<string>();
  for (const [i, raw] of optionalArray(o, 'members').entries()) {
    const m = asObject(raw, fieldPath(fieldPath(o.path, 'members'), i));
    onlyKeys(m, MEMBER);
    const memberId = id(m, 'id')!;
    const k = memberId.toString('hex');
    if (seen.has(k)) throw new OscoreConfigError(fieldPath(m.path, 'id'), 'is listed twice');
    seen.add(k);
    const c = memberCredential(m, memberId, sigAlg);
    const addressText = m.value.address;
    const address =
      addressText === undefined ? undefined : destination(addressText, fieldPath(m.path, 'address'), 5683);
    if (memberId.equals(senderId)) {
      if (c.publicKey.length > 0 && !c.publicKey.equals(ownPublic))
        throw new OscoreConfigError(fieldPath(m.path, 'publicKey'), 'does not match privateKey');
      ownCredential = c.credential;
    } else members.push({ id: memberId, credential: c.credential, ...(address ? { address } : {}) });
  }
  ownCredential ??= ccsCredential(`member-${senderId.toString('hex')}`, createPublicKey(own));
  const replayWindow = optionalInteger(o, 'replayWindow', 1, 4096);
  const maxRecipients = optionalInteger(o, 'maxRecipients', 1, 65536);
  const modes = modesOf(o);
  const aeadAlgorithm = aeadField(o, 'aeadAlgorithm');
  const groupEncryptionAlgorithm = aeadField(o, 'groupEncryptionAlgorithm');
  const layout = o.value.countersignature;
  if (layout !== undefined && layout !== 'rfc9338' && layout !== 'rfc8152')
    throw new OscoreConfigError(fieldPath(o.path, 'countersignature'), 'must be "rfc9338" or "rfc8152"');
  const senderSequence = sequenceFor(o, key, baseDir, opts);
  const name = optionalString(o, 'name');
  const credential = ownCredential;
  const ctx = derive(o.path, () =>
    GroupSecurityContext.derive({
      masterSecret,
      idContext: groupId,
      gmCredential,
      senderId,
      privateKey: own,
      credential,
      senderSequence,
      ...(modes.group
        ? { signatureAlgorithm: sigAlg }
        : { groupEncryptionAlgorithm: null, signatureAlgorithm: null }),
      ...(modes.group && groupEncryptionAlgorithm !== undefined ? { groupEncryptionAlgorithm } : {}),
      ...(modes.pairwise && aeadAlgorithm !== undefined ? { aeadAlgorithm } : {}),
      ...(layout !== undefined ? { countersignature: layout } : {}),
      ...(modes.pairwise ? {} : { aeadAlgorithm: null, pairwiseKeyAgreementAlgorithm: null }),
      ...(masterSalt !== undefined ? { masterSalt } : {}),
      ...(replayWindow !== undefined ? { replayWindow } : {}),
      ...(maxRecipients !== undefined ? { maxRecipients } : {}),
    }),
  );
  derive(o.path, () => keyring.addGroup(ctx, { members, addresses, ...(name ? { name } : {}) }));
}
