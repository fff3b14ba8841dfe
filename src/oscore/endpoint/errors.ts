/**
 * @module oscore/endpoint/errors
 * Errors of the OSCORE endpoint layer: a key-material file or object that cannot be used (the
 * field is named, the value never shown, so secrets stay out of logs), and the outcomes of a
 * protected request that a client reports (RFC 8613 §8.4, §8.2, §4.1.3.4).
 */
import { CoapError } from '../../errors.js';
import { codeClass } from '../../message/codes.js';
import type { CoapMessage } from '../../message/types.js';
import type { Address } from '../../transport/types.js';

/**
 * Key material that cannot be used: a missing or malformed field, an unreadable file, a file
 * others may read. `field` is the JSON path of the offending field (e.g. `group[0].members[2].id`).
 * The message names the field and what is wrong with it, never its value.
 *
 * @example
 * try {
 *   loadOscoreConfig('keys.json');
 * } catch (err) {
 *   if (err instanceof OscoreConfigError) console.log('fix', err.field || 'the file', ':', err.message);
 * }
 */
export class OscoreConfigError extends CoapError {
  declare readonly code: 'ERR_OSCORE_CONFIG';
  /** The JSON path of the field, or `''` for the file as a whole. */
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('ERR_OSCORE_CONFIG', field === '' ? message : `${field}: ${message}`, options);
    this.field = field;
  }
}

/** Stable codes of `OscoreExchangeError`. */
export type OscoreExchangeErrorCode =
  /**
   * The server answered a protected request without OSCORE (RFC 8613 §8.2, §8.3: its OSCORE
   * error responses, e.g. 4.01 "Security context not found", are not protected).
   */
  | 'ERR_OSCORE_UNPROTECTED'
  /** Outer Block options on a protected response that were not joined first (RFC 8613 §4.1.3.4.2). */
  | 'ERR_OSCORE_OUTER_BLOCKWISE';

/**
 * A protected unicast exchange that ended without a verified response.
 *
 * @example
 * try {
 *   await client.request('coap://127.0.0.1/secret');
 * } catch (err) {
 *   if (err instanceof OscoreExchangeError && err.code === 'ERR_OSCORE_UNPROTECTED')
 *     console.log('the server answered in the clear:', err.diagnostic);
 * }
 */
export class OscoreExchangeError extends CoapError {
  declare readonly code: OscoreExchangeErrorCode;
  /** The response code the server sent, e.g. 0x81 for 4.01, when there was a response. */
  readonly responseCode: number | undefined;
  /** The diagnostic payload of that response (UTF-8), if any. */
  readonly diagnostic: string;
  constructor(
    code: OscoreExchangeErrorCode,
    message: string,
    details: { responseCode?: number; diagnostic?: string } = {},
  ) {
    super(code, message);
    this.responseCode = details.responseCode;
    this.diagnostic = details.diagnostic ?? '';
  }
}

/** The error for an unprotected answer to a protected request, with its code and diagnostic. */
export function unprotectedAnswer(msg: CoapMessage, remote: Address): OscoreExchangeError {
  const diagnostic = codeClass(msg.code) >= 4 ? msg.payload.toString('utf8') : '';
  const c = `${msg.code >> 5}.${String(msg.code & 31).padStart(2, '0')}`;
  return new OscoreExchangeError(
    'ERR_OSCORE_UNPROTECTED',
    `${remote.address}:${remote.port} answered the protected request with an unprotected ${c}${diagnostic ? ` "${diagnostic}"` : ''}`,
    { responseCode: msg.code, diagnostic },
  );
}

/**
 * A request that no context protects, refused because plaintext to that destination was not
 * chosen (`OscoreClientSecurity` option `plaintext`): nothing was sent. A client given key
 * material never falls back to sending in the clear on its own.
 *
 * @example
 * try {
 *   await client.request('coap://192.0.2.7/light'); // no context in the keyring for this server
 * } catch (err) {
 *   if (err instanceof OscoreNoContextError) console.log('nothing sent to', err.destination.address);
 * }
 */
export class OscoreNoContextError extends CoapError {
  declare readonly code: 'ERR_OSCORE_NO_CONTEXT';
  /** Where the request was to go. */
  readonly destination: Address;
  /** `'group'` for a group request, else a unicast request or Observe registration. */
  readonly kind: 'unicast' | 'observe' | 'group';
  constructor(destination: Address, kind: 'unicast' | 'observe' | 'group') {
    const where = `${destination.address.includes(':') ? `[${destination.address}]` : destination.address}:${destination.port}`;
    super(
      'ERR_OSCORE_NO_CONTEXT',
      kind === 'group'
        ? `no Group OSCORE context protects requests to the group ${where}, so nothing was sent: add ${where} to the addresses of a group in the key file (coap-group keys group --address), or allow plaintext to it explicitly (OscoreClientSecurity option plaintext)`
        : `no OSCORE context protects requests to ${where}, so nothing was sent: give that server's address to its group member in the key file (members[].address; coap-group keys group --member-address), add an oscore context whose peer is that server (coap-group keys oscore --peer), or allow plaintext to it explicitly (OscoreClientSecurity option plaintext)`,
    );
    this.destination = { address: destination.address, port: destination.port };
    this.kind = kind;
  }
}
