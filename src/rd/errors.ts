/**
 * @module rd/errors
 * The errors of the resource directory (RFC 9176) that are not CoAP responses: a saved
 * directory that cannot be read back or written (the directory then refuses to start rather
 * than silently forget registrations), and the node side's failures to find or use an RD.
 * Codes are stable and listed in docs/errors.md.
 */
import { CoapError } from '../errors.js';

/** The stable codes of {@link RdStateError}. */
export type RdStateErrorCode = 'ERR_COAP_RD_STATE_CORRUPT' | 'ERR_COAP_RD_STATE_IO';

/**
 * The saved directory could not be used.
 *
 * - `ERR_COAP_RD_STATE_CORRUPT`: a state file exists but is not valid. The directory does not
 *   start unless told to start empty (which moves the bad files aside).
 * - `ERR_COAP_RD_STATE_IO`: a state file or its directory could not be read or written; during
 *   a registration the RD answers 5.00 and nothing changes.
 *
 * @example
 * try {
 *   await attachResourceDirectory(server, { store: '/var/lib/coap-rd' });
 * } catch (err) {
 *   if (err instanceof RdStateError && err.code === 'ERR_COAP_RD_STATE_CORRUPT')
 *     await attachResourceDirectory(server, { store: '/var/lib/coap-rd', startEmpty: true });
 * }
 */
export class RdStateError extends CoapError {
  declare readonly code: RdStateErrorCode;
  /** The file or directory concerned. */
  readonly path: string;
  constructor(code: RdStateErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.path = path;
  }
}

/** The stable codes of {@link RdClientError}. */
export type RdClientErrorCode = 'ERR_COAP_RD_NOT_FOUND' | 'ERR_COAP_RD_REFUSED';

/**
 * A node could not use a resource directory.
 *
 * - `ERR_COAP_RD_NOT_FOUND`: discovery found no RD, or the RD offers no interface of the kind
 *   needed (`rt=core.rd`, `rt=core.rd-lookup-res`, RFC 9176 §4.3).
 * - `ERR_COAP_RD_REFUSED`: the RD answered a registration or lookup with an error code;
 *   `responseCode` is that code (e.g. `'4.03'`).
 *
 * @example
 * ```ts
 * try { await RdRegistration.start(server, { rd: 'auto', ep: 'node1', client }); }
 * catch (e) { if (e instanceof RdClientError) console.error(e.code, e.message); }
 * ```
 */
export class RdClientError extends CoapError {
  declare readonly code: RdClientErrorCode;
  readonly responseCode: string | undefined;
  /** For a 5.03: the Max-Age, seconds to wait before trying again (RFC 9176 §4). */
  readonly retryAfter: number | undefined;
  constructor(code: RdClientErrorCode, message: string, responseCode?: string, retryAfter?: number) {
    super(code, message);
    this.responseCode = responseCode;
    this.retryAfter = retryAfter;
  }
}
