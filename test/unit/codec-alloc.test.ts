/**
 * What decoding allocates (RFC 7252 §3 messages): decoding a short response or request makes
 * the message, its options array, one object per option and the token and payload views, and
 * almost nothing else. A byte count, not a timing: the heap grows by the same amount on every run.
 *
 * The measurement runs in a child process started with `--expose-gc`, so that every round starts
 * from an empty young generation and no collection falls inside a round. Each figure is the
 * least growth of `used_heap_size` over rounds of N decodes, divided by N: anything else that
 * allocates meanwhile (a compilation that installs code) can only add to a round.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { decodeMessage } from '../../src/message/decode.js';
import { encodeMessage } from '../../src/message/encode.js';
import { type CoapMessage, EMPTY } from '../../src/message/types.js';

const CHILD = 'COAP_CODEC_ALLOC_CHILD';

/** The short 2.05 of the codec bench: Content-Format and a 20-byte payload. */
const RESPONSE: CoapMessage = {
  type: 2,
  code: 0x45,
  messageId: 0x1234,
  token: Buffer.from([1, 2, 3, 4]),
  options: [{ number: 12, value: Buffer.from([50]) }],
  payload: Buffer.from('{"temp":21.5,"u":"C"'),
};
/** The GET of the codec bench: two Uri-Path options. */
const REQUEST: CoapMessage = {
  type: 0,
  code: 1,
  messageId: 0x1234,
  token: Buffer.from([1, 2, 3, 4]),
  options: [
    { number: 11, value: Buffer.from('sensors') },
    { number: 11, value: Buffer.from('temp') },
  ],
  payload: EMPTY,
};

interface Figures {
  /** Bytes allocated by one decode of RESPONSE, of REQUEST. */
  response: number;
  request: number;
  /** Bytes of the same messages built as literals: message, exact array, {number, value}, views. */
  responseLiteral: number;
  requestLiteral: number;
  /** Bytes of one Buffer view. */
  view: number;
}

/** Bytes allocated per call of `fn` (the least over rounds), its results kept just long enough to escape. */
function bytesPerCall(fn: () => unknown, gc: () => void): number {
  const ring: unknown[] = new Array(64).fill(undefined);
  // Warm-up: the optimised code is what runs in a server.
  for (let i = 0; i < 20_000; i++) ring[i & 63] = fn();
  const n = 500;
  let least = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 15; round++) {
    gc();
    const before = getHeapStatistics().used_heap_size;
    for (let i = 0; i < n; i++) ring[i & 63] = fn();
    least = Math.min(least, (getHeapStatistics().used_heap_size - before) / n);
  }
  return least;
}

function measure(gc: () => void): Figures {
  const response = encodeMessage(RESPONSE);
  const request = encodeMessage(REQUEST);
  const tokenEnd = 4 + RESPONSE.token.length;
  const payloadStart = response.length - RESPONSE.payload.length;
  return {
    response: bytesPerCall(() => decodeMessage(response), gc),
    request: bytesPerCall(() => decodeMessage(request), gc),
    responseLiteral: bytesPerCall(
      () => ({
        type: 2,
        code: 0x45,
        messageId: 0x1234,
        token: response.subarray(4, tokenEnd),
        options: [{ number: 12, value: EMPTY }],
        payload: response.subarray(payloadStart),
      }),
      gc,
    ),
    requestLiteral: bytesPerCall(
      () => ({
        type: 0,
        code: 1,
        messageId: 0x1234,
        token: request.subarray(4, tokenEnd),
        options: [
          { number: 11, value: EMPTY },
          { number: 11, value: EMPTY },
        ],
        payload: EMPTY,
      }),
      gc,
    ),
    view: bytesPerCall(() => response.subarray(4, tokenEnd), gc),
  };
}

if (process.env[CHILD] === '1') {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  process.stdout.write(JSON.stringify(measure(gc)));
} else {
  describe('decodeMessage: allocation per decode', () => {
    it('allocates less than one Buffer view more than the decoded message is made of', {
      timeout: 60_000,
    }, () => {
      const r = spawnSync(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)],
        {
          env: { ...process.env, [CHILD]: '1' },
          encoding: 'utf8',
          timeout: 50_000,
        },
      );
      assert.equal(r.status, 0, r.stderr);
      const f = JSON.parse(r.stdout) as Figures;
      const detail = JSON.stringify(f);
      // The views are what a decode cannot avoid: the token and payload are read by every user of
      // a response. The rest is the message, an options array of its exact size and one small
      // object per option, whose value view waits for its first read. An eager option value,
      // an array grown to 17 slots or a closure per decode each cost about a view more.
      assert.ok(f.view > 0 && f.responseLiteral > 2 * f.view, detail);
      assert.ok(f.response - f.responseLiteral < f.view, `2.05 with Content-Format: ${detail}`);
      assert.ok(f.request - f.requestLiteral < f.view, `GET with two Uri-Path: ${detail}`);
    });
  });
}
