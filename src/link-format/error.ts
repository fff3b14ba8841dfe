/**
 * @module link-format/error
 * The one error class of the CoRE Link Format parser (RFC 6690 §2).
 */
import { CoapError } from '../errors.js';

/**
 * Text that is not valid CoRE Link Format (RFC 6690 §2). Code `ERR_COAP_LINK_FORMAT`.
 * `offset` is the UTF-16 index of the offending character: the unexpected one, `text.length`
 * when the input ended too early, or the opening `<` or `"` of a construct never closed.
 *
 * @example
 * ```ts
 * try { parseLinks('</a>;rt=x y'); }
 * catch (e) { if (e instanceof LinkFormatError) console.log(e.offset); } // 10
 * ```
 */
export class LinkFormatError extends CoapError {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super('ERR_COAP_LINK_FORMAT', `${message} (at offset ${offset})`);
    this.offset = offset;
  }
}
