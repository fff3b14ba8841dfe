/**
 * @module oscore/context
 * The OSCORE Security Context (RFC 8613 §3): a Common Context, a Sender Context and a Recipient
 * Context, derived from a few pre-established inputs with HKDF (RFC 8613 §3.2, §3.2.1), with the
 * Sender Sequence Number (§3.2.2, §7.2) and the Recipient's replay window (§7.4).
 */
import { InvalidArgumentError } from '../errors.js';
import {
  type AeadAlgorithm,
  type AeadParameters,
  aeadParameters,
  type HkdfAlgorithm,
  hkdf,
} from './algorithms.js';
import { encodeCbor } from './cbor.js';
import { DEFAULT_REPLAY_WINDOW, ReplayWindow } from './replay.js';
import { CounterSequence, type SequenceSource } from './sequence.js';

const EMPTY = Buffer.alloc(0);

/** The pre-established inputs (RFC 8613 §3.2). */
export interface SecurityContextInput {
  readonly masterSecret: Buffer;
  /** Default: the empty byte string (RFC 8613 §3.2). */
  readonly masterSalt?: Buffer;
  /** Optional; when absent, `info` carries nil (RFC 8613 §3.2.1). */
  readonly idContext?: Buffer;
  readonly senderId: Buffer;
  readonly recipientId: Buffer;
  /** Default 10, AES-CCM-16-64-128, the only one supported. */
  readonly aeadAlgorithm?: AeadAlgorithm;
  /** Default and only: HKDF SHA-256. */
  readonly hkdfAlgorithm?: HkdfAlgorithm;
  /** Replay window size of the Recipient Context (RFC 8613 §3.2.2: default 32). */
  readonly replayWindow?: number;
  /** Where Sender Sequence Numbers come from; default a counter from 0 (RFC 8613 §3.2.2). */
  readonly senderSequence?: SequenceSource;
}

/**
 * The `info` of RFC 8613 §3.2.1: `[id, id_context / nil, alg_aead, type, L]`. Group OSCORE adds
 * the type "SEKey" (draft-ietf-core-oscore-groupcomm §2.1.9).
 * @example deriveInfo(Buffer.alloc(0), undefined, 10, 'IV', 13) // 0x8540f60a6249560d
 */
export function deriveInfo(
  id: Buffer,
  idContext: Buffer | undefined,
  alg: number,
  type: 'Key' | 'IV' | 'SEKey',
  length: number,
): Buffer {
  return encodeCbor([id, idContext ?? null, alg, type, length]);
}

/**
 * The parameters every endpoint of the context shares (RFC 8613 §3.1). Immutable.
 *
 * @example
 * const ctx = SecurityContext.derive({ masterSecret, senderId: Buffer.from([1]), recipientId: Buffer.alloc(0) });
 * console.log(ctx.common.commonIv, ctx.common.maxIdLength); // 13 bytes; 7 for AES-CCM-16-64-128
 */
export class CommonContext {
  readonly aead: AeadParameters;
  readonly hkdfAlgorithm: HkdfAlgorithm;
  readonly masterSecret: Buffer;
  readonly masterSalt: Buffer;
  readonly idContext: Buffer | undefined;
  readonly commonIv: Buffer;

  constructor(
    input: Pick<
      SecurityContextInput,
      'masterSecret' | 'masterSalt' | 'idContext' | 'aeadAlgorithm' | 'hkdfAlgorithm'
    >,
  ) {
    if (!Buffer.isBuffer(input.masterSecret) || input.masterSecret.length === 0) {
      throw new InvalidArgumentError('masterSecret must be a non-empty Buffer');
    }
    if ((input.hkdfAlgorithm ?? 'sha256') !== 'sha256') {
      throw new InvalidArgumentError(`HKDF algorithm ${input.hkdfAlgorithm} is not supported (only sha256)`);
    }
    this.aead = aeadParameters(input.aeadAlgorithm ?? 10);
    this.hkdfAlgorithm = 'sha256';
    this.masterSecret = Buffer.from(input.masterSecret);
    this.masterSalt = Buffer.from(input.masterSalt ?? EMPTY);
    this.idContext = input.idContext === undefined ? undefined : Buffer.from(input.idContext);
    // RFC 8613 §3.2.1: the Common IV uses the empty id and the nonce length.
    this.commonIv = this.derive(EMPTY, 'IV', this.aead.nonceLength);
  }

  /** HKDF(Master Salt, Master Secret, info, L) of RFC 8613 §3.2.1. */
  derive(id: Buffer, type: 'Key' | 'IV', length: number): Buffer {
    const info = deriveInfo(id, this.idContext, this.aead.alg, type, length);
    return hkdf(this.hkdfAlgorithm, this.masterSecret, this.masterSalt, info, length);
  }

  /** RFC 8613 §3.3: an ID is at most nonce length - 6 bytes (7 for AES-CCM-16-64-128). */
  get maxIdLength(): number {
    return this.aead.nonceLength - 6;
  }
}

/**
 * The Sender Context (RFC 8613 §3.1): protects what this endpoint sends.
 *
 * @example
 * const { sender } = SecurityContext.derive({ masterSecret, senderId: Buffer.from([1]), recipientId: Buffer.alloc(0) });
 * console.log(sender.id, sender.key); // the Sender ID and Key (RFC 8613 §3.2.1)
 */
export class SenderContext {
  readonly id: Buffer;
  readonly key: Buffer;
  readonly sequence: SequenceSource;
  constructor(id: Buffer, key: Buffer, sequence: SequenceSource) {
    this.id = id;
    this.key = key;
    this.sequence = sequence;
  }
}

/**
 * The Recipient Context (RFC 8613 §3.1): verifies what the peer sends.
 *
 * @example
 * const { recipient } = SecurityContext.derive({ masterSecret, senderId: Buffer.from([1]), recipientId: Buffer.alloc(0) });
 * console.log(recipient.id, recipient.key); // the Recipient ID and Key (RFC 8613 §3.2.1)
 */
export class RecipientContext {
  readonly id: Buffer;
  readonly key: Buffer;
  /** Used by a server for requests (RFC 8613 §7.4); responses are bound to requests instead. */
  readonly replayWindow: ReplayWindow;
  constructor(id: Buffer, key: Buffer, replayWindow: ReplayWindow) {
    this.id = id;
    this.key = key;
    this.replayWindow = replayWindow;
  }
}

function checkId(id: Buffer, what: string, max: number): Buffer {
  if (!Buffer.isBuffer(id)) throw new InvalidArgumentError(`${what} must be a Buffer`);
  if (id.length > max)
    throw new InvalidArgumentError(`${what} of ${id.length} bytes; at most ${max} (RFC 8613 §3.3)`);
  return Buffer.from(id);
}

/**
 * One endpoint's Security Context. The same object serves client and server roles
 * (RFC 8613 §3.1: the roles do not change the keys).
 *
 * @example
 * ```ts
 * const client = SecurityContext.derive({
 *   masterSecret: Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex'),
 *   masterSalt: Buffer.from('9e7ca92223786340', 'hex'),
 *   senderId: Buffer.alloc(0),
 *   recipientId: Buffer.from([1]),
 * });
 * client.sender.key; // f0910ed7295e6ad4b54fc793154302ff (RFC 8613 Appendix C.1.1)
 * ```
 */
export class SecurityContext {
  readonly common: CommonContext;
  readonly sender: SenderContext;
  readonly recipient: RecipientContext;

  constructor(common: CommonContext, sender: SenderContext, recipient: RecipientContext) {
    this.common = common;
    this.sender = sender;
    this.recipient = recipient;
  }

  /** Derives Sender Key, Recipient Key and Common IV (RFC 8613 §3.2.1). Inputs are checked eagerly. */
  static derive(input: SecurityContextInput): SecurityContext {
    const common = new CommonContext(input);
    const max = common.maxIdLength;
    const senderId = checkId(input.senderId, 'senderId', max);
    const recipientId = checkId(input.recipientId, 'recipientId', max);
    // RFC 8613 §3.3: equal IDs would give both directions one key and colliding nonces.
    if (senderId.equals(recipientId)) throw new InvalidArgumentError('senderId and recipientId must differ');
    const { keyLength } = common.aead;
    const sender = new SenderContext(
      senderId,
      common.derive(senderId, 'Key', keyLength),
      input.senderSequence ?? new CounterSequence(),
    );
    const recipient = new RecipientContext(
      recipientId,
      common.derive(recipientId, 'Key', keyLength),
      new ReplayWindow(input.replayWindow ?? DEFAULT_REPLAY_WINDOW),
    );
    return new SecurityContext(common, sender, recipient);
  }
}

/** Finds the context for a received 'kid' and optional 'kid context' (RFC 8613 §8.2 step 2). */
export type ContextResolver = (kid: Buffer, kidContext: Buffer | undefined) => SecurityContext | undefined;

/**
 * A server's contexts, looked up by (ID Context, Recipient ID). A request without 'kid context'
 * matches a context by Recipient ID alone when exactly one has it (RFC 8613 §3.3 asks Recipient
 * IDs to be unique; when they are not, the sender must send 'kid context').
 *
 * @example
 * const contexts = new SecurityContextRegistry().add(alice).add(bob);
 * const opened = unprotectRequest(message, contexts.resolve);
 */
export class SecurityContextRegistry {
  readonly #byKey = new Map<string, SecurityContext>();

  static #key(idContext: Buffer | undefined, rid: Buffer): string {
    return `${idContext === undefined ? '-' : idContext.toString('hex')}/${rid.toString('hex')}`;
  }

  add(ctx: SecurityContext): this {
    const k = SecurityContextRegistry.#key(ctx.common.idContext, ctx.recipient.id);
    if (this.#byKey.has(k))
      throw new InvalidArgumentError(
        `a context with Recipient ID ${ctx.recipient.id.toString('hex')} exists`,
      );
    this.#byKey.set(k, ctx);
    return this;
  }

  delete(ctx: SecurityContext): boolean {
    return this.#byKey.delete(SecurityContextRegistry.#key(ctx.common.idContext, ctx.recipient.id));
  }

  /** A `ContextResolver` over this registry. */
  readonly resolve: ContextResolver = (kid, kidContext) => {
    if (kidContext !== undefined) return this.#byKey.get(SecurityContextRegistry.#key(kidContext, kid));
    let found: SecurityContext | undefined;
    for (const ctx of this.#byKey.values()) {
      if (!ctx.recipient.id.equals(kid)) continue;
      if (found !== undefined) return undefined;
      found = ctx;
    }
    return found;
  };
}
