/**
 * @module client/blockwise
 * Transparent block-wise transfer for the client (RFC 7959): a payload larger than the block size
 * is uploaded with Block1 (§2.5), each body tagged with a fresh Request-Tag so concurrent bodies
 * stay apart (RFC 9175 §3); a smaller SZX in a 2.31 answer is honoured (§2.5). A response with
 * Block2 M=1 is continued block by block (§2.4) and reassembled; if the ETag changes mid-transfer
 * the download starts over, a bounded number of times (§2.4). `blockSize` on a GET asks for
 * smaller blocks from the start (early negotiation, §2.4). Each block is one request through an
 * exchanger (client/exchanger), so a layer around it handles every block as a request of its own.
 */
import { type BlockValue, decodeBlock, encodeBlock, sizeToSzx, szxToSize } from '../block/index.js';
import { CoapError, InvalidArgumentError } from '../errors.js';
import { Code } from '../message/codes.js';
import type { CoapMessage, CoapOption } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { encodeUint, findOption, withOption } from '../options/values.js';
import type { Runtime } from '../runtime.js';
import { BlockTransferError } from './block-transfer-error.js';
import type { ExchangeRequest, Exchanger, MessageParts } from './exchanger.js';
import { CoapResponse } from './response.js';

type Parts = MessageParts;

/** An exchange of the transfer without its parts: where it goes and how (each block adds its parts). */
export type BlockExchange = Omit<ExchangeRequest, 'parts' | 'screen'>;

/** One block's exchange: `ex.request` as a `CoapResponse` from the destination. */
async function exchange(ex: Exchanger, x: BlockExchange, parts: Parts): Promise<CoapResponse> {
  // Spelled out, not spread: this runs for every request, and a literal of fixed shape is cheap.
  const req: ExchangeRequest = {
    dest: x.dest,
    parts,
    kind: x.kind,
    confirmable: x.confirmable,
    timeout: x.timeout,
    signal: x.signal,
    maxBodySize: x.maxBodySize,
    unprotected: x.unprotected,
    proxy: x.proxy,
  };
  return new CoapResponse(await ex.request(req), x.dest);
}

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

function configuredSzx(blockSize: number | undefined): number | undefined {
  if (blockSize === undefined) return undefined;
  try {
    return sizeToSzx(blockSize);
  } catch {
    throw new InvalidArgumentError(`blockSize ${blockSize} must be a power of two from 16 to 1024`);
  }
}

/**
 * Sends a request through `ex`, block-wise as needed, and resolves with the complete response.
 * `runtime` draws the Request-Tag of an upload; `blockSize` asks for blocks of that size.
 */
export async function transfer(
  ex: Exchanger,
  runtime: Runtime,
  x: BlockExchange,
  parts: Parts,
  blockSize?: number,
): Promise<CoapResponse> {
  const szx = configuredSzx(blockSize);
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
      ? await upload(ex, runtime, x, parts, szx ?? 6)
      : await exchange(ex, x, first);
  const b2 = blockOf(res, Opt.Block2);
  if (b2 === undefined || !b2.more || res.code >> 5 !== 2) return res;
  return download(ex, x, parts, res, b2);
}

async function upload(
  ex: Exchanger,
  runtime: Runtime,
  x: BlockExchange,
  parts: Parts,
  szx0: number,
): Promise<CoapResponse> {
  const body = parts.payload;
  const tag = runtime.randomBytes(4);
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
    const res = await exchange(ex, x, { code: parts.code, options, payload: chunk });
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

/** A block-wise body: the whole response, or, with `incomplete`, the bytes before it stopped. */
export interface DownloadResult {
  /**
   * The reassembled response without Block2. When `incomplete` is set, its code and options are
   * those of the first block and its payload the bytes that arrived.
   */
  readonly response: CoapResponse;
  readonly incomplete?: BlockTransferError;
}

/**
 * Fetches the remaining blocks of a response whose first block is `firstRes` (RFC 7959 §2.4).
 * @throws BlockTransferError when the server answers a later block with an error code (the
 * answer is not the response to the request); the error of a later block otherwise (timeout,
 * Reset, ERR_COAP_BODY_TOO_LARGE, ERR_COAP_BLOCK_CHANGED).
 */
export async function download(
  ex: Exchanger,
  x: BlockExchange,
  parts: Parts,
  firstRes: CoapResponse,
  firstBlock: BlockValue,
): Promise<CoapResponse> {
  const r = await downloadRest(ex, x, parts, firstRes, firstBlock);
  const stop = r.incomplete;
  if (stop === undefined) return r.response;
  throw stop.response !== undefined ? stop : stop.cause;
}

/** Like `download`, but a body that stops short resolves with what arrived and why it stopped. */
export async function downloadRest(
  ex: Exchanger,
  x: BlockExchange,
  parts: Parts,
  firstRes: CoapResponse,
  firstBlock: BlockValue,
): Promise<DownloadResult> {
  const dest = x.dest;
  const max = x.maxBodySize ?? DEFAULT_MAX_BODY;
  // Later blocks are fetched with the request's options but no payload or Block1 (RFC 7959 §2.4).
  const base = without(parts.options, Opt.Block1, Opt.Size1, Opt.RequestTag, Opt.Observe);
  // RFC 7959 §2.4, §3.3: later blocks are asked for with the same method, without payload.
  const code = parts.code;
  let head = firstRes;
  let chunks: Buffer[] = [firstRes.payload];
  let size = firstRes.payload.length;
  /** Ends with the bytes of the current version so far, under the first block's code. */
  const stop = (num: number, answer: CoapResponse | undefined, cause?: unknown): DownloadResult => {
    const received = Buffer.concat(chunks, size);
    return {
      response: assemble(head.code, head, received),
      incomplete: new BlockTransferError(dest, num, received, answer, cause),
    };
  };
  const tooLarge = () =>
    new CoapError('ERR_COAP_BODY_TOO_LARGE', `the response body exceeds maxBodySize ${max}`);
  let block = firstBlock;
  let asked = 1;
  for (let restart = 0; restart <= MAX_RESTARTS; restart++) {
    let res = head;
    const etag = res.etag;
    let changed = false;
    // Bounded by max / 16 blocks.
    while (block.more) {
      // The next block starts where the bytes so far end, at the server's block size.
      const next: BlockValue = { num: Math.floor(size / szxToSize(block.szx)), more: false, szx: block.szx };
      asked = next.num;
      if (size > max) return stop(next.num, undefined, tooLarge());
      try {
        res = await exchange(ex, x, {
          code,
          payload: Buffer.alloc(0),
          options: withOption(base, Opt.Block2, encodeBlock(next)),
        });
      } catch (err) {
        return stop(next.num, undefined, err);
      }
      // An error answer to a later block is not the answer to the request (RFC 7959 §2.4).
      if (res.code >> 5 !== 2) return stop(next.num, res);
      let got: BlockValue | undefined;
      try {
        got = blockOf(res, Opt.Block2);
      } catch (err) {
        return stop(next.num, undefined, err);
      }
      if (got === undefined || got.num !== next.num) {
        const err = new CoapError(
          'ERR_COAP_BLOCK_OPTION',
          `${dest.address} answered block ${got?.num} for block ${next.num}`,
        );
        return stop(next.num, undefined, err);
      }
      if (etag !== undefined && !res.etag?.equals(etag)) {
        changed = true;
        break;
      }
      chunks.push(res.payload);
      size += res.payload.length;
      block = got;
    }
    if (!changed) {
      if (size > max) return stop(block.num + 1, undefined, tooLarge());
      return { response: assemble(res.code, res, Buffer.concat(chunks, size)) };
    }
    if (restart === MAX_RESTARTS) break;
    // RFC 7959 §2.4: the representation changed; start again from block 0.
    let again: CoapResponse;
    try {
      again = await exchange(ex, x, {
        code,
        payload: Buffer.alloc(0),
        options: withOption(base, Opt.Block2, encodeBlock({ num: 0, more: false, szx: block.szx })),
      });
    } catch (err) {
      return stop(0, undefined, err);
    }
    if (again.code >> 5 !== 2) return stop(0, again);
    let b: BlockValue | undefined;
    try {
      b = blockOf(again, Opt.Block2);
    } catch (err) {
      return stop(0, undefined, err);
    }
    // A representation that now fits in one block is the whole new version.
    if (b === undefined || !b.more) return { response: again };
    head = again;
    chunks = [again.payload];
    size = again.payload.length;
    block = b;
  }
  return stop(
    asked,
    undefined,
    new CoapError(
      'ERR_COAP_BLOCK_CHANGED',
      `the representation kept changing during the block-wise transfer (${MAX_RESTARTS} restarts)`,
    ),
  );
}

/** A response of `code` with `from`'s options minus Block2 and the reassembled payload. */
function assemble(code: number, from: CoapResponse, payload: Buffer): CoapResponse {
  const msg: CoapMessage = {
    type: 0,
    code,
    messageId: 0,
    token: from.token,
    options: without(from.options, Opt.Block2),
    payload,
  };
  return new CoapResponse(msg, from.source);
}
