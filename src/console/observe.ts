/**
 * @module console/observe
 * The Observe view: a GET with `Observe: 0` through the gateway (RFC 7641; for a group,
 * groupcomm-bis §3.7, for the window given), each node's notifications shown live (its latest
 * value, how many, the sequence number), and a Cancel that ends the stream, upon which the
 * gateway deregisters (RFC 7641 §3.6).
 */
import { type Gateway, GatewayRefusal, type MemberResponse } from './api.js';
import { commandLine, ifaceArgs } from './commands.js';
import { byId, clearErrors, el, setRows, setText } from './dom.js';
import { checkUri, checkWait } from './nodes.js';
import { compareKeys } from './state.js';
import { codeWords } from './words.js';

interface Latest {
  last: MemberResponse;
  count: number;
}

/** Wires the Observe view. */
export function setupObserve(gw: Gateway): void {
  const c = gw.config;
  byId<HTMLInputElement>('observe-uri').value = `${c.group}/light`;
  const form = byId<HTMLFormElement>('observe-form');
  const cancel = byId<HTMLButtonElement>('observe-cancel');
  const start = byId<HTMLButtonElement>('observe-start');
  let running: AbortController | undefined;
  cancel.addEventListener('click', () => running?.abort());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearErrors(form);
    const uri = checkUri('observe-uri', false);
    const wait = checkWait('observe-wait', c.maxWait);
    if (uri !== undefined && wait !== undefined && running === undefined) void observe(uri, wait);
  });

  async function observe(uri: string, wait: number): Promise<void> {
    const stop = new AbortController();
    running = stop;
    start.disabled = true;
    cancel.disabled = false;
    const host = /^coap:\/\/\[?([^\]/:]+)/.exec(uri)?.[1] ?? '';
    const group = host.includes(':') ? /^ff/i.test(host) : Number(host.split('.')[0]) >= 224;
    setText(
      'observe-commands',
      commandLine('get', uri, '--observe', ...(group ? ['--wait', String(wait), ...ifaceArgs(c.iface)] : [])),
    );
    const nodes = new Map<string, Latest>();
    const log = byId('observe-log');
    log.replaceChildren();
    setRows('observe-table', []);
    setText('observe-status', `observing ${uri}…`);
    try {
      const summary = await gw.stream(
        { method: 'GET', target: uri, wait, observe: true, signal: stop.signal },
        (r) => {
          const n = nodes.get(r.from);
          nodes.set(r.from, { last: r, count: (n?.count ?? 0) + 1 });
          const value = r.payload ?? r.payloadBase64 ?? '';
          log.prepend(
            el(
              'li',
              {},
              `${r.ms} ms ${r.from} ${codeWords(r.code)} ${value}${r.observe !== undefined ? ` (Observe ${r.observe})` : ''}`,
            ),
          );
          setRows(
            'observe-table',
            [...nodes.entries()]
              .sort(([a], [b]) => compareKeys(a, b))
              .map(([from, l]) =>
                el(
                  'tr',
                  { 'data-from': from },
                  el('td', {}, from),
                  el(
                    'td',
                    { class: 'value' },
                    l.last.payload ?? l.last.payloadBase64 ?? codeWords(l.last.code),
                  ),
                  el('td', { class: 'count' }, String(l.count)),
                  el('td', {}, l.last.observe === undefined ? '' : String(l.last.observe)),
                  el('td', { class: 'ms' }, `${l.last.ms} ms`),
                ),
              ),
          );
          setText('observe-status', `observing ${uri}: ${nodes.size} node${nodes.size === 1 ? '' : 's'}`);
        },
      );
      setText(
        'observe-status',
        stop.signal.aborted
          ? `cancelled: ${nodes.size} node${nodes.size === 1 ? ' was' : 's were'} observed`
          : `ended (${summary?.reason ?? 'closed'}): ${summary?.responses ?? 0} notifications from ${nodes.size} node${nodes.size === 1 ? '' : 's'}`,
      );
    } catch (err) {
      setText(
        'observe-status',
        err instanceof GatewayRefusal ? `the gateway refused (${err.status}): ${err.message}` : String(err),
      );
    } finally {
      running = undefined;
      start.disabled = false;
      cancel.disabled = true;
    }
  }
}
