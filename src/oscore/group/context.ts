/**
 * @module oscore/group/context
 * The Group OSCORE Security Context (draft-ietf-core-oscore-groupcomm §2): a Common Context with
 * Group Encryption Algorithm, Signature Algorithm, Signature Encryption Key (§2.1.7-2.1.9) and
 * Pairwise Key Agreement Algorithm (§2.1.10); one Sender Context with the own key pair and
 * credential; one Recipient Context per other member, each with its credential, replay window
 * and (lazily) pairwise keys (§2.5.1). Derivation follows RFC 8613 §3.2.1 as amended by §2.3.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { InvalidArgumentError } from '../../errors.js';
import { DEFAULT_REPLAY_WINDOW, MAX_REPLAY_WINDOW, ReplayWindow } from '../replay.js';
import { CounterSequence, type SequenceSource } from '../sequence.js';
import { GroupCommonContext, type GroupContextInput } from './common.js';
import { credentialKey } from './credential.js';
import { derivePairwiseKeys, sharedSecret, sharedSecretP256 } from './pairwise.js';
import { SIGNATURE_LENGTH } from './signature.js';

export { GroupCommonContext, type GroupContextInput } from './common.js';

/** COSE Signature Algorithms supported here: EdDSA with Ed25519 (RFC 9053 §2.2), ES256 with P-256 (§2.1). */
export const SignatureAlgorithm = Object.freeze({ EdDSA: -8, ES256: -7 } as const);
/** COSE Pairwise Key Agreement Algorithm: ECDH-SS + HKDF-256 (draft §2.1.10, RFC 9053 §6.3.1). */
export const PairwiseKeyAgreementAlgorithm = Object.freeze({ ECDH_SS_HKDF_256: -27 } as const);
/** Ed25519 signatures are 64 bytes (RFC 8032 §5.1.6); so are ES256 ones (r || s, RFC 9053 §2.1). */
export const ED25519_SIGNATURE_LENGTH = SIGNATURE_LENGTH;

/** Whether a key is P-256 (ES256 groups) rather than Ed25519/X25519. */
function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/**
 * The own Sender Context in a group.
 *
 * @example
 * console.log(group.sender.id); // this member's Sender ID
 */
export class GroupSenderContext {
  constructor(
    readonly id: Buffer,
    readonly key: Buffer,
    readonly sequence: SequenceSource,
    readonly privateKey: KeyObject,
    readonly credential: Buffer,
  ) {}
}

/**
 * The Recipient Context of one other member.
 *
 * @example
 * const member = group.addRecipient(Buffer.from([0x52]), credential);
 * const { sender, recipient } = member.pairwiseKeys(); // draft §2.5.1
 */
export class GroupRecipientContext {
  readonly publicKey: KeyObject;
  readonly #owner: GroupSecurityContext;
  #pairwise: { sender: Buffer; recipient: Buffer } | undefined;

  constructor(
    owner: GroupSecurityContext,
    readonly id: Buffer,
    readonly key: Buffer,
    readonly credential: Buffer,
    readonly replayWindow: ReplayWindow,
  ) {
    this.#owner = owner;
    this.publicKey = credentialKey(credential).publicKey;
    // One curve family per group (draft §2.4: the Signature Algorithm fixes the key algorithm).
    if (isP256(this.publicKey) !== isP256(owner.sender.privateKey))
      throw new InvalidArgumentError('the credential is not for the curve of this group');
  }

  /** Pairwise Sender and Recipient Keys with this member (draft §2.5.1), derived once and cached. */
  pairwiseKeys(): { sender: Buffer; recipient: Buffer } {
    if (this.#pairwise !== undefined) return this.#pairwise;
    const { common, sender } = this.#owner;
    if (common.aead === undefined)
      throw new InvalidArgumentError('the pairwise mode is not enabled in this group');
    const peer = credentialKey(this.credential);
    this.#pairwise = derivePairwiseKeys({
      senderKey: sender.key,
      recipientKey: this.key,
      senderId: sender.id,
      recipientId: this.id,
      idContext: common.idContext,
      senderCredential: sender.credential,
      recipientCredential: this.credential,
      sharedSecret:
        peer.kty === 2
          ? sharedSecretP256(sender.privateKey, peer.publicKey)
          : sharedSecret(sender.privateKey, peer.x, peer.curve === 6 ? 'Ed25519' : 'X25519'),
      aeadAlgorithm: common.aead.alg,
      keyLength: common.aead.keyLength,
    });
    return this.#pairwise;
  }
}

/**
 * One member's Group OSCORE context.
 *
 * @example
 * ```ts
 * const me = GroupSecurityContext.derive({ masterSecret, idContext: gid, gmCredential,
 *   senderId: Buffer.from([0x25]), privateKey, credential: ccsCredential('me', publicKey) });
 * me.addRecipient(Buffer.from([0x52]), serverCredential);
 * ```
 */
export class GroupSecurityContext {
  readonly common: GroupCommonContext;
  readonly sender: GroupSenderContext;
  readonly #recipients = new Map<string, GroupRecipientContext>();
  readonly #windowSize: number;
  readonly #maxRecipients: number;

  private constructor(input: GroupContextInput) {
    this.common = new GroupCommonContext(input);
    const sid = Buffer.from(input.senderId);
    if (sid.length > this.common.maxIdLength)
      throw new InvalidArgumentError(`senderId of ${sid.length} bytes is too long`);
    const sig = this.common.signatureAlgorithm;
    const p256 = isP256(input.privateKey);
    if (!p256 && input.privateKey.asymmetricKeyType !== 'ed25519')
      throw new InvalidArgumentError('privateKey must be an Ed25519 or a P-256 key');
    if (sig !== undefined && p256 !== (sig === SignatureAlgorithm.ES256))
      throw new InvalidArgumentError(`privateKey must be ${p256 ? 'an Ed25519' : 'a P-256'} key for ${sig}`);
    const own = credentialKey(input.credential);
    const derived = createPublicKey(input.privateKey).export({ format: 'jwk' });
    if (own.x.toString('base64url') !== derived.x || (p256 && own.y?.toString('base64url') !== derived.y))
      throw new InvalidArgumentError("credential does not hold privateKey's public key");
    const key = this.common.derive(sid, 'Key', this.common.keyAlgorithm.keyLength);
    this.sender = new GroupSenderContext(
      sid,
      key,
      input.senderSequence ?? new CounterSequence(),
      input.privateKey,
      Buffer.from(input.credential),
    );
    this.#windowSize = input.replayWindow ?? DEFAULT_REPLAY_WINDOW;
    if (!Number.isInteger(this.#windowSize) || this.#windowSize < 1 || this.#windowSize > MAX_REPLAY_WINDOW) {
      throw new InvalidArgumentError(
        `replay window size ${this.#windowSize}; allowed 1-${MAX_REPLAY_WINDOW}`,
      );
    }
    this.#maxRecipients = input.maxRecipients ?? 256;
  }

  /** Derives the Common and Sender Context; inputs are checked eagerly. */
  static derive(input: GroupContextInput): GroupSecurityContext {
    return new GroupSecurityContext(input);
  }

  /**
   * Adds (or replaces) the Recipient Context of a member, from its Sender ID and credential.
   * @throws InvalidArgumentError beyond `maxRecipients`, for an ID too long or equal to our own.
   */
  addRecipient(id: Buffer, credential: Buffer): GroupRecipientContext {
    if (id.length > this.common.maxIdLength)
      throw new InvalidArgumentError(`recipient ID of ${id.length} bytes is too long`);
    if (id.equals(this.sender.id)) throw new InvalidArgumentError('a recipient ID equal to our Sender ID');
    const k = id.toString('hex');
    if (!this.#recipients.has(k) && this.#recipients.size >= this.#maxRecipients) {
      throw new InvalidArgumentError(`at most ${this.#maxRecipients} Recipient Contexts`);
    }
    const key = this.common.derive(id, 'Key', this.common.keyAlgorithm.keyLength);
    const rc = new GroupRecipientContext(
      this,
      Buffer.from(id),
      key,
      Buffer.from(credential),
      new ReplayWindow(this.#windowSize),
    );
    this.#recipients.set(k, rc);
    return rc;
  }

  /** The Recipient Context for a 'kid', or undefined. */
  recipient(id: Buffer): GroupRecipientContext | undefined {
    return this.#recipients.get(id.toString('hex'));
  }

  removeRecipient(id: Buffer): boolean {
    return this.#recipients.delete(id.toString('hex'));
  }
}
