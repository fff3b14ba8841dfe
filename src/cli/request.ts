/**
 * @module cli/request
 * `coap-group get|put|post|delete|fetch|patch|ipatch URI`: a unicast request, or a group request
 * when the host is a multicast address or a name resolving to one (RFC 7390 §2.2). A unicast GET
 * or FETCH prints the payload; the other methods also print the response code on stderr, so a
 * PUT that worked says so (RFC 7252 §5.9). With `--proxy URI` every request goes through that
 * forward proxy (RFC 7252 §5.7); a group request then speaks draft-ietf-core-groupcomm-proxy,
 * `--wait` becoming its Multicast-Timeout, and prints the same lines, each from its member.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  CoapClient,
  CoapError,
  type CoapResponse,
  CoapResponseError,
  type GroupRequestOptions,
  isMulticast,
  type MethodName,
  type ObserveRequestOptions,
  Opt,
  parseRequestUri,
  type ResponseClass,
  resolveHost,
  systemResolver,
  type UnicastRequestOptions,
} from '../entry/client.js';
import type { OscoreNoContextError } from '../index.js';
import { groupRequest, groupTarget } from './group-request.js';
import { endpoint, groupLine, jsonLine, payloadOut } from './output.js';
import type { Session } from './session.js';
import { Exit, integer, LOOPBACK, seconds, UsageError } from './usage.js';

export const REQUEST_OPTIONS = {
  payload: { type: 'string' },
  'payload-file': { type: 'string' },
  format: { type: 'string' },
  accept: { type: 'string' },
  con: { type: 'boolean' },
  non: { type: 'boolean' },
  wait: { type: 'string' },
  'no-response': { type: 'string' },
  observe: { type: 'boolean' },
  json: { type: 'boolean' },
  iface: { type: 'string' },
  hops: { type: 'string' },
  'allow-wide-scope': { type: 'boolean' },
  source: { type: 'string' },
  proxy: { type: 'string' },
  timeout: { type: 'string' },
  'block-size': { type: 'string' },
  oscore: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `2,5` -> [2, 5]; `all` -> [2, 4, 5]. */
export function parseNoResponse(text: string | undefined): ResponseClass[] | undefined {
  if (text === undefined) return undefined;
  if (text === 'all') return [2, 4, 5];
  if (text === 'none' || text === '') return [];
  const classes = text.split(',').map((s) => Number(s.trim().replace(/\.?x+$/i, '')));
  for (const c of classes) {
    if (c !== 2 && c !== 4 && c !== 5)
      throw new UsageError(`--no-response ${text}: classes are 2, 4 and 5`, 'e.g. --no-response 2,5 or all');
  }
  return classes as ResponseClass[];
}

export async function runRequest(method: MethodName, argv: string[], session: Session): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: REQUEST_OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  const uriText = positionals[0];
  if (uriText === undefined)
    throw new UsageError(
      `${method.toLowerCase()} needs a URI`,
      'e.g. coap-group get coap://127.0.0.1/.well-known/core',
    );
  if (positionals.length > 1)
    throw new UsageError(`unexpected argument ${positionals[1]}`, 'quote payloads: --payload "a b"');
  if (values.payload !== undefined && values['payload-file'] !== undefined) {
    throw new UsageError('--payload and --payload-file exclude each other', 'give the payload one way only');
  }
  if (values.con && values.non)
    throw new UsageError('--con and --non exclude each other', 'drop one of them');
  if (values.observe && method !== 'GET')
    throw new UsageError('--observe works with get only', 'coap-group get URI --observe');
  const blockSize = integer('block-size', values['block-size'], 16, 1024);
  if (blockSize !== undefined && ![16, 32, 64, 128, 256, 512, 1024].includes(blockSize)) {
    throw new UsageError(`--block-size ${blockSize} must be a power of two from 16 to 1024`);
  }
  let payload: Buffer | string | undefined = values.payload;
  if (values['payload-file'] !== undefined) {
    try {
      payload = readFileSync(values['payload-file']);
    } catch (err) {
      throw new UsageError(
        `cannot read --payload-file ${values['payload-file']}: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
  }
  // A scheme without a transport here (coaps, coap+tcp, ...) is refused before the host is
  // resolved; coaps to a multicast literal gets the group's own refusal (RFC 7390 §5.1).
  const uri = parseRequestUri(uriText, { group: true });
  if (uri.hostKind === 'name' || !isMulticast(uri.host)) parseRequestUri(uri);
  const address = await resolveHost(uri.host, systemResolver);
  const hops = integer('hops', values.hops, 0, 255);
  const noResponse = parseNoResponse(values['no-response']);
  const common = {
    uri,
    method,
    ...(payload !== undefined ? { payload } : {}),
    ...(values.format !== undefined ? { format: values.format } : {}),
    ...(values.accept !== undefined ? { accept: values.accept } : {}),
    ...(noResponse !== undefined ? { noResponse } : {}),
    ...(blockSize !== undefined ? { blockSize } : {}),
  };
  const group = isMulticast(address);
  // OSCORE is loaded only for --oscore.
  const security =
    values.oscore === undefined
      ? undefined
      : (await import('./oscore-config.js')).clientSecurity(values.oscore);
  const client = await CoapClient.create({
    ...(security !== undefined ? { security } : {}),
    ...(values.proxy !== undefined ? { proxy: values.proxy } : {}),
    // The interface multicast leaves by; a unicast command sends none, and skips reading the
    // interface table (unless --iface names one, which is then checked).
    ...(group || values.iface !== undefined ? { iface: values.iface ?? LOOPBACK } : {}),
    ...(hops !== undefined ? { hops } : {}),
    ...(values.source !== undefined
      ? { bind: [{ address: values.source, port: 0 }] }
      : values.proxy === undefined
        ? { bind: [oneFamily(address)] }
        : {}),
  });
  // Ctrl-C, SIGTERM, a closed stdout, or the --wait of an observation end the request.
  const abort = new AbortController();
  const onStop = () => abort.abort();
  session.signal.addEventListener('abort', onStop, { once: true });
  let waited = false;
  try {
    const wait = seconds('wait', values.wait);
    // --wait bounds an observation; a plain group request uses it as its window instead.
    if (wait !== undefined && values.observe) {
      const t = setTimeout(() => {
        waited = true;
        abort.abort();
      }, wait * 1000);
      abort.signal.addEventListener('abort', () => clearTimeout(t), { once: true });
    }
    if (group) {
      // Through a proxy --wait is the Multicast-Timeout, for an observation too (the proxy's T').
      const windowed = wait !== undefined && (!values.observe || values.proxy !== undefined);
      const o: GroupRequestOptions = {
        ...common,
        ...(windowed ? { window: wait * 1000 } : {}),
        ...(values.observe ? { observe: true } : {}),
        ...(values.con
          ? { confirmable: true }
          : values.non && values.proxy !== undefined
            ? { confirmable: false }
            : {}),
        ...(hops !== undefined ? { hops } : {}),
        allowWideScope: values['allow-wide-scope'] ?? false,
        signal: abort.signal,
      };
      return await groupRequest(client, o, {
        target: groupTarget(o),
        ...(values.proxy !== undefined ? { proxy: values.proxy } : {}),
        json: values.json ?? false,
        noResponse,
        iface: values.iface ?? LOOPBACK,
        waited: () => waited,
        stopped: () => session.stopReason,
      });
    }
    if (values.observe)
      return await observeUnicast(client, { ...common, signal: abort.signal }, values.json ?? false);
    const timeout = seconds('timeout', values.timeout);
    const o: UnicastRequestOptions = {
      ...common,
      confirmable: !values.non,
      signal: abort.signal,
      ...(timeout !== undefined ? { timeout: timeout * 1000 } : {}),
    };
    const started = performance.now();
    const res = await client.request(o);
    if (values.json) process.stdout.write(`${jsonLine(res, performance.now() - started)}\n`);
    else printUnicast(method, res);
    return res.ok ? Exit.OK : Exit.RESPONSE_ERROR;
  } catch (err) {
    throw noContext(err, values.oscore);
  } finally {
    session.signal.removeEventListener('abort', onStop);
    await client.close();
  }
}

/**
 * `--oscore FILE` never sends a request in the clear: one that no context in FILE protects was
 * refused by the client (`ERR_OSCORE_NO_CONTEXT`); this says how to mend the file.
 */
function noContext(err: unknown, file: string | undefined): unknown {
  if (!(err instanceof CoapError) || err.code !== 'ERR_OSCORE_NO_CONTEXT') return err;
  const { destination: d, kind } = err as OscoreNoContextError;
  const where = endpoint(d);
  return kind === 'group'
    ? new UsageError(
        `--oscore ${file}: no group in the file has the address ${where}, so nothing was sent`,
        "make the file with coap-group keys group --address GROUP, or list the address in the group's addresses",
      )
    : new UsageError(
        `--oscore ${file}: no context in the file protects requests to ${where}, so nothing was sent`,
        'make the group file with coap-group keys group --member-address ADDR for that server, or use a file with a context for it, from coap-group keys oscore --peer URI',
      );
}

/**
 * The payload on stdout; the code on stderr for an error, and for a method that changes
 * something (with its Location, RFC 7252 §5.10.7), so that its success is visible.
 */
function printUnicast(method: MethodName, res: CoapResponse): void {
  if (res.ok) {
    if (method !== 'GET' && method !== 'FETCH') {
      const location = res.options
        .filter((x) => x.number === Opt.LocationPath)
        .map((x) => x.value.toString('utf8'));
      process.stderr.write(
        `${res.codeString} ${res.reason}${location.length > 0 ? ` (Location: /${location.join('/')})` : ''}\n`,
      );
    }
    const out = payloadOut(res);
    process.stdout.write(out);
    if (typeof out === 'string' && out.length > 0 && !out.endsWith('\n')) process.stdout.write('\n');
    return;
  }
  const diag = res.text();
  process.stderr.write(`${res.codeString} ${res.reason}${diag ? `: ${diag}` : ''}\n`);
}

/**
 * The one socket a command needs: every message goes to `address` (no proxy), so only its family
 * is bound. A second socket of the other family would cost a one-shot command a bind, and the
 * first IPv6 bind compiles Node's IPv6 address check: about 5 ms of a start-up of 100 ms
 * (docs/performance.md, "Start-up of the command").
 */
function oneFamily(address: string): { address: string; port: number } {
  return { address: address.includes(':') ? '::' : '0.0.0.0', port: 0 };
}

async function observeUnicast(client: CoapClient, o: ObserveRequestOptions, json: boolean): Promise<number> {
  const started = performance.now();
  let last: CoapResponse | undefined;
  for await (const r of client.observe(o)) {
    last = r;
    if (json) process.stdout.write(`${jsonLine(r, performance.now() - started)}\n`);
    else process.stdout.write(`${groupLine(r)}\n`);
  }
  return last === undefined || last.ok ? Exit.OK : Exit.RESPONSE_ERROR;
}

export { CoapError, CoapResponseError };
