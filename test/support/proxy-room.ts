/**
 * A deterministic room behind a proxy, for the proxy's tests (RFC 7252 §5.7, RFC 7390 §2.9,
 * draft-ietf-core-groupcomm-proxy): the group room of group-room.ts (members at 192.0.2.1..N in
 * All CoAP Nodes), a `CoapProxy` whose clients reach it at 192.0.2.200:5683 and whose own
 * requests leave from 192.0.2.200 on an ephemeral port, and a raw client at 192.0.2.150 that
 * sends hand-made messages and logs every datagram it receives (it acknowledges CON responses).
 */

import { type CoapMessage, EMPTY, MessageType } from '../../src/message/types.js';
import { Messenger } from '../../src/messenger/messenger.js';
import { emptyMessage } from '../../src/messenger/replies.js';
import { DEFAULT_PROXY_OPTION_NUMBERS } from '../../src/options/proxy-numbers.js';
import { Opt } from '../../src/options/registry.js';
import { encodeUint, findOption } from '../../src/options/values.js';
import type { ProxyOptions } from '../../src/proxy/proxy.js';
import { CoapProxy } from '../../src/proxy/proxy.js';
import type { Address } from '../../src/transport/types.js';
import { formatCri } from '../../src/uri/cri.js';
import { decodeReplyFrom } from '../../src/uri/cri-decode.js';
import { IFACE, makeRoom, type Room, type RoomOptions } from './group-room.js';
import { type Received, tap } from './mem-net.js';

export const PROXY: Address = Object.freeze({ address: '192.0.2.200', port: 5683 });
export const RAW: Address = Object.freeze({ address: '192.0.2.150', port: 40150 });
export const MT = DEFAULT_PROXY_OPTION_NUMBERS.multicastTimeout;
export const REPLY_FROM = DEFAULT_PROXY_OPTION_NUMBERS.replyFrom;
export const GROUP_ETAG = DEFAULT_PROXY_OPTION_NUMBERS.groupETag;

/** A client that sends hand-made messages and logs what it receives. */
export interface RawClient {
  readonly messenger: Messenger;
  readonly log: Received[];
  /** Sends a request (CON GET by default) to the proxy; returns its Message ID. */
  send(parts: Partial<Omit<CoapMessage, 'messageId'>> & { token: Buffer }, to?: Address): number;
  /** Resets a message it received (RFC 7252 §4.2). */
  reset(messageId: number, to?: Address): void;
  /** The non-empty messages received on `token`, in order. */
  on(token: Buffer): CoapMessage[];
}

export interface ProxyRoom extends Room {
  readonly proxy: CoapProxy;
  readonly raw: RawClient;
}

export interface ProxyRoomOptions extends RoomOptions {
  /** Proxy options besides its transports and runtime. */
  readonly proxy?: Omit<ProxyOptions, 'transport' | 'outward' | 'runtime'>;
}

/** Builds the room, the proxy and the raw client. */
export async function makeProxyRoom(o: ProxyRoomOptions = {}): Promise<ProxyRoom> {
  const room = await makeRoom(o);
  const { net, rt } = room;
  const transport = net.createTransport({ bind: [PROXY] });
  const outward = net.createTransport({ bind: [{ address: PROXY.address, port: 0 }], ipv4Interface: IFACE });
  const proxy = new CoapProxy({ ...o.proxy, transport, runtime: rt, outward: { transport: outward } });
  await proxy.listen();
  const rawT = net.createTransport({ bind: [RAW] });
  const log = tap(rawT, rt);
  const messenger = new Messenger({ transport: rawT, runtime: rt });
  // Claims every response, so CON responses are acknowledged.
  messenger.addResponseListener(() => true);
  room.extras.push(proxy, { close: () => messenger.close() });
  const raw: RawClient = {
    messenger,
    log,
    send(parts, to = PROXY) {
      const out = messenger.send(
        { type: MessageType.CON, code: 1, options: [], payload: EMPTY, ...parts },
        to,
      );
      return out.messageId;
    },
    reset(messageId, to = PROXY) {
      messenger.sendRaw(emptyMessage(MessageType.RST, messageId), to);
    },
    on(token) {
      return log.flatMap((r) =>
        r.msg !== undefined && r.msg.code !== 0 && r.msg.token.equals(token) ? [r.msg] : [],
      );
    },
  };
  return { ...room, proxy, raw };
}

export const proxyUri = (uri: string) => ({ number: Opt.ProxyUri, value: Buffer.from(uri) });
export const mt = (seconds: number) => ({ number: MT, value: encodeUint(seconds) });
export const observe = (n: number) => ({ number: Opt.Observe, value: encodeUint(n) });

/** The member a relayed response names in Reply-From (`coap://host[:port]`), or undefined. */
export function replyFrom(m: CoapMessage): string | undefined {
  const o = findOption(m.options, REPLY_FROM);
  return o === undefined ? undefined : formatCri(decodeReplyFrom(o.value).origin);
}

/** Lets `ms` of virtual time pass. */
export function pass(room: Room, ms: number): Promise<void> {
  return room.rt.settle(new Promise<void>((r) => room.rt.setTimeout(() => r(), ms)), {
    maxMs: ms + 1000,
    step: 10,
  });
}
