/**
 * @module http-gateway/refusal
 * The gateway's own answers to requests it will not forward: an HTTP status, a one-line
 * text/plain body saying what is wrong and how to mend it (never a stack trace), and the
 * headers that go with the status (Retry-After for 429, RFC 6585 §4; an empty
 * Multicast-Timeout for a missing one, groupcomm-proxy §9.1). A refusal is thrown inside the
 * gateway and caught where the request is answered; it never leaves the module.
 */

/** @internal A request the gateway answers itself. */
export class Refusal {
  readonly status: number;
  readonly message: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  constructor(status: number, message: string, headers: ReadonlyArray<readonly [string, string]> = []) {
    this.status = status;
    this.message = message;
    this.headers = headers;
  }
}

/** @internal Builds a refusal; `throw refuse(400, '...')`. */
export function refuse(
  status: number,
  message: string,
  headers: ReadonlyArray<readonly [string, string]> = [],
): Refusal {
  return new Refusal(status, message, headers);
}

/** @internal A 429 whose Retry-After is `ms` rounded up to whole seconds, at least 1 (RFC 9110 §10.2.3). */
export function tooMany(message: string, ms: number): Refusal {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return new Refusal(429, `${message}; retry in ${seconds} s`, [['Retry-After', String(seconds)]]);
}
