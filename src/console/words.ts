/**
 * @module console/words
 * What a node's answer means, in words, next to the node: the code and its name (RFC 7252
 * §5.9, §12.1.2), the node's diagnostic payload (§5.5.2), and for 5.03 when to try again (its
 * Max-Age, carried as Retry-After, RFC 8075 Table 2). An answer of the gateway itself (it has
 * no CoAP code) says so, so that it is never taken for the node's.
 */
/** A unicast answer (console/api). `code` is the node's CoAP code; undefined when the gateway answered itself. */
export interface UnicastAnswer {
  readonly status: number;
  readonly code: string | undefined;
  readonly text: string;
  /** The Location as a CoAP URI (RFC 7252 §5.10.7), when there is one. */
  readonly location?: string;
  readonly retryAfter?: string;
}

const NAMES: Readonly<Record<string, string>> = {
  '2.01': 'Created',
  '2.02': 'Deleted',
  '2.03': 'Valid',
  '2.04': 'Changed',
  '2.05': 'Content',
  '4.00': 'Bad Request',
  '4.01': 'Unauthorized',
  '4.02': 'Bad Option',
  '4.03': 'Forbidden',
  '4.04': 'Not Found',
  '4.05': 'Method Not Allowed',
  '4.06': 'Not Acceptable',
  '4.08': 'Request Entity Incomplete',
  '4.09': 'Conflict',
  '4.12': 'Precondition Failed',
  '4.13': 'Request Entity Too Large',
  '4.15': 'Unsupported Content-Format',
  '5.00': 'Internal Server Error',
  '5.01': 'Not Implemented',
  '5.02': 'Bad Gateway',
  '5.03': 'Service Unavailable',
  '5.04': 'Gateway Timeout',
  '5.05': 'Proxying Not Supported',
};

/** What each refusal means for a change of a node's configuration. */
const MEANING: Readonly<Record<string, string>> = {
  '4.00': 'the node refused the request as malformed',
  '4.01': 'the node does not know who is asking',
  '4.03': 'the node does not let this client change it',
  '5.03': 'the node cannot take it now',
};

/** `4.00 Bad Request`. */
export function codeWords(code: string): string {
  return `${code} ${NAMES[code] ?? ''}`.trim();
}

/** Whether an answer is a success (2.xx). */
export function succeeded(a: UnicastAnswer): boolean {
  return a.code?.startsWith('2.') === true;
}

/** An answer in words, e.g. `4.00 Bad Request: the node refused …: "a": "10.0.0.1" is not …`. */
export function answerWords(a: UnicastAnswer): string {
  if (a.code === undefined) return `the gateway refused (${a.status}): ${a.text}`;
  const parts = [codeWords(a.code)];
  const meaning = MEANING[a.code];
  if (meaning !== undefined) parts.push(meaning);
  if (!a.code.startsWith('2.') && a.text !== '') parts.push(a.text);
  if (a.code.startsWith('2.') && a.location !== undefined) parts.push(a.location);
  if (a.code === '5.03' && a.retryAfter !== undefined) parts.push(`try again in ${a.retryAfter} s`);
  return parts.join(': ');
}
