/**
 * @module http-gateway/request
 * What an HTTP request asks of CoAP (RFC 7252 §10.2, RFC 8075 §6): its method (GET, POST, PUT
 * and DELETE one to one, HEAD as a GET whose body is not sent, PATCH as PATCH, RFC 8132 §2;
 * OPTIONS, TRACE, CONNECT and the rest 501, RFC 7252 §10.2.1), its body, bounded in size (413),
 * and its payload's Content-Format.
 */
import type { IncomingMessage } from 'node:http';
import type { MethodName } from '../message/codes.js';
import { refuse } from './refusal.js';

const METHODS: ReadonlyMap<string, MethodName> = new Map([
  ['GET', 'GET'],
  ['HEAD', 'GET'],
  ['POST', 'POST'],
  ['PUT', 'PUT'],
  ['DELETE', 'DELETE'],
  ['PATCH', 'PATCH'],
]);

/** The CoAP method of an HTTP method. @throws Refusal 501 for one with no CoAP counterpart. */
export function coapMethod(method: string | undefined): MethodName {
  const m = METHODS.get(method ?? '');
  if (m === undefined)
    throw refuse(
      501,
      `${method} has no CoAP counterpart (RFC 7252 §10.2.1); use GET, HEAD, POST, PUT, DELETE or PATCH`,
    );
  return m;
}

/** Methods whose body is forwarded as the payload. */
export function carriesPayload(method: MethodName): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}

/**
 * Reads the whole body, at most `max` bytes.
 * @throws Refusal 413 (and the connection is closed after the answer) beyond `max`.
 */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const tooLarge = () =>
    refuse(413, `the request body is larger than ${max} bytes, the most this gateway forwards`, [
      ['Connection', 'close'],
    ]);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.off('data', onData);
        // What follows is not read: the answer closes the connection.
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(refuse(400, 'the request body ended early'));
    });
  });
}
