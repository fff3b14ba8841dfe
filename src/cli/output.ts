/**
 * @module cli/output
 * How responses are printed (design.md §CLI contract): for groups one line per response,
 * `<ip>:<port>  <code> <reason>  <payload>`, or with --json one object per line with `payload`
 * (text) or `payloadBase64` (binary).
 */
import type { CoapResponse } from '../entry/client.js';
import { isTextFormat } from '../entry/common.js';

/** `127.0.0.2:5683` or `[::1]:5683`. */
export function endpoint(a: { address: string; port: number }): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

function isText(r: CoapResponse): boolean {
  const f = r.format;
  if (f !== undefined) return isTextFormat(f);
  // No Content-Format: diagnostics and plain values are text when they decode cleanly.
  return !r.payload.includes(0) && Buffer.from(r.payload.toString('utf8')).equals(r.payload);
}

/** The JSON line of a response. */
export function jsonLine(r: CoapResponse, ms: number | undefined): string {
  const o: Record<string, unknown> = { from: endpoint(r.source), code: r.codeString };
  const f = r.format;
  if (f !== undefined) o.format = f;
  if (r.observe !== undefined) o.observe = r.observe;
  if (isText(r)) o.payload = r.text();
  else o.payloadBase64 = r.payload.toString('base64');
  if (ms !== undefined) o.ms = Math.round(ms);
  return JSON.stringify(o);
}

/** The text line of a group response. */
export function groupLine(r: CoapResponse): string {
  const body = isText(r)
    ? r.text().replace(/\r?\n/g, ' ')
    : `(${r.payload.length} bytes) ${r.payload.toString('base64')}`;
  return `${endpoint(r.source)}  ${r.codeString} ${r.reason}${body ? `  ${body}` : ''}`;
}

/** The payload of a unicast response for stdout. */
export function payloadOut(r: CoapResponse): Buffer | string {
  return isText(r) ? r.text() : r.payload;
}
