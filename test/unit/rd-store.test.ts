/**
 * Persistence of a resource directory (RFC 9176 §5: registrations live for their lifetime,
 * restarts included): restarts on the memory and the file store keep every registration and
 * its location, lifetimes go on from where they were and those that ran out while the RD was
 * down are gone; a journal line torn by a crash is dropped, a corrupt state refuses to start
 * (or is moved aside on request); a save that fails answers 5.00, undoes the change and every
 * change made on top of it, and the next save recovers; the journal is folded into snapshots.
 */
import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { attachResourceDirectory } from '../../src/rd/attach.js';
import { type JournalFile, type JournalFs, nodeJournalFs } from '../../src/rd/journal.js';
import { FileRdStore, RD_JOURNAL_FILE, RD_SNAPSHOT_FILE } from '../../src/rd/store-file.js';
import { CoapServer } from '../../src/server/server.js';
import { drive, location, type RdMem, rdMem } from '../support/rd-mem.js';

const T = { timeout: 30_000 };
const EP = '192.0.2.20';

async function reg(m: RdMem, query: string, links = '</l>;rt=light'): Promise<string> {
  const res = await m.send(EP, { method: 'POST', path: `/rd?${query}`, payload: links, format: 40 });
  assert.equal(res.codeString, '2.01', res.text());
  return location(res);
}

const summary = (m: RdMem) => m.rd.registrations().map((r) => `${r.path} ${r.ep} ${r.d ?? '-'} ${r.lt}`);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'coap-rd-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('resource directory persistence', () => {
  for (const kind of ['memory', 'file'] as const) {
    it(`keeps registrations and locations across a restart (${kind} store)`, T, async () => {
      const m = await rdMem(kind === 'file' ? { store: new FileRdStore(dir) } : {});
      try {
        const a = await reg(m, 'ep=a&d=room&lt=100', '</x>;rt="a b",</y>;anchor="/x";rel=alt');
        const b = await reg(m, 'ep=b&et=lamp');
        const c = await reg(m, 'ep=c');
        await m.send(EP, { method: 'DELETE', path: c });
        await m.send(EP, { method: 'POST', path: `${b}?lt=300&x=1` });
        const before = summary(m);
        const linksBefore = (await m.send(EP, { path: '/rd-lookup/res' })).text();
        await m.rt.advance(40_000);
        await m.restart();
        assert.deepEqual(summary(m), before);
        assert.equal((await m.send(EP, { path: '/rd-lookup/res' })).text(), linksBefore);
        // The restarted RD knows who registered: the endpoint may still update.
        assert.equal((await m.send(EP, { method: 'POST', path: a })).codeString, '2.04');
        assert.equal((await m.send('192.0.2.21', { method: 'DELETE', path: a })).codeString, '4.03');
        // A location is never handed out again, even the last one removed.
        const d = await reg(m, 'ep=d');
        assert.ok(Number(d.split('/')[2]) > Number(c.split('/')[2]), `${d} after ${c}`);
      } finally {
        await m.close();
      }
    });
  }

  it('lifetimes go on across a restart; what ran out while down is gone', T, async () => {
    // Virtual time moves on while the file store waits for the disk, so deadlines are read back
    // from the registrations rather than computed from the test's own steps.
    const m = await rdMem({ store: new FileRdStore(dir) });
    try {
      await reg(m, 'ep=short&lt=10');
      await reg(m, 'ep=long&lt=100');
      const deadline = m.rd.registrations()[1]!.expiresAt;
      assert.deepEqual(
        m.rd.registrations().map((r) => r.ep),
        ['short', 'long'],
      );
      await m.rd.close();
      await m.server.close();
      await m.rt.advance(20_000); // the RD is down for 20 s (its wall clock moves with virtual time)
      await m.restart();
      assert.deepEqual(
        m.rd.registrations().map((r) => r.ep),
        ['long'],
      );
      assert.equal(m.rd.registrations()[0]!.expiresAt, deadline, 'the same deadline');
      await m.rt.advance(deadline - m.rt.now() - 1);
      assert.equal(m.rd.registrations().length, 1);
      await m.rt.advance(1);
      assert.equal(m.rd.registrations().length, 0);
      await m.restart();
      assert.equal(m.rd.registrations().length, 0, 'and it stays gone');
    } finally {
      await m.close();
    }
  });

  it('drops a journal line torn by a crash, and keeps every complete one', T, async () => {
    const m = await rdMem({ store: new FileRdStore(dir) });
    try {
      await reg(m, 'ep=a');
      await reg(m, 'ep=b');
      const before = summary(m);
      await m.rd.close();
      await m.server.close();
      // A crash in the middle of the next append: half a line, no newline.
      appendFileSync(join(dir, RD_JOURNAL_FILE), '1234abcd\t{"seq":9,"put":{"id":"7","ep":"c"');
      await m.restart();
      assert.deepEqual(summary(m), before);
      assert.equal(readFileSync(join(dir, RD_JOURNAL_FILE)).length, 0, 'the restart folded the journal in');
    } finally {
      await m.close();
    }
  });

  it('refuses to start on a corrupt state, or moves it aside when told to', T, async () => {
    writeFileSync(join(dir, RD_SNAPSHOT_FILE), '{"version":1,"next":1,"seq":0,"registrations":[{"id":"x"}]}');
    const server = new CoapServer({ bind: ['127.0.0.1'], port: 0, joinAllCoapNodes: false });
    await server.listen();
    try {
      await assert.rejects(attachResourceDirectory(server, { store: dir, joinAllRds: false }), {
        code: 'ERR_COAP_RD_STATE_CORRUPT',
        message: /rd\.json is corrupt: .*start empty/,
      });
      const rd = await attachResourceDirectory(server, { store: dir, startEmpty: true, joinAllRds: false });
      assert.match(rd.warnings()[0]!, /started empty: .*moved to .*rd\.json\.corrupt-/);
      assert.equal(rd.registrations().length, 0);
      assert.ok(readdirSync(dir).some((f) => f.startsWith(`${RD_SNAPSHOT_FILE}.corrupt-`)));
      await rd.close();
    } finally {
      await server.close();
    }
  });

  it(
    'a save that fails is 5.00, undoes that change and every change on top of it, then recovers',
    T,
    async () => {
      // A journal whose appends wait until the test lets them go or fail.
      const gates: Array<{ release: () => void; fail: () => void }> = [];
      let gated = false;
      const journalFs: JournalFs = {
        read: (p) => nodeJournalFs.read(p),
        open: async (p): Promise<JournalFile> => {
          const f = await nodeJournalFs.open(p);
          return {
            ...f,
            append: (data) =>
              gated
                ? new Promise((resolve, reject) =>
                    gates.push({
                      release: () => void f.append(data).then(resolve, reject),
                      fail: () => reject(Object.assign(new Error('disk full'), { code: 'ENOSPC' })),
                    }),
                  )
                : f.append(data),
          };
        },
      };
      const m = await rdMem({ store: new FileRdStore(dir, { journalFs }) });
      try {
        const a = await reg(m, 'ep=a&lt=100');
        const before = summary(m);
        gated = true;
        // Three requesters (a client sends one request at a time to a server, RFC 7252 §4.7).
        const send = async (from: string, path: string) =>
          (await m.client(from)).request({
            uri: `coap://192.0.2.2${path}`,
            method: 'POST',
            payload: Buffer.from('</n>'),
            format: 40,
          });
        // Three changes in flight: the first waits in its append, the others queue behind it.
        const first = send('192.0.2.30', '/rd?ep=b');
        await m.rt.advance(5);
        const second = send(EP, `${a}?lt=5`);
        const third = send('192.0.2.31', '/rd?ep=c');
        await m.rt.advance(5);
        assert.equal(gates.length, 1);
        assert.equal(m.rd.registrations().length, 3, 'applied in memory while being saved');
        gates[0]!.fail();
        const codes = await drive(m.rt, Promise.all([first, second, third]));
        assert.deepEqual(
          codes.map((r) => r.codeString),
          ['5.00', '5.00', '5.00'],
        );
        assert.deepEqual(summary(m), before, 'nothing changed');
        assert.match(m.rd.warnings().join('\n'), /could not be saved: .*ENOSPC/);
        gated = false;
        const b = await reg(m, 'ep=b');
        await m.restart();
        assert.deepEqual(
          summary(m),
          [...before, `${b} b - 90000`],
          'after recovery, only what was acknowledged',
        );
      } finally {
        await m.close();
      }
    },
  );

  it('loses no change that waited for its flush while the journal was folded in', T, async () => {
    const m = await rdMem({ store: new FileRdStore(dir, { compactBytes: 300 }) });
    try {
      // Eight requesters at once: while one flush is followed by a fold, the next batch waits.
      const clients = await Promise.all(Array.from({ length: 8 }, (_, i) => m.client(`192.0.2.${80 + i}`)));
      const acknowledged: string[] = [];
      await drive(
        m.rt,
        Promise.all(
          clients.map(async (c, i) => {
            for (let k = 0; k < 6; k++) {
              const ep = `c${i}-${k}`;
              const r = await c.request({
                uri: `coap://192.0.2.2/rd?ep=${ep}`,
                method: 'POST',
                payload: Buffer.from(`</x/${ep}>;rt="some-type-${k}"`),
                format: 40,
              });
              assert.equal(r.codeString, '2.01');
              acknowledged.push(ep);
            }
          }),
        ),
      );
      assert.equal(acknowledged.length, 48);
      await m.restart();
      assert.deepEqual(
        m.rd
          .registrations()
          .map((r) => r.ep)
          .sort(),
        acknowledged.sort(),
      );
    } finally {
      await m.close();
    }
  });

  it('folds the journal into a snapshot once it outgrows it', T, async () => {
    const m = await rdMem({ store: new FileRdStore(dir, { compactBytes: 2000 }) });
    try {
      const locs: string[] = [];
      for (let i = 0; i < 12; i++) locs.push(await reg(m, `ep=n${i}`, `</a/${i}>;rt="type-${i}"`));
      for (const l of locs.slice(0, 6)) await m.send(EP, { method: 'DELETE', path: l });
      for (const l of locs.slice(6)) await m.send(EP, { method: 'POST', path: `${l}?lt=7777` });
      assert.ok(statSync(join(dir, RD_JOURNAL_FILE)).size < 2000, 'the journal was folded in');
      const snap = readFileSync(join(dir, RD_SNAPSHOT_FILE), 'utf8');
      assert.match(snap, /"ep":"n6"/);
      const before = summary(m);
      await m.restart();
      assert.deepEqual(summary(m), before);
      assert.equal(m.rd.registrations().length, 6);
    } finally {
      await m.close();
    }
  });
});
