/**
 * @module client/group-response
 * The responses of a group request as the application sees them: each with its responder, its
 * delay and its base URI (RFC 7252 §8.2, RFC 7390 §2.5), and the async iterable that yields them.
 */
import type { CoapMessage } from '../message/types.js';
import type { Address } from '../transport/types.js';
import { type CoapUri, resolveLocation } from '../uri/index.js';
import { peerKey } from '../util/peer-key.js';
import type { BlockTransferError } from './block-transfer-error.js';
import { AsyncQueue } from './queue.js';
import { CoapResponse } from './response.js';

/**
 * A response to a group request. A member's large body is completed by unicast (RFC 7959 §2.8);
 * when that stops short, the response keeps the code and options of the first block, its payload
 * holds the bytes that arrived, and `incomplete` says what failed.
 *
 * @example
 * for await (const res of client.group('coap://224.0.1.187/light')) {
 *   console.log(res.source.address, res.codeString, res.text(), `${res.elapsedMs} ms`);
 * }
 */
export class GroupResponse extends CoapResponse {
  /** Milliseconds from sending the request to receiving this response. */
  readonly elapsedMs: number;
  /**
   * Set when the member's body did not arrive whole: `block` is the block that failed,
   * `response` the member's error answer to it (e.g. 4.08), or `cause` why no answer came (a
   * timeout, a Reset, a changed representation). `payload` then holds only the bytes that
   * arrived (`received`). Undefined for a whole body.
   */
  readonly incomplete: BlockTransferError | undefined;
  /**
   * Through a proxy: the proxy's endpoint, which relayed the response; `source` is then the
   * member its Reply-From names (draft-ietf-core-groupcomm-proxy §5.5.1). Undefined for a direct request.
   */
  readonly via: Address | undefined;
  /**
   * True when the proxy answered 2.03 for the stored set of the last request (Group-ETag,
   * groupcomm-proxy §7.3): this is that stored response, its Max-Age updated (RFC 7252 §5.9.1.3).
   */
  readonly revalidated: boolean;
  // The base URI and the location are built on first read: a group of a thousand members
  // answers a thousand times, and most callers read neither (a URI object per response was
  // the largest single allocation of a collection).
  readonly #requestUri: CoapUri;
  #baseUri: CoapUri | undefined;
  #location: CoapUri | undefined | null = null;

  constructor(
    message: CoapMessage,
    source: Address,
    elapsedMs: number,
    requestUri: CoapUri,
    incomplete?: BlockTransferError,
    via?: Address,
    revalidated = false,
  ) {
    super(message, source);
    this.elapsedMs = elapsedMs;
    this.incomplete = incomplete;
    this.via = via === undefined ? undefined : { address: via.address, port: via.port };
    this.revalidated = revalidated;
    this.#requestUri = requestUri;
  }

  /** RFC 7252 §8.2 / RFC 7390 §2.5 (R26): the request URI with the responder's address as host. */
  get baseUri(): CoapUri {
    this.#baseUri ??= {
      ...this.#requestUri,
      host: this.source.address,
      hostKind: this.source.address.includes(':') ? 'ipv6' : 'ipv4',
      port: this.source.port,
      explicitPort: true,
    };
    return this.#baseUri;
  }

  /** The Location-* options resolved against `baseUri`, if any. */
  get location(): CoapUri | undefined {
    if (this.#location === null)
      this.#location = resolveLocation(this.#requestUri, this.source, this.options);
    return this.#location;
  }
}

/**
 * The endpoints that answered, counted without a key string per response: a group of a
 * thousand members answers a thousand times, and `peerKey` made a string (and its flat copy,
 * to hash it) for each. Keyed by address, each with the first port seen; another port at a
 * known address (rare: two endpoints on one host) is counted by its `peerKey`.
 */
class Responders {
  readonly #ports = new Map<string, number>();
  readonly #more = new Set<string>();

  add(a: Address): void {
    const port = this.#ports.get(a.address);
    if (port === undefined) this.#ports.set(a.address, a.port);
    else if (port !== a.port) this.#more.add(peerKey(a));
  }

  get size(): number {
    return this.#ports.size + this.#more.size;
  }
}

/** What a finished group request saw. */
export interface GroupSummary {
  readonly responses: number;
  readonly endpoints: number;
  readonly elapsedMs: number;
  /**
   * Why collection ended. Through a proxy also `'refused'` (the proxy answered itself; the
   * iteration threw `ProxyAnswerError`) and `'revalidated'` (the proxy's 2.03 for the stored set,
   * whose responses were yielded again).
   */
  readonly reason: 'window' | 'limit' | 'aborted' | 'no-response' | 'closed' | 'refused' | 'revalidated';
  /**
   * With reason `'aborted'` because the signal fired: the signal's reason (a `TimeoutError`
   * DOMException for `AbortSignal.timeout()`). Absent when the loop was left or nothing fired.
   */
  readonly cause?: unknown;
}

/**
 * The responses of one group request, as an async iterable. Breaking out of the loop ends it.
 *
 * @example
 * const responses = client.group({ uri: 'coap://224.0.1.187/light', window: 3000 });
 * for await (const res of responses) console.log(res.source.address, res.text());
 * const summary = await responses.done;
 * console.log(summary.responses, 'responses from', summary.endpoints, 'endpoints');
 */
export class GroupResponses implements AsyncIterable<GroupResponse> {
  /** Resolves with the summary when collection ends. */
  readonly done: Promise<GroupSummary>;
  private readonly queue = new AsyncQueue<GroupResponse>();
  private resolveDone!: (s: GroupSummary) => void;
  /** @internal Until the request is sent, leaving the loop just ends the iteration. */
  cleanup: (reason: GroupSummary['reason']) => void = (reason) =>
    this.end({ responses: 0, endpoints: 0, elapsedMs: 0, reason });
  /** @internal */ readonly endpoints = new Responders();
  /** @internal */ count = 0;

  constructor() {
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
  }

  /** @internal */
  get ended(): boolean {
    return this.queue.isEnded;
  }

  /** @internal */
  push(r: GroupResponse): void {
    if (this.queue.isEnded) return;
    this.count++;
    this.endpoints.add(r.source);
    this.queue.push(r);
  }

  /** @internal */
  end(summary: GroupSummary, error?: Error): void {
    if (this.queue.isEnded) return;
    this.resolveDone(summary);
    this.queue.end(error);
  }

  /** Collects every response into an array. */
  async collect(): Promise<GroupResponse[]> {
    const out: GroupResponse[] = [];
    for await (const r of this) out.push(r);
    return out;
  }

  [Symbol.asyncIterator](): AsyncIterator<GroupResponse> {
    return this.queue.iterator(() => this.cleanup('aborted'));
  }
}
