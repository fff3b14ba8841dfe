/**
 * @module cli/group-request
 * A group request from the command line (RFC 7390 §2.5, RFC 7252 §8.2): one line per response
 * as it arrives, then a summary on stderr (with `--json`, one JSON object as its last line). A
 * group that answered nothing is reported as such, exit 3, like a unicast timeout: in both cases
 * nothing arrived in the time allowed. When the request disclaimed some response classes
 * (No-Response, RFC 7967) silence may be success, so it is noted and exits 0. Through a proxy
 * the lines are the same, each from the member its Reply-From names; the proxy's own refusal
 * (draft-ietf-core-groupcomm-proxy §5.2.1) is one line saying what to mend, exit 1.
 */
import {
  type CoapClient,
  type GroupRequestOptions,
  type GroupSummary,
  ProxyAnswerError,
  type ResponseClass,
} from '../entry/client.js';
import { endpoint, groupLine, jsonLine } from './output.js';
import type { StopReason } from './session.js';
import { Exit } from './usage.js';

/** How the CLI sent the group request, for the summary. */
export interface GroupRun {
  readonly target: string;
  readonly json: boolean;
  readonly noResponse: readonly ResponseClass[] | undefined;
  /** The interface the request went out on, for the hint. */
  readonly iface: string;
  /** The proxy it went through, if any. */
  readonly proxy?: string;
  /** True when the --wait of an observation ended it (not a signal). */
  waited(): boolean;
  /** Why the command was stopped from outside, if it was. */
  stopped(): StopReason | undefined;
}

function secondsText(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
}

/** Sends one group request and prints its responses and summary; resolves with the exit status. */
export async function groupRequest(
  client: CoapClient,
  o: GroupRequestOptions,
  run: GroupRun,
): Promise<number> {
  const responses = client.group(o);
  try {
    for await (const r of responses) {
      process.stdout.write(`${run.json ? jsonLine(r, r.elapsedMs) : groupLine(r)}\n`);
    }
  } catch (err) {
    if (!(err instanceof ProxyAnswerError)) throw err;
    return refused(err, await responses.done, run);
  }
  return summarise(await responses.done, run);
}

/** What to do about each refusal of a proxy (draft-ietf-core-groupcomm-proxy §5.2.1, RFC 7390 §2.9). */
const PROXY_HINTS: Readonly<Record<string, string>> = {
  '4.01':
    "ask the proxy's operator to allow this client for the group (coap-group proxy --allow-groups-from CIDR)",
  '5.01':
    'the proxy forwards no group requests: configure it with --allow-groups-from, or send to the group directly',
  '5.03': 'the proxy is busy: try again after the Max-Age it gave',
  '4.00': 'check that the proxy and this client use the same option numbers (docs/proxy.md)',
};

/** The summary as one JSON object on stderr (`--json`); returns `status`. */
function jsonSummary(s: GroupSummary, run: GroupRun, status: number, error: string | undefined): number {
  const o = {
    responses: s.responses,
    endpoints: s.endpoints,
    ms: Math.round(s.elapsedMs),
    reason: s.reason,
    target: run.target,
    ...(run.proxy !== undefined ? { proxy: run.proxy } : {}),
    exit: status,
    ...(error !== undefined ? { error } : {}),
  };
  process.stderr.write(`${JSON.stringify(o)}\n`);
  return status;
}

function refused(err: ProxyAnswerError, s: GroupSummary, run: GroupRun): number {
  const status = Exit.RESPONSE_ERROR;
  if (run.json) return jsonSummary(s, run, status, err.message);
  const code = err.response.codeString;
  const hint = code === '5.03' ? `${PROXY_HINTS[code]} (${err.response.maxAge} s)` : PROXY_HINTS[code];
  process.stderr.write(`coap-group: ${err.message}${hint !== undefined ? ` (${hint})` : ''}\n`);
  return status;
}

function summarise(s: GroupSummary, run: GroupRun): number {
  const stop = run.stopped();
  // The reader closed the output: nothing more to say.
  if (stop === 'closed-output') return Exit.OK;
  const ended = s.reason === 'window' || (s.reason === 'aborted' && run.waited());
  const disclaimed = run.noResponse !== undefined && run.noResponse.length > 0;
  const silent = s.responses === 0 && ended;
  let error: string | undefined;
  let note = '';
  if (silent && !disclaimed) {
    error = `no response from the group ${run.target} within ${secondsText(s.elapsedMs)}`;
  } else if (silent) {
    note = `; ${run.noResponse!.map((c) => `${c}.xx`).join(', ')} responses were not wanted, so silence may mean success`;
  }
  const status = error === undefined ? Exit.OK : Exit.TIMEOUT;
  if (run.json) return jsonSummary(s, run, status, error);
  if (error !== undefined) {
    const hint =
      run.proxy !== undefined
        ? `no member answered the proxy ${run.proxy} within the Multicast-Timeout; nodes send no errors to a group, RFC 7390 §2.7`
        : `check that the nodes joined the group on --iface ${run.iface} and that the resource takes group requests; nodes send no errors to a group, RFC 7390 §2.7`;
    process.stderr.write(`coap-group: ${error} (${hint})\n`);
    return status;
  }
  const reason = s.reason === 'window' ? '' : `, ${stop !== undefined ? 'interrupted' : s.reason}`;
  process.stderr.write(
    `${s.responses} response${s.responses === 1 ? '' : 's'} from ${s.endpoints} endpoint${s.endpoints === 1 ? '' : 's'} in ${Math.round(s.elapsedMs)} ms (${run.target}${run.proxy !== undefined ? ` via ${run.proxy}` : ''}${reason}${note})\n`,
  );
  return status;
}

/** `224.0.1.187:5683` for the summary. */
export function groupTarget(o: GroupRequestOptions): string {
  return typeof o.uri === 'string' ? o.uri : endpoint({ address: o.uri.host, port: o.uri.port });
}
