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
import { errorParts, toResponseParts } from './response.js';

const errorChannel = diagnostics.channel('coap:server:error');

/** Runs a handler and hands its response (or its error as a response) on; `pending` when it goes async. */
export function runHandler(
  handler: Handler,
  req: IncomingRequest,
  method: MethodName,
  accept: number | undefined,
  done: (parts: ResponseParts) => void,
  pending?: () => void,
): void {
  const finish = (result: Awaited<ReturnType<Handler>>) => {
    let parts: ResponseParts;
    try {
      parts = withAccept(toResponseParts(method, result), accept);
    } catch (err) {
      parts = failure(err);
    }
    done(parts);
  };
  let result: ReturnType<Handler>;
  try {
    result = handler(req);
  } catch (err) {
    return done(failure(err));
  }
  if (result instanceof Promise) {
    pending?.();
    result.then(finish, (err: unknown) => done(failure(err)));
  } else finish(result);
}

function failure(err: unknown): ResponseParts {
  if (err instanceof CoapResponseError) return errorParts(err);
  if (errorChannel.hasSubscribers) errorChannel.publish({ error: err });
  // The details stay in the diagnostics channel: a diagnostic payload must not leak internals.
  return simple(Code.InternalServerError);
}
