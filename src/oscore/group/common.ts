/**
 * @module oscore/group/common
 * What a Group Manager hands a member (draft-ietf-core-oscore-groupcomm §2), and the Common
 * Context of a group derived from it: the algorithms of the group and pairwise modes
 * (§2.1.5-§2.1.10), the Common IV (§2.1.4, as long as the longest nonce) and the Signature
 * Encryption Key (§2.1.9). Derivation follows RFC 8613 §3.2.1 as amended by §2.3.
 */
import type { KeyObject } from 'node:crypto';
import { InvalidArgumentError } from '../../errors.js';
import { type AeadAlgorithm, type AeadParameters, aeadParameters, hkdf } from '../algorithms.js';
import { deriveInfo } from '../context.js';
import type { SequenceSource } from '../sequence.js';
import type { CountersignLayout } from './signature.js';

/** Inputs of a Group OSCORE context, as a Group Manager would hand them out. */
export interface GroupContextInput {
  readonly masterSecret: Buffer;
  readonly masterSalt?: Buffer;
  /** The Group Identifier (Gid), used as ID Context (draft §2.1.3). */
  readonly idContext: Buffer;
  /** Group mode encryption; default 10 (AES-CCM-16-64-128); `null` disables the group mode. */
  readonly groupEncryptionAlgorithm?: AeadAlgorithm | null;
  /**
   * Default -8 (EdDSA, Ed25519 keys); -7 is ES256 (P-256 keys, also used for the pairwise
   * ECDH). `null` only together with no Group Encryption Algorithm; the key type then says
   * which curve the pairwise ECDH uses.
   */
  readonly signatureAlgorithm?: -8 | -7 | null;
  /** Pairwise mode encryption; default 10; `null` disables the pairwise mode. */
  readonly aeadAlgorithm?: AeadAlgorithm | null;
  /** Default -27 when `aeadAlgorithm` is set. */
  readonly pairwiseKeyAgreementAlgorithm?: -27 | null;
  /** The Group Manager's authentication credential, as distributed (draft §2.1.6). */
  readonly gmCredential: Buffer;
  readonly senderId: Buffer;
  /** The own Ed25519 private key, or P-256 with ES256. */
  readonly privateKey: KeyObject;
  /** The own authentication credential; its public key must match `privateKey`. */
  readonly credential: Buffer;
  readonly replayWindow?: number;
  readonly senderSequence?: SequenceSource;
  /** Bounds the Recipient Contexts kept (draft §2.2: an application-defined maximum). Default 256. */
  readonly maxRecipients?: number;
  /**
   * The Countersign_structure layout this member signs with: `'rfc9338'` (default) omits
   * 'sign_protected', as RFC 9338 §3.3 says for Countersignature0 version 2 (draft §3.1);
   * `'rfc8152'` keeps it as an empty byte string, as aiocoap 0.4.17 and Californium do, so that
   * they accept this member's signatures. Received signatures verify in either layout, this one
   * tried first.
   */
  readonly countersignature?: CountersignLayout;
}

/**
 * The Common Context of a group. Immutable.
 *
 * @example
 * console.log(group.common.idContext); // the Gid
 */
export class GroupCommonContext {
  readonly masterSecret: Buffer;
  readonly masterSalt: Buffer;
  readonly idContext: Buffer;
  readonly groupEncryption: AeadParameters | undefined;
  readonly aead: AeadParameters | undefined;
  readonly signatureAlgorithm: -8 | -7 | undefined;
  readonly pairwiseKeyAgreementAlgorithm: -27 | undefined;
  readonly gmCredential: Buffer;
  readonly commonIv: Buffer;
  /** Keystream key for countersignatures (draft §2.1.9); only with the group mode. */
  readonly signatureEncryptionKey: Buffer | undefined;
  readonly countersignature: CountersignLayout;

  constructor(input: GroupContextInput) {
    if (!Buffer.isBuffer(input.masterSecret) || input.masterSecret.length === 0) {
      throw new InvalidArgumentError('masterSecret must be a non-empty Buffer');
    }
    const groupEnc = input.groupEncryptionAlgorithm === undefined ? 10 : input.groupEncryptionAlgorithm;
    const sig = input.signatureAlgorithm === undefined ? -8 : input.signatureAlgorithm;
    const aead = input.aeadAlgorithm === undefined ? 10 : input.aeadAlgorithm;
    const pka =
      input.pairwiseKeyAgreementAlgorithm === undefined
        ? aead === null
          ? null
          : -27
        : input.pairwiseKeyAgreementAlgorithm;
    if ((groupEnc === null) !== (sig === null)) {
      throw new InvalidArgumentError(
        'the group mode needs both a Group Encryption and a Signature Algorithm',
      );
    }
    if (sig !== null && sig !== -8 && sig !== -7)
      throw new InvalidArgumentError(`Signature Algorithm ${String(sig)}; supported: -8 (EdDSA), -7 (ES256)`);
    if ((aead === null) !== (pka === null)) {
      throw new InvalidArgumentError(
        'the pairwise mode needs both an AEAD and a Pairwise Key Agreement Algorithm',
      );
    }
    if (groupEnc === null && aead === null)
      throw new InvalidArgumentError('neither the group nor the pairwise mode is enabled');
    this.masterSecret = Buffer.from(input.masterSecret);
    this.masterSalt = Buffer.from(input.masterSalt ?? Buffer.alloc(0));
    this.idContext = Buffer.from(input.idContext);
    this.groupEncryption = groupEnc === null ? undefined : aeadParameters(groupEnc);
    this.aead = aead === null ? undefined : aeadParameters(aead);
    this.signatureAlgorithm = sig ?? undefined;
    this.pairwiseKeyAgreementAlgorithm = pka ?? undefined;
    this.gmCredential = Buffer.from(input.gmCredential);
    this.countersignature = input.countersignature ?? 'rfc9338';
    // Draft §2.1.4: the Common IV is as long as the longest nonce of the algorithms set.
    this.commonIv = this.derive(
      Buffer.alloc(0),
      'IV',
      Math.max(this.groupEncryption?.nonceLength ?? 0, this.aead?.nonceLength ?? 0),
    );
    this.signatureEncryptionKey =
      this.groupEncryption === undefined
        ? undefined
        : hkdf(
            'sha256',
            this.masterSecret,
            this.masterSalt,
            // Draft §2.1.9: 'id' empty, 'alg_aead' the Group Encryption Algorithm, type "SEKey".
            deriveInfo(
              Buffer.alloc(0),
              this.idContext,
              this.groupEncryption.alg,
              'SEKey',
              this.groupEncryption.keyLength,
            ),
            this.groupEncryption.keyLength,
          );
  }

  /** The algorithm in 'info' for Sender/Recipient Keys and Common IV (draft §2.3): Group Encryption if set. */
  get keyAlgorithm(): AeadParameters {
    return (this.groupEncryption ?? this.aead)!;
  }

  /** Draft §2.2: Sender IDs are at most (shortest nonce length - 6) bytes. */
  get maxIdLength(): number {
    return Math.min(this.groupEncryption?.nonceLength ?? 99, this.aead?.nonceLength ?? 99) - 6;
  }

  derive(id: Buffer, type: 'Key' | 'IV', length: number): Buffer {
    const info = deriveInfo(id, this.idContext, this.keyAlgorithm.alg, type, length);
    return hkdf('sha256', this.masterSecret, this.masterSalt, info, length);
  }
}
