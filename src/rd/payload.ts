/**
 * @module rd/payload
 * The link-format payload of a registration (RFC 9176 §4.2, §5): Content-Format 40, or no
 * payload at all (then also Content-Format 0 or none, as simple clients send it), parsed with
 * the project's RFC 6690 codec, within the size limits. The RFC's codes: 4.15 for another
 * format, 4.00 for text that is not link format, 4.13 with Size1 past a limit (RFC 7959 §2.9.3).
 */
import { CoapResponseError } from '../errors.js';
import { type Link, LinkFormatError, parseLinks } from '../link-format/index.js';
import { Opt } from '../options/registry.js';
import { encodeUint } from '../options/values.js';
import type { IncomingRequest } from '../server/request.js';
import type { ResponseInit } from '../server/response.js';

/** application/link-format (RFC 6690 §7.2). */
export const LINK_FORMAT = 40;

/** A 4.13 that names the limit in a Size1 option (RFC 7959 §2.9.3, §4). */
export class PayloadTooLargeError extends CoapResponseError {
  readonly size1: number;
  constructor(diagnostic: string, size1: number) {
    super('4.13', diagnostic);
    this.size1 = size1;
  }

  /** The response, with Size1. */
  response(): ResponseInit {
    return {
      code: '4.13',
      payload: this.diagnostic,
      options: [{ number: Opt.Size1, value: encodeUint(this.size1) }],
    };
  }
}

/** Runs a handler body, turning a PayloadTooLargeError into its response (with Size1). */
export async function withSize1(body: () => Promise<ResponseInit>): Promise<ResponseInit> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof PayloadTooLargeError) return err.response();
    throw err;
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The links of a request, or undefined when it has no payload.
 * @throws CoapResponseError 4.15, 4.00; PayloadTooLargeError (4.13).
 */
export function readLinks(req: IncomingRequest, maxBytes: number, maxLinks: number): Link[] | undefined {
  const f = req.format;
  if (req.payload.length === 0) {
    if (f !== undefined && f !== LINK_FORMAT && f !== 0) {
      throw new CoapResponseError('4.15', 'use Content-Format 40 (application/link-format)');
    }
    return undefined;
  }
  if (f !== undefined && f !== LINK_FORMAT) {
    throw new CoapResponseError('4.15', 'use Content-Format 40 (application/link-format)');
  }
  if (req.payload.length > maxBytes) {
    throw new PayloadTooLargeError(`the payload is larger than ${maxBytes} bytes`, maxBytes);
  }
  let text: string;
  try {
    text = UTF8.decode(req.payload);
  } catch {
    throw new CoapResponseError('4.00', 'the payload is not UTF-8');
  }
  let links: Link[];
  try {
    links = parseLinks(text);
  } catch (err) {
    if (err instanceof LinkFormatError)
      throw new CoapResponseError('4.00', `not link format: ${err.message}`);
    throw err;
  }
  if (links.length > maxLinks) {
    throw new PayloadTooLargeError(`more than ${maxLinks} links in one registration`, maxBytes);
  }
  return links;
}

/** Refuses an Accept other than link format (4.06, RFC 7252 §5.10.4). */
export function checkAccept(req: IncomingRequest): void {
  const a = req.accept;
  if (a !== undefined && a !== LINK_FORMAT) {
    throw new CoapResponseError('4.06', 'only Content-Format 40 (application/link-format) is served');
  }
}
