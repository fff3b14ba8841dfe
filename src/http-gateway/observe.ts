/**
 * @module http-gateway/observe
 * Observation through the gateway (RFC 7641), which RFC 8075 does not map: a GET carrying the
 * request header field `Observe: 0` and accepting `text/event-stream` registers, and each
 * notification goes out as one `response` event as it arrives (the member object of the group
 * answers, with its `observe` sequence number). For one node the stream lasts until the HTTP
 * client leaves (the gateway then deregisters, §3.6), the node ends the observation (a response
 * without Observe, §3.2) or the gateway closes; a `summary` event ends it. For a group the window
 * is the Multicast-Timeout (http-gateway/group). Observations count against
 * `limits.observations`; anything else with `Observe` is a 400.
 */
import { CoapError } from '../errors.js';
import { type Forward, type GatewayContext, writeRefusal } from './context.js';
import { chooseEnvelope, memberJson, sseEvent } from './envelope.js';
import { acceptFormat, parseAccept } from './media.js';
import { refuse } from './refusal.js';
import { httpReason } from './status.js';

/**
 * Whether the request asks to observe: `Observe: 0` on a GET answered as an event stream.
 * @throws Refusal 400 for any other use of the field.
 */
export function observeRequested(
  value: string | string[] | undefined,
  method: string,
  sse: boolean,
): boolean {
  if (value === undefined) return false;
  const text = (Array.isArray(value) ? value.join(',') : value).trim();
  if (text !== '0')
    throw refuse(
      400,
      `Observe ${JSON.stringify(text)}: only Observe: 0 (register) is taken; leave the stream to cancel`,
    );
  if (method !== 'GET') throw refuse(400, `Observe needs a GET, not ${method} (RFC 7641 §2)`);
  if (!sse) throw refuse(400, 'Observe needs Accept: text/event-stream: notifications are sent as events');
  return true;
}

/** Observes one node's resource and streams its notifications as server-sent events. */
export async function serveObservation(ctx: GatewayContext, f: Forward): Promise<void> {
  const { req, res } = f;
  const o = ctx.options;
  ctx.policy.checkUnicast(f.address);
  const { envelope, rest } = chooseEnvelope(parseAccept(req.headers.accept));
  observeRequested(req.headers.observe, f.method, envelope === 'sse');
  const accept = acceptFormat(rest, o.coapPayload);
  const release = ctx.admission.admitObservation(f.client, ctx.now());
  const stop = new AbortController();
  type Reason = 'gone' | 'closed' | 'ended' | 'error';
  // Set from the listeners below: the assertion keeps TypeScript from narrowing it to 'ended'.
  let reason = 'ended' as Reason;
  const gone = () => {
    if (!res.writableEnded) {
      reason = 'gone';
      stop.abort('gone');
    }
  };
  const closing = () => {
    reason = 'closed';
    stop.abort('closed');
  };
  res.once('close', gone);
  ctx.closing.addEventListener('abort', closing, { once: true });
  const started = ctx.now();
  let count = 0;
  let failure: unknown;
  try {
    const observation = ctx.client.observe({
      uri: f.target.text,
      ...(accept !== undefined ? { accept } : {}),
      signal: stop.signal,
    });
    for await (const r of observation) {
      if (!res.headersSent)
        res.writeHead(200, httpReason(200), {
          'Content-Type': 'text/event-stream',
          'Cache-Control': 'no-cache',
        });
      count++;
      const json = memberJson(r, r.source, ctx.now() - started);
      res.write(sseEvent('response', r.observe === undefined ? json : { ...json, observe: r.observe }));
      if (res.writableLength > o.limits.responseBytes) {
        reason = 'ended';
        stop.abort('buffer');
        break;
      }
    }
  } catch (err) {
    if (reason === 'ended') {
      reason = 'error';
      failure = err;
    }
  } finally {
    release();
    res.off('close', gone);
    ctx.closing.removeEventListener('abort', closing);
  }
  if (reason === 'gone') return;
  if (!res.headersSent) {
    if (reason === 'closed')
      return writeRefusal(res, refuse(503, 'the gateway is closing; try again'), false);
    const message = failure instanceof CoapError ? failure.message : 'the observation failed';
    return writeRefusal(
      res,
      refuse(
        failure instanceof CoapError && failure.code === 'ERR_COAP_TIMEOUT' ? 504 : 502,
        `${f.target.text}: ${message}`,
      ),
      false,
    );
  }
  const summary = {
    responses: count,
    endpoints: count > 0 ? 1 : 0,
    ms: Math.round(ctx.now() - started),
    reason: reason === 'closed' ? 'closed' : reason === 'error' ? 'error' : 'ended',
    ...(failure !== undefined ? { error: (failure as Error).message } : {}),
  };
  res.end(sseEvent('summary', summary));
}
