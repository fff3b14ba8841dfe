/**
 * @module http-gateway/multipart
 * The batch answer to a group request (groupcomm-proxy §9.6): a `multipart/mixed` body (RFC 2046
 * §5.1.1) whose every part has `Content-Type: application/http` and, as its body, one member's
 * whole HTTP/1.1 response (RFC 9112 §2.1: status line, header fields, body), with Reply-From.
 * Every line ends in CRLF; the CRLF before a delimiter belongs to the delimiter, so a part's
 * Content-Length counts its body alone. The boundary is random and checked against the parts.
 */
import { randomBytes } from 'node:crypto';
import type { HttpAnswer } from './answer.js';

const CRLF = '\r\n';

/** One member's response as an `application/http` message (RFC 9112 §2.1). */
export function httpMessage(answer: HttpAnswer): Buffer {
  let head = `HTTP/1.1 ${answer.status} ${answer.reason}${CRLF}`;
  const bodyless = answer.status === 204 || answer.status === 304;
  let lengthWritten = bodyless;
  for (const [name, value] of answer.headers) {
    head += `${name}: ${value}${CRLF}`;
    // Content-Length follows Content-Type, as in groupcomm-proxy §9.8.
    if (!lengthWritten && name === 'Content-Type') {
      head += `Content-Length: ${answer.body.length}${CRLF}`;
      lengthWritten = true;
    }
  }
  if (!lengthWritten) head = head.replace(CRLF, `${CRLF}Content-Length: ${answer.body.length}${CRLF}`);
  return Buffer.concat([Buffer.from(`${head}${CRLF}`, 'latin1'), answer.body]);
}

/** A boundary of RFC 2046 §5.1.1 characters, well under its 70. */
export function randomBoundary(): string {
  return `batch_${randomBytes(12).toString('hex')}`;
}

/** The body of a batch with `boundary` (which must not occur in any part). */
export function batchBody(messages: readonly Buffer[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  const opener = Buffer.from(`--${boundary}${CRLF}Content-Type: application/http${CRLF}${CRLF}`, 'latin1');
  for (const m of messages) chunks.push(opener, m, Buffer.from(CRLF));
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`, 'latin1'));
  return Buffer.concat(chunks);
}

/**
 * A batch with a fresh boundary that no part contains. A member cannot guess 96 random bits, so
 * a second attempt is already chance; the loop is bounded all the same.
 */
export function batch(messages: readonly Buffer[]): { boundary: string; body: Buffer } {
  let boundary = randomBoundary();
  for (let attempt = 0; attempt < 16 && messages.some((m) => m.includes(`--${boundary}`)); attempt++)
    boundary = randomBoundary();
  return { boundary, body: batchBody(messages, boundary) };
}
