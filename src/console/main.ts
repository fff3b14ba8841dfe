/**
 * @module console/main
 * The console's entry point (docs/console.md): reads its settings from the gateway, wires the
 * four views, and switches between them. The console speaks only to the gateway's HTTP API
 * (console/api); the views own their forms.
 */
import { setupAct } from './act.js';
import { Gateway, loadConfig } from './api.js';
import { byId, setText } from './dom.js';
import { GroupsView } from './groups.js';
import { renderNodes, setupNodes } from './nodes.js';
import { setupObserve } from './observe.js';
import { RdGroupsView } from './rd-groups.js';
import { ConsoleState } from './state.js';

async function start(): Promise<void> {
  const config = await loadConfig();
  const gw = new Gateway(config);
  const state = new ConsoleState();
  setText(
    'gateway',
    `gateway ${location.host}${config.iface !== undefined ? `, groups on ${config.iface}` : ''}`,
  );
  const groups = new GroupsView(gw, state);
  const rd = new RdGroupsView(gw);
  setupNodes(gw, state, () => {
    state.memberships.clear();
    groups.render();
  });
  setupAct(gw, state);
  setupObserve(gw);
  renderNodes(state);
  const tabs = Array.from(document.querySelectorAll<HTMLButtonElement>('#tabs button'));
  for (const tab of tabs) {
    tab.addEventListener('click', () => {
      const view = tab.dataset.view!;
      for (const t of tabs) {
        if (t === tab) t.setAttribute('aria-current', 'page');
        else t.removeAttribute('aria-current');
        byId(`view-${t.dataset.view}`).hidden = t !== tab;
      }
      if (view === 'groups') {
        groups.render();
        void groups.refresh();
        void rd.refresh().catch(() => undefined);
      }
    });
  }
  document.body.dataset.ready = 'true';
}

start().catch((err: unknown) => {
  setText('gateway', `the console could not start: ${String(err)}`);
});
