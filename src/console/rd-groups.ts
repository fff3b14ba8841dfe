/**
 * @module console/rd-groups
 * The resource directory part of the Groups view: the groups registered there (endpoint lookup
 * `et=core.rd-group`, RFC 9176 §6.3), registering one (RFC 9176 Appendix A: a registration with
 * `et=core.rd-group`, its multicast `base`, its sector and the links its members offer), and
 * removing one (DELETE of its registration resource, §5.3.3). Nodes that follow their sector's
 * groups join and leave by themselves.
 */
import type { Gateway } from './api.js';
import { commandLine } from './commands.js';
import { byId, clearErrors, el, fieldError, setRows, setText, value } from './dom.js';
import { attr, parseLinks } from './links.js';
import { checkUri } from './nodes.js';
import { answerWords } from './words.js';

/** The resource directory's groups, and their registration. */
export class RdGroupsView {
  readonly #gw: Gateway;

  constructor(gw: Gateway) {
    this.#gw = gw;
    const form = byId<HTMLFormElement>('rd-form');
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#register(form);
    });
  }

  /** The directory's URI as the Nodes view has it ('' for none). */
  #rd(): string {
    return value('nodes-rd').replace(/\/+$/, '');
  }

  /** Lists the groups registered in the directory. */
  async refresh(): Promise<void> {
    const rd = this.#rd();
    if (rd === '') {
      setText('rd-status', 'no resource directory: give one in the Nodes view');
      setRows('rd-table', []);
      return;
    }
    const a = await this.#gw.unicast('GET', `${rd}/rd-lookup/ep?et=core.rd-group`);
    if (a.code !== '2.05') {
      setText('rd-status', `${rd}: ${answerWords(a)}`);
      return;
    }
    const rows = parseLinks(a.text).map((l) => {
      const where = /^coap:\/\//.test(l.href) ? l.href : `${rd}${l.href}`;
      const remove = el('button', { type: 'button' }, 'Remove');
      remove.addEventListener('click', () => void this.#remove(where));
      return el(
        'tr',
        { 'data-rd-group': attr(l, 'ep') ?? '' },
        el('td', {}, attr(l, 'ep') ?? ''),
        el('td', {}, attr(l, 'base') ?? ''),
        el('td', {}, attr(l, 'd') ?? ''),
        el('td', {}, where),
        el('td', {}, remove),
      );
    });
    setRows('rd-table', rows);
    setText('rd-status', `${rows.length} group${rows.length === 1 ? '' : 's'} in ${rd}`);
  }

  async #register(form: HTMLFormElement): Promise<void> {
    clearErrors(form);
    const rd = this.#rd();
    const ep = value('rd-name');
    const d = value('rd-sector');
    const links = value('rd-links');
    const base = checkUri('rd-base', true);
    let ok = base !== undefined;
    if (rd === '') {
      fieldError('rd-name', 'give the resource directory in the Nodes view first');
      ok = false;
    } else if (!/^[^\s&=?#]+$/.test(ep)) {
      fieldError('rd-name', 'a name without spaces, e.g. room3-lights');
      ok = false;
    }
    if (d !== '' && !/^[^\s&=?#]+$/.test(d)) {
      fieldError('rd-sector', 'a sector without spaces, e.g. room3');
      ok = false;
    }
    if (links !== '' && !links.startsWith('<')) {
      fieldError('rd-links', 'links in the CoRE Link Format, e.g. </light>;rt=light');
      ok = false;
    }
    if (!ok || base === undefined) return;
    const query = [`ep=${encodeURIComponent(ep)}`, ...(d !== '' ? [`d=${encodeURIComponent(d)}`] : [])];
    query.push('et=core.rd-group', `base=${encodeURIComponent(base)}`);
    setText(
      'rd-commands',
      commandLine(
        'rd',
        'register-group',
        rd,
        '--name',
        ep,
        '--base',
        base,
        ...(d !== '' ? ['--sector', d] : []),
        ...(links !== '' ? ['--links', links] : []),
      ),
    );
    const a = await this.#gw.unicast('POST', `${rd}/rd?${query.join('&')}`, links, 'application/link-format');
    setText('rd-status', `register ${ep}: ${answerWords(a)}`);
    await this.refresh().catch(() => undefined);
    setText('rd-status', `register ${ep}: ${answerWords(a)}`);
  }

  async #remove(where: string): Promise<void> {
    setText('rd-commands', commandLine('delete', where));
    const a = await this.#gw.unicast('DELETE', where);
    await this.refresh().catch(() => undefined);
    setText('rd-status', `remove ${where}: ${answerWords(a)}`);
  }
}
