/**
 * @module http-gateway/unicast
 * A request to one CoAP server (RFC 8075, RFC 7252 §10.2): the target must be in the allow-list
 * (§10.4), the request is mapped (method, Content-Format, Accept, If-Match, If-None-Match; a
 * GET's validators as ETag options), sent with the library's client (CON, block-wise both ways,
 * §8.3), and its response mapped back (http-gateway/answer). No response within the gateway's
 * timeout is a 504 (§8.5), a Reset a 502; a client that goes away cancels the request. The
 * answer also names the CoAP code in `CoAP-Response-Code`. A GET with `Observe: 0` is an
 * observation (http-gateway/observe).
 */
import { CoapError } from '../errors.js';
import { codeToString } from '../message/codes.js';
import { EMPTY } from '../message/types.js';
import { toHttpAnswer } from './answer.js';
import { type Forward, type GatewayContext, writeAnswer, writeRefusal } from './context.js';
import { conditions } from './etag.js';
import { acceptFormat, parseAccept, requestFormat } from './media.js';
import { serveObservation } from './observe.js';
import { Refusal, refuse } from './refusal.js';
import { carriesPayload, readBody } from './request.js';

/**
 * The response header field that carries the CoAP response code of a unicast answer (`4.00`):
 * RFC 8075 maps several codes to one status, and a client such as the console shows the node's.
 */
export const COAP_CODE_HEADER = 'CoAP-Response-Code';

/** Forwards a unicast request and writes its answer. */
export async function serveUnicast(ctx: GatewayContext, f: Forward): Promise<void> {
  const { req, res } = f;
  const o = ctx.options;
  if (req.headers.observe !== undefined) return serveObservation(ctx, f);
  ctx.policy.checkUnicast(f.address);
  const accept = acceptFormat(parseAccept(req.headers.accept), o.coapPayload);
  const withBody = carriesPayload(f.method);
  const format = withBody
    ? requestFormat(req.headers['content-type'], req.headers['content-encoding'], o.coapPayload)
    : undefined;
  const cond = conditions(
    req.method ?? '',
    header(req.headers['if-match']),
    header(req.headers['if-none-match']),
  );
  const payload = withBody ? await readBody(req, o.limits.requestBodyBytes) : EMPTY;
  const release = ctx.admission.admitUnicast(f.client, ctx.now());
  const stop = new AbortController();
  const gone = () => {
    if (!res.writableEnded) stop.abort('gone');
  };
  const closing = () => stop.abort('closed');
  res.once('close', gone);
  ctx.closing.addEventListener('abort', closing, { once: true });
  const seconds = o.limits.unicastTimeout;
  try {
    const response = await ctx.client.request({
      uri: f.target.text,
      method: f.method,
      ...(withBody ? { payload } : {}),
      ...(format !== undefined ? { format } : {}),
      ...(accept !== undefined ? { accept } : {}),
      options: cond.options,
      timeout: seconds * 1000,
      signal: stop.signal,
    });
    const answer = toHttpAnswer(response, {
      conditional: cond.conditional,
      base: f.target.uri,
      prefix: o.path,
    });
    // The node's own code, which the status alone does not tell (4.01 and 4.03 are both 403).
    answer.headers.push([COAP_CODE_HEADER, codeToString(response.code)]);
    writeAnswer(res, answer, f.head);
  } catch (err) {
    if (stop.signal.reason === 'gone') return;
    writeRefusal(res, failure(err, f.target.text, seconds, stop.signal.reason === 'closed'), f.head);
  } finally {
    release();
    res.off('close', gone);
    ctx.closing.removeEventListener('abort', closing);
  }
}

/** One value of a header Node may give as a list. */
function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The HTTP answer for a request that got no CoAP response. */
function failure(err: unknown, target: string, seconds: number, closing: boolean): Refusal {
  if (err instanceof Refusal) return err;
  if (closing) return refuse(503, 'the gateway is closing; try again');
  if (!(err instanceof CoapError)) throw err;
  switch (err.code) {
    case 'ERR_COAP_TIMEOUT':
      return refuse(504, `no response from ${target} within ${seconds} s (RFC 8075 §8.5)`);
    case 'ERR_COAP_RESET':
      return refuse(502, `${target} answered with a Reset (RFC 7252 §4.2): it does not take this request`);
    case 'ERR_COAP_RESOLVE':
      return refuse(502, err.message);
    case 'ERR_COAP_INVALID_URI':
    case 'ERR_COAP_INVALID_ARGUMENT':
      return refuse(400, err.message);
    case 'ERR_COAP_CLOSED':
      return refuse(503, 'the gateway is closing; try again');
    default:
      return refuse(502, `the request to ${target} failed: ${err.message}`);
  }
}
