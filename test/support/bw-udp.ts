/**
 * Real-UDP helpers for the block-wise and Observe integration tests, on loopback only: a leak
 * check that counts UDP handles by the name Node reports (`UDPWrap`), a raw messenger for
 * hand-made requests, and bounded polling for a condition that settles asynchronously.
 */
import assert from 'node:assert/strict';
import type { CoapMessage } from '../../src/message/types.js';
import { MessageType } from '../../src/message/types.js';
import { Messenger } from '../../src/messenger/messenger.js';
import type { Address } from '../../src/transport/types.js';
import { UdpTransport } from '../../src/transport/udp.js';
import { trackHandles } from './handles.js';

const udpCount = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;

/** trackHandles(), plus a UDP socket check by the name Node 20 reports ('UDPWrap'). */
export function leakCheck(): () => Promise<void> {
  const handles = trackHandles();
  const before = udpCount();
  return async () => {
    await handles();
    for (let i = 0; i < 50 && udpCount() > before; i++) await new Promise((r) => setImmediate(r));
    assert.ok(udpCount() <= before, `leaked UDP sockets: ${udpCount()} open, ${before} before`);
  };
}

/** A messenger on its own UDP socket that sends hand-made requests. */
export interface UdpRawPeer {
  readonly messenger: Messenger;
  /** Sends a CON request and resolves with the response carrying its token. */
  request(parts: Partial<Omit<CoapMessage, 'messageId'>>, to: Address): Promise<CoapMessage>;
  close(): Promise<void>;
}

/** Binds a raw peer to `address` (ephemeral port). */
export async function udpRawPeer(address: string): Promise<UdpRawPeer> {
  const transport = await UdpTransport.create({ bind: [{ address, port: 0 }] });
  const messenger = new Messenger({ transport });
  const waiting = new Map<string, (m: CoapMessage) => void>();
  let next = 1;
  messenger.addResponseListener((m) => {
    const key = m.token.toString('hex');
    const w = waiting.get(key);
    waiting.delete(key);
    w?.(m);
    return w !== undefined;
  });
  return {
    messenger,
    request(parts, to) {
      const token = Buffer.alloc(4);
      token.writeUInt32BE(next++);
      return new Promise((resolve, reject) => {
        waiting.set(token.toString('hex'), resolve);
        messenger.send(
          { type: MessageType.CON, code: 1, options: [], payload: Buffer.alloc(0), ...parts, token },
          to,
          undefined,
          { onTimeout: () => reject(new Error('no answer')), onError: reject },
        );
      });
    },
    close: () => messenger.close(),
  };
}

/** Polls `check` every 20 ms until it is true, failing after `limitMs` (a bound, not a threshold). */
export async function eventually(check: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  for (let waited = 0; !check(); waited += 20) {
    assert.ok(waited < limitMs, `${what}: still not true after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
