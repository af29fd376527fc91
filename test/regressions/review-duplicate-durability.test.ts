// Issue 12 item 2 (review finding): with a slow disk, a second identical refusal was answered 201
// `duplicate` before the first one's journal write was on disk; a crash then brought back ALLOW.
// A write that finds an identical movement still in flight now waits for that write's
// durability (MemoryStore.apply → AppendLog.sync()), on every path that calls the store: refusals,
// imports, İYS pushes. The slow disk is a file layer injected into the store (append-log.ts LogFs):
// its write and fdatasync wait for the test to release them.
import t, { type Test } from 'tap';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApp, loggerOptions } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Movement } from '../../src/domain/types.ts';
import { nodeLogFs, type LogFs } from '../../src/mirror/append-log.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { KeyRing } from '../../src/plugins/api-keys.ts';

const KEY = 'dup-durability-key-0123456789';
const BRAND = 700001;
const PUSH = { username: 'iys-push', password: 'push-secret-123' };

/** A disk whose writes and fdatasyncs wait while held. */
function slowDisk() {
  let gate: Promise<void> | null = null;
  let open: () => void = () => undefined;
  const wait = async () => { while (gate) await gate; };
  const fs: LogFs = {
    write: async (fh, data, p) => { await wait(); await nodeLogFs.write(fh, data, p); },
    datasync: async (fh, p) => { await wait(); await nodeLogFs.datasync(fh, p); },
  };
  return {
    fs,
    hold() { gate = new Promise<void>((r) => { open = r; }); },
    release() { gate = null; open(); },
  };
}

function tempDir(t: Test) {
  const d = mkdtempSync(join(tmpdir(), 'iysgate-dup-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** What a crash at this instant leaves: a store opened on a copy of the journal as it is on disk now. */
async function afterCrash(t: Test, storeDir: string): Promise<MemoryStore> {
  const dir = join(tempDir(t), 'mirror');
  mkdirSync(dir);
  copyFileSync(join(storeDir, 'journal.log'), join(dir, 'journal.log'));
  const s = new MemoryStore({ dataDir: dir });
  await s.open();
  t.teardown(() => s.close());
  return s;
}

const ticks = (n = 20) => new Promise((r) => setTimeout(r, n));

const ret = (recipient: string): Movement => ({
  brandCode: BRAND, recipientType: 'BIREYSEL', type: 'MESAJ', recipient, status: 'RET', source: 'HS_MESAJ',
  consentDate: '2026-11-20 10:00:00', creationDate: null, transactionId: null, noncanonical: false,
});

t.test('store: a duplicate of a movement still being written resolves only once that write is durable', async (t) => {
  const dir = tempDir(t);
  const disk = slowDisk();
  const s = new MemoryStore({ dataDir: dir, fs: disk.fs });
  await s.open();
  t.teardown(() => s.close());
  const key = { brandCode: BRAND, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+905321110001' } as const;
  disk.hold();
  const order: string[] = [];
  const first = s.apply([ret(key.recipient)]).then((o) => { order.push('first'); return o; });
  const second = s.apply([ret(key.recipient)]).then((o) => { order.push('second'); return o; });
  // a batch mixing a new movement and the in-flight duplicate waits too (its own append is later)
  const mixed = s.apply([ret(key.recipient), ret('+905321110002')]).then((o) => { order.push('mixed'); return o; });
  await ticks();
  t.same(order, [], 'nothing answered while the disk holds the first write');
  t.equal(s.getSync(key)?.status, 'RET', 'the refusal already blocks in memory');
  t.equal((await afterCrash(t, dir)).getSync(key), null, 'a crash now would lose it: not on disk yet');
  disk.release();
  t.same(await first, ['applied']);
  t.same(await second, ['duplicate']);
  t.same(await mixed, ['duplicate', 'applied']);
  t.same(order, ['first', 'second', 'mixed']);
  t.equal((await afterCrash(t, dir)).getSync(key)?.status, 'RET');
  // nothing in flight: a duplicate answers at once
  t.same(await s.apply([ret(key.recipient)]), ['duplicate']);
});

t.test('store: when the original write fails, its duplicate fails too (never a durable-looking duplicate)', async (t) => {
  const dir = tempDir(t);
  let fail = false;
  const fs: LogFs = { ...nodeLogFs, datasync: async (fh, p) => { await ticks(5); if (fail) throw Object.assign(new Error('EIO: fdatasync'), { code: 'EIO' }); await nodeLogFs.datasync(fh, p); } };
  const s = new MemoryStore({ dataDir: dir, fs });
  await s.open();
  t.teardown(() => s.close().catch(() => undefined));
  fail = true;
  const first = s.apply([ret('+905321110003')]);
  const second = s.apply([ret('+905321110003')]);
  await t.rejects(first, { code: 'GW_ERR_STORE_UNAVAILABLE', statusCode: 503, cause: { code: 'EIO' } });
  await t.rejects(second, { code: 'GW_ERR_STORE_UNAVAILABLE', cause: { code: 'EIO' } });
  await t.rejects(s.apply([ret('+905321110003')]), { code: 'GW_ERR_STORE_UNAVAILABLE', message: /writes are refused until a restart/ }, 'the journal stays failed: no later duplicate answer either');
  t.equal(await s.ping(), false, 'readiness reports the failed journal');
});

t.test('routes: a second identical refusal, import row or push item is acknowledged only after the first is on disk', async (t) => {
  const root = tempDir(t);
  const disk = slowDisk();
  const config = loadConfig({
    env: { IYS_GATE_API_KEY: KEY },
    overrides: {
      dataDir: root, logLevel: 'warn', mirrorMaxAgeMs: 0,
      iys: { baseUrl: 'http://127.0.0.1:9', iysCode: BRAND, username: 'u', password: 'p', brands: [BRAND], push: PUSH, pullIntervalMs: 0, uploadIntervalMs: 0 },
    },
  });
  const storeDir = join(root, 'mirror');
  const store = new MemoryStore({ dataDir: storeDir, fs: disk.fs });
  await store.open();
  const sink = new Writable({ write(_c, _e, cb) { cb(); } });
  const app = await buildApp(config, { store, keys: new KeyRing(config), logger: loggerOptions(config, sink) });
  t.teardown(async () => { disk.release(); await app.close(); await store.close(); });
  const bearer = { authorization: `Bearer ${KEY}` };
  const basic = { authorization: 'Basic ' + Buffer.from(`${PUSH.username}:${PUSH.password}`).toString('base64') };

  const cases: Array<{ name: string; recipient: string; send: () => Promise<{ statusCode: number; json(): any }>; dupOf: (b: any) => boolean }> = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    {
      name: 'refusal', recipient: '+905321110010',
      send: () => app.inject({ method: 'POST', url: '/v1/rejections', headers: bearer, payload: { brandCode: BRAND, recipient: '+905321110010', type: 'MESAJ', receivedAt: '2026-11-20T07:00:00Z' } }),
      dupOf: (b) => b.outcome === 'duplicate',
    },
    {
      name: 'import row', recipient: '+905321110011',
      send: () => app.inject({
        method: 'POST', url: `/v1/mirror/import?brandCode=${BRAND}`, headers: { ...bearer, 'content-type': 'text/csv' },
        payload: 'creationDate,transactionId,recipient,recipientType,type,status,consentDate,source\n2026-11-20 10:00:01,tx-dup-1,+905321110011,BIREYSEL,MESAJ,RET,2026-11-20 10:00:00,HS_WEB\n',
      }),
      dupOf: (b) => b.duplicate === 1,
    },
    {
      name: 'push item', recipient: '+905321110012',
      send: () => app.inject({
        method: 'POST', url: '/v1/iys/push', headers: basic,
        payload: { list: [{ iysCode: BRAND, brandCode: BRAND, recipient: '+905321110012', recipientType: 'BIREYSEL', type: 'MESAJ', status: 'RET', source: 'IYS_MOBIL', consentDate: '2026-11-21 10:00:00', creationDate: '2026-11-21 10:00:01', transactionId: 'cd'.repeat(32) }] },
      }),
      dupOf: (b) => b.duplicate === 1,
    },
  ];
  for (const c of cases) {
    const key = { brandCode: BRAND, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: c.recipient } as const;
    disk.hold();
    const first = c.send();
    // the first is applied in memory, its write held (an import parses on a worker thread: allow a loaded machine 20 s)
    for (let i = 0; i < 2000 && store.getSync(key) === null; i++) await ticks(10);
    t.equal(store.getSync(key)?.status, 'RET', `${c.name}: the first is in memory, its journal write held`);
    let crashCopy: MemoryStore | null = null;
    const second = c.send().then(async (r) => { crashCopy = await afterCrash(t, storeDir); return r; });
    let answered = false;
    void second.then(() => { answered = true; });
    await ticks(50);
    t.equal(answered, false, `${c.name}: the duplicate is not answered while the original is not durable`);
    disk.release();
    const [a, b] = await Promise.all([first, second]);
    t.ok(a.statusCode < 300 && b.statusCode < 300, `${c.name}: both acknowledged (${a.statusCode}, ${b.statusCode})`);
    t.ok(c.dupOf(b.json()), `${c.name}: the second is the duplicate (${JSON.stringify(b.json())})`);
    t.equal(crashCopy!.getSync(key)?.status, 'RET', `${c.name}: a crash at the instant of the duplicate's answer keeps the refusal`);
  }
});
