/**
 * @module message/codes
 * Method and response codes (RFC 7252 §5.8, §5.9, §12.1; RFC 8132 §2-3 for FETCH/PATCH/iPATCH;
 * RFC 7959 §2.9 for 2.31, 4.08, 4.13), in the numeric form used on the wire.
 */

/** Builds a code from class and detail (`code(2, 5)` is 2.05). */
export function code(cls: number, detail: number): number {
  return (cls << 5) | detail;
}

/** `'2.05'` for 0x45. */
export function codeToString(c: number): string {
  const detail = c & 0x1f;
  return `${c >> 5}.${detail < 10 ? '0' : ''}${detail}`;
}

/** `0x45` for `'2.05'`; undefined if malformed. */
export function parseCode(text: string): number | undefined {
  const m = /^([0-7])\.(\d\d)$/.exec(text);
  if (m === null) return undefined;
  const detail = Number(m[2]);
  if (detail > 31) return undefined;
  return code(Number(m[1]), detail);
}

/** The class (0-7) of a code. */
export function codeClass(c: number): number {
  return c >> 5;
}

export const Method = Object.freeze({
  GET: 1,
  POST: 2,
  PUT: 3,
  DELETE: 4,
  FETCH: 5,
  PATCH: 6,
  iPATCH: 7,
} as const);
export type MethodName = keyof typeof Method;

const METHOD_NAMES: readonly string[] = ['', 'GET', 'POST', 'PUT', 'DELETE', 'FETCH', 'PATCH', 'iPATCH'];

/** `'GET'` for 1, undefined for codes that are not known methods. */
export function methodName(c: number): MethodName | undefined {
  return (c >= 1 && c <= 7 ? METHOD_NAMES[c] : undefined) as MethodName | undefined;
}

/** Response codes by name. */
export const Code = Object.freeze({
  Empty: 0,
  Created: code(2, 1),
  Deleted: code(2, 2),
  Valid: code(2, 3),
  Changed: code(2, 4),
  Content: code(2, 5),
  Continue: code(2, 31),
  BadRequest: code(4, 0),
  Unauthorized: code(4, 1),
  BadOption: code(4, 2),
  Forbidden: code(4, 3),
  NotFound: code(4, 4),
  MethodNotAllowed: code(4, 5),
  NotAcceptable: code(4, 6),
  RequestEntityIncomplete: code(4, 8),
  Conflict: code(4, 9),
  PreconditionFailed: code(4, 12),
  RequestEntityTooLarge: code(4, 13),
  UnsupportedContentFormat: code(4, 15),
  UnprocessableEntity: code(4, 22),
  TooManyRequests: code(4, 29),
  InternalServerError: code(5, 0),
  NotImplemented: code(5, 1),
  BadGateway: code(5, 2),
  ServiceUnavailable: code(5, 3),
  GatewayTimeout: code(5, 4),
  ProxyingNotSupported: code(5, 5),
} as const);

const REASONS = new Map<number, string>([
  [Code.Created, 'Created'],
  [Code.Deleted, 'Deleted'],
  [Code.Valid, 'Valid'],
  [Code.Changed, 'Changed'],
  [Code.Content, 'Content'],
  [Code.Continue, 'Continue'],
  [Code.BadRequest, 'Bad Request'],
  [Code.Unauthorized, 'Unauthorized'],
  [Code.BadOption, 'Bad Option'],
  [Code.Forbidden, 'Forbidden'],
  [Code.NotFound, 'Not Found'],
  [Code.MethodNotAllowed, 'Method Not Allowed'],
  [Code.NotAcceptable, 'Not Acceptable'],
  [Code.RequestEntityIncomplete, 'Request Entity Incomplete'],
  [Code.Conflict, 'Conflict'],
  [Code.PreconditionFailed, 'Precondition Failed'],
  [Code.RequestEntityTooLarge, 'Request Entity Too Large'],
  [Code.UnsupportedContentFormat, 'Unsupported Content-Format'],
  [Code.UnprocessableEntity, 'Unprocessable Entity'],
  [Code.TooManyRequests, 'Too Many Requests'],
  [Code.InternalServerError, 'Internal Server Error'],
  [Code.NotImplemented, 'Not Implemented'],
  [Code.BadGateway, 'Bad Gateway'],
  [Code.ServiceUnavailable, 'Service Unavailable'],
  [Code.GatewayTimeout, 'Gateway Timeout'],
  [Code.ProxyingNotSupported, 'Proxying Not Supported'],
]);

/** The reason phrase of a response code (`'Content'` for 2.05), or `''`. */
export function reasonPhrase(c: number): string {
  return REASONS.get(c) ?? '';
}

/** RFC 7252 §5.2: requests are class 0 with a non-zero detail. */
export function isRequestCode(c: number): boolean {
  return c >= 1 && c <= 31;
}

/** RFC 7252 §5.2: responses are classes 2, 4 and 5. */
export function isResponseCode(c: number): boolean {
  const cls = c >> 5;
  return cls === 2 || cls === 4 || cls === 5;
}
