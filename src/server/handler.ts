/**
 * @module server/handler
 * Running a resource's handler, sync or async: its result becomes response parts (server/response,
 * with the Accept check of RFC 7252 §5.10.4), a thrown `CoapResponseError` its error response
 * (§5.5.2 diagnostic payload), anything else a 5.00 whose details go only to the
 * `coap:server:error` diagnostics channel.
 */
import diagnostics from 'node:diagnostics_channel';
import { CoapResponseError } from '../errors.js';
import { Code, type MethodName } from '../message/codes.js';
import type { ResponseParts } from '../messenger/server-exchange.js';
import type { IncomingRequest } from './request.js';
import type { Handler } from './resource.js';
import { simple, withAccept } from './respond.js';
import { errorParts, type TextMemo, toResponseParts } from './response.js';

const errorChannel = diagnostics.channel('coap:server:error');

/** Where a handler's response goes. */
export interface HandlerSink {
  /** The response, or the handler's error as a response. */
  done(parts: ResponseParts): void;
  /** The handler went asynchronous: its response comes later. */
  pending?(): void;
}

/**
 * Runs a handler and hands its response (or its error as a response) to `sink`; `sink.pending`
 * when it goes async. A synchronous handler's response is made and handed on in this call, with
 * no closure made for it. `memo` lends a text payload's bytes from the previous response.
 */
export function runHandler(
  handler: Handler,
  req: IncomingRequest,
  method: MethodName,
  accept: number | undefined,
  sink: HandlerSink,
  memo?: TextMemo,
): void {
  let result: ReturnType<Handler>;
  try {
    result = handler(req);
  } catch (err) {
    return sink.done(failure(err));
  }
  if (result instanceof Promise) {
    sink.pending?.();
    result.then(
      (r) => sink.done(partsOf(method, r, accept, memo)),
      (err: unknown) => sink.done(failure(err)),
    );
  } else sink.done(partsOf(method, result, accept, memo));
}

function partsOf(
  method: MethodName,
  result: Awaited<ReturnType<Handler>>,
  accept: number | undefined,
  memo: TextMemo | undefined,
): ResponseParts {
  try {
    return withAccept(toResponseParts(method, result, memo), accept);
  } catch (err) {
    return failure(err);
  }
}

function failure(err: unknown): ResponseParts {
  if (err instanceof CoapResponseError) return errorParts(err);
  if (errorChannel.hasSubscribers) errorChannel.publish({ error: err });
  // The details stay in the diagnostics channel: a diagnostic payload must not leak internals.
  return simple(Code.InternalServerError);
}
