/**
 * @module console/nodes
 * The Nodes view: one multicast discovery (GET /.well-known/core on the group, RFC 7252 §7.2,
 * RFC 7390 §2.4) read as the answers arrive, and the nodes of the resource directory (its
 * endpoint and resource lookups, RFC 9176 §6), with each node's links (`rt`, `if`, `ct`, `obs`)
 * and how long it took to answer.
 */
import { type Gateway, GatewayRefusal } from './api.js';
import { commandLine, ifaceArgs } from './commands.js';
import { byId, clearErrors, el, fieldError, setRows, setText, value } from './dom.js';
import { attr, linkText, parseLinks } from './links.js';
import type { ConsoleState, KnownNode } from './state.js';
import { answerWords } from './words.js';

/** Checks a wait field: whole seconds from 1 to `max`; shows the message next to it. */
export function checkWait(id: string, max: number): number | undefined {
  const text = value(id);
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > max) {
    fieldError(id, `whole seconds from 1 to ${max}, e.g. 3`);
    return undefined;
  }
  return n;
}

/** Checks a coap:// URI field; `group`: its host must be a multicast address. */
export function checkUri(id: string, group: boolean, optional = false): string | undefined {
  const text = value(id).replace(/\/+$/, '');
  if (text === '' && optional) return '';
  const m = /^coap:\/\/(\[[0-9A-Fa-f:.]+\]|[^/:?#[\]]+)(:\d+)?(\/[^?#]*)?(\?[^#]*)?$/.exec(text);
  if (m === null) {
    fieldError(id, `a coap:// URI, e.g. ${group ? 'coap://224.0.1.187/light' : 'coap://127.0.0.7'}`);
    return undefined;
  }
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const first = Number(host.split('.')[0]);
  const multicast = host.includes(':') ? /^ff/i.test(host) : first >= 224 && first <= 239;
  if (group && !multicast) {
    fieldError(id, `${host} is not a multicast address: give a group, e.g. coap://224.0.1.187`);
    return undefined;
  }
  return text;
}

function nodeRow(n: KnownNode): HTMLTableRowElement {
  const found = [
    n.multicast ? 'multicast' : undefined,
    n.ep !== undefined ? `RD: ${n.ep}${n.sector ? ` (${n.sector})` : ''}` : undefined,
  ]
    .filter((x) => x !== undefined)
    .join(', ');
  const links = el('td', { class: 'links' });
  for (const l of n.links) links.append(el('span', { class: 'link' }, linkText(l)));
  return el(
    'tr',
    { 'data-node': n.key },
    el('td', {}, n.key),
    el('td', {}, found),
    el('td', { class: 'ms' }, n.ms === undefined ? '' : `${n.ms} ms`),
    links,
  );
}

/** Shows the known nodes. */
export function renderNodes(state: ConsoleState): void {
  const nodes = state.sorted();
  setRows('nodes-table', nodes.map(nodeRow));
  byId('nodes-table').setAttribute('data-count', String(nodes.length));
}

/** Reads the nodes and groups of a resource directory into `state`; resolves with a line. */
async function readDirectory(gw: Gateway, state: ConsoleState, rd: string): Promise<string> {
  const eps = await gw.unicast('GET', `${rd}/rd-lookup/ep`);
  if (eps.code !== '2.05') return `resource directory: ${answerWords(eps)}`;
  let count = 0;
  for (const l of parseLinks(eps.text)) {
    const base = attr(l, 'base');
    if (base === undefined || attr(l, 'et') === 'core.rd-group') continue;
    const key = base.replace(/^coap:\/\//, '').replace(/\/$/, '');
    const n = state.node(key.includes(':') && !key.startsWith('[') ? key : `${key}:5683`);
    n.ep = attr(l, 'ep');
    const d = attr(l, 'd');
    if (d !== undefined) n.sector = d;
    count++;
  }
  const res = await gw.unicast('GET', `${rd}/rd-lookup/res`);
  if (res.code === '2.05') {
    for (const l of parseLinks(res.text)) {
      const m = /^coap:\/\/([^/]+)(\/.*)$/.exec(l.href);
      if (m === null) continue;
      const key = m[1]!.includes(':') && !m[1]!.endsWith(']') ? m[1]! : `${m[1]}:5683`;
      const n = state.nodes.get(key);
      if (n === undefined || n.multicast) continue;
      n.links.push({ href: m[2]!, attrs: l.attrs.filter(([k]) => k !== 'anchor') });
    }
  }
  return `${count} in the resource directory`;
}

/** Wires the Nodes view. */
export function setupNodes(gw: Gateway, state: ConsoleState, onChange: () => void): void {
  const c = gw.config;
  byId<HTMLInputElement>('nodes-group').value = c.group;
  byId<HTMLInputElement>('nodes-wait').value = String(c.wait);
  byId<HTMLInputElement>('nodes-rd').value = c.rd ?? '';
  const form = byId<HTMLFormElement>('nodes-form');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void discover();
  });

  async function discover(): Promise<void> {
    clearErrors(form);
    const group = checkUri('nodes-group', true);
    const wait = checkWait('nodes-wait', c.maxWait);
    const rd = checkUri('nodes-rd', false, true);
    const query = value('nodes-query');
    if (query !== '' && !/^[^\s=&]+=[^\s&]*$/.test(query))
      fieldError('nodes-query', 'one filter NAME=VALUE, e.g. rt=light');
    else if (group !== undefined && wait !== undefined && rd !== undefined)
      return run(group, wait, rd, query);
  }

  async function run(group: string, wait: number, rd: string, query: string): Promise<void> {
    const target = `${group}/.well-known/core${query === '' ? '' : `?${query}`}`;
    const lines = [
      commandLine(
        'discover',
        group,
        '--wait',
        String(wait),
        ...(query === '' ? [] : ['--query', query]),
        ...ifaceArgs(c.iface),
      ),
    ];
    if (rd !== '') lines.push(commandLine('rd', 'lookup', rd, 'ep'), commandLine('rd', 'lookup', rd, 'res'));
    setText('nodes-commands', lines.join('\n$ '));
    state.nodes.clear();
    renderNodes(state);
    setText('nodes-status', `discovering for ${wait} s…`);
    let line: string;
    try {
      const summary = await gw.stream({ method: 'GET', target, wait }, (r) => {
        const n = state.node(r.from);
        n.multicast = true;
        n.ms = r.ms;
        n.links = parseLinks(r.payload ?? '');
        renderNodes(state);
      });
      line = `${summary?.endpoints ?? 0} answered the discovery in ${wait} s`;
    } catch (err) {
      line =
        err instanceof GatewayRefusal ? `the gateway refused (${err.status}): ${err.message}` : String(err);
    }
    if (rd !== '') {
      try {
        line += `; ${await readDirectory(gw, state, rd)}`;
      } catch (err) {
        line += `; resource directory: ${String(err)}`;
      }
    }
    renderNodes(state);
    const n = state.nodes.size;
    setText('nodes-status', `${n} node${n === 1 ? '' : 's'}: ${line}`);
    onChange();
  }
}
