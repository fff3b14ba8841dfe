/**
 * @module console/api
 * The console's only way out: the gateway's HTTP API (docs/proxy.md, "HTTP gateway"). A CoAP
 * target is addressed as `/hc/` + its URI (RFC 8075 §5.3, IPv6 brackets as `%5B`/`%5D`); a
 * group's answers are read as server-sent events from `fetch` (an `EventSource` cannot send
 * `Multicast-Timeout`); a unicast answer keeps the node's own code from `CoAP-Response-Code`,
 * so a node's refusal is told from the gateway's. Nothing here speaks CoAP.
 */

import type { UnicastAnswer } from './words.js';

export type { UnicastAnswer } from './words.js';

/** What the console starts with (`/console/config.json`). */
export interface ConsoleConfig {
  readonly hc: string;
  readonly group: string;
  readonly rd?: string;
  readonly wait: number;
  readonly maxWait: number;
  readonly iface?: string;
}

/** One member's response (the `response` event). */
export interface MemberResponse {
  readonly from: string;
  readonly code: string;
  readonly format?: number;
  readonly payload?: string;
  readonly payloadBase64?: string;
  readonly ms: number;
  readonly observe?: number;
}

/** The end of a stream (the `summary` event). */
export interface StreamSummary {
  readonly responses: number;
  readonly endpoints: number;
  readonly ms: number;
  readonly reason: string;
  readonly timeout?: number;
  readonly error?: string;
}

/** A request the gateway refused before any response (its status and one-line reason). */
export class GatewayRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What a stream sends. */
export interface StreamRequest {
  readonly method: string;
  readonly target: string;
  /** Seconds (Multicast-Timeout) for a group. */
  readonly wait: number;
  readonly payload?: string;
  readonly type?: string;
  readonly observe?: boolean;
  readonly signal?: AbortSignal;
}

/** Reads the console's settings. */
export async function loadConfig(): Promise<ConsoleConfig> {
  const res = await fetch('config.json');
  if (!res.ok) throw new Error(`config.json: ${res.status}`);
  return (await res.json()) as ConsoleConfig;
}

/** The gateway's API, from the page. */
export class Gateway {
  constructor(readonly config: ConsoleConfig) {}

  /** The HTTP URI of a CoAP target (RFC 8075 §5.3.2: IPv6 brackets percent-encoded). */
  url(target: string): string {
    return this.config.hc + target.replace(/^(coap:\/\/)\[([^\]]*)\]/i, '$1%5B$2%5D');
  }

  /** A request to one node. */
  async unicast(method: string, target: string, body?: string, type?: string): Promise<UnicastAnswer> {
    const headers: Record<string, string> = {};
    if (type !== undefined) headers['Content-Type'] = type;
    // Always the node's answer of now: the gateway marks answers cacheable for their Max-Age
    // (RFC 8075 §6.4), and a list read again after a change elsewhere must not come from a cache.
    const res = await fetch(this.url(target), {
      method,
      headers,
      cache: 'no-store',
      ...(body !== undefined ? { body } : {}),
    });
    const location = res.headers.get('location');
    const retryAfter = res.headers.get('retry-after');
    return {
      status: res.status,
      code: res.headers.get('coap-response-code') ?? undefined,
      text: (await res.text()).trim(),
      ...(location !== null ? { location: this.#coapUri(location) } : {}),
      ...(retryAfter !== null ? { retryAfter } : {}),
    };
  }

  #coapUri(location: string): string {
    const at = location.indexOf(this.config.hc);
    const rest = at < 0 ? location : location.slice(at + this.config.hc.length);
    return rest.replace(/%5B/gi, '[').replace(/%5D/gi, ']');
  }

  /**
   * A request answered as events (a group request, or an observation): calls `onResponse` for
   * each response as it arrives and resolves with the summary (undefined when cancelled).
   * @throws GatewayRefusal when the gateway refuses the request.
   */
  async stream(
    r: StreamRequest,
    onResponse: (m: MemberResponse) => void,
  ): Promise<StreamSummary | undefined> {
    const headers: Record<string, string> = {
      Accept: 'text/event-stream',
      'Multicast-Timeout': String(r.wait),
    };
    if (r.type !== undefined && r.payload !== undefined) headers['Content-Type'] = r.type;
    if (r.observe) headers.Observe = '0';
    let res: Response;
    try {
      res = await fetch(this.url(r.target), {
        method: r.method,
        headers,
        cache: 'no-store',
        ...(r.payload !== undefined ? { body: r.payload } : {}),
        ...(r.signal !== undefined ? { signal: r.signal } : {}),
      });
    } catch (err) {
      if (r.signal?.aborted) return undefined;
      throw err;
    }
    if (res.status === 204) return { responses: 0, endpoints: 0, ms: 0, reason: 'window' };
    if (!res.ok || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream'))
      throw new GatewayRefusal(res.status, (await res.text()).trim());
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let summary: StreamSummary | undefined;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const event = parseEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event?.name === 'response') onResponse(event.data as MemberResponse);
          if (event?.name === 'summary') summary = event.data as StreamSummary;
          end = buffer.indexOf('\n\n');
        }
      }
    } catch (err) {
      if (r.signal?.aborted) return undefined;
      throw err;
    }
    return summary;
  }
}

/** One server-sent event: its name and its JSON data. */
function parseEvent(block: string): { name: string; data: unknown } | undefined {
  let name = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) name = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  try {
    return { name, data: JSON.parse(data) };
  } catch {
    return undefined;
  }
}

/** A node's URI from a member's `from` (`127.0.0.2:5683`, `[fd00::2]:5683`). */
export function nodeUri(from: string): string {
  return `coap://${from.replace(/:5683$/, '')}`;
}
