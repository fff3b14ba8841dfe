/**
 * @module client/blockwise
 * Transparent block-wise transfer for the client (RFC 7959): a payload larger than the block size
 * is uploaded with Block1 (§2.5), each body tagged with a fresh Request-Tag so concurrent bodies
 * stay apart (RFC 9175 §3); a smaller SZX in a 2.31 answer is honoured (§2.5). A response with
 * Block2 M=1 is continued block by block (§2.4) and reassembled; if the ETag changes mid-transfer
 * the download starts over, a bounded number of times (§2.4). `blockSize` on a GET asks for
 * smaller blocks from the start (early negotiation, §2.4).
 */
import { type BlockValue, decodeBlock, encodeBlock, sizeToSzx, szxToSize } from '../block/index.js';
import { CoapError, InvalidArgumentError } from '../errors.js';
import { Code } from '../message/codes.js';
import type { CoapMessage, CoapOption } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { encodeUint, findOption, withOption } from '../options/values.js';
import type { Address } from '../transport/types.js';
import type { CoapClient, UnicastRequestOptions } from './client.js';
import { exchangeOnce } from './exchange.js';
import { CoapResponse } from './response.js';

type Parts = Pick<CoapMessage, 'code' | 'payload' | 'options'>;

const MAX_RESTARTS = 3;
/** Largest body reassembled by default (`maxBodySize`). */
export const DEFAULT_MAX_BODY = 16 * 1024 * 1024;

function without(options: readonly CoapOption[], ...numbers: number[]): CoapOption[] {
  return options.filter((o) => !numbers.includes(o.number));
}

function blockOf(res: CoapResponse, number: number): BlockValue | undefined {
  const o = findOption(res.options, number);
  if (o === undefined) return undefined;
  try {
    return decodeBlock(o.value);
  } catch (err) {
    throw new CoapError('ERR_COAP_BLOCK_OPTION', `${res.source.address} sent an invalid Block option`, {
      cause: err,
    });
  }
}

function configuredSzx(o: UnicastRequestOptions): number | undefined {
  if (o.blockSize === undefined) return undefined;
  try {
    return sizeToSzx(o.blockSize);
  } catch {
    throw new InvalidArgumentError(`blockSize ${o.blockSize} must be a power of two from 16 to 1024`);
  }
}

/** Sends a request, block-wise as needed, and resolves with the complete response. */
export async function transfer(
  client: CoapClient,
  o: UnicastRequestOptions,
  dest: Address,
  parts: Parts,
): Promise<CoapResponse> {
  const szx = configuredSzx(o);
  let first = parts;
  if (
    szx !== undefined &&
    (parts.code === Code.Empty + 1 || parts.code === 5) &&
    parts.payload.length === 0
  ) {
    // Early negotiation: a GET/FETCH asking for blocks of this size (RFC 7959 §2.4).
    first = {
      ...parts,
      options: withOption(parts.options, Opt.Block2, encodeBlock({ num: 0, more: false, szx })),
    };
  }
  const res =
    parts.payload.length > szxToSize(szx ?? 6)
      ? await upload(client, o, dest, parts, szx ?? 6)
      : await exchangeOnce(client, o, dest, first);
  const b2 = blockOf(res, Opt.Block2);
  if (b2 === undefined || !b2.more || res.code >> 5 !== 2) return res;
  return download(client, o, dest, parts, res, b2);
}

async function upload(
  client: CoapClient,
  o: UnicastRequestOptions,
  dest: Address,
  parts: Parts,
  szx0: number,
): Promise<CoapResponse> {
  const body = parts.payload;
  const tag = client.messenger.runtime.randomBytes(4);
  let base = withOption(parts.options, Opt.RequestTag, tag);
  base = withOption(base, Opt.Size1, encodeUint(body.length));
  let szx = szx0;
  let offset = 0;
  // Bounded: every round moves `offset` forward by at least 16 bytes.
  for (let round = 0; round <= body.length / 16 + 1; round++) {
    const size = szxToSize(szx);
    const num = offset / size;
    const more = offset + size < body.length;
    const chunk = body.subarray(offset, offset + size);
    const options = withOption(base, Opt.Block1, encodeBlock({ num, more, szx }));
    const res = await exchangeOnce(client, o, dest, { code: parts.code, options, payload: chunk });
    if (!more) return res;
    const ack = blockOf(res, Opt.Block1);
    // 2.31 asks for the next block (atomic, RFC 7959 §2.5); a 2.xx carrying Block1 means the
    // server took this block on its own (stateless, Figure 8). Anything else ends the upload.
    if (res.code !== Code.Continue && !(res.code >> 5 === 2 && ack !== undefined)) return res;
    offset += size;
    // RFC 7959 §2.5: the server may ask for smaller blocks; continue at the same offset.
    if (ack !== undefined && ack.szx < szx) szx = ack.szx;
  }
  throw new CoapError('ERR_COAP_BLOCK_OPTION', 'block-wise upload did not finish');
}

/** Fetches the remaining blocks of a response whose first block is `firstRes` (RFC 7959 §2.4). */
export async function download(
  client: CoapClient,
  o: UnicastRequestOptions,
  dest: Address,
  parts: Parts,
  firstRes: CoapResponse,
  firstBlock: BlockValue,
): Promise<CoapResponse> {
  const max = o.maxBodySize ?? DEFAULT_MAX_BODY;
  // Later blocks are fetched with the request's options but no payload or Block1 (RFC 7959 §2.4).
  const base = without(parts.options, Opt.Block1, Opt.Size1, Opt.RequestTag, Opt.Observe);
  // RFC 7959 §2.4, §3.3: later blocks are asked for with the same method, without payload.
  const code = parts.code;
  for (let restart = 0; restart <= MAX_RESTARTS; restart++) {
    let res = firstRes;
    let block = firstBlock;
    const chunks: Buffer[] = [res.payload];
    let size = res.payload.length;
    const etag = res.etag;
    let changed = false;
    // Bounded by max / 16 blocks.
    while (block.more) {
      if (size > max)
        throw new CoapError('ERR_COAP_BODY_TOO_LARGE', `the response body exceeds maxBodySize ${max}`);
      // The next block starts where the bytes so far end, at the server's block size.
      const next: BlockValue = { num: Math.floor(size / szxToSize(block.szx)), more: false, szx: block.szx };
      res = await exchangeOnce(client, o, dest, {
        code,
        payload: Buffer.alloc(0),
        options: withOption(base, Opt.Block2, encodeBlock(next)),
      });
      if (res.code >> 5 !== 2) return res;
      const got = blockOf(res, Opt.Block2);
      if (got === undefined || got.num !== next.num)
        throw new CoapError(
          'ERR_COAP_BLOCK_OPTION',
          `${dest.address} answered block ${got?.num} for block ${next.num}`,
        );
      if (etag !== undefined && !res.etag?.equals(etag)) {
        changed = true;
        break;
      }
      chunks.push(res.payload);
      size += res.payload.length;
      block = got;
    }
    if (!changed) {
      if (size > max)
        throw new CoapError('ERR_COAP_BODY_TOO_LARGE', `the response body exceeds maxBodySize ${max}`);
      const msg: CoapMessage = {
        type: 0,
        code: res.code,
        messageId: 0,
        token: res.token,
        options: without(res.options, Opt.Block2),
        payload: Buffer.concat(chunks, size),
      };
      return new CoapResponse(msg, res.source);
    }
    if (restart === MAX_RESTARTS) break;
    // RFC 7959 §2.4: the representation changed; start again from block 0.
    firstRes = await exchangeOnce(client, o, dest, {
      code,
      payload: Buffer.alloc(0),
      options: withOption(base, Opt.Block2, encodeBlock({ num: 0, more: false, szx: block.szx })),
    });
    const b = blockOf(firstRes, Opt.Block2);
    if (firstRes.code >> 5 !== 2 || b === undefined || !b.more) return firstRes;
    firstBlock = b;
  }
  throw new CoapError(
    'ERR_COAP_BLOCK_CHANGED',
    `the representation kept changing during the block-wise transfer (${MAX_RESTARTS} restarts)`,
  );
}
