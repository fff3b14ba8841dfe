/**
 * @module http-gateway/console
 * Serving the commissioning console (docs/console.md, RFC 7390 §3.6): `/console/` is its page,
 * `/console/console.css` its style, `/console/config.json` what it starts with, and
 * `/console/NAME.js` its compiled scripts (ES modules, read from the scripts directory). The page
 * is static and talks only to this gateway's own HTTP API. Every answer forbids loading anything
 * from elsewhere (Content-Security-Policy), so nothing is fetched from outside at run time; `/`
 * leads to the console.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { CheckedConsoleOptions } from './console-options.js';
import { CONSOLE_CSS, consolePage } from './console-page.js';
import { writeAnswer } from './context.js';
import { refuse } from './refusal.js';
import { httpReason } from './status.js';

/** The console's path. */
export const CONSOLE_PATH = '/console/';

/** Same origin only: scripts, styles and requests; no frames, no forms posted elsewhere. */
const SECURITY_HEADERS: Array<[string, string]> = [
  [
    'Content-Security-Policy',
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  ],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['Cache-Control', 'no-cache'],
];

/** What the page reads from `/console/config.json`. */
export interface ConsoleConfigJson {
  /** The HC Proxy URI path, e.g. `/hc/`. */
  readonly hc: string;
  readonly group: string;
  readonly rd?: string;
  readonly wait: number;
  /** The gateway's largest Multicast-Timeout, seconds. */
  readonly maxWait: number;
  /** The interface of group requests, for the command lines shown. */
  readonly iface?: string;
}

/** Whether `url` (a request-target) is the console's, or `/` that leads to it. */
export function isConsolePath(url: string): boolean {
  const path = url.split('?')[0]!;
  return path === '/' || path === '/console' || path.startsWith(CONSOLE_PATH);
}

function send(res: ServerResponse, head: boolean, type: string, body: Buffer | string): void {
  const headers: Array<[string, string]> = [['Content-Type', type], ...SECURITY_HEADERS];
  writeAnswer(res, { status: 200, reason: httpReason(200), headers, body: Buffer.from(body) }, head);
}

function redirect(res: ServerResponse, head: boolean): void {
  const headers: Array<[string, string]> = [['Location', CONSOLE_PATH], ...SECURITY_HEADERS];
  writeAnswer(res, { status: 302, reason: 'Found', headers, body: Buffer.alloc(0) }, head);
}

/**
 * Answers a request for the console.
 * @throws Refusal 405 for a method other than GET and HEAD, 404 for an unknown file, 503 when
 * the scripts are not built.
 */
export async function serveConsole(
  req: IncomingMessage,
  res: ServerResponse,
  c: CheckedConsoleOptions,
  hc: string,
  maxWait: number,
): Promise<void> {
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head)
    throw refuse(405, 'the console is read with GET', [['Allow', 'GET, HEAD']]);
  const path = (req.url ?? '/').split('?')[0]!;
  if (path === '/' || path === '/console') return redirect(res, head);
  const name = path.slice(CONSOLE_PATH.length);
  if (name === '' || name === 'index.html') return send(res, head, 'text/html; charset=utf-8', consolePage());
  if (name === 'console.css') return send(res, head, 'text/css; charset=utf-8', CONSOLE_CSS);
  if (name === 'config.json') {
    const config: ConsoleConfigJson = {
      hc,
      group: c.group,
      ...(c.rd !== undefined ? { rd: c.rd } : {}),
      wait: c.wait,
      maxWait,
      ...(c.iface !== undefined ? { iface: c.iface } : {}),
    };
    return send(res, head, 'application/json', JSON.stringify(config));
  }
  // Only flat module names: nothing outside the scripts directory can be named.
  if (!/^[a-z][a-z0-9-]*\.js$/.test(name)) throw refuse(404, `the console has no ${name}`);
  let body: Buffer;
  try {
    body = await readFile(join(c.scripts, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw name === 'main.js'
      ? refuse(503, `the console's scripts are not built in ${c.scripts}: run npm run build`)
      : refuse(404, `the console has no ${name}`);
  }
  send(res, head, 'text/javascript; charset=utf-8', body);
}
