/**
 * @module proxy/outward
 * The proxy's client side: its own sockets and message layer towards origin servers and groups,
 * apart from the sockets its clients reach it on, with the raw exchanger (client/exchanger: no
 * Block2 following, no retry) so that it forwards exactly what it was given. The multicast
 * interface and hop limit of forwarded group requests come from here, the proxy's
 * configuration, never from a client (spec; groupcomm-proxy §5.2.1 step 5). The message layer
 * passes every option up, so the proxy itself decides what a response with an unrecognized
 * option becomes (RFC 7252 §5.7.1: 5.02).
 */

import { type ClientCore, createCore, listen } from '../client/core.js';
import { type Resolver, systemResolver } from '../client/resolve.js';
import type { TransmissionParameters } from '../constants.js';
import { CoapClosedError, InvalidArgumentError } from '../errors.js';
import { MessageType } from '../message/types.js';
import { Messenger } from '../messenger/messenger.js';
import { emptyMessage } from '../messenger/replies.js';
import { Opt } from '../options/registry.js';
import { findOption } from '../options/values.js';
import type { Runtime } from '../runtime.js';
import { systemRuntime } from '../runtime.js';
import { resolveInterface } from '../transport/interfaces.js';
import type { Transport } from '../transport/types.js';
import { UdpTransport } from '../transport/udp.js';
import { ipFamily } from '../util/ip.js';

/** Where the proxy's own requests leave from. */
export interface OutwardOptions {
  /** Use this transport (e.g. a `MemoryTransport`) instead of binding UDP sockets. */
  readonly transport?: Transport;
  /** Unicast addresses to send from (an ephemeral port each); default `127.0.0.1`. */
  readonly bind?: readonly string[];
  /** Interface (name or address) forwarded group requests go out on; without it, none go out. */
  readonly iface?: string;
  /** IPv4 TTL / IPv6 hop limit of forwarded group requests; default 1 (RFC 7390 §5.4.2). */
  readonly hops?: number;
  readonly runtime?: Runtime;
  readonly transmission?: Partial<TransmissionParameters>;
  /** Host names of unicast targets; default `getaddrinfo`. */
  readonly resolver?: Resolver;
}

/** Freed tokens whose notifications are still reset, at most. */
const MAX_TOMBSTONES = 4096;

/** The proxy's client side. */
export class Outward {
  readonly core: ClientCore;
  readonly #closing = new AbortController();
  readonly #unlisten: () => void;
  readonly #unlistenTombstones: () => void;
  /** Freed observation tokens (latin1) and until when their notifications are reset, ms. */
  readonly #tombstones = new Map<string, number>();
  #closed = false;

  private constructor(messenger: Messenger, resolver: Resolver, hops: number) {
    this.core = createCore(messenger, {
      resolver,
      hops,
      layer: undefined,
      closing: this.#closing.signal,
      isClosed: () => this.#closed,
    });
    this.#unlisten = listen(this.core);
    // After the token table: what nobody claimed. A CON is reset by the message layer already.
    this.#unlistenTombstones = messenger.addResponseListener((msg, remote, local) => {
      if (msg.type !== MessageType.NON || this.#tombstones.size === 0) return false;
      const key = msg.token.toString('latin1');
      const until = this.#tombstones.get(key);
      if (until === undefined) return false;
      if (messenger.runtime.now() > until) this.#tombstones.delete(key);
      else if (findOption(msg.options, Opt.Observe) !== undefined)
        messenger.sendRaw(emptyMessage(MessageType.RST, msg.messageId), remote, local);
      return false;
    });
  }

  /**
   * Resets, for `ms`, the NON notifications that still come on a freed observation token
   * (RFC 7641 §3.6: the way to tell a server the client is no longer interested).
   */
  tombstone(token: Buffer, ms: number): void {
    const t = this.#tombstones;
    if (t.size >= MAX_TOMBSTONES) t.delete(t.keys().next().value as string);
    t.set(token.toString('latin1'), this.core.runtime.now() + ms);
  }

  /** Binds the sockets. @throws InvalidArgumentError, TransportError */
  static async create(o: OutwardOptions = {}): Promise<Outward> {
    const hops = o.hops ?? 1;
    if (!Number.isInteger(hops) || hops < 0 || hops > 255)
      throw new InvalidArgumentError(`hops must be an integer 0-255, not ${String(hops)}`);
    let transport = o.transport;
    if (transport === undefined) {
      const bind = o.bind ?? ['127.0.0.1'];
      for (const b of bind)
        if (ipFamily(b) === 0)
          throw new InvalidArgumentError(`outward bind address ${b} is not an IP address`);
      const iface = o.iface === undefined ? undefined : resolveInterface(o.iface);
      transport = await UdpTransport.create({
        bind: bind.map((address) => ({ address, port: 0 })),
        ipv4Interface: iface?.ipv4,
        ipv6Interface: iface?.ipv6,
        hops,
      });
    }
    const messenger = new Messenger({
      transport,
      runtime: o.runtime ?? systemRuntime,
      ...(o.transmission ? { transmission: o.transmission } : {}),
      isRecognizedOption: () => true,
    });
    return new Outward(messenger, o.resolver ?? systemResolver, hops);
  }

  get messenger(): Messenger {
    return this.core.messenger;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    // Pending requests end with CoapClosedError; the proxy's own forwardings were ended before.
    for (const owner of [...this.core.tokens.values()]) void owner.abort(new CoapClosedError());
    this.#unlisten();
    this.#unlistenTombstones();
    this.#tombstones.clear();
    await this.core.messenger.close();
  }
}
