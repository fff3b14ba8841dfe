/**
 * @module client/group-collect
 * What a group request does with each response that carries its token: a first block with more
 * to come is continued by unicast from that responder, at the block size it chose, concurrently
 * across responders, and yielded once complete, or with the bytes that arrived and what stopped
 * them (RFC 7959 §2.8, RFC 7390 §2.8). With Observe (groupcomm-bis §3.7) each responder's
 * notifications pass its own freshness check (RFC 7641 §3.4), and the responders that
 * registered are remembered so that ending the request deregisters each of them by unicast
 * (RFC 7641 §3.6). What goes to one responder by unicast goes through the exchanger the
 * request's stream gives for it (client/exchanger), so a layer that protected the group request
 * protects it for that responder. Through a forward proxy the responder is the member its
 * Reply-From names, and its continuations go through the proxy with that member's URI in
 * Proxy-Uri (draft-ietf-core-groupcomm-proxy §5.5.1 step 3).
 */
import { decodeBlock } from '../block/index.js';
import type { CoapMessage, CoapOption } from '../message/types.js';
import { EMPTY } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { encodeUint, findOption } from '../options/values.js';
import type { Runtime } from '../runtime.js';
import type { Address } from '../transport/types.js';
import type { CoapUri } from '../uri/index.js';
import { peerKey } from '../util/peer-key.js';
import { BlockTransferError } from './block-transfer-error.js';
import { downloadRest } from './blockwise.js';
import type { Exchanger, ResponseStream } from './exchanger.js';
import { Freshness } from './freshness.js';
import { GroupResponse } from './group-response.js';

/** How what goes to one responder by unicast is addressed. */
export interface FollowUpRoute {
  /** The proxy that relays the responses (`GroupResponse.via`); undefined for a direct request. */
  readonly relay: Address | undefined;
  /** The proxy follow-ups go through; undefined: straight to the responder. */
  readonly proxy: Address | undefined;
  /** The options that name the responder's resource (Proxy-Uri, or Uri-*), given the request's other options. */
  options(remote: Address, base: readonly CoapOption[]): CoapOption[];
}

/** The route of a direct group request: the request's options as they are, to the responder. */
export const DIRECT: FollowUpRoute = {
  relay: undefined,
  proxy: undefined,
  options: (_remote, base) => [...base],
};

export class GroupCollector {
  private pending = 0;
  private idle: (() => void) | undefined;
  private readonly fresh = new Map<string, Freshness>();
  private readonly registered = new Map<string, Address>();
  private readonly runtime: Runtime;
  private readonly uri: CoapUri;
  private readonly code: number;
  private readonly options: CoapOption[];
  private readonly sentAt: number;
  /** The exchanger for unicast requests to one responder (`ResponseStream.followUpExchanger`). */
  private readonly followUp: (remote: Address) => Exchanger;
  private readonly push: (r: GroupResponse) => void;
  private readonly route: FollowUpRoute;

  constructor(
    runtime: Runtime,
    uri: CoapUri,
    code: number,
    options: readonly CoapOption[],
    sentAt: number,
    followUp: (remote: Address) => Exchanger,
    push: (r: GroupResponse) => void,
    route: FollowUpRoute = DIRECT,
  ) {
    this.runtime = runtime;
    this.uri = uri;
    this.code = code;
    // Continuations and deregistrations reuse the request's options, minus the per-request ones.
    this.options = options.filter(
      (o) => o.number !== Opt.Observe && o.number !== Opt.Block2 && o.number !== Opt.NoResponse,
    );
    this.sentAt = sentAt;
    this.followUp = followUp;
    this.push = push;
    this.route = route;
  }

  /** True once some responder registered (a 2.xx with Observe, groupcomm-proxy §5.5.2). */
  get hasRegistrations(): boolean {
    return this.registered.size > 0;
  }

  /** Number of responses delivered or being completed. */
  take(msg: CoapMessage, remote: Address): void {
    const seq = findOption(msg.options, Opt.Observe);
    const now = this.runtime.now();
    if (seq !== undefined && msg.code >> 5 === 2) {
      const key = peerKey(remote);
      let f = this.fresh.get(key);
      if (f === undefined) this.fresh.set(key, (f = new Freshness()));
      const value = seq.value.length === 0 ? 0 : seq.value.readUIntBE(0, Math.min(seq.value.length, 3));
      if (!f.accept(value, now)) return;
      this.registered.set(key, { address: remote.address, port: remote.port });
    }
    const b2 = findOption(msg.options, Opt.Block2);
    let more = false;
    try {
      more = b2 !== undefined && decodeBlock(b2.value).more;
    } catch {
      more = false;
    }
    const via = this.route.relay;
    if (!more) {
      this.push(new GroupResponse(msg, remote, now - this.sentAt, this.uri, undefined, via));
      return;
    }
    this.pending++;
    const first = new GroupResponse(msg, remote, now - this.sentAt, this.uri, undefined, via);
    const dest: Address = { address: remote.address, port: remote.port };
    const block = decodeBlock(b2!.value);
    downloadRest(
      this.followUp(dest),
      { dest, kind: 'unicast', confirmable: true, proxy: this.route.proxy },
      { code: this.code, payload: EMPTY, options: this.route.options(dest, this.options) },
      first,
      block,
    )
      .then(
        // The first block's code stays: a later block's error answer is not the member's answer
        // to the request; `incomplete` carries it, with the bytes that arrived.
        ({ response, incomplete }) => ({
          message: { ...msg, options: response.options as CoapOption[], payload: response.payload },
          incomplete,
        }),
        (err: unknown) => ({
          message: { ...msg, options: first.options.filter((o) => o.number !== Opt.Block2) },
          incomplete: new BlockTransferError(dest, block.num + 1, msg.payload, undefined, err),
        }),
      )
      .then(({ message, incomplete }) => {
        const elapsed = this.runtime.now() - this.sentAt;
        this.push(new GroupResponse(message, remote, elapsed, this.uri, incomplete, via));
      })
      .finally(() => {
        if (--this.pending === 0) this.idle?.();
      });
  }

  /** Resolves once no continuation is in flight. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => {
      this.idle = r;
    });
  }

  /**
   * RFC 7641 §3.6: a GET with Observe 1 and the request's token to every responder that
   * registered, through `stream` (a layer that protected the observation protects each for its
   * responder, or sends nothing: its options are confidential). Resolves once they have left.
   */
  deregisterAll(stream: ResponseStream): Promise<void> {
    const options = [...this.options, { number: Opt.Observe, value: encodeUint(1) }].sort(
      (a, b) => a.number - b.number,
    );
    const leaving = [...this.registered.values()].map((dest) =>
      stream.sendLast({ code: this.code, options, payload: EMPTY }, dest),
    );
    this.registered.clear();
    return Promise.all(leaving).then(() => {});
  }
}
