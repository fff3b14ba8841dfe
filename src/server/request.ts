/**
 * @module server/request
 * A request as a handler sees it: method, path, parameters, query, payload and formats, the
 * requesting endpoint, whether it arrived via multicast (RFC 7390 §2.7), and who a security
 * layer verified as its sender (server/site `RequestSecurity`).
 */
import { CoapResponseError } from '../errors.js';
import { type MethodName, methodName } from '../message/codes.js';
import type { CoapMessage, CoapOption } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { findOption, uintOption } from '../options/values.js';
import type { Address } from '../transport/types.js';
import type { RequestSecurity } from './site.js';

/**
 * A request as a handler sees it: the method, path, route parameters, query, payload and its
 * Content-Format, who sent it, whether it came via multicast (RFC 7390 §2.7) and to which group,
 * and who a security layer verified as its sender.
 *
 * @example
 * server.get('/lights/:id', (req) => ({
 *   payload: `light ${req.params.id} asked by ${req.source.address}${req.multicast ? ' via its group' : ''}`,
 * }));
 */
export class IncomingRequest {
  readonly method: MethodName;
  /** Decoded path segments. */
  readonly path: readonly string[];
  /** Values bound by `:name` route segments, and `*` for a trailing wildcard. */
  params: Record<string, string>;
  /** Decoded Uri-Query arguments. */
  readonly query: readonly string[];
  readonly message: CoapMessage;
  readonly source: Address;
  /** True when the request was sent to a group (RFC 7390 §2.7). */
  readonly multicast: boolean;
  /** The group address it was sent to, for multicast requests. */
  readonly group: string | undefined;
  /**
   * Who a security layer verified as the sender, or `undefined` when no layer did (the request
   * came unprotected). Access policies may authorize on it (RFC 7390 §6.2).
   */
  readonly security: RequestSecurity | undefined;

  constructor(
    message: CoapMessage,
    path: readonly string[],
    query: readonly string[],
    source: Address,
    multicast: boolean,
    group: string | undefined,
    security?: RequestSecurity,
    params: Record<string, string> = {},
  ) {
    this.message = message;
    this.method = methodName(message.code) ?? 'GET';
    this.path = path;
    this.query = query;
    this.source = source;
    this.multicast = multicast;
    this.group = group;
    this.security = security === undefined ? undefined : Object.freeze({ ...security });
    this.params = params;
  }

  get options(): readonly CoapOption[] {
    return this.message.options;
  }

  get payload(): Buffer {
    return this.message.payload;
  }

  /** The request's Content-Format, or undefined. */
  get format(): number | undefined {
    return uintOption(this.message.options, Opt.ContentFormat);
  }

  /** The Accept option, or undefined. */
  get accept(): number | undefined {
    return uintOption(this.message.options, Opt.Accept);
  }

  /** The value of `name=value` in the query, or undefined. */
  queryParam(name: string): string | undefined {
    const prefix = `${name}=`;
    for (const q of this.query) if (q.startsWith(prefix)) return q.slice(prefix.length);
    return undefined;
  }

  /** The first option with this number. */
  option(number: number): CoapOption | undefined {
    return findOption(this.message.options, number);
  }

  text(): string {
    return this.message.payload.toString('utf8');
  }

  /** The payload as JSON; a 4.00 response when it is not. */
  json<T = unknown>(): T {
    try {
      return JSON.parse(this.text()) as T;
    } catch {
      throw new CoapResponseError('4.00', 'payload is not valid JSON');
    }
  }
}
