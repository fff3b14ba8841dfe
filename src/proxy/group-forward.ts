/**
 * @module proxy/group-forward
 * One forwarded group request (groupcomm-proxy §5.2.1 steps 5-6, §5.4.1, §5.4.2): sent as a NON
 * request with the proxy's own fresh token on its own socket once the group's turn comes
 * (proxy/group-turns), then every member's response relayed as it comes, with a Reply-From
 * option naming the member by the response's source address and port (§3), until T' after the
 * client's request arrived (the window ends there, not T' after a queued send, so relayed
 * responses still reach a client that stops listening at T). Later responses are dropped and
 * the token is retired, never reused. T' = 0 still sends the request and relays nothing.
 *
 * Observe (§5.2.2, §5.4.2): after T' only members that sent a 2.xx notification before it are
 * relayed; the others' notifications are reset. Notifications are ordered per member and
 * renumbered per registration (proxy/observe-order). A client GET with Observe 1 on the token
 * deregisters: the proxy sends the group deregistration on its own token and relays the
 * answers until the new T' (RFC 7641 §3.6; groupcomm-bis §3.7). A Reset from the client, an
 * Early Stop Request, or a token reuse cancels (§5.2.3).
 */

import type { ExchangeRequest, MessageParts, ResponseStream } from '../client/exchanger.js';
import { DEFAULT_LEISURE_GROUP_OSCORE } from '../constants.js';
import { Code } from '../message/codes.js';
import type { CoapMessage, CoapOption } from '../message/types.js';
import { MessageType } from '../message/types.js';
import { emptyMessage } from '../messenger/replies.js';
import type { ResponseParts } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { encodeUint, findOption, uintOption } from '../options/values.js';
import type { Responder } from '../server/responder.js';
import type { Address } from '../transport/types.js';
import { criOfEndpoint, encodeReplyFrom } from '../uri/cri.js';
import { peerKey } from '../util/peer-key.js';
import type { Scheduled } from '../util/timer-queue.js';
import { isCacheable } from './cache.js';
import { clientKey, type Forwarding, own, type ProxyState, rememberEnded } from './context.js';
import { unknownUnsafe } from './forward-options.js';
import type { GroupJob } from './group-job.js';
import type { Turn } from './group-turns.js';
import { heldBytes } from './limits.js';
import { ObserveOrder } from './observe-order.js';
import { Relay } from './relay.js';

/** A relayed notification goes CON after this many NON ones (RFC 7641 §4.5). */
const CON_EVERY = 16;
/** ... and at least once a day (RFC 7641 §4.5: "at least every 24 hours"). */
const CON_AT_LEAST_MS = 24 * 3600 * 1000;
/** How long notifications on a freed observation token are reset. */
const TOMBSTONE_MS = 3600 * 1000;

/** One group request forwarded for one client. */
export class GroupForwarding implements Forwarding {
  readonly observe: boolean;
  readonly #s: ProxyState;
  readonly #job: GroupJob;
  readonly #relay: Relay;
  #turn: Turn | undefined;
  #turnHeld = false;
  #turnTimer: Scheduled | undefined;
  #windowTimer: Scheduled | undefined;
  #stream: ResponseStream | undefined;
  /** Within T': responses are relayed. */
  #open = true;
  #ended = false;
  #deregistering = false;
  readonly #responders = new Set<string>();
  /** Members that sent a 2.xx notification within T' (§5.4.2). */
  readonly #observers = new Set<string>();
  readonly #order: ObserveOrder | undefined;
  #nonSinceCon = 0;
  #lastCon: number;
  /** Bytes held while waiting for the group's turn (proxy/limits). */
  #holding = false;

  /** Registers the forwarding and takes (or queues for) the group's turn; `start` sends. */
  constructor(state: ProxyState, job: GroupJob, relayTo: Responder, request: CoapMessage) {
    this.#s = state;
    this.#job = job;
    this.observe = job.observe;
    this.#relay = new Relay(relayTo, request, () => this.cancel());
    this.#order = job.observe ? new ObserveOrder(state.runtime.randomInt(0x1000000)) : undefined;
    this.#lastCon = state.runtime.now();
    state.forwardings.set(job.key, this);
    state.counters.groupForwarded++;
  }

  /**
   * Waits for the group's turn; false when the group's queue, or the bytes held by waiting
   * requests, is full (then the caller cancels).
   */
  enqueue(): boolean {
    const turn = this.#s.turns.take(this.#job.group, () => this.#start());
    if (turn === undefined) return false;
    this.#turn = turn;
    if (turn.started) return true;
    if (!this.#s.limiter.hold(this.#held)) {
      turn.release();
      this.#turn = undefined;
      return false;
    }
    this.#holding = true;
    return true;
  }

  /** Bytes a waiting request holds. */
  get #held(): number {
    return heldBytes(this.#job.parts);
  }

  #unhold(): void {
    if (!this.#holding) return;
    this.#holding = false;
    this.#s.limiter.unhold(this.#held);
  }

  #start(): void {
    this.#turnHeld = true;
    this.#unhold();
    if (this.#ended) return this.#releaseTurn();
    const s = this.#s;
    const job = this.#job;
    const now = s.runtime.now();
    const windowEnd = job.received + job.timeout * 1000;
    if (job.timeout > 0 && now >= windowEnd) {
      // The wait for the group's turn ate the whole window.
      this.#relay.send(
        own((5 << 5) | 3, 'the group was busy for the whole Multicast-Timeout', [
          { number: Opt.MaxAge, value: encodeUint(1) },
        ]),
      );
      this.#releaseTurn();
      return this.#end();
    }
    const x: ExchangeRequest = { dest: job.dest, parts: job.parts, kind: 'group', confirmable: false };
    try {
      this.#stream = s.outward.core.exchanger.stream(x, {
        response: (msg, remote) => this.#response(msg, remote),
        error: (err) => this.#failed(err),
        end: () => this.#end(),
      });
    } catch (err) {
      this.#failed(err as Error);
      return;
    }
    // NSTART 1 per group until the first response or the group's Leisure has passed (group-turns).
    const leisure = job.protected ? DEFAULT_LEISURE_GROUP_OSCORE : s.outward.messenger.params.defaultLeisure;
    this.#turnTimer = s.timers.schedule((leisure + 1) * 1000, () => this.#releaseTurn());
    if (job.timeout === 0) return this.#end();
    this.#windowTimer = s.timers.schedule(windowEnd - now, () => this.#windowClosed());
  }

  #releaseTurn(): void {
    if (!this.#turnHeld) return;
    this.#turnHeld = false;
    this.#s.timers.cancel(this.#turnTimer);
    this.#turnTimer = undefined;
    this.#turn?.release();
    // Ended before its first response (T' = 0, or a short T'): the token was kept for this.
    if (this.#ended) this.#closeStream();
  }

  /** Retires the proxy's token (never reused); an observation's later notifications get Resets. */
  #closeStream(): void {
    const stream = this.#stream;
    if (stream === undefined) return;
    stream.close(true);
    if (this.observe && !this.#deregistering) this.#s.outward.tombstone(stream.token, TOMBSTONE_MS);
  }

  #failed(err: Error): void {
    if (this.#ended) return;
    if (this.#responders.size === 0)
      this.#relay.send(own(Code.BadGateway, `the group request could not be sent: ${err.message}`));
    this.#releaseTurn();
    this.#end();
  }

  #response(msg: CoapMessage, remote: Address): void {
    this.#releaseTurn();
    if (this.#ended) return;
    const member = peerKey(remote);
    const notification = msg.code >> 5 === 2 && findOption(msg.options, Opt.Observe) !== undefined;
    if (!this.#open) {
      // After T' only the members observed within it (§5.4.2); others are told to stop.
      if (notification && this.observe && !this.#deregistering && this.#observers.has(member))
        this.#relayOne(msg, remote, member);
      else if (notification && msg.type === MessageType.NON)
        this.#s.outward.messenger.sendRaw(emptyMessage(MessageType.RST, msg.messageId), remote);
      return;
    }
    // While deregistering, the registration is gone: only plain responses are relayed.
    if (this.#deregistering && notification) return;
    this.#relayOne(msg, remote, member);
  }

  #relayOne(msg: CoapMessage, remote: Address, member: string): void {
    const s = this.#s;
    const numbers = s.config.numbers;
    let options: CoapOption[] = msg.options.filter(
      (o) => o.number !== numbers.replyFrom && o.number !== numbers.groupETag,
    );
    let parts: ResponseParts = { code: msg.code, options, payload: msg.payload };
    const bad = unknownUnsafe(msg.options, numbers);
    // One member's unprocessable response becomes that member's 5.02, not the group's (RFC 7252 §5.7.1).
    if (bad !== undefined)
      parts = own(
        Code.BadGateway,
        `the member's response has an unsafe option ${bad} this proxy does not know`,
      );
    const observed = uintOption(parts.options, Opt.Observe);
    let confirmable = false;
    if (this.#order !== undefined && observed !== undefined) {
      if (!this.#order.fresh(member, observed, s.runtime.now())) return;
      if (parts.code >> 5 === 2 && this.#open) this.#observers.add(member);
      options = parts.options.filter((o) => o.number !== Opt.Observe);
      options.push({ number: Opt.Observe, value: encodeUint(this.#order.next()) });
      parts = { ...parts, options };
      const now = s.runtime.now();
      confirmable = ++this.#nonSinceCon >= CON_EVERY || now - this.#lastCon >= CON_AT_LEAST_MS;
      if (confirmable) {
        this.#nonSinceCon = 0;
        this.#lastCon = now;
      }
    }
    const replyFrom = encodeReplyFrom({ origin: criOfEndpoint('coap', remote.address, remote.port) });
    parts = { ...parts, options: [...parts.options, { number: numbers.replyFrom, value: replyFrom }] };
    parts = this.#throughCache(parts, remote);
    this.#responders.add(member);
    if (
      this.#relay.send({ ...parts, options: parts.options.sort((a, b) => a.number - b.number) }, confirmable)
    )
      s.counters.relayed++;
  }

  /** Stores the response (groupcomm-proxy §7) and adds the Group-ETag of a set it completes (§7.3). */
  #throughCache(parts: ResponseParts, remote: Address): ResponseParts {
    const key = this.#job.cacheKey;
    if (key === undefined || !isCacheable(parts.code)) return parts;
    const g = this.#job.groupCache;
    g.store(key, remote, parts);
    const set = g.set(key, this.#s.members?.of(this.#job.group));
    if (set?.tag === undefined) return parts;
    return {
      ...parts,
      options: [...parts.options, { number: this.#s.config.numbers.groupETag, value: set.tag }],
    };
  }

  #windowClosed(): void {
    this.#windowTimer = undefined;
    this.#open = false;
    if (this.#job.cacheKey !== undefined && !this.#deregistering)
      this.#s.members?.learn(this.#job.group, this.#responders);
    if (this.observe && !this.#deregistering && this.#observers.size > 0) return;
    this.#end();
  }

  /**
   * The client deregisters with a GET (or FETCH) with Observe 1 on the token (RFC 7641 §3.6):
   * no more notifications; `parts` goes to the group on the proxy's own token, and the answers
   * are relayed for `timeout` seconds.
   */
  deregister(parts: MessageParts, timeout: number): void {
    if (this.#ended) return;
    const s = this.#s;
    this.#deregistering = true;
    this.#observers.clear();
    s.timers.cancel(this.#windowTimer);
    try {
      this.#stream?.resend(parts, this.#job.dest, false, () => {});
    } catch {
      // A layer refused it; the token is freed below and members' notifications get Resets.
    }
    if (timeout === 0 || this.#stream === undefined) return this.#end();
    this.#open = true;
    this.#windowTimer = s.timers.schedule(timeout * 1000, () => this.#windowClosed());
  }

  cancel(): void {
    this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const s = this.#s;
    s.timers.cancel(this.#windowTimer);
    this.#windowTimer = undefined;
    // NSTART (group-turns): a request nobody answered yet is still outstanding, so the token
    // listens (relaying nothing) until its first response or the turn's timer.
    if (!this.#turnHeld) this.#closeStream();
    this.#relay.close();
    if (s.forwardings.get(this.#job.key) === this) s.forwardings.delete(this.#job.key);
    // The client may still send an Early Stop Request until its own timeout T > T' (draft §5.1.3).
    rememberEnded(s, this.#job.key, (s.config.groups?.maxTimeout ?? 60) * 1000);
    s.limiter.releaseGroup(clientKey(this.#job.client));
    this.#unhold();
    // A turn still waiting is given up; a started one ends at its first response or timer.
    if (this.#turn !== undefined && !this.#turn.started) this.#turn.release();
  }
}
