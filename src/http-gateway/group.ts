/**
 * @module http-gateway/group
 * A request to a CoAP group (groupcomm-proxy §9.4-§9.6, RFC 8075 §8.4). In order: the HTTP
 * client must be allowed to address this group (403, §8.4 and §10.1; the draft's step 2 comes
 * before step 3), the Multicast-Timeout header must be there (400 with an empty
 * Multicast-Timeout, §9.1; `*DIGIT`, the empty value meaning 0), the limits must let it in
 * (429), and the value is lowered to the gateway's cap. The gateway then sends the request
 * itself, NON on its configured interface with its configured hop limit (never from the
 * request). With 0 it answers 204 right after sending (§9.5), and asks for no responses
 * (No-Response 26, RFC 7967, as the draft's client would, §5.1.1); otherwise it collects
 * until the timeout (http-gateway/group-collect). A GET with `Observe: 0` and an event stream
 * observes every member for the window (groupcomm-bis §3.7), then deregisters them.
 */
import { CoapError } from '../errors.js';
import { EMPTY } from '../message/types.js';
import { peerKey } from '../util/peer-key.js';
import { type Forward, type GatewayContext, writeAnswer } from './context.js';
import { chooseEnvelope } from './envelope.js';
import { collectGroup } from './group-collect.js';
import { acceptFormat, parseAccept, requestFormat } from './media.js';
import { observeRequested } from './observe.js';
import { type Refusal, refuse } from './refusal.js';
import { carriesPayload, readBody } from './request.js';
import { httpReason } from './status.js';

/**
 * The Multicast-Timeout header (groupcomm-proxy §9.1): seconds.
 * @throws Refusal 400, with an empty Multicast-Timeout, when it is missing; 400 when it is not digits.
 */
export function multicastTimeout(value: string | string[] | undefined): number {
  if (value === undefined)
    throw refuse(
      400,
      'a group request needs a Multicast-Timeout header: the seconds to collect responses, e.g. Multicast-Timeout: 5 (groupcomm-proxy §9.1)',
      [['Multicast-Timeout', '']],
    );
  const text = Array.isArray(value) ? value.join(',') : value;
  if (!/^\d*$/.test(text.trim()) || text.trim().length > 10)
    throw refuse(
      400,
      `Multicast-Timeout ${JSON.stringify(text)} is not a number of seconds (digits only, e.g. 5)`,
    );
  return text.trim() === '' ? 0 : Number(text.trim());
}

/** Forwards a group request and writes its answer. */
export async function serveGroup(ctx: GatewayContext, f: Forward): Promise<void> {
  const { req } = f;
  const o = ctx.options;
  const port = f.target.uri.port;
  if (!ctx.groupsConfigured)
    throw refuse(
      403,
      'group requests are not configured: the gateway has no multicast interface (iface, --iface) (RFC 8075 §8.4)',
    );
  ctx.policy.checkGroup(f.client, f.address, port, f.target.uri.path);
  const requested = multicastTimeout(req.headers['multicast-timeout']);
  const timeout = Math.min(requested, o.limits.maxTimeout);
  const { envelope, rest } = chooseEnvelope(parseAccept(req.headers.accept));
  const observe = observeRequested(req.headers.observe, f.method, envelope === 'sse');
  const accept = acceptFormat(rest, o.coapPayload);
  const withBody = carriesPayload(f.method);
  const format = withBody
    ? requestFormat(req.headers['content-type'], req.headers['content-encoding'], o.coapPayload)
    : undefined;
  const payload = withBody ? await readBody(req, o.limits.requestBodyBytes) : EMPTY;
  const group = peerKey({ address: f.address, port });
  const ticket = ctx.admission.admitGroup(f.client, group, timeout * 1000, ctx.now());
  const request = {
    uri: f.target.text,
    method: f.method,
    ...(withBody ? { payload } : {}),
    ...(format !== undefined ? { format } : {}),
    ...(accept !== undefined ? { accept } : {}),
    ...(observe ? { observe: true } : {}),
  };
  try {
    if (timeout === 0) {
      const sent = ctx.client.group({ ...request, noResponse: 26 });
      for await (const _ of sent) {
        // No-Response 26: nothing is expected, and nothing would be relayed.
      }
      writeAnswer(f.res, { status: 204, reason: httpReason(204), headers: [], body: EMPTY }, f.head);
      return;
    }
    await collectGroup(ctx, f, { request, envelope, timeout, group, deadline: ticket.deadline });
  } catch (err) {
    throw groupFailure(err);
  } finally {
    ticket.release();
  }
}

/** The HTTP answer for a group request the client library refused or could not send. */
export function groupFailure(err: unknown): unknown {
  if (!(err instanceof CoapError)) return err;
  switch (err.code) {
    case 'ERR_COAP_NO_MULTICAST_INTERFACE':
      return refuse(
        403,
        'group requests are not configured: the gateway has no multicast interface (iface, --iface) (RFC 8075 §8.4)',
      );
    case 'ERR_COAP_GROUP_SCOPE':
      // The client's hint (allowWideScope) is not the gateway's to take.
      return refuse(403, `${err.message.split(';')[0]}: the gateway sends group requests within a site only`);
    case 'ERR_COAP_GROUP_BROADCAST':
    case 'ERR_COAP_GROUP_SECURE_SCHEME':
      return refuse(403, err.message);
    case 'ERR_COAP_INVALID_URI':
    case 'ERR_COAP_INVALID_ARGUMENT':
      return refuse(400, err.message);
    case 'ERR_COAP_CLOSED':
      return refuse(503, 'the gateway is closing; try again');
    default:
      return refuse(502, `the group request failed: ${err.message}`) satisfies Refusal;
  }
}
