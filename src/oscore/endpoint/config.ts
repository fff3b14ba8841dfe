/**
 * @module oscore/endpoint/config
 * The key-material file of a node (format in docs/security.md): RFC 8613 contexts from their
 * pre-established inputs (§3.2) and Group OSCORE groups with their members' Ed25519 (or, with
 * ES256, P-256) public keys and this node's private key (draft-ietf-core-oscore-groupcomm §2,
 * §2.1.8, §2.4). Loading is all or
 * nothing: any missing or malformed field throws `OscoreConfigError` naming it, before any
 * context exists. Sender Sequence Numbers persist next to the file (RFC 8613 Appendix B.1.1).
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { CoapError } from '../../errors.js';
import { type AeadAlgorithm, aeadParameters } from '../algorithms.js';
import { SecurityContext } from '../context.js';
import { GroupSecurityContext } from '../group/context.js';
import { ccsCredential, credentialKey } from '../group/credential.js';
import { CounterSequence, PersistentSequence, type SequenceSource } from '../sequence.js';
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
import { OscoreConfigError } from './errors.js';
import { type Destination, OscoreKeyring } from './keyring.js';
import { FileSequenceStorage } from './sequence-file.js';

/** Options of `parseOscoreConfig` and `loadOscoreConfig`. */
export interface OscoreConfigOptions {
  /**
   * The Sender Sequence Number source of each context, by key (`oscore-0`, `group-1`, ...).
   * Default with `loadOscoreConfig`: a file `<config>.<key>.seq` beside the config (or the
   * context's `sequenceFile`); with `parseOscoreConfig` and no file: a counter from 0, which is
   * only safe for contexts used once (RFC 8613 Appendix B.1.1).
   */
  readonly sequence?: (key: string, file: string | undefined) => SequenceSource;
  /** K of RFC 8613 Appendix B.1.1 for file-backed sequences; default 100. */
  readonly reserve?: number;
  /** Refuse a file group or others may access (mode & 0o077), as ssh does; default true. */
  readonly checkMode?: boolean;
}

const TOP = ['version', 'oscore', 'group'];
const OSCORE = [
  'name',
  'peer',
  'masterSecret',
  'masterSalt',
  'idContext',
  'senderId',
  'recipientId',
  'aeadAlgorithm',
];
const COMMON = ['replayWindow', 'sequenceFile'];
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

/** A COSE AEAD algorithm number this implementation supports (RFC 9053 §4), if given. */
function aeadField(o: Obj, key: string): AeadAlgorithm | undefined {
  const v = o.value[key];
  if (v === undefined) return undefined;
  try {
    if (typeof v !== 'number') throw new Error();
    return aeadParameters(v).alg;
  } catch {
    throw new OscoreConfigError(
      fieldPath(o.path, key),
      'must be a COSE AEAD algorithm: 10, 11, 30, 1, 3 or 24',
    );
  }
}
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

/** Turns the primitives' argument errors (IDs too long, equal IDs) into errors naming the entry. */
function derive<T>(path: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof OscoreConfigError) throw err;
    const why = err instanceof CoapError ? err.message : 'cannot derive the context';
    throw new OscoreConfigError(path, why);
  }
}

function sequenceFor(
  o: Obj,
  key: string,
  baseDir: string | undefined,
  opts: OscoreConfigOptions,
): SequenceSource {
  const given = optionalString(o, 'sequenceFile');
  const file =
    given === undefined
      ? undefined
      : isAbsolute(given) || baseDir === undefined
        ? given
        : join(baseDir, given);
  if (opts.sequence !== undefined) return opts.sequence(key, file);
  if (file === undefined) return new CounterSequence();
  return derive(fieldPath(o.path, 'sequenceFile'), () => {
    return new PersistentSequence(new FileSequenceStorage(file), { reserve: opts.reserve ?? 100 });
  });
}

function oscoreEntry(
  keyring: OscoreKeyring,
  o: Obj,
  key: string,
  baseDir: string | undefined,
  opts: OscoreConfigOptions,
): void {
  onlyKeys(o, [...OSCORE, ...COMMON]);
  const peerText = o.value.peer;
  const peer = peerText === undefined ? undefined : destination(peerText, fieldPath(o.path, 'peer'), 5683);
  const masterSecret = bytes(o, 'masterSecret', true);
  if (masterSecret.length === 0) throw new OscoreConfigError(fieldPath(o.path, 'masterSecret'), 'is empty');
  const masterSalt = bytes(o, 'masterSalt', false);
  const idContext = bytes(o, 'idContext', false);
  const senderId = id(o, 'senderId')!;
  const recipientId = id(o, 'recipientId')!;
  const replayWindow = optionalInteger(o, 'replayWindow', 1, 4096);
  const aeadAlgorithm = aeadField(o, 'aeadAlgorithm');
  const senderSequence = sequenceFor(o, key, baseDir, opts);
  const name = optionalString(o, 'name');
  const ctx = derive(o.path, () =>
    SecurityContext.derive({
      ...(aeadAlgorithm !== undefined ? { aeadAlgorithm } : {}),
      masterSecret,
      senderId,
      recipientId,
      senderSequence,
      ...(masterSalt !== undefined ? { masterSalt } : {}),
      ...(idContext !== undefined ? { idContext } : {}),
      ...(replayWindow !== undefined ? { replayWindow } : {}),
    }),
  );
  derive(o.path, () => keyring.addOscore(ctx, { ...(peer ? { peer } : {}), ...(name ? { name } : {}) }));
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

function groupEntry(
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

/**
 * Builds a keyring from a parsed key-material object.
 * @param baseDir where relative `sequenceFile` paths start (the config file's directory).
 * @throws OscoreConfigError naming the first missing or malformed field.
 */
export function parseOscoreConfig(
  json: unknown,
  options: OscoreConfigOptions & { baseDir?: string } = {},
): OscoreKeyring {
  const top = asObject(json, '');
  onlyKeys(top, TOP);
  const version = top.value.version;
  if (version !== undefined && version !== 1) throw new OscoreConfigError('version', 'must be 1');
  const keyring = new OscoreKeyring();
  const oscore = optionalArray(top, 'oscore');
  const group = optionalArray(top, 'group');
  if (oscore.length === 0 && group.length === 0)
    throw new OscoreConfigError('', 'the file has no context: give "oscore" or "group" entries');
  for (const [i, e] of oscore.entries())
    oscoreEntry(keyring, asObject(e, `oscore[${i}]`), `oscore-${i}`, options.baseDir, options);
  for (const [i, e] of group.entries())
    groupEntry(keyring, asObject(e, `group[${i}]`), `group-${i}`, options.baseDir, options);
  return keyring;
}

/**
 * Reads and checks a key-material file. Each context's Sender Sequence Number bound is kept in
 * `<file>.<key>.seq` (mode 0600) unless the entry names a `sequenceFile`.
 * @throws OscoreConfigError for an unreadable file, one others may read, bad JSON or a bad field.
 */
export function loadOscoreConfig(file: string, options: OscoreConfigOptions = {}): OscoreKeyring {
  let text: string;
  try {
    if (options.checkMode !== false) {
      const mode = statSync(file).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new OscoreConfigError(
          '',
          `${file} has mode 0${mode.toString(8)}: key material must be private (chmod 600 ${file})`,
        );
      }
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof OscoreConfigError) throw err;
    throw new OscoreConfigError(
      '',
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // The parser's message may quote the text, which holds secrets: only the position is kept.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new OscoreConfigError('', `${file} is not valid JSON${at === undefined ? '' : ` (at byte ${at})`}`);
  }
  const sequence =
    options.sequence ??
    ((key: string, given: string | undefined) =>
      new PersistentSequence(new FileSequenceStorage(given ?? `${file}.${key}.seq`), {
        reserve: options.reserve ?? 100,
      }));
  return parseOscoreConfig(json, { ...options, sequence, baseDir: dirname(file) });
}
