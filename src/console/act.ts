/**
 * @module console/act
 * The Act view: one request (GET, PUT, POST, DELETE, with a payload and its content format) to
 * a group URI through the gateway, its responses shown as they arrive, as a table (with the
 * origin each came from, Reply-From in the gateway's batch, groupcomm-proxy §9) and on a
 * timeline of delay per node, and the nodes expected to answer that did not listed as silent:
 * the group's members when the Groups view has read them, else every node known.
 */
import { type Gateway, GatewayRefusal, type MemberResponse, nodeUri } from './api.js';
import { commandLine, ifaceArgs } from './commands.js';
import { byId, clearErrors, el, fieldError, setRows, setText, value } from './dom.js';
import { checkUri, checkWait } from './nodes.js';
import { type ConsoleState, compareKeys, hostPort } from './state.js';
import { timeline } from './timeline.js';
import { codeWords } from './words.js';

/** The media types of the format menu, and their Content-Format numbers for the command line. */
const CLI_FORMAT: Readonly<Record<string, string>> = {
  'text/plain;charset=utf-8': '0',
  'application/json': '50',
  'application/link-format': '40',
  'application/octet-stream': '42',
};

function payloadText(r: MemberResponse): string {
  return r.payload ?? (r.payloadBase64 !== undefined ? `base64 ${r.payloadBase64}` : '');
}

/** Wires the Act view. */
export function setupAct(gw: Gateway, state: ConsoleState): void {
  const c = gw.config;
  byId<HTMLInputElement>('act-uri').value = `${c.group}/light`;
  byId<HTMLInputElement>('act-wait').value = String(c.wait);
  const form = byId<HTMLFormElement>('act-form');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearErrors(form);
    const uri = checkUri('act-uri', true);
    const wait = checkWait('act-wait', c.maxWait);
    const method = byId<HTMLSelectElement>('act-method').value;
    const payload = value('act-payload');
    const type = byId<HTMLSelectElement>('act-format').value;
    if ((method === 'GET' || method === 'DELETE') && payload !== '') {
      fieldError('act-payload', `${method} carries no payload: leave it empty, or choose PUT or POST`);
      return;
    }
    if (uri !== undefined && wait !== undefined) void send(uri, wait, method, payload, type);
  });

  async function send(
    uri: string,
    wait: number,
    method: string,
    payload: string,
    type: string,
  ): Promise<void> {
    const withBody = method === 'PUT' || method === 'POST';
    setText(
      'act-commands',
      commandLine(
        method.toLowerCase(),
        uri,
        ...(withBody ? ['--payload', payload, '--format', CLI_FORMAT[type] ?? type] : []),
        '--wait',
        String(wait),
        ...ifaceArgs(c.iface),
      ),
    );
    const responses: MemberResponse[] = [];
    const authority = /^coap:\/\/(\[[^\]]+\]|[^/:]+)(?::(\d+))?/.exec(uri)!;
    const group = hostPort(`${authority[1]}${authority[2] === undefined ? '' : `:${authority[2]}`}`);
    // A group no membership names (All CoAP Nodes, one joined otherwise) expects every node known.
    const named = state.membersOf(group.host, group.port);
    const members = named !== undefined && named.length > 0 ? named : undefined;
    const expected = (members ?? state.sorted()).map((n) => n.key);
    const draw = (spanMs: number) => {
      const answered = new Map<string, MemberResponse[]>();
      for (const r of responses) answered.set(r.from, [...(answered.get(r.from) ?? []), r]);
      const keys = [...new Set([...answered.keys(), ...expected])].sort(compareKeys);
      const rows = keys.map((k) => ({
        label: k,
        ms: (answered.get(k) ?? []).map((r) => r.ms),
        error: (answered.get(k) ?? []).some((r) => !r.code.startsWith('2.')),
      }));
      byId('act-plot').replaceChildren(timeline(rows, spanMs));
      setRows(
        'act-table',
        [...responses]
          .sort((a, b) => a.ms - b.ms)
          .map((r) =>
            el(
              'tr',
              { 'data-from': r.from },
              el('td', {}, nodeUri(r.from)),
              el('td', {}, codeWords(r.code)),
              el('td', {}, payloadText(r)),
              el('td', { class: 'ms' }, `${r.ms} ms`),
            ),
          ),
      );
      return keys.filter((k) => !answered.has(k));
    };
    setText('act-silent', '');
    setText('act-status', `${method} ${uri}: collecting for ${wait} s…`);
    draw(wait * 1000);
    try {
      const summary = await gw.stream(
        { method, target: uri, wait, ...(withBody ? { payload, type } : {}) },
        (r) => {
          responses.push(r);
          draw(wait * 1000);
        },
      );
      const silent = draw(wait * 1000);
      const from = new Set(responses.map((r) => r.from)).size;
      setText(
        'act-status',
        `${responses.length} response${responses.length === 1 ? '' : 's'} from ${from} node${from === 1 ? '' : 's'} in ${summary?.ms ?? wait * 1000} ms (${summary?.reason ?? 'window'})`,
      );
      const whose = members !== undefined ? 'members of the group' : 'nodes known';
      setText('act-silent', silent.length === 0 ? '' : `Did not answer (${whose}): ${silent.join(', ')}`);
    } catch (err) {
      setText(
        'act-status',
        err instanceof GatewayRefusal ? `the gateway refused (${err.status}): ${err.message}` : String(err),
      );
    }
  }
}
