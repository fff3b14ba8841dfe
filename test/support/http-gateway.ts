/**
 * What the HTTP gateway tests read answers with: a multipart/mixed parser (RFC 2046 §5.1.1) that
 * splits a batch into its parts and each `application/http` part into status line, header
 * fields and body (RFC 9112 §2.1), strictly (CRLF only); the Reply-From field parsed with
 * structured-headers and its CRI decoded (href §5.1); a server-sent-events reader over a fetch
 * body that notes when each event arrived; and curl, run without blocking the event loop.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { parseList } from 'structured-headers';
import { Refusal } from '../../src/http-gateway/refusal.js';
import { canonicalIPv6 } from '../../src/util/ip.js';

/** One HTTP message. */
export interface HttpMessage {
  readonly status: number;
  readonly reason: string;
  /** Header fields, names lower-cased, in order. */
  readonly headers: Array<[string, string]>;
  readonly body: Buffer;
}

/** The value of header `name`, or undefined. */
export function header(m: HttpMessage, name: string): string | undefined {
  return m.headers.find(([k]) => k === name.toLowerCase())?.[1];
}

/** Splits head and body at the first empty line; every line must end in CRLF. */
function splitHead(bytes: Buffer): { lines: string[]; body: Buffer } {
  const end = bytes.indexOf('\r\n\r\n');
  assert.ok(end >= 0, 'no empty line after the header fields');
  const head = bytes.subarray(0, end).toString('latin1');
  assert.ok(!/[^\r]\n/.test(head), 'a bare LF in the header section');
  return { lines: head.split('\r\n'), body: bytes.subarray(end + 4) };
}

function fields(lines: readonly string[]): Array<[string, string]> {
  return lines.map((l) => {
    const colon = l.indexOf(':');
    assert.ok(colon > 0, `not a header field: ${JSON.stringify(l)}`);
    return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()];
  });
}

/** Parses an `application/http` response message; checks Content-Length against the body. */
export function parseHttpResponse(bytes: Buffer): HttpMessage {
  const { lines, body } = splitHead(bytes);
  const m = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(lines[0] ?? '');
  assert.ok(m, `not a status line: ${JSON.stringify(lines[0])}`);
  const headers = fields(lines.slice(1));
  const length = headers.find(([k]) => k === 'content-length')?.[1];
  if (length !== undefined) assert.equal(Number(length), body.length, 'Content-Length of the part');
  return { status: Number(m[1]), reason: m[2]!, headers, body };
}

/** The parts of a multipart body with `boundary`: their header fields and content. */
export function parseMultipart(
  body: Buffer,
  boundary: string,
): Array<{ headers: Array<[string, string]>; content: Buffer }> {
  const delimiter = `--${boundary}`;
  const text = body.toString('latin1');
  assert.ok(text.startsWith(`${delimiter}\r\n`), 'the body starts with the first delimiter');
  assert.ok(text.endsWith(`\r\n${delimiter}--\r\n`), 'the body ends with the close delimiter');
  const inner = text.slice(delimiter.length + 2, text.length - delimiter.length - 6);
  return inner.split(`\r\n${delimiter}\r\n`).map((chunk) => {
    const bytes = Buffer.from(chunk, 'latin1');
    const { lines, body: content } = splitHead(bytes);
    return { headers: fields(lines), content };
  });
}

/** The boundary parameter of a multipart Content-Type. */
export function boundaryOf(contentType: string | null | undefined): string {
  const m = /^multipart\/mixed; boundary=([0-9A-Za-z'()+_,./:=?-]{1,70})$/.exec(contentType ?? '');
  assert.ok(m, `not a multipart/mixed Content-Type with a boundary: ${contentType}`);
  return m[1]!;
}

/** Parses a whole batch into its member responses. */
export function parseBatch(contentType: string | null | undefined, body: Buffer): HttpMessage[] {
  return parseMultipart(body, boundaryOf(contentType)).map((p) => {
    assert.deepEqual(p.headers, [['content-type', 'application/http']]);
    return parseHttpResponse(p.content);
  });
}

/** The member a Reply-From field names: a strict List of one Byte Sequence holding `[-1, [host, ?port]]`. */
export function parseReplyFrom(value: string | undefined): { address: string; port: number } {
  assert.ok(value !== undefined, 'no Reply-From');
  const list = parseList(value);
  assert.equal(list.length, 1, 'Reply-From has one member');
  const bytes = Buffer.from(list[0]![0] as ArrayBuffer);
  assert.equal(bytes[0], 0x82, 'a CRI of two elements');
  assert.equal(bytes[1], 0x20, 'scheme coap (-1)');
  const withPort = bytes[2] === 0x82;
  assert.ok(withPort || bytes[2] === 0x81, 'an authority array');
  const len = bytes[3]! & 0x1f;
  assert.ok(bytes[3]! >> 5 === 2 && (len === 4 || len === 16), 'an IP literal as a byte string');
  const host = bytes.subarray(4, 4 + len);
  const address =
    len === 4 ? [...host].join('.') : canonicalIPv6((host.toString('hex').match(/.{4}/g) ?? []).join(':'));
  let port = 5683;
  let end = 4 + len;
  if (withPort) {
    const p = bytes[end]!;
    assert.ok(p < 24 || p === 0x18 || p === 0x19, `not a port: ${p}`);
    port = p < 24 ? p : p === 0x18 ? bytes[end + 1]! : bytes.readUInt16BE(end + 1);
    end += p < 24 ? 1 : p === 0x18 ? 2 : 3;
  }
  assert.equal(end, bytes.length, 'nothing after the CRI');
  return { address, port };
}

/** One server-sent event and when it arrived (ms, performance.now()). */
export interface ArrivedEvent {
  readonly event: string;
  readonly data: unknown;
  readonly at: number;
}

/** Reads the events of a text/event-stream fetch body until it ends. */
export async function readEvents(body: ReadableStream<Uint8Array> | null): Promise<ArrivedEvent[]> {
  assert.ok(body, 'a body');
  const out: ArrivedEvent[] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    const at = performance.now();
    buffered += decoder.decode(chunk, { stream: true });
    let end = buffered.indexOf('\n\n');
    while (end >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1];
      out.push({ event, data: data === undefined ? undefined : JSON.parse(data), at });
      end = buffered.indexOf('\n\n');
    }
  }
  assert.equal(buffered, '', 'the stream ends after a whole event');
  return out;
}

/** What curl printed: the response head (-D -) and the body, split. */
export interface CurlResult {
  readonly code: number;
  readonly status: number;
  readonly headers: Array<[string, string]>;
  readonly body: Buffer;
}

/** Runs curl with `args` (and -s -D - so the head comes first), bounded in time. */
export function curl(args: readonly string[], timeoutMs = 15_000): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-s', '-D', '-', '--max-time', String(timeoutMs / 1000), ...args],
      { encoding: 'buffer', timeout: timeoutMs + 2000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout) => {
        if (err && (err as { code?: unknown }).code === 'ENOENT') return reject(err);
        const end = stdout.indexOf('\r\n\r\n');
        if (end < 0) return reject(new Error(`curl printed no response head: ${err?.message ?? ''}`));
        const lines = stdout.subarray(0, end).toString('latin1').split('\r\n');
        resolve({
          code: err ? Number((err as { code?: unknown }).code) || 1 : 0,
          status: Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1]),
          headers: fields(lines.slice(1)),
          body: stdout.subarray(end + 4),
        });
      },
    );
  });
}

/** The value of header `name` in a curl result. */
export function curlHeader(r: CurlResult, name: string): string | undefined {
  return r.headers.find(([k]) => k === name.toLowerCase())?.[1];
}

/** Asserts that `f` throws a Refusal with `status` whose message matches `re`. */
export function refused(f: () => unknown, status: number, re: RegExp = /./): Refusal {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof Refusal, `not a refusal: ${String(err)}`);
    assert.equal(err.status, status, err.message);
    assert.match(err.message, re);
    return err;
  }
  assert.fail(`no refusal (expected ${status})`);
}
