/**
 * @module http-gateway/status
 * CoAP response codes to HTTP status codes, as RFC 8075 §7 Table 2 says they SHOULD be mapped,
 * with its notes: 2.02 and 2.04 are 200 with a payload and 204 without (note 2); 2.03 is 304 to
 * a conditional request (note 3); 4.01 is 403, since a 401 needs WWW-Authenticate (note 5);
 * 4.02 is 500, as the gateway cannot tell which mapped header caused it (note 6); 4.05 is 400
 * with a reason phrase starting "CoAP server returned 4.05" (note 7); 5.05 is 502 (note 9).
 * Codes outside the table: 4.09 → 409, 4.22 → 422 (RFC 8132 §3.4), 4.29 → 429 (RFC 8516), and
 * otherwise the class's generic code (200, 400, 500).
 */
import { Code, codeToString, reasonPhrase } from '../message/codes.js';

/** An HTTP status line's code and reason phrase. */
export interface HttpStatus {
  readonly status: number;
  readonly reason: string;
}

const TABLE: ReadonlyMap<number, number> = new Map([
  [Code.Created, 201],
  [Code.Content, 200],
  [Code.BadRequest, 400],
  [Code.Unauthorized, 403],
  [Code.BadOption, 500],
  [Code.Forbidden, 403],
  [Code.NotFound, 404],
  [Code.MethodNotAllowed, 400],
  [Code.NotAcceptable, 406],
  [Code.Conflict, 409],
  [Code.PreconditionFailed, 412],
  [Code.RequestEntityTooLarge, 413],
  [Code.UnsupportedContentFormat, 415],
  [Code.UnprocessableEntity, 422],
  [Code.TooManyRequests, 429],
  [Code.InternalServerError, 500],
  [Code.NotImplemented, 501],
  [Code.BadGateway, 502],
  [Code.ServiceUnavailable, 503],
  [Code.GatewayTimeout, 504],
  [Code.ProxyingNotSupported, 502],
]);

/** Reason phrases of the statuses used here (RFC 9110 §15, RFC 6585 §4). */
const REASONS: ReadonlyMap<number, string> = new Map([
  [200, 'OK'],
  [201, 'Created'],
  [204, 'No Content'],
  [304, 'Not Modified'],
  [400, 'Bad Request'],
  [403, 'Forbidden'],
  [404, 'Not Found'],
  [405, 'Method Not Allowed'],
  [406, 'Not Acceptable'],
  [409, 'Conflict'],
  [412, 'Precondition Failed'],
  [413, 'Content Too Large'],
  [415, 'Unsupported Media Type'],
  [422, 'Unprocessable Content'],
  [429, 'Too Many Requests'],
  [500, 'Internal Server Error'],
  [501, 'Not Implemented'],
  [502, 'Bad Gateway'],
  [503, 'Service Unavailable'],
  [504, 'Gateway Timeout'],
]);

/** The reason phrase of an HTTP status code this gateway sends. */
export function httpReason(status: number): string {
  return REASONS.get(status) ?? '';
}

/**
 * The HTTP status for a CoAP response code. `hasPayload` decides 200/204 for 2.02 and 2.04;
 * `conditional` says the HTTP request carried validators, so a 2.03 is a 304.
 */
export function httpStatus(code: number, hasPayload: boolean, conditional: boolean): HttpStatus {
  if (code === Code.Deleted || code === Code.Changed) {
    const status = hasPayload ? 200 : 204;
    return { status, reason: httpReason(status) };
  }
  if (code === Code.Valid) {
    const status = conditional ? 304 : 200;
    return { status, reason: httpReason(status) };
  }
  if (code === Code.MethodNotAllowed) {
    return { status: 400, reason: `CoAP server returned ${codeToString(code)} ${reasonPhrase(code)}` };
  }
  const mapped = TABLE.get(code);
  const cls = code >> 5;
  // A code of another class is no response a gateway can pass on (RFC 7252 §5.9).
  const status = mapped ?? (cls === 2 ? 200 : cls === 4 ? 400 : cls === 5 ? 500 : 502);
  return { status, reason: httpReason(status) };
}
