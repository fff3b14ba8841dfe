/**
 * The commissioning console in real headless Chromium (Debian's `chromium`, driven by
 * playwright-core; no browser is downloaded), inside a private network namespace whose only
 * interface is `lo`: five nodes on 127.0.0.2-6 registered in a resource directory on 127.0.0.7,
 * the gateway on 127.0.0.1 serving the console. The page discovers them, commissions a group on
 * three of them through the Groups view (RFC 7390 §2.6.2), switches that group from the Act
 * view and shows exactly those three answers on its table and timeline; an observation on the
 * page receives a change made with the CLI; a bad group address shows the node's 4.00 next to
 * that node. Each view's screenshot goes to .tmp/console-screenshots/, or with
 * CONSOLE_SCREENSHOTS=docs/console to the folder docs/console.md shows them from (that is how
 * they are made: `CONSOLE_SCREENSHOTS=docs/console npm test -- test/integration/console-browser.test.ts`);
 * the assertions read the page's content, never its pixels.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ROOT, runCli } from '../support/cli-run.js';
import { CHROMIUM, chromiumMissing, type Room, startRoom } from '../support/console-room.js';
import { insideNetns, LOOPBACK_SETUP, runSelfInNetns } from '../support/netns.js';

/**
 * The page's side of the functions given to the browser: this file is type-checked with Node's
 * types, not the DOM's, so it names the little it reads there.
 */
interface PageNode {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): ArrayLike<PageNode>;
}
declare const document: PageNode & { getElementById(id: string): PageNode | null };

/** The cells of each row of a table body, as text. */
function cells(trs: ReadonlyArray<unknown>): string[][] {
  return (trs as PageNode[]).map((tr) =>
    Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? ''),
  );
}

const T = { timeout: 60_000 };
/** Where the screenshots go: a scratch folder, so that a test run leaves the checkout as it was. */
const SHOTS = join(ROOT, process.env.CONSOLE_SCREENSHOTS ?? join('.tmp', 'console-screenshots'));
const ROOM_GROUP = '239.255.0.3';

async function tab(page: Page, name: string): Promise<void> {
  await page.click(`#tabs button[data-view="${name}"]`);
  await page.waitForSelector(`#view-${name}:not([hidden])`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

const missing = chromiumMissing();
if (missing !== undefined) {
  test('console in headless Chromium', { skip: missing }, () => {});
} else if (!insideNetns()) {
  test('console in headless Chromium, in a private network namespace', { timeout: 300_000 }, (t) =>
    runSelfInNetns(t, import.meta.filename, LOOPBACK_SETUP, { timeoutMs: 280_000 }),
  );
} else
  describe('the console in headless Chromium', () => {
    let room: Room;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    before(async () => {
      mkdirSync(SHOTS, { recursive: true });
      room = await startRoom(5, 0.3);
      const { chromium } = await import('playwright-core');
      // The namespace's user is root only inside it: Chromium's own sandbox cannot start there.
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30_000 });
      page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
      page.setDefaultTimeout(15_000);
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(room.url);
      await page.waitForSelector('body[data-ready="true"]');
    }, T);

    after(async () => {
      await browser?.close();
      await room?.close();
    }, T);

    it('discovers the room by multicast and finds it in the resource directory', T, async () => {
      assert.equal(await page.inputValue('#nodes-rd'), room.rd);
      await page.click('#nodes-discover');
      await page.waitForFunction(() =>
        /^\d+ nodes?:/.test(document.getElementById('nodes-status')!.textContent!),
      );
      const status = await page.textContent('#nodes-status');
      assert.match(status!, /^5 nodes: 5 answered the discovery in 1 s; 5 in the resource directory$/);
      assert.equal(await page.getAttribute('#nodes-table', 'data-count'), '5');
      const rows = await page.$$eval('#nodes-table tbody tr', cells);
      assert.deepEqual(
        rows.map((r) => r[0]),
        room.keys,
      );
      for (const [i, r] of rows.entries()) {
        assert.match(r[1]!, new RegExp(`^multicast, RD: lamp-${i + 1} \\(room3\\)$`));
        assert.match(r[2]!, /^\d+ ms$/);
        assert.match(r[3]!, /<\/light> rt=light ct=0 obs/);
      }
      assert.match(
        (await page.textContent('#nodes-commands')) ?? '',
        /^coap-group discover coap:\/\/224\.0\.1\.187 --wait 1 --iface 127\.0\.0\.1/,
      );
      await shot(page, 'nodes');
    });

    it('commissions a group on three nodes from the Groups view', T, async () => {
      await tab(page, 'groups');
      await page.waitForSelector('#groups-table tbody tr');
      const three = room.keys.slice(1, 4);
      for (const k of three) await page.check(`#groups-table input[value="${k}"]`);
      await page.fill('#groups-name', 'room3.lights');
      await page.fill('#groups-address', `${ROOM_GROUP}:5683`);
      await page.click('#groups-apply');
      for (const k of three)
        await page.waitForFunction(
          (key) => /^2\.01 Created/.test(document.querySelector(`[data-answer="${key}"]`)?.textContent ?? ''),
          k,
        );
      const memberships = await page.$$eval('#groups-table tbody tr', (trs) =>
        trs.map((tr) => [tr.getAttribute('data-node'), tr.querySelector('.memberships')!.textContent ?? '']),
      );
      for (const [key, text] of memberships) {
        if (three.includes(key!)) assert.match(text, /#\d+ room3\.lights 239\.255\.0\.3:5683/);
        else assert.equal(text, '');
      }
      const commands = (await page.textContent('#groups-commands')) ?? '';
      assert.match(
        commands,
        /coap-group groups add coap:\/\/127\.0\.0\.3 --address 239\.255\.0\.3:5683 --name room3\.lights/,
      );
      await shot(page, 'groups');
    });

    it('registers the group in the resource directory, and removes it', T, async () => {
      await page.fill('#rd-name', 'room3-lights');
      await page.fill('#rd-base', `coap://${ROOM_GROUP}`);
      await page.fill('#rd-sector', 'room3');
      await page.click('#rd-register');
      await page.waitForFunction(() => /^register /.test(document.getElementById('rd-status')!.textContent!));
      assert.match(
        (await page.textContent('#rd-status'))!,
        /^register room3-lights: 2\.01 Created: coap:\/\/127\.0\.0\.7\/rd\/\d+$/,
      );
      const row = (await page.$$eval('#rd-table tbody tr', cells))[0]!;
      assert.deepEqual(row.slice(0, 3), ['room3-lights', `coap://${ROOM_GROUP}`, 'room3']);
      assert.equal(
        await page.textContent('#rd-commands'),
        `coap-group rd register-group ${room.rd} --name room3-lights --base coap://${ROOM_GROUP} --sector room3 --links '</light>;rt=light'`,
      );
      // What the directory itself holds, read past the page.
      const lookup = `${room.gateway.address!.origin}/hc/${room.rd}/rd-lookup/ep?et=core.rd-group`;
      assert.match(await (await fetch(lookup)).text(), /ep="room3-lights"/);
      await page.click('#rd-table tr[data-rd-group="room3-lights"] button');
      await page.waitForFunction(() => /^remove /.test(document.getElementById('rd-status')!.textContent!));
      assert.match(
        (await page.textContent('#rd-status'))!,
        /^remove coap:\/\/127\.0\.0\.7\/rd\/\d+: 2\.02 Deleted$/,
      );
      assert.equal(await page.locator('#rd-table tbody tr').count(), 0);
      assert.doesNotMatch(await (await fetch(lookup)).text(), /room3-lights/);
    });

    it(
      'switches that group from the Act view: exactly the three answer, on the table and the timeline',
      T,
      async () => {
        await tab(page, 'act');
        await page.selectOption('#act-method', 'PUT');
        await page.fill('#act-uri', `coap://${ROOM_GROUP}/light`);
        await page.fill('#act-payload', 'on');
        await page.fill('#act-wait', '2');
        await page.click('#act-send');
        await page.waitForFunction(() =>
          /^\d+ responses? from/.test(document.getElementById('act-status')!.textContent!),
        );
        assert.match(
          (await page.textContent('#act-status'))!,
          /^3 responses from 3 nodes in \d+ ms \(window\)$/,
        );
        const rows = await page.$$eval('#act-table tbody tr', cells);
        const three = room.keys.slice(1, 4);
        assert.deepEqual(
          rows.map((r) => r[0]).sort(),
          three.map((k) => `coap://${k.replace(/:5683$/, '')}`),
        );
        for (const r of rows) {
          assert.equal(r[1], '2.04 Changed');
          assert.match(r[3]!, /^\d+ ms$/);
        }
        // The timeline: one dot per answer, on the rows of exactly those three nodes.
        const dots = await page.$$eval('[data-testid="timeline"] circle title', (ts) =>
          ts.map((t) => t.textContent ?? ''),
        );
        assert.deepEqual(dots.map((d) => d.split(':').slice(0, 2).join(':')).sort(), three);
        for (const d of dots) assert.match(d, /: \d+ ms$/);
        assert.equal(await page.textContent('#act-silent'), '');
        assert.match(
          (await page.textContent('#act-commands'))!,
          /^coap-group put coap:\/\/239\.255\.0\.3\/light --payload on --format 0 --wait 2/,
        );
        await shot(page, 'act');
      },
    );

    it('lists the node that did not answer, on the timeline and under it', T, async () => {
      await page.selectOption('#act-method', 'GET');
      await page.fill('#act-uri', 'coap://224.0.1.187/light');
      await page.fill('#act-payload', '');
      await page.fill('#act-wait', '1');
      await page.click('#act-send');
      await page.waitForFunction(() =>
        /^\d+ responses? from/.test(document.getElementById('act-status')!.textContent!),
      );
      assert.match(
        (await page.textContent('#act-status'))!,
        /^4 responses from 4 nodes in \d+ ms \(window\)$/,
      );
      const silent = room.keys[4]!;
      assert.equal(await page.textContent('#act-silent'), `Did not answer (nodes known): ${silent}`);
      const rows = await page.$$eval('#act-table tbody tr', cells);
      // The three lights of the room were switched on; the first is still off.
      assert.deepEqual(rows.map((r) => [r[0], r[1], r[2]]).sort(), [
        ['coap://127.0.0.2', '2.05 Content', 'off'],
        ['coap://127.0.0.3', '2.05 Content', 'on'],
        ['coap://127.0.0.4', '2.05 Content', 'on'],
        ['coap://127.0.0.5', '2.05 Content', 'on'],
      ]);
      assert.equal(await page.locator('[data-testid="timeline"] circle').count(), 4);
      assert.equal(await page.locator('[data-testid="timeline"] .silent-mark').count(), 1);
      await shot(page, 'act-silent');
    });

    it('receives on the page a change made with the CLI', T, async () => {
      await tab(page, 'observe');
      await page.fill('#observe-uri', 'coap://224.0.1.187/light');
      await page.fill('#observe-wait', '30');
      await page.click('#observe-start');
      // The silent node's light takes no group requests: four observe it.
      await page.waitForFunction(() => document.querySelectorAll('#observe-table tbody tr').length === 4);
      const changed = room.keys[0]!;
      const cli = await runCli([
        'put',
        `coap://${changed.replace(/:5683$/, '')}/light`,
        '--payload',
        'dimmed',
      ]);
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(cli.stderr.trim(), '2.04 Changed');
      await page.waitForFunction(
        (key) =>
          document.querySelector(`#observe-table tr[data-from="${key}"] .value`)?.textContent === 'dimmed',
        changed,
      );
      const count = await page.textContent(`#observe-table tr[data-from="${changed}"] .count`);
      assert.equal(count, '2');
      await shot(page, 'observe');
      await page.click('#observe-cancel');
      await page.waitForFunction(() =>
        /^cancelled/.test(document.getElementById('observe-status')!.textContent!),
      );

      // One node, observed until cancelled: its notification arrives, and Cancel ends it.
      const one = room.keys[2]!;
      await page.fill('#observe-uri', `coap://${one.replace(/:5683$/, '')}/light`);
      await page.click('#observe-start');
      await page.waitForFunction(
        (key) => document.querySelector(`#observe-table tr[data-from="${key}"] .value`)?.textContent === 'on',
        one,
      );
      assert.equal(await page.locator('#observe-table tbody tr').count(), 1);
      assert.equal(
        await page.textContent('#observe-commands'),
        `coap-group get coap://${one.replace(/:5683$/, '')}/light --observe`,
      );
      await page.click('#observe-cancel');
      await page.waitForFunction(() =>
        /^cancelled: 1 node/.test(document.getElementById('observe-status')!.textContent!),
      );
    });

    it("shows a node's 4.00 next to that node for a bad group address, and changes nothing", T, async () => {
      await tab(page, 'groups');
      await page.waitForSelector('#groups-table tbody tr');
      const node = room.keys[4]!;
      for (const box of await page.$$('#groups-table input[type=checkbox]')) await box.uncheck();
      await page.check(`#groups-table input[value="${node}"]`);
      await page.fill('#groups-index', '');
      await page.fill('#groups-name', '');
      await page.fill('#groups-address', '10.0.0.1');
      await page.click('#groups-apply');
      await page.waitForFunction(
        (key) => /^4\.00/.test(document.querySelector(`[data-answer="${key}"]`)?.textContent ?? ''),
        node,
      );
      const answer = (await page.textContent(`[data-answer="${node}"]`))!;
      assert.match(
        answer,
        /^4\.00 Bad Request: the node refused the request as malformed: .*10\.0\.0\.1.* not a multicast address/,
      );
      assert.equal(await page.getAttribute(`[data-answer="${node}"]`, 'class'), 'answer refused');
      assert.equal(await page.textContent(`#groups-table tr[data-node="${node}"] .memberships`), '');
      // A form mistake is shown next to its field, and nothing is sent.
      await page.fill('#groups-address', '');
      await page.click('#groups-apply');
      assert.match((await page.textContent('#groups-address-error'))!, /give a group address/);
      await shot(page, 'groups-refused');
    });

    it('changes a membership on a node (PUT to its entry), then removes it (DELETE)', T, async () => {
      const node = room.keys[1]!;
      const row = `#groups-table tr[data-node="${node}"]`;
      await page.click(`${row} .membership button:text("Change")`);
      assert.match(await page.inputValue('#groups-index'), /^\d+$/);
      assert.equal(await page.inputValue('#groups-address'), `${ROOM_GROUP}:5683`);
      await page.fill('#groups-address', '239.255.0.9:5683');
      await page.click('#groups-apply');
      await page.waitForFunction(
        (key) => /^2\.04 Changed/.test(document.querySelector(`[data-answer="${key}"]`)?.textContent ?? ''),
        node,
      );
      assert.match(
        (await page.textContent(`${row} .memberships`))!,
        /^#\d+ room3\.lights 239\.255\.0\.9:5683/,
      );
      assert.match(
        (await page.textContent('#groups-commands'))!,
        /^coap-group groups update coap:\/\/127\.0\.0\.3 \d+ --address 239\.255\.0\.9:5683 --name room3\.lights$/,
      );
      // Only that node was ticked: the others keep the room's group.
      assert.match(
        (await page.textContent(`#groups-table tr[data-node="${room.keys[2]}"] .memberships`))!,
        /239\.255\.0\.3:5683/,
      );
      await page.click(`${row} .membership button:text("Remove")`);
      await page.waitForFunction(
        (key) => /^2\.02 Deleted/.test(document.querySelector(`[data-answer="${key}"]`)?.textContent ?? ''),
        node,
      );
      assert.equal(await page.textContent(`${row} .memberships`), '');
      assert.match(
        (await page.textContent('#groups-commands'))!,
        /^coap-group groups remove coap:\/\/127\.0\.0\.3 \d+$/,
      );
      assert.deepEqual(pageErrors, []);
    });
  });
