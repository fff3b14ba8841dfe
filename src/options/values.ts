/**
 * @module options/values
 * Reading and writing option values by format (RFC 7252 §3.2): uint in minimal big-endian bytes,
 * strings as UTF-8, and accessors over a message's option list.
 */
import { MessageEncodeError } from '../errors.js';
import type { CoapOption } from '../message/types.js';
import { EMPTY } from '../message/types.js';

const UINT_CACHE: Buffer[] = [];
for (let i = 0; i < 256; i++) UINT_CACHE.push(i === 0 ? EMPTY : Buffer.from([i]));

/** RFC 7252 §3.2: uint in the fewest bytes (0 is zero-length). Values below 256 share buffers. */
export function encodeUint(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new MessageEncodeError(`${n} is not a uint of at most 4 bytes`);
  if (n < 256) return UINT_CACHE[n]!;
  if (n < 0x10000) return Buffer.from([n >> 8, n & 0xff]);
  if (n < 0x1000000) return Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.from([(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

/** Reads a uint of up to 4 bytes (leading zeros allowed, RFC 7252 §3.2). */
export function decodeUint(b: Buffer): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) n = n * 256 + b[i]!;
  return n;
}

/** The first option with `number`, or undefined. */
export function findOption(options: readonly CoapOption[], number: number): CoapOption | undefined {
  for (let i = 0; i < options.length; i++) {
    const o = options[i]!;
    if (o.number === number) return o;
    if (o.number > number) return undefined;
  }
  return undefined;
}

/** Every option with `number`, in order. */
export function findOptions(options: readonly CoapOption[], number: number): CoapOption[] {
  const out: CoapOption[] = [];
  for (let i = 0; i < options.length; i++) {
    const o = options[i]!;
    if (o.number === number) out.push(o);
    else if (o.number > number) break;
  }
  return out;
}

/** The uint value of the first option with `number`, or undefined when absent. */
export function uintOption(options: readonly CoapOption[], number: number): number | undefined {
  const o = findOption(options, number);
  return o === undefined ? undefined : decodeUint(o.value);
}

/** `options` with option `number` set to `value` (any earlier one removed), in number order. */
export function withOption(options: readonly CoapOption[], number: number, value: Buffer): CoapOption[] {
  const out = options.filter((o) => o.number !== number);
  out.push({ number, value });
  return out.sort((a, b) => a.number - b.number);
}

/** The string values of every option with `number`. */
export function stringOptions(options: readonly CoapOption[], number: number): string[] {
  return findOptions(options, number).map((o) => o.value.toString('utf8'));
}

/** Inserts an option keeping the list ordered by number (after existing options of that number). */
export function insertOption(options: CoapOption[], option: CoapOption): void {
  let i = options.length;
  while (i > 0 && options[i - 1]!.number > option.number) i--;
  options.splice(i, 0, option);
}

/** Removes every option with `number`; returns the list for chaining. */
export function removeOptions(options: CoapOption[], number: number): CoapOption[] {
  for (let i = options.length - 1; i >= 0; i--) if (options[i]!.number === number) options.splice(i, 1);
  return options;
}
