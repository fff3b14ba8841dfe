/**
 * @module http-gateway/group-collect
 * Collecting a group's responses until the Multicast-Timeout (groupcomm-proxy §9.6), into the
 * envelope the client chose. The multipart batch keeps the last response of each member ("by
 * replacing the currently stored one"), is 204 when nobody answered, and is sent at the end;
 * the JSON document holds every response; the event stream sends each one as it arrives, its
 * headers with the first event (so that a refusal found before any response is still a proper
 * status), then a summary. What is held is bounded per request and in total; a request whose
 * group turns out to be silent and not to be asked again yet (RFC 7252 §4.7) is answered 429.
 */
import type { GroupRequestOptions, GroupResponse } from '../client/group.js';
import { peerKey } from '../util/peer-key.js';
import { type CoapAnswerParts, toHttpAnswer } from './answer.js';
import { type Forward, type GatewayContext, writeAnswer } from './context.js';
import {
  type Envelope,
  type GroupResultJson,
  type GroupSummaryJson,
  type MemberResponseJson,
  memberJson,
  type SummaryReason,
  sseEvent,
} from './envelope.js';
import { batch, httpMessage } from './multipart.js';
import { tooMany } from './refusal.js';
import { replyFromHeader } from './reply-from.js';
import { httpReason } from './status.js';

/** What to collect. */
export interface Collection {
  readonly request: GroupRequestOptions;
  readonly envelope: Envelope;
  /** Seconds, after the cap. */
  readonly timeout: number;
  /** `address|port` of the group. */
  readonly group: string;
  /** When collection ends, on the gateway's clock. */
  readonly deadline: number;
}

/** How long after the deadline a request that waited for its group is cut short, ms. */
const DEADLINE_GRACE_MS = 200;

/** A member's last response, for the batch. */
interface Held {
  response: CoapAnswerParts;
  source: { address: string; port: number };
  at: number;
  bytes: number;
}

/** Bytes charged for a response held: its payload and room for its headers. */
function cost(r: GroupResponse, envelope: Envelope): number {
  return (envelope === 'json' ? Math.ceil((r.payload.length * 4) / 3) : r.payload.length) + 256;
}

/** Collects the responses of one group request and writes the answer. */
export async function collectGroup(ctx: GatewayContext, f: Forward, c: Collection): Promise<void> {
  const { res } = f;
  const limits = ctx.options.limits;
  const started = ctx.now();
  const stop = new AbortController();
  let reason: SummaryReason | 'gone' | 'silent' | undefined;
  let silentMs = 0;
  const held = new Map<string, Held>();
  const all: MemberResponseJson[] = [];
  const endpoints = new Set<string>();
  let count = 0;
  let charged = 0;
  const end = (why: NonNullable<typeof reason>) => {
    reason ??= why;
    stop.abort(why);
  };
  // The client's own window ends collection (so that it notes a silent group, RFC 7252 §4.7);
  // this timer ends it at the deadline when the request had to wait for its group first.
  const timer = setTimeout(() => end('window'), Math.max(0, c.deadline - started) + DEADLINE_GRACE_MS);
  const gone = () => {
    if (!res.writableEnded) end('gone');
  };
  const closing = () => end('closed');
  const silent = (waitMs: number) => {
    silentMs = waitMs;
    // Announced before the client listens for the abort that ends its wait: abort just after.
    if (count === 0) queueMicrotask(() => end('silent'));
  };
  res.once('close', gone);
  ctx.closing.addEventListener('abort', closing, { once: true });
  let waiting = ctx.waiting.get(c.group);
  if (waiting === undefined) ctx.waiting.set(c.group, (waiting = new Set()));
  waiting.add(silent);

  const charge = (n: number): boolean => {
    if (charged + n > limits.responseBytes || !ctx.budget.take(n)) return false;
    charged += n;
    return true;
  };
  const startEvents = () => {
    if (res.headersSent) return;
    res.writeHead(200, httpReason(200), {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
    });
  };
  let failure: unknown;
  try {
    const responses = ctx.client.group({
      ...c.request,
      window: Math.max(1, c.deadline - started),
      signal: stop.signal,
    });
    for await (const r of responses) {
      if (reason !== undefined) break;
      const key = peerKey(r.source);
      if (c.envelope === 'sse') {
        count++;
        endpoints.add(key);
        startEvents();
        const seq = r.observe;
        const json = memberJson(r, r.source, r.elapsedMs);
        res.write(sseEvent('response', seq === undefined ? json : { ...json, observe: seq }));
        // A reader that does not keep up is not buffered for without bound.
        if (res.writableLength > limits.responseBytes) end('buffer');
        continue;
      }
      const bytes = cost(r, c.envelope);
      const before = held.get(key);
      if (before !== undefined) {
        ctx.budget.give(before.bytes);
        charged -= before.bytes;
      }
      if (!charge(bytes)) {
        if (before !== undefined) held.delete(key);
        end('buffer');
        break;
      }
      // Counted once held: the summary speaks of what the answer carries.
      count++;
      endpoints.add(key);
      if (c.envelope === 'json') all.push(memberJson(r, r.source, r.elapsedMs));
      // groupcomm-proxy §9.6: a later response of the same member replaces the stored one.
      held.set(key, { response: r, source: r.source, at: ctx.now(), bytes });
    }
  } catch (err) {
    failure = err;
  } finally {
    clearTimeout(timer);
    res.off('close', gone);
    ctx.closing.removeEventListener('abort', closing);
    waiting.delete(silent);
    if (waiting.size === 0 && ctx.waiting.get(c.group) === waiting) ctx.waiting.delete(c.group);
    ctx.budget.give(charged);
  }
  if (reason === 'gone') return;
  if (reason === 'silent') {
    ctx.admission.holdGroup(c.group, ctx.now() + silentMs);
    throw tooMany(
      'the group answered nothing to the last request and may not be asked again yet (RFC 7252 §4.7)',
      silentMs,
    );
  }
  if (failure !== undefined && !res.headersSent) throw failure;
  const summary: GroupSummaryJson = {
    responses: count,
    endpoints: endpoints.size,
    ms: Math.round(ctx.now() - started),
    reason: failure !== undefined ? 'error' : (reason ?? 'window'),
    timeout: c.timeout,
    ...(failure !== undefined ? { error: (failure as Error).message } : {}),
  };
  if (c.envelope === 'sse') {
    startEvents();
    res.end(sseEvent('summary', summary));
    return;
  }
  if (c.envelope === 'json') {
    const doc: GroupResultJson = {
      target: f.target.text,
      method: f.method,
      responses: all,
      summary,
    };
    const body = Buffer.from(JSON.stringify(doc));
    const headers: Array<[string, string]> = [
      ['Content-Type', 'application/json'],
      ['Cache-Control', 'no-store'],
    ];
    writeAnswer(res, { status: 200, reason: httpReason(200), headers, body }, f.head);
    return;
  }
  writeBatch(f, held, ctx);
}

/** The multipart batch, or 204 when nobody answered (groupcomm-proxy §9.6). */
function writeBatch(f: Forward, held: ReadonlyMap<string, Held>, ctx: GatewayContext): void {
  const now = ctx.now();
  if (held.size === 0) {
    writeAnswer(f.res, { status: 204, reason: httpReason(204), headers: [], body: Buffer.alloc(0) }, f.head);
    return;
  }
  const messages = [...held.values()].map((h) => {
    const answer = toHttpAnswer(h.response, {
      conditional: false,
      base: f.target.uri,
      responder: h.source,
      prefix: ctx.options.path,
      heldMs: now - h.at,
    });
    answer.headers.push(['Reply-From', replyFromHeader(h.source.address, h.source.port, ctx.serializeList)]);
    return httpMessage(answer);
  });
  const { boundary, body } = batch(messages);
  const headers: Array<[string, string]> = [
    ['Content-Type', `multipart/mixed; boundary=${boundary}`],
    ['Cache-Control', 'no-store'],
  ];
  writeAnswer(f.res, { status: 200, reason: httpReason(200), headers, body }, f.head);
}
