/**
 * @module options/content-format
 * The Content-Format registry subset this stack knows by name (RFC 7252 §12.3, RFC 7390 §6.2
 * via the IANA registry for 256), and conversion between media types and numbers.
 */
import { InvalidArgumentError } from '../errors.js';

/** Registered Content-Format numbers. */
export const ContentFormat = Object.freeze({
  TextPlain: 0,
  LinkFormat: 40,
  Xml: 41,
  OctetStream: 42,
  Exi: 47,
  Json: 50,
  Cbor: 60,
  /** application/coap-group+json, RFC 7390 §6.2 (IANA Content-Format 256). */
  CoapGroupJson: 256,
} as const);

const MEDIA_TYPES: ReadonlyArray<readonly [number, string]> = [
  [0, 'text/plain;charset=utf-8'],
  [40, 'application/link-format'],
  [41, 'application/xml'],
  [42, 'application/octet-stream'],
  [47, 'application/exi'],
  [50, 'application/json'],
  [60, 'application/cbor'],
  [ContentFormat.CoapGroupJson, 'application/coap-group+json'],
];

const NAME_BY_NUMBER = new Map<number, string>(MEDIA_TYPES);
const NUMBER_BY_NAME = new Map<string, number>(MEDIA_TYPES.map(([n, s]) => [s, n]));
NUMBER_BY_NAME.set('text/plain', 0);

/** The media type of a Content-Format number, or undefined when this stack does not know it. */
export function mediaTypeOf(format: number): string | undefined {
  return NAME_BY_NUMBER.get(format);
}

/** True for formats whose payload is text (UTF-8). */
export function isTextFormat(format: number | undefined): boolean {
  return (
    format === ContentFormat.TextPlain ||
    format === ContentFormat.LinkFormat ||
    format === ContentFormat.Xml ||
    format === ContentFormat.Json ||
    format === ContentFormat.CoapGroupJson
  );
}

/**
 * Parses a Content-Format given as a number (`"50"`) or a media type (`"application/json"`).
 * @throws InvalidArgumentError naming the known media types.
 */
export function parseContentFormat(text: string): number {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+$/.test(trimmed)) {
    const n = Number(trimmed);
    if (n <= 65535) return n;
  }
  const n = NUMBER_BY_NAME.get(trimmed);
  if (n !== undefined) return n;
  throw new InvalidArgumentError(
    `unknown content format ${JSON.stringify(text)}: give a number 0-65535 or one of ${MEDIA_TYPES.map(([, s]) => s).join(', ')}`,
  );
}
