/**
 * @module cbor/codec
 * The small, deterministic CBOR (RFC 8949) subset the stack needs: OSCORE's COSE structures (the
 * HKDF `info` array, RFC 8613 §3.2.1; the `aad_array` and `Enc_structure`, §5.4; for Group
 * OSCORE, `Sig_structure` and CCS credentials, draft-ietf-core-oscore-groupcomm §2.4, §3.1, §3.4)
 * and the CRIs of draft-ietf-core-href §5.1 that the group proxy options carry.
 *
 * Why no dependency: those structures use only definite-length integers, byte and text strings,
 * arrays, maps, null and simple values, and their bytes must be exactly reproducible because they
 * are hashed, signed or fed to the AEAD as AAD. A general CBOR package would add tags, floats,
 * indefinite lengths and streaming that we must then forbid; 200 lines that encode only what we
 * use, always in the preferred (shortest) form of RFC 8949 §4.2.1, are easier to audit and keep
 * the core free of runtime dependencies (design.md §Layers).
 */
import { CborError } from './error.js';

/** A CBOR simple value other than false/true/null/undefined (RFC 8949 §3.3). */
export class CborSimple {
  constructor(readonly value: number) {}
}

/** The values this codec handles. Integers beyond 2^53 are `bigint`. Maps keep insertion order on decode. */
export type CborValue =
  | number
  | bigint
  | string
  | Uint8Array
  | null
  | undefined
  | boolean
  | CborSimple
  | readonly CborValue[]
  | ReadonlyMap<CborValue, CborValue>;

function head(major: number, n: number | bigint): Buffer {
  const m = major << 5;
  const v = typeof n === 'bigint' ? n : BigInt(n);
  if (v < 24n) return Buffer.from([m | Number(v)]);
  if (v < 0x100n) return Buffer.from([m | 24, Number(v)]);
  if (v < 0x10000n) {
    const b = Buffer.alloc(3);
    b[0] = m | 25;
    b.writeUInt16BE(Number(v), 1);
    return b;
  }
  if (v < 0x100000000n) {
    const b = Buffer.alloc(5);
    b[0] = m | 26;
    b.writeUInt32BE(Number(v), 1);
    return b;
  }
  if (v < 0x10000000000000000n) {
    const b = Buffer.alloc(9);
    b[0] = m | 27;
    b.writeBigUInt64BE(v, 1);
    return b;
  }
  throw new CborError(`integer ${v} does not fit 64 bits`);
}

function encodeInto(v: CborValue, out: Buffer[]): void {
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (typeof v === 'number' && !Number.isSafeInteger(v)) {
      throw new CborError(`only integers are encoded, not ${v}`);
    }
    const big = BigInt(v);
    out.push(big >= 0n ? head(0, big) : head(1, -1n - big));
  } else if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    out.push(head(3, b.length), b);
  } else if (v instanceof Uint8Array) {
    out.push(head(2, v.length), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  } else if (v === false) out.push(Buffer.from([0xf4]));
  else if (v === true) out.push(Buffer.from([0xf5]));
  else if (v === null) out.push(Buffer.from([0xf6]));
  else if (v === undefined) out.push(Buffer.from([0xf7]));
  else if (v instanceof CborSimple) {
    // RFC 8949 §3.3: 20-23 have their own meaning and 24-31 are not well-formed as simple values.
    if (!Number.isInteger(v.value) || v.value < 0 || v.value > 255 || (v.value >= 20 && v.value < 32)) {
      throw new CborError(`simple value ${v.value} cannot be encoded`);
    }
    out.push(v.value < 24 ? Buffer.from([0xe0 | v.value]) : Buffer.from([0xf8, v.value]));
  } else if (Array.isArray(v)) {
    out.push(head(4, v.length));
    for (const item of v) encodeInto(item, out);
  } else if (v instanceof Map) {
    // RFC 8949 §4.2.1: deterministic maps sort keys by the bytewise order of their encodings.
    const entries = [...v.entries()].map(([k, val]) => [encodeCbor(k), val] as const);
    entries.sort((a, b) => Buffer.compare(a[0], b[0]));
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]![0].equals(entries[i - 1]![0])) throw new CborError('duplicate map key');
    }
    out.push(head(5, entries.length));
    for (const [k, val] of entries) {
      out.push(k);
      encodeInto(val, out);
    }
  } else {
    throw new CborError(`cannot encode ${typeof v}`);
  }
}

/**
 * Encodes a value in RFC 8949 §4.2.1 deterministic form (shortest heads, sorted map keys).
 * @example encodeCbor([Buffer.alloc(0), null, 10, 'Key', 16]) // 0x8540f60a634b657910
 */
export function encodeCbor(v: CborValue): Buffer {
  const out: Buffer[] = [];
  encodeInto(v, out);
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}

/** A CBOR byte string holding the encoding of `v` (the CDDL `bstr .cbor`, RFC 8613 §5.4). */
export function encodeCborWrapped(v: CborValue): Buffer {
  const inner = encodeCbor(v);
  return Buffer.concat([head(2, inner.length), inner]);
}

const MAX_DEPTH = 16;

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  fail(why: string): never {
    throw new CborError(`${why} (at byte ${this.pos})`);
  }

  take(n: number): Buffer {
    if (n > this.buf.length - this.pos) this.fail('data runs past the end');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Reads an argument; rejects indefinite lengths and non-shortest forms (we decode only deterministic CBOR). */
  argument(info: number): bigint {
    if (info < 24) return BigInt(info);
    let v: bigint;
    if (info === 24) v = BigInt(this.take(1)[0]!);
    else if (info === 25) v = BigInt(this.take(2).readUInt16BE(0));
    else if (info === 26) v = BigInt(this.take(4).readUInt32BE(0));
    else if (info === 27) v = this.take(8).readBigUInt64BE(0);
    else return this.fail(`additional information ${info} (indefinite length or reserved) is not supported`);
    const min = info === 24 ? 24n : info === 25 ? 0x100n : info === 26 ? 0x10000n : 0x100000000n;
    if (v < min) this.fail('integer not in its shortest form');
    return v;
  }

  length(info: number): number {
    const v = this.argument(info);
    if (v > BigInt(this.buf.length - this.pos)) this.fail('length runs past the end');
    return Number(v);
  }

  value(depth: number): CborValue {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    const ib = this.take(1)[0]!;
    const major = ib >> 5;
    const info = ib & 0x1f;
    switch (major) {
      case 0:
      case 1: {
        const a = this.argument(info);
        const v = major === 0 ? a : -1n - a;
        return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 2:
        return this.take(this.length(info));
      case 3: {
        const bytes = this.take(this.length(info));
        const text = new TextDecoder('utf-8', { fatal: true });
        try {
          return text.decode(bytes);
        } catch {
          return this.fail('text string is not valid UTF-8');
        }
      }
      case 4: {
        const n = this.length(info);
        const arr: CborValue[] = [];
        for (let i = 0; i < n; i++) arr.push(this.value(depth + 1));
        return arr;
      }
      case 5: {
        const n = this.length(info);
        const map = new Map<CborValue, CborValue>();
        for (let i = 0; i < n; i++) map.set(this.value(depth + 1), this.value(depth + 1));
        return map;
      }
      case 6:
        return this.fail('tags are not supported');
      default: {
        if (info < 20) return new CborSimple(info);
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        if (info === 23) return undefined;
        if (info === 24) {
          const s = this.take(1)[0]!;
          if (s < 32) this.fail(`simple value ${s} in two bytes is not well-formed`);
          return new CborSimple(s);
        }
        return this.fail('floating-point and break are not supported');
      }
    }
  }
}

/**
 * Decodes exactly one data item. Byte strings are views into `buf`. Map keys that are byte
 * strings or arrays compare by identity, so look them up by iterating.
 * @throws CborError `ERR_COAP_CBOR` for anything outside the subset or trailing bytes.
 */
export function decodeCbor(buf: Buffer): CborValue {
  const r = new Reader(buf);
  const v = r.value(0);
  if (r.pos !== buf.length) r.fail('trailing bytes after the data item');
  return v;
}

/** Decodes a sequence of concatenated data items (RFC 8742), e.g. the fields of a CCS in a larger buffer. */
export function decodeCborSequence(buf: Buffer): CborValue[] {
  const r = new Reader(buf);
  const out: CborValue[] = [];
  while (r.pos < buf.length) out.push(r.value(0));
  return out;
}
