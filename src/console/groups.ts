/**
 * @module console/groups
 * The Groups view: each node's memberships as its `/coap-group` resource lists them, and their
 * change there (RFC 7390 §2.6.2: POST a membership to the collection, PUT one entry to change
 * it, DELETE it to leave). A node's answer is shown in words next to that node: a refusal (4.00
 * for a bad membership, 4.01, 4.03, 5.03 with its wait) is the node's, and tells what it said.
 */
import type { Gateway, UnicastAnswer } from './api.js';
import { commandLine } from './commands.js';
import { byId, clearErrors, el, fieldError, setRows, setText, value } from './dom.js';
import type { ConsoleState, KnownNode, Membership } from './state.js';
import { answerWords, succeeded } from './words.js';

const FORMAT = 'application/coap-group+json';

/** The memberships of a `/coap-group` answer ({"INDEX": {"n": …, "a": …}, …}). */
function memberships(text: string): Membership[] {
  const doc = JSON.parse(text) as Record<string, { n?: string; a?: string }>;
  return Object.entries(doc).map(([index, m]) => ({
    index,
    ...(m.n !== undefined ? { n: m.n } : {}),
    ...(m.a !== undefined ? { a: m.a } : {}),
  }));
}

/** The Groups view. */
export class GroupsView {
  readonly #gw: Gateway;
  readonly #state: ConsoleState;
  readonly #answers = new Map<string, UnicastAnswer>();

  constructor(gw: Gateway, state: ConsoleState) {
    this.#gw = gw;
    this.#state = state;
    const form = byId<HTMLFormElement>('groups-form');
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#apply(form);
    });
    byId('groups-refresh').addEventListener('click', () => void this.refresh());
  }

  /** Reads every node's memberships. */
  async refresh(): Promise<void> {
    await Promise.all(this.#state.sorted().map((n) => this.#read(n)));
    this.render();
  }

  async #read(n: KnownNode): Promise<void> {
    try {
      const a = await this.#gw.unicast('GET', `${n.uri}/coap-group`);
      if (a.code === '2.05') this.#state.memberships.set(n.key, memberships(a.text));
      else this.#answers.set(n.key, a);
    } catch (err) {
      this.#answers.set(n.key, { status: 0, code: undefined, text: String(err) });
    }
  }

  /** Shows the nodes, their memberships and their last answers. */
  render(): void {
    const ticked = new Set(
      Array.from(
        document.querySelectorAll<HTMLInputElement>('#groups-table input[type=checkbox]:checked'),
      ).map((c) => c.value),
    );
    setRows(
      'groups-table',
      this.#state.sorted().map((n) => this.#row(n, ticked.has(n.key))),
    );
  }

  #row(n: KnownNode, ticked: boolean): HTMLTableRowElement {
    const box = el('input', { type: 'checkbox', value: n.key, 'aria-label': `select ${n.key}` });
    box.checked = ticked;
    const list = el('td', { class: 'memberships' });
    for (const m of this.#state.memberships.get(n.key) ?? []) {
      const change = el('button', { type: 'button' }, 'Change');
      change.addEventListener('click', () => {
        byId<HTMLInputElement>('groups-index').value = m.index;
        byId<HTMLInputElement>('groups-name').value = m.n ?? '';
        byId<HTMLInputElement>('groups-address').value = m.a ?? '';
        for (const c of Array.from(
          document.querySelectorAll<HTMLInputElement>('#groups-table input[type=checkbox]'),
        ))
          c.checked = c.value === n.key;
      });
      const remove = el('button', { type: 'button' }, 'Remove');
      remove.addEventListener('click', () => void this.#remove(n, m));
      list.append(
        el(
          'div',
          { class: 'membership', 'data-index': m.index },
          `#${m.index} ${[m.n, m.a].filter((x) => x !== undefined).join(' ')} `,
          change,
          remove,
        ),
      );
    }
    const a = this.#answers.get(n.key);
    const answer = el(
      'td',
      { class: `answer ${a === undefined ? '' : succeeded(a) ? 'ok' : 'refused'}`, 'data-answer': n.key },
      a === undefined ? '' : answerWords(a),
    );
    return el('tr', { 'data-node': n.key }, el('td', {}, box), el('td', {}, n.key), list, answer);
  }

  async #apply(form: HTMLFormElement): Promise<void> {
    clearErrors(form);
    const n = value('groups-name');
    const a = value('groups-address');
    const index = value('groups-index');
    let ok = true;
    if (n === '' && a === '') {
      fieldError('groups-address', 'give a group address (e.g. 239.255.0.3:5683) or a name, or both');
      ok = false;
    }
    for (const [id, v] of [
      ['groups-name', n],
      ['groups-address', a],
    ] as const)
      if (/\s/.test(v)) {
        fieldError(id, 'no spaces');
        ok = false;
      }
    if (index !== '' && !/^\d+$/.test(index)) {
      fieldError('groups-index', 'the number of an entry (the # in the list), or empty for a new one');
      ok = false;
    }
    const nodes = this.#state
      .sorted()
      .filter(
        (x) => document.querySelector<HTMLInputElement>(`#groups-table input[value="${x.key}"]`)?.checked,
      );
    setText('groups-nodes-error', nodes.length === 0 ? 'tick the nodes to change in the list below' : '');
    if (nodes.length === 0) ok = false;
    if (!ok) return;
    const body = JSON.stringify({ ...(n !== '' ? { n } : {}), ...(a !== '' ? { a } : {}) });
    const flags = [...(a !== '' ? ['--address', a] : []), ...(n !== '' ? ['--name', n] : [])];
    setText(
      'groups-commands',
      nodes
        .map((x) =>
          index === ''
            ? commandLine('groups', 'add', x.uri, ...flags)
            : commandLine('groups', 'update', x.uri, index, ...flags),
        )
        .join('\n$ '),
    );
    await Promise.all(
      nodes.map(async (x) => {
        const target = index === '' ? `${x.uri}/coap-group` : `${x.uri}/coap-group/${index}`;
        await this.#answer(x, () => this.#gw.unicast(index === '' ? 'POST' : 'PUT', target, body, FORMAT));
      }),
    );
    this.render();
  }

  async #remove(n: KnownNode, m: Membership): Promise<void> {
    setText('groups-commands', commandLine('groups', 'remove', n.uri, m.index));
    await this.#answer(n, () => this.#gw.unicast('DELETE', `${n.uri}/coap-group/${m.index}`));
    this.render();
  }

  async #answer(n: KnownNode, send: () => Promise<UnicastAnswer>): Promise<void> {
    let a: UnicastAnswer;
    try {
      a = await send();
    } catch (err) {
      a = { status: 0, code: undefined, text: String(err) };
    }
    await this.#read(n);
    this.#answers.set(n.key, a);
  }
}
