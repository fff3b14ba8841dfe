/**
 * A deterministic two-endpoint setup for message-layer tests (a preset of test-net): a
 * FakeRuntime, a MemoryNetwork, a client transport at 192.0.2.1:40000 and a server transport at
 * 192.0.2.2:5683, each tapped so a test can see every datagram it received and when; and helpers
 * to make, send and read messages by hand.
 */
import type { FakeRuntime } from '../../src/fake-runtime.js';
import { Code, codeToString } from '../../src/message/codes.js';
import { encodeMessage } from '../../src/message/encode.js';
import { type CoapMessage, EMPTY, MessageType } from '../../src/message/types.js';
import type { Messenger, MessengerOptions } from '../../src/messenger/messenger.js';
import type { ServerExchange } from '../../src/messenger/server-exchange.js';
import type { Runtime } from '../../src/runtime.js';
import type { MemoryNetwork, MemoryTransport } from '../../src/transport/memory.js';
import type { Address } from '../../src/transport/types.js';
import type { Received } from './tap.js';
import { TestNet } from './test-net.js';

export const CLIENT: Address = Object.freeze({ address: '192.0.2.1', port: 40000 });
export const SERVER: Address = Object.freeze({ address: '192.0.2.2', port: 5683 });
export const GROUP: Address = Object.freeze({ address: '224.0.1.187', port: 5683 });

export { type Received, tap } from './tap.js';

type MessengerExtras = Omit<MessengerOptions, 'transport' | 'runtime'>;

export interface MemSetup {
  readonly rt: FakeRuntime;
  readonly net: MemoryNetwork;
  readonly clientT: MemoryTransport;
  readonly serverT: MemoryTransport;
  /** Datagrams received by the client transport. */
  readonly atClient: Received[];
  /** Datagrams received by the server transport. */
  readonly atServer: Received[];
  /** Exchanges seen by `server()` messengers, responses seen by `client()` messengers. */
  readonly requests: ServerExchange[];
  readonly responses: CoapMessage[];
  messenger(side: 'client' | 'server', options?: MessengerExtras): Messenger;
  /** A server messenger that records each request in `requests`, then runs `handler` (default: 2.05 at once). */
  server(handler?: (ex: ServerExchange) => void, options?: MessengerExtras): Messenger;
  /** A client messenger that records each response in `responses` and answers `matched(m)` (default true). */
  client(matched?: (m: CoapMessage) => boolean, options?: MessengerExtras): Messenger;
  /** Closes every messenger and transport created here. */
  close(): Promise<void>;
}

/** The network, both transports and their taps. With `multicast`, both get ipv4Interface 127.0.0.1. */
export function memSetup(options: { seed?: number; multicast?: boolean } = {}): MemSetup {
  const t = new TestNet({ seed: options.seed ?? 7 });
  const iface = options.multicast ? { ipv4Interface: '127.0.0.1' } : {};
  const { transport: clientT, log: atClient } = t.raw({ ...CLIENT, ...iface });
  const { transport: serverT, log: atServer } = t.raw({ ...SERVER, ...iface });
  const requests: ServerExchange[] = [];
  const responses: CoapMessage[] = [];
  const messenger = (side: 'client' | 'server', opts: MessengerExtras = {}): Messenger =>
    t.messenger(side === 'client' ? clientT : serverT, opts);
  return {
    rt: t.rt,
    net: t.net,
    clientT,
    serverT,
    atClient,
    atServer,
    requests,
    responses,
    messenger,
    server(handler = content, opts) {
      const m = messenger('server', opts);
      m.setRequestHandler((ex) => {
        requests.push(ex);
        handler(ex);
      });
      return m;
    },
    client(matched = () => true, opts) {
      const m = messenger('client', opts);
      m.addResponseListener((r) => {
        responses.push(r);
        return matched(r);
      });
      return m;
    },
    close: () => t.close(),
  };
}

/** Sends `msg` as raw bytes from `from` to `to`, bypassing any messenger. */
export function sendRaw(from: MemoryTransport, msg: CoapMessage | Buffer, to: Address): Buffer {
  const bytes = Buffer.isBuffer(msg) ? msg : encodeMessage(msg);
  from.send(bytes, to.address, to.port);
  return bytes;
}

/** A message with defaults: CON GET, no token, options or payload. */
export function msg(parts: Partial<CoapMessage> = {}): CoapMessage {
  return {
    type: MessageType.CON,
    code: 1,
    messageId: 0x1234,
    token: EMPTY,
    options: [],
    payload: EMPTY,
    ...parts,
  };
}

/** The Message ID `msg()` uses by default. */
export const MID = 0x1234;

/** A message for Messenger.send, which assigns the Message ID itself. */
export function outgoing(parts: Partial<CoapMessage> = {}): Omit<CoapMessage, 'messageId'> {
  const { messageId: _, ...rest } = msg(parts);
  return rest;
}

/** Bytes from hex. */
export function hex(s: string): Buffer {
  return Buffer.from(s, 'hex');
}

const TYPE_NAMES = ['CON', 'NON', 'ACK', 'RST'];

/** Each received datagram as `TYPE code MID`, e.g. `ACK 2.05 4660`; `malformed` if it did not decode. */
export function heads(log: readonly Received[]): string[] {
  return log.map((r) =>
    r.msg === undefined
      ? 'malformed'
      : `${TYPE_NAMES[r.msg.type]} ${codeToString(r.msg.code)} ${r.msg.messageId}`,
  );
}

/** Answers 2.05 "ok" at once. */
export function content(ex: ServerExchange): void {
  ex.respond({ code: Code.Content, options: [], payload: Buffer.from('ok') });
}

/** A request handler that takes the request (arming the empty ACK) and answers 2.05 after `ms`. */
export function answeringAfter(rt: Runtime, ms: number): (ex: ServerExchange) => void {
  return (ex) => {
    ex.armAck();
    rt.setTimeout(() => content(ex), ms);
  };
}
