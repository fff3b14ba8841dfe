/**
 * @module client/response
 * A received response as the application sees it (RFC 7252 §5.2): code, options, payload and
 * the endpoint it came from, with helpers to read text and JSON.
 */
import { CoapError } from '../errors.js';
import { codeClass, codeToString, reasonPhrase } from '../message/codes.js';
import type { CoapMessage, CoapOption } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { decodeUint, findOption, uintOption } from '../options/values.js';
import type { Address } from '../transport/types.js';

/**
 * A CoAP response.
 *
 * @example
 * const res = await client.request('coap://127.0.0.1/temperature');
 * if (res.ok) console.log(res.codeString, res.format, res.text()); // 2.05 0 21.5
 * else console.log(res.codeString, res.reason); // 4.04 Not Found
 */
export class CoapResponse {
  /** The numeric code, e.g. 0x45 for 2.05. */
  readonly code: number;
  readonly options: readonly CoapOption[];
  readonly payload: Buffer;
  /** The endpoint that sent it. For group requests, this is how responders are told apart (RFC 7390 §2.5). */
  readonly source: Address;
  readonly token: Buffer;

  constructor(message: CoapMessage, source: Address) {
    this.code = message.code;
    this.options = message.options;
    this.payload = message.payload;
    this.token = message.token;
    this.source = { address: source.address, port: source.port };
  }

  /** `'2.05'`. */
  get codeString(): string {
    return codeToString(this.code);
  }

  /** `'Content'`. */
  get reason(): string {
    return reasonPhrase(this.code);
  }

  /** True for 2.xx. */
  get ok(): boolean {
    return codeClass(this.code) === 2;
  }

  /** The Content-Format, or undefined when absent. */
  get format(): number | undefined {
    return uintOption(this.options, Opt.ContentFormat);
  }

  /** Max-Age in seconds (RFC 7252 §5.10.5: 60 when absent). */
  get maxAge(): number {
    return uintOption(this.options, Opt.MaxAge) ?? 60;
  }

  /** The ETag, if any. */
  get etag(): Buffer | undefined {
    return findOption(this.options, Opt.ETag)?.value;
  }

  /** The Observe sequence number of a notification (RFC 7641 §2). */
  get observe(): number | undefined {
    const o = findOption(this.options, Opt.Observe);
    return o === undefined ? undefined : decodeUint(o.value);
  }

  /** The payload as UTF-8 text. */
  text(): string {
    return this.payload.toString('utf8');
  }

  /**
   * The payload parsed as JSON.
   * @throws CoapError `ERR_COAP_PAYLOAD_FORMAT` when it is not JSON.
   */
  json<T = unknown>(): T {
    try {
      return JSON.parse(this.text()) as T;
    } catch (err) {
      throw new CoapError('ERR_COAP_PAYLOAD_FORMAT', `the ${this.codeString} payload is not JSON`, {
        cause: err,
      });
    }
  }
}
