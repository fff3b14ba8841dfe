/**
 * @module group-config/errors
 * The errors of the group configuration resource (RFC 7390 §2.6.2) that are not CoAP responses:
 * a persisted state that cannot be read back or written (so a node refuses to start rather than
 * silently forget its groups), and a membership list that is full. Codes are stable and listed
 * in docs/errors.md.
 */
import { CoapError } from '../errors.js';

/** The stable codes of {@link GroupStateError}. */
export type GroupStateErrorCode = 'ERR_COAP_GROUP_STATE_CORRUPT' | 'ERR_COAP_GROUP_STATE_IO';

/**
 * The persisted group configuration could not be used.
 *
 * - `ERR_COAP_GROUP_STATE_CORRUPT`: the state file exists but is not a valid state (truncated,
 *   not JSON, a bad membership). At start-up the node refuses to start unless told to start empty.
 * - `ERR_COAP_GROUP_STATE_IO`: the state file or its directory could not be read or written.
 *
 * @example
 * ```ts
 * try { await attachGroupConfig(server, { store: '/var/lib/coap-group' }); }
 * catch (e) { if (e instanceof GroupStateError) console.error(e.code, e.path, e.message); }
 * ```
 */
export class GroupStateError extends CoapError {
  declare readonly code: GroupStateErrorCode;
  /** The file or directory concerned. */
  readonly path: string;
  constructor(code: GroupStateErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.path = path;
  }
}

/**
 * No room for another membership: the configured maximum, at most the 1332 indexes RFC 7390
 * §2.6.2.2 allows (two alphanumeric characters). Code `ERR_COAP_GROUP_CONFIG_FULL`.
 *
 * @example
 * try {
 *   await config.add({ a: { address: '239.1.2.3', family: 4, port: undefined } });
 * } catch (err) {
 *   if (err instanceof GroupConfigFullError) console.log('at most', err.limit, 'memberships');
 * }
 */
export class GroupConfigFullError extends CoapError {
  readonly limit: number;
  constructor(limit: number, message: string) {
    super('ERR_COAP_GROUP_CONFIG_FULL', message);
    this.limit = limit;
  }
}

/** The `code` of an errno-style error, or its message: for one-line reasons. */
export { reasonOf } from '../util/atomic-file.js';
