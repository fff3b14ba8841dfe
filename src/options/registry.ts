/**
 * @module options/registry
 * The CoAP option registry: numbers, formats, lengths and repeatability (RFC 7252 §5.10, §12.2,
 * RFC 7641 §2, RFC 7959 §2.1, RFC 7967 §2, RFC 8613 §2, RFC 9175 §2.2.1, §3.2.1, RFC 9177 §4,
 * draft-ietf-core-groupcomm-proxy §2, §3, §7.3), and the property bits that the number itself
 * encodes (RFC 7252 §5.4.6).
 */

/** Option numbers. */
export const Opt = Object.freeze({
  IfMatch: 1,
  UriHost: 3,
  ETag: 4,
  IfNoneMatch: 5,
  Observe: 6,
  UriPort: 7,
  LocationPath: 8,
  Oscore: 9,
  UriPath: 11,
  ContentFormat: 12,
  MaxAge: 14,
  UriQuery: 15,
  HopLimit: 16,
  Accept: 17,
  QBlock1: 19,
  LocationQuery: 20,
  Edhoc: 21,
  Block2: 23,
  Block1: 27,
  Size2: 28,
  QBlock2: 31,
  ProxyUri: 35,
  ProxyScheme: 39,
  Size1: 60,
  Echo: 252,
  NoResponse: 258,
  RequestTag: 292,
  /**
   * The group proxy options (draft-ietf-core-groupcomm-proxy §2, §3, §7.3) at their default
   * numbers from the experimental range (RFC 7252 §12.2), whose low byte equals the draft's
   * suggested number so the property bits match; options/proxy-numbers makes them configurable.
   */
  ReplyFrom: 65016,
  MulticastTimeout: 65026,
  GroupETag: 65048,
} as const);

/** Value formats (RFC 7252 §3.2). */
export type OptionFormat = 'empty' | 'opaque' | 'uint' | 'string';

export interface OptionDefinition {
  readonly number: number;
  readonly name: string;
  readonly format: OptionFormat;
  readonly minLength: number;
  readonly maxLength: number;
  readonly repeatable: boolean;
}

function def(
  number: number,
  name: string,
  format: OptionFormat,
  minLength: number,
  maxLength: number,
  repeatable = false,
): OptionDefinition {
  return Object.freeze({ number, name, format, minLength, maxLength, repeatable });
}

const DEFINITIONS: readonly OptionDefinition[] = [
  def(Opt.IfMatch, 'If-Match', 'opaque', 0, 8, true),
  def(Opt.UriHost, 'Uri-Host', 'string', 1, 255),
  def(Opt.ETag, 'ETag', 'opaque', 1, 8, true),
  def(Opt.IfNoneMatch, 'If-None-Match', 'empty', 0, 0),
  def(Opt.Observe, 'Observe', 'uint', 0, 3),
  def(Opt.UriPort, 'Uri-Port', 'uint', 0, 2),
  def(Opt.LocationPath, 'Location-Path', 'string', 0, 255, true),
  def(Opt.Oscore, 'OSCORE', 'opaque', 0, 255),
  def(Opt.UriPath, 'Uri-Path', 'string', 0, 255, true),
  def(Opt.ContentFormat, 'Content-Format', 'uint', 0, 2),
  def(Opt.MaxAge, 'Max-Age', 'uint', 0, 4),
  def(Opt.UriQuery, 'Uri-Query', 'string', 0, 255, true),
  def(Opt.HopLimit, 'Hop-Limit', 'uint', 1, 1),
  def(Opt.Accept, 'Accept', 'uint', 0, 2),
  def(Opt.QBlock1, 'Q-Block1', 'uint', 0, 3),
  def(Opt.LocationQuery, 'Location-Query', 'string', 0, 255, true),
  def(Opt.Edhoc, 'EDHOC', 'empty', 0, 0),
  def(Opt.Block2, 'Block2', 'uint', 0, 3),
  def(Opt.Block1, 'Block1', 'uint', 0, 3),
  def(Opt.Size2, 'Size2', 'uint', 0, 4),
  def(Opt.QBlock2, 'Q-Block2', 'uint', 0, 3, true),
  def(Opt.ProxyUri, 'Proxy-Uri', 'string', 1, 1034),
  def(Opt.ProxyScheme, 'Proxy-Scheme', 'string', 1, 255),
  def(Opt.Size1, 'Size1', 'uint', 0, 4),
  def(Opt.Echo, 'Echo', 'opaque', 1, 40),
  def(Opt.NoResponse, 'No-Response', 'uint', 0, 1),
  def(Opt.RequestTag, 'Request-Tag', 'opaque', 0, 8, true),
  // groupcomm-proxy §3: a CBOR sequence of one or two CRIs; 5-1034 bytes.
  def(Opt.ReplyFrom, 'Reply-From', 'opaque', 5, 1034),
  // groupcomm-proxy §2: seconds, 0 sent as the empty value.
  def(Opt.MulticastTimeout, 'Multicast-Timeout', 'uint', 0, 4),
  // groupcomm-proxy §7.3: like ETag, repeatable in requests.
  def(Opt.GroupETag, 'Group-ETag', 'opaque', 1, 8, true),
];

/** By number, as a dense array: looked up for every option the message layer encodes or checks. */
const BY_NUMBER: readonly (OptionDefinition | undefined)[] = (() => {
  const a = new Array<OptionDefinition | undefined>(Math.max(...DEFINITIONS.map((d) => d.number)) + 1);
  a.fill(undefined);
  for (const d of DEFINITIONS) a[d.number] = d;
  return a;
})();
const BY_NAME = new Map<string, OptionDefinition>(DEFINITIONS.map((d) => [d.name.toLowerCase(), d]));

/** Critical options the message layer leaves to the layers above unless told otherwise: OSCORE (9), Q-Block1 (19), Q-Block2 (31), EDHOC (21). */
export const LEFT_TO_UPPER_LAYERS: ReadonlySet<number> = new Set([9, 19, 21, 31]);

/** The definition of a registered option, or undefined. */
export function optionDefinition(number: number): OptionDefinition | undefined {
  return number < BY_NUMBER.length ? BY_NUMBER[number] : undefined;
}

/** Looks an option up by its registered name, case-insensitively (`'uri-path'`). */
export function optionByName(name: string): OptionDefinition | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** All registered options, in number order. */
export function registeredOptions(): readonly OptionDefinition[] {
  return DEFINITIONS;
}

/** RFC 7252 §5.4.6: odd numbers are critical. */
export function isCritical(number: number): boolean {
  return (number & 1) === 1;
}

/** RFC 7252 §5.4.6: bit 1 marks an option Unsafe to forward. */
export function isUnsafe(number: number): boolean {
  return (number & 2) === 2;
}

/** RFC 7252 §5.4.6: NoCacheKey when bits 2-4 are all set (and the option is safe). */
export function isNoCacheKey(number: number): boolean {
  return (number & 0x1e) === 0x1c;
}
