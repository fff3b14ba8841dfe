/**
 * @module http-gateway/context
 * What the request handlers of the gateway share: the CoAP client, the checked options, the
 * access policy, the limits, and how an answer is written to an HTTP response. A narrow record,
 * so that the handlers never reach into the gateway object.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CoapClient } from '../client/client.js';
import type { MethodName } from '../message/codes.js';
import type { HttpAnswer } from './answer.js';
import type { Admission, ByteBudget } from './limits.js';
import type { CheckedGatewayOptions } from './options.js';
import type { Policy } from './policy.js';
import type { Refusal } from './refusal.js';
import type { ListSerializer } from './reply-from.js';
import { httpReason } from './status.js';
import type { Target } from './target.js';

/** @internal The gateway's state as its handlers see it. */
export interface GatewayContext {
  readonly client: CoapClient;
  readonly options: CheckedGatewayOptions;
  readonly policy: Policy;
  readonly admission: Admission;
  readonly budget: ByteBudget;
  /** Whether group requests can be sent at all (a multicast interface is known or a client given). */
  readonly groupsConfigured: boolean;
  /** Aborts when the gateway closes. */
  readonly closing: AbortSignal;
  /** RFC 9651 List serialisation, for Reply-From (`structured-headers`, loaded on listen). */
  readonly serializeList: ListSerializer;
  /** Requests waiting for a silent group, by `address|port`: each is told how long to wait. */
  readonly waiting: Map<string, Set<(waitMs: number) => void>>;
  now(): number;
}

/** @internal One request to forward. */
export interface Forward {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly target: Target;
  /** The target host's address (resolved when it is a name). */
  readonly address: string;
  readonly method: MethodName;
  /** A HEAD: answer as a GET, without the body. */
  readonly head: boolean;
  /** The HTTP client's address. */
  readonly client: string;
}

/** @internal Writes an answer (no body for HEAD, RFC 9110 §9.3.2). */
export function writeAnswer(res: ServerResponse, a: HttpAnswer, head: boolean): void {
  const headers: Array<[string, string]> = [...a.headers];
  const bodyless = a.status === 204 || a.status === 304;
  if (!bodyless) headers.push(['Content-Length', String(a.body.length)]);
  res.writeHead(a.status, a.reason, headers.flat());
  res.end(head || bodyless ? undefined : a.body);
}

/** @internal Writes a refusal: its status, its headers and its one-line text. */
export function writeRefusal(res: ServerResponse, r: Refusal, head: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(`${r.message}\n`);
  writeAnswer(
    res,
    {
      status: r.status,
      reason: httpReason(r.status),
      headers: [
        ['Content-Type', 'text/plain; charset=utf-8'],
        ['Cache-Control', 'no-store'],
        ...r.headers.map(([k, v]): [string, string] => [k, v]),
      ],
      body,
    },
    head,
  );
}
