/**
 * @module oscore/endpoint/generate
 * Commissioning: fresh key material in the file format of docs/security.md. An RFC 8613 pair
 * (a client and a server file sharing a Master Secret and Salt, §3.2, §12.3: random, from
 * `node:crypto`), and a Group OSCORE group (draft-ietf-core-oscore-groupcomm §2) with one file
 * per member holding its Ed25519 (or, for ES256 groups, P-256: draft §2.1.8) private key and
 * every member's public key, as a Group Manager would hand them out. Files are written with mode 0600 in a directory of mode 0700.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { ccsCredential } from '../group/credential.js';
import { rawPrivateKey, rawPublicKey } from './config-fields.js';
import { OscoreConfigError } from './errors.js';

/** The JSON of a key-material file (see docs/security.md). */
export type OscoreConfigFile = Record<string, unknown> & { readonly version: 1 };

/** Options of `generateOscorePair`. */
export interface GenerateOscoreOptions {
  /** The server's URI, written as the client's `peer` (else the client uses it for every server). */
  readonly peer?: string;
  /** Bytes of randomness; default `node:crypto` (tests may inject). */
  readonly random?: (n: number) => Buffer;
}

/**
 * A client and a server file for one RFC 8613 Security Context: a 32-byte Master Secret, an
 * 8-byte Master Salt (RFC 8613 §3.2), the server's Sender ID `00` and a random 2-byte client
 * Sender ID, so that one server can hold many clients' contexts (§3.3: unique Recipient IDs).
 */
export function generateOscorePair(options: GenerateOscoreOptions = {}): {
  client: OscoreConfigFile;
  server: OscoreConfigFile;
} {
  const random = options.random ?? randomBytes;
  const masterSecret = random(32).toString('hex');
  const masterSalt = random(8).toString('hex');
  const clientId = random(2).toString('hex');
  const serverId = '00';
  const base = { masterSecret, masterSalt };
  return {
    client: {
      version: 1,
      oscore: [
        {
          name: 'server',
          ...(options.peer !== undefined ? { peer: options.peer } : {}),
          ...base,
          senderId: clientId,
          recipientId: serverId,
        },
      ],
    },
    server: {
      version: 1,
      oscore: [{ name: `client-${clientId}`, ...base, senderId: serverId, recipientId: clientId }],
    },
  };
}

/** Options of `generateGroup`. */
export interface GenerateGroupOptions {
  /** How many members (1-255); each gets Sender ID 01, 02, ... */
  readonly members: number;
  /** Group addresses the members send group requests to; default `224.0.1.187`. */
  readonly addresses?: readonly string[];
  /** A name for the group; default `group`. */
  readonly name?: string;
  /**
   * Unicast addresses of the members, in order (member 1 first): written into every file so
   * that unicast requests to a member are protected for it in the pairwise mode (draft §8).
   */
  readonly memberAddresses?: readonly string[];
  /** The modes the group uses (draft §2.1); default both, which the file then leaves implicit. */
  readonly modes?: readonly ('group' | 'pairwise')[];
  /**
   * The Signature Algorithm (draft §2.1.8): 'eddsa' (-8, Ed25519 keys; default, left implicit in
   * the file) or 'es256' (-7, P-256 keys, also used for the pairwise ECDH, §2.5.1).
   */
  readonly signature?: 'eddsa' | 'es256';
  readonly random?: (n: number) => Buffer;
}

/**
 * One file per member of a new Group OSCORE group (group mode, EdDSA or ES256,
 * AES-CCM-16-64-128): the Group ID, Master Secret and Salt, the Group Manager's credential (a
 * key of the group's curve), every member's public key, and the member's own private key.
 */
export function generateGroup(options: GenerateGroupOptions): OscoreConfigFile[] {
  const n = options.members;
  if (!Number.isInteger(n) || n < 1 || n > 255)
    throw new InvalidArgumentError(`members ${n}: a group of 1 to 255 members`);
  const at = options.memberAddresses ?? [];
  if (at.length > n) throw new InvalidArgumentError(`${at.length} member addresses for ${n} members`);
  const random = options.random ?? randomBytes;
  const es256 = options.signature === 'es256';
  if (options.signature !== undefined && !es256 && options.signature !== 'eddsa')
    throw new InvalidArgumentError(`signature ${String(options.signature)}: eddsa or es256`);
  const keyPair = () =>
    es256 ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const gm = keyPair();
  const shared = {
    name: options.name ?? 'group',
    groupId: random(4).toString('hex'),
    addresses: [...(options.addresses ?? ['224.0.1.187'])],
    masterSecret: random(32).toString('hex'),
    masterSalt: random(8).toString('hex'),
    gmCredential: ccsCredential('group-manager', gm.publicKey).toString('hex'),
    ...(options.modes !== undefined ? { modes: [...options.modes] } : {}),
    ...(es256 ? { signatureAlgorithm: -7 } : {}),
  };
  const keys = Array.from({ length: n }, keyPair);
  const members = keys.map((k, i) => ({
    id: (i + 1).toString(16).padStart(2, '0'),
    name: `member-${i + 1}`,
    publicKey: rawPublicKey(k.publicKey).toString('hex'),
    ...(at[i] !== undefined ? { address: at[i] } : {}),
  }));
  return keys.map((k, i) => ({
    version: 1 as const,
    group: [
      {
        ...shared,
        senderId: members[i]!.id,
        privateKey: rawPrivateKey(k.privateKey).toString('hex'),
        members,
      },
    ],
  }));
}

/**
 * Writes a key-material file with mode 0600, creating its directory with mode 0700.
 * @throws OscoreConfigError when the file exists (unless `overwrite`) or cannot be written.
 */
export function writeKeyFile(
  path: string,
  content: OscoreConfigFile,
  options: { overwrite?: boolean } = {},
): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, `${JSON.stringify(content, null, 2)}\n`, {
      mode: 0o600,
      flag: options.overwrite ? 'w' : 'wx',
    });
    // `mode` applies only to a new file: an overwritten one is narrowed too.
    chmodSync(path, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new OscoreConfigError('', `${path} exists; not overwritten`);
    throw new OscoreConfigError('', `cannot write ${path} (${code ?? 'error'})`);
  }
}
