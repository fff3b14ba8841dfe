/**
 * The persisted state of the Group Configuration resource (RFC 7390 §2.6.2): the state file
 * codec, and the file store's atomic, durable writes. A crash is replayed at every step of a
 * save, on the real file system (the process dies between two steps) and on a model of what a
 * power loss keeps (only fsynced data and fsynced directory entries); the state read back must
 * always be the old one or the new one, and after an acknowledged save, the new one.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { GroupStateError } from '../../src/group-config/errors.js';
import {
  decodeState,
  emptyState,
  encodeState,
  type GroupConfigState,
} from '../../src/group-config/state-file.js';
import {
  FileGroupConfigStore,
  MemoryGroupConfigStore,
  STATE_FILE_NAME,
} from '../../src/group-config/store.js';
import { formatCollection, parseCollection } from '../../src/group-json/index.js';
import { nodeStoreFs, type StoreFile, type StoreFs } from '../../src/util/store-fs.js';

function state(doc: string, next = 0): GroupConfigState {
  return { groups: parseCollection(doc), next };
}

const OLD = state('{"1":{"a":"239.1.2.3"},"2":{"n":"lights.example.com:5684"}}', 2);
const NEW = state(
  '{"12":{"n":"all-devices.example.com","a":"[ff15::4200:f7fe:ed37:abcd]:4567"},"8":{"a":"224.0.1.187"}}',
  5,
);

function same(a: GroupConfigState | undefined, b: GroupConfigState): boolean {
  return a !== undefined && encodeState(a).equals(encodeState(b));
}

function assertCorrupt(bytes: string | Buffer, fragment: RegExp): void {
  assert.throws(
    () => decodeState(Buffer.from(bytes), '/x/coap-group.json'),
    (e: unknown) =>
      e instanceof GroupStateError &&
      e.code === 'ERR_COAP_GROUP_STATE_CORRUPT' &&
      e.path === '/x/coap-group.json' &&
      fragment.test(e.message),
  );
}

describe('state file codec', () => {
  it('round-trips memberships in creation order, with the allocator position', () => {
    const back = decodeState(encodeState(NEW), 'f');
    assert.deepEqual([...back.groups.keys()], ['12', '8']);
    assert.equal(back.next, 5);
    assert.equal(formatCollection(back.groups), formatCollection(NEW.groups));
  });

  it('writes one membership per line, readable by people', () => {
    const text = encodeState(OLD).toString();
    assert.match(text, /^\{\n {2}"version": 1,\n {2}"next": 2,\n {2}"groups": \[\n/);
    assert.match(text, /\n {4}\["1", \{"a":"239\.1\.2\.3"\}\],\n/);
    assert.equal(
      encodeState(emptyState()).toString(),
      '{\n  "version": 1,\n  "next": 0,\n  "groups": []\n}\n',
    );
  });

  it('rejects every kind of damage with ERR_COAP_GROUP_STATE_CORRUPT and says what is wrong', () => {
    const good = encodeState(OLD).toString();
    assertCorrupt('', /empty/);
    assertCorrupt(good.slice(0, good.length / 2), /not valid JSON/);
    assertCorrupt('garbage\n', /^[^\n]*not valid JSON[^\n]*$/);
    assertCorrupt(Buffer.from([0xff, 0xfe, 0x7b]), /UTF-8/);
    assertCorrupt('[]', /not a JSON object/);
    assertCorrupt('{"version":2,"next":0,"groups":[]}', /version 2/);
    assertCorrupt('{"version":1,"next":-1,"groups":[]}', /"next"/);
    assertCorrupt('{"version":1,"next":0,"groups":{}}', /not an array/);
    assertCorrupt('{"version":1,"next":0,"groups":[],"extra":1}', /unknown key "extra"/);
    assertCorrupt('{"version":1,"next":0,"groups":[["1"]]}', /groups\[0\]/);
    assertCorrupt('{"version":1,"next":0,"groups":[["1",{"a":"10.0.0.1"}]]}', /not a multicast address/);
    assertCorrupt('{"version":1,"next":0,"groups":[["abc",{"a":"239.0.0.1"}]]}', /not 1 or 2/);
    assertCorrupt(
      '{"version":1,"next":0,"groups":[["a",{"a":"239.0.0.1"}],["A",{"a":"239.0.0.2"}]]}',
      /same index|duplicate/,
    );
    assertCorrupt('{"version":1,"version":1,"next":0,"groups":[]}', /duplicate/);
  });
});

describe('MemoryGroupConfigStore', { timeout: 30_000 }, () => {
  it('starts with nothing and gives back what was saved, through the codec', async () => {
    const s = new MemoryGroupConfigStore();
    assert.equal(await s.load(), undefined);
    await s.save(OLD);
    assert.ok(same(await s.load(), OLD));
  });
});

describe('FileGroupConfigStore on the real file system', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'coap-group-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the directory, has no state at first, then keeps what was saved', {
    timeout: 5000,
  }, async () => {
    const store = new FileGroupConfigStore(join(dir, 'a', 'b'));
    assert.equal(await store.load(), undefined);
    assert.equal(await store.save(OLD), undefined);
    assert.ok(same(await new FileGroupConfigStore(join(dir, 'a', 'b')).load(), OLD));
    assert.equal(store.location, join(dir, 'a', 'b', STATE_FILE_NAME));
  });

  it('reports a corrupt file with its path, and an unreadable one as ERR_COAP_GROUP_STATE_IO', {
    timeout: 5000,
  }, async () => {
    writeFileSync(join(dir, STATE_FILE_NAME), '{"version":1,');
    await assert.rejects(new FileGroupConfigStore(dir).load(), (e: unknown) => {
      return (
        e instanceof GroupStateError &&
        e.code === 'ERR_COAP_GROUP_STATE_CORRUPT' &&
        e.message.includes(join(dir, STATE_FILE_NAME))
      );
    });
    rmSync(join(dir, STATE_FILE_NAME));
    mkdirSync(join(dir, STATE_FILE_NAME)); // a directory where the file should be: EISDIR
    await assert.rejects(
      new FileGroupConfigStore(dir).load(),
      (e: unknown) =>
        e instanceof GroupStateError && e.code === 'ERR_COAP_GROUP_STATE_IO' && /EISDIR/.test(e.message),
    );
  });

  it('moves a corrupt file aside on quarantine', { timeout: 5000 }, async () => {
    writeFileSync(join(dir, STATE_FILE_NAME), 'garbage');
    const store = new FileGroupConfigStore(dir);
    const moved = await store.quarantine();
    assert.ok(moved?.startsWith(join(dir, `${STATE_FILE_NAME}.corrupt-`)));
    assert.equal(readFileSync(moved!, 'utf8'), 'garbage');
    assert.equal(await store.load(), undefined);
  });

  it('removes a temporary file a crash left behind and ignores its content', { timeout: 5000 }, async () => {
    const store = new FileGroupConfigStore(dir);
    await store.save(OLD);
    writeFileSync(join(dir, `${STATE_FILE_NAME}.tmp`), encodeState(NEW));
    assert.ok(same(await store.load(), OLD));
    assert.throws(() => readFileSync(join(dir, `${STATE_FILE_NAME}.tmp`)), { code: 'ENOENT' });
  });

  it('leaves the old state or the new one when the process dies between any two steps', {
    timeout: 10000,
  }, async () => {
    const file = join(dir, STATE_FILE_NAME);
    let total = 0;
    for (let k = 0; ; k++) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      await new FileGroupConfigStore(dir).save(OLD);
      let calls = 0;
      let dead = false;
      const observed: string[] = [];
      // The real files the "process" opened: the system closes them when it dies.
      const opened: StoreFile[] = [];
      const check = () => {
        // Before every step the file on disk is complete and is one of the two states.
        const now = decodeState(readFileSync(file), file);
        assert.ok(same(now, OLD) || same(now, NEW), `step ${calls}: neither old nor new`);
      };
      const step = <T>(name: string, run: () => Promise<T>): Promise<T> => {
        check();
        if (dead || calls++ === k) {
          dead = true; // the process is gone: no clean-up runs either
          return Promise.reject(Object.assign(new Error(`crash before ${name}`), { code: 'ECRASH' }));
        }
        observed.push(name);
        return run();
      };
      const fs: StoreFs = {
        readFile: (p) => nodeStoreFs.readFile(p),
        mkdir: (p) => nodeStoreFs.mkdir(p),
        open: (p) =>
          step('open', async () => {
            const f = await nodeStoreFs.open(p);
            opened.push(f);
            const wrapped: StoreFile = {
              write: (d) => step('write', () => f.write(d)),
              sync: () => step('fsync', () => f.sync()),
              close: () => step('close', () => f.close()),
            };
            return wrapped;
          }),
        rename: (a, b) => step('rename', () => nodeStoreFs.rename(a, b)),
        unlink: (p) => step('unlink', () => nodeStoreFs.unlink(p)),
        syncDir: (p) => step('fsync-dir', () => nodeStoreFs.syncDir(p)),
      };
      const outcome = await new FileGroupConfigStore(dir, { fs }).save(NEW).then(
        (warning) => (warning === undefined ? 'durable' : 'warned'),
        () => 'failed',
      );
      for (const f of opened) await f.close().catch(() => {});
      check();
      // What a restart reads: old if the save did not get to the rename, new after it.
      const after = await new FileGroupConfigStore(dir).load();
      if (outcome === 'durable') {
        assert.deepEqual(observed, ['open', 'write', 'fsync', 'close', 'rename', 'fsync-dir']);
        assert.ok(same(after, NEW));
        total = k;
        break;
      }
      const renamed = observed.includes('rename');
      assert.equal(outcome, renamed ? 'warned' : 'failed', `crash at step ${k}`);
      assert.ok(same(after, renamed ? NEW : OLD), `crash at step ${k}`);
    }
    assert.equal(total, 6, 'every one of the six steps was interrupted once');
  });
});

/**
 * A file system that forgets, on `powerLoss()`, what was not made durable: file data not
 * fsynced, directory entries (create, rename) not fsynced through their directory. After
 * `failAfter` steps every call fails, as on a machine that has lost power.
 */
class PowerLossFs implements StoreFs {
  private inodes = new Map<number, { data: Buffer; durable: Buffer }>();
  private names = new Map<string, number>();
  private durableNames = new Map<string, number>();
  private ino = 0;
  steps = 0;
  failAfter = Number.POSITIVE_INFINITY;

  private step(): void {
    if (this.steps++ >= this.failAfter) throw Object.assign(new Error('power lost'), { code: 'EIO' });
  }

  powerLoss(): void {
    this.names = new Map(this.durableNames);
    for (const i of this.inodes.values()) i.data = Buffer.from(i.durable);
    this.failAfter = Number.POSITIVE_INFINITY;
  }

  async readFile(path: string): Promise<Buffer> {
    const i = this.names.get(path);
    if (i === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return Buffer.from(this.inodes.get(i)!.data);
  }
  async mkdir(): Promise<void> {}
  async open(path: string): Promise<StoreFile> {
    this.step();
    let i = this.names.get(path);
    if (i === undefined) {
      i = ++this.ino;
      this.inodes.set(i, { data: Buffer.alloc(0), durable: Buffer.alloc(0) });
      this.names.set(path, i);
    } else this.inodes.get(i)!.data = Buffer.alloc(0);
    const node = this.inodes.get(i)!;
    return {
      write: async (d) => {
        this.step();
        node.data = Buffer.concat([node.data, d]);
      },
      sync: async () => {
        this.step();
        node.durable = Buffer.from(node.data);
      },
      close: async () => this.step(),
    };
  }
  async rename(from: string, to: string): Promise<void> {
    this.step();
    const i = this.names.get(from);
    if (i === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    this.names.set(to, i);
    this.names.delete(from);
  }
  async unlink(path: string): Promise<void> {
    this.step();
    if (!this.names.delete(path)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
  }
  async syncDir(): Promise<void> {
    this.step();
    this.durableNames = new Map(this.names);
  }
}

describe('FileGroupConfigStore under power loss', { timeout: 30_000 }, () => {
  it('has the old or the new state after a power loss at any step, and the new one once save resolved', async () => {
    let durable = false;
    for (let k = 0; !durable; k++) {
      assert.ok(k < 50, 'save never completed');
      const fs = new PowerLossFs();
      await new FileGroupConfigStore('/state', { fs }).save(OLD);
      fs.steps = 0;
      fs.failAfter = k;
      // Resolved without a warning: durable. With one (the directory flush failed): in place.
      const outcome = await new FileGroupConfigStore('/state', { fs }).save(NEW).then(
        (warning) => (warning === undefined ? 'durable' : 'warned'),
        () => 'failed',
      );
      durable = outcome === 'durable';
      fs.powerLoss();
      const back = await new FileGroupConfigStore('/state', { fs }).load();
      if (durable) assert.ok(same(back, NEW), 'an acknowledged save survives a power loss');
      else assert.ok(same(back, OLD) || same(back, NEW), `power loss at step ${k} (${outcome})`);
    }
  });

  it('after N acknowledged saves, a power loss keeps exactly the last one', async () => {
    const fs = new PowerLossFs();
    const store = new FileGroupConfigStore('/state', { fs });
    let last: GroupConfigState = emptyState();
    for (let n = 1; n <= 12; n++) {
      const doc: Record<string, { a: string }> = {};
      for (let j = 1; j <= n; j++) doc[String(j)] = { a: `239.0.${n}.${j}` };
      last = state(JSON.stringify(doc), n);
      await store.save(last);
    }
    fs.powerLoss();
    assert.ok(same(await new FileGroupConfigStore('/state', { fs }).load(), last));
  });

  it('would lose an acknowledged save without the directory fsync (the model is not vacuous)', async () => {
    const fs = new PowerLossFs();
    await new FileGroupConfigStore('/state', { fs }).save(OLD);
    const noDirSync = Object.assign(Object.create(fs) as PowerLossFs, { syncDir: async () => {} });
    await new FileGroupConfigStore('/state', { fs: noDirSync }).save(NEW);
    fs.powerLoss();
    assert.ok(same(await new FileGroupConfigStore('/state', { fs }).load(), OLD));
  });

  it('reports a failed directory flush as a warning: the new state is in place', async () => {
    const fs = new PowerLossFs();
    const flaky = Object.assign(Object.create(fs) as PowerLossFs, {
      syncDir: async () => {
        throw Object.assign(new Error('x'), { code: 'EIO' });
      },
    });
    const warning = await new FileGroupConfigStore('/state', { fs: flaky }).save(NEW);
    assert.match(String(warning), /could not flush its directory \(EIO\)/);
    assert.ok(same(await new FileGroupConfigStore('/state', { fs }).load(), NEW));
  });
});
