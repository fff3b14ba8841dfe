/**
 * @module message/describe
 * One readable line for a CoAP message (RFC 7252 §3), for debug output and the CLI's
 * `--verbose`: type, code, Message ID, token, options and payload size. Option values are shown
 * by their registered format (§5.10): numbers, text, or hex for opaque values; Block1/Block2
 * as NUM/M/SIZE (RFC 7959 §2.2). Payload bytes are never shown, only their count.
 */
import { Opt, optionDefinition } from '../options/registry.js';
import { codeToString, reasonPhrase } from './codes.js';
import type { CoapMessage, CoapOption } from './types.js';

const TYPES = ['CON', 'NON', 'ACK', 'RST'] as const;
const METHODS = ['', 'GET', 'POST', 'PUT', 'DELETE', 'FETCH', 'PATCH', 'iPATCH'] as const;
/** Long values are cut so one message stays one line. */
const MAX_VALUE = 40;

function uint(value: Buffer): number {
  let n = 0;
  for (const b of value) n = n * 256 + b;
  return n;
}

function cut(text: string): string {
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 3)}...` : text;
}

function optionText(o: CoapOption): string {
  const def = optionDefinition(o.number);
  const name = def?.name ?? `Option${o.number}`;
  if (o.number === Opt.Block2 || o.number === Opt.Block1) {
    // RFC 7959 §2.2: NUM, the M bit and SZX packed into one uint.
    const v = uint(o.value);
    return `${name}=${Math.floor(v / 16)}/${(v >> 3) & 1}/${16 << (v & 7)}`;
  }
  switch (def?.format) {
    case 'empty':
      return name;
    case 'uint':
      return `${name}=${uint(o.value)}`;
    case 'string':
      return `${name}=${JSON.stringify(cut(o.value.toString('utf8')))}`;
    default:
      return `${name}=${o.value.length === 0 ? '""' : `0x${cut(o.value.toString('hex'))}`}`;
  }
}

/** The code as a method name or `2.05 Content`; `0.00` for an empty message. */
function codeText(code: number): string {
  if (code === 0) return 'empty';
  if (code >> 5 === 0) return METHODS[code] ?? codeToString(code);
  const reason = reasonPhrase(code);
  return reason ? `${codeToString(code)} ${reason}` : codeToString(code);
}

/**
 * Describes a message on one line, e.g.
 * `CON GET mid=0x3f21 token=8a1b2c3d Uri-Path="light" Accept=0 0 B`.
 */
export function describeMessage(m: CoapMessage): string {
  const parts = [TYPES[m.type] ?? `type${m.type}`, codeText(m.code)];
  parts.push(`mid=0x${m.messageId.toString(16).padStart(4, '0')}`);
  if (m.token.length > 0) parts.push(`token=${m.token.toString('hex')}`);
  // In option-number order, as on the wire (a message being built may not be sorted yet).
  for (const o of [...m.options].sort((a, b) => a.number - b.number)) parts.push(optionText(o));
  parts.push(`${m.payload.length} B`);
  return parts.join(' ');
}
