import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../src/config/schema.ts';
import type { ConsentKey, Movement } from '../../src/domain/types.ts';
import { LmdbStore } from '../../src/mirror/lmdb-store.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { openStore } from '../../src/mirror/open-store.ts';
import { mv, norm } from './store-contract.ts';

const keyOf = (m: Movement): ConsentKey => ({ brandCode: m.brandCode, recipientType: m.recipientType, type: m.type, recipient: m.recipient });
const ROOT = new URL('../../', import.meta.url).pathname;

/** Writes a mirror the way the memory-store release does: a snapshot (clean close) and a journal written after it. */
async function writeOldDir(dataDir: string): Promise<{ keys: ConsentKey[]; expect: Map<string, { rec: unknown; hist: unknown[] }>; meta: Record<string, string>; close: () => Promise<void> }> {
  const mirror = join(dataDir, 'mirror');
  const first = new MemoryStore({ dataDir: mirror });
  await first.open();
  const ms: Movement[] = [];
  for (let i = 0; i < 300; i++) {
    ms.push(mv({ brandCode: 7, recipient: `+90532${String(1_000_000 + i)}`, status: i % 3 ? 'ONAY' : 'RET', type: i % 2 ? 'MESAJ' : 'ARAMA' }));
  }
  ms.push(mv({ brandCode: 8, recipient: 'ayse@example.com', type: 'EPOSTA', recipientType: 'TACIR', source: null, consentDate: null, retailerCode: 5, retailerAccess: [1, 2] }));
  // history: a key with an older movement arriving late and a newer one
  const h0 = mv({ brandCode: 7, recipient: '+905329990000', consentDate: '2026-03-02 09:00:00' });
  ms.push(h0, { ...h0, status: 'RET', consentDate: '2026-03-05 09:00:00', transactionId: 'not-hex id' }, { ...h0, consentDate: '2026-03-01 09:00:00', transactionId: null });
  await first.apply(ms);
  await first.setMeta('mirror.freshAt', '1764600000000');
  await first.setMeta('sync.7.HS.after', 'cursor-hs-1');
  await first.close(); // snapshot.log
  const second = new MemoryStore({ dataDir: mirror });
  await second.open();
  const later = [mv({ brandCode: 7, recipient: '+905329990000', status: 'ONAY', consentDate: '2026-03-09 09:00:00' }), mv({ brandCode: 9, recipient: '+905551112233', status: 'RET' })];
  await second.apply(later);
  await second.setMeta('sync.7.HS.after', 'cursor-hs-2');
  await second.setMeta('sync.9.IYS.after', 'cursor-iys-9');
  await second.setMeta('reconcile.7.last', '2026-11-30');
  await second.setMeta('upload.42.state', 'a meta name no list knows'); // every name is copied, not a fixed list
  // no close: journal.log holds what came after the snapshot, as after a crash
  const keys = [...new Map([...ms, ...later].map((m) => [JSON.stringify(keyOf(m)), keyOf(m)])).values()];
  const expect = new Map<string, { rec: unknown; hist: unknown[] }>();
  for (const k of keys) expect.set(JSON.stringify(k), { rec: norm(await second.get(k)), hist: (await second.history(k)).map(norm) });
  const meta = { 'mirror.freshAt': '1764600000000', 'sync.7.HS.after': 'cursor-hs-2', 'sync.9.IYS.after': 'cursor-iys-9', 'reconcile.7.last': '2026-11-30', 'upload.42.state': 'a meta name no list knows' };
  return { keys, expect, meta, close: () => second.close() };
}

t.test('a memory-store directory opens with store=lmdb: every record, history and meta migrated, old files moved aside', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iys-migrate-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const { keys, expect, meta } = await writeOldDir(dataDir);
  const mirror = join(dataDir, 'mirror');
  const sizes = { snapshot: statSync(join(mirror, 'snapshot.log')).size, journal: statSync(join(mirror, 'journal.log')).size };
  t.ok(sizes.snapshot > 0 && sizes.journal > 0, 'both legacy files hold data');

  const progress: number[][] = [];
  const store = await openStore(configSchema.parse({ dataDir, store: 'lmdb' }), () => {}, { onMigrationProgress: (d, n) => progress.push([d, n]) });
  t.ok(store instanceof LmdbStore);
  t.equal(await store.size(), keys.length);
  for (const k of keys) {
    const want = expect.get(JSON.stringify(k))!;
    t.same(norm(await store.get(k)), want.rec, `record ${k.recipient}`);
    t.same((await store.history(k)).map(norm), want.hist, `history ${k.recipient}`);
  }
  t.equal((await store.history({ brandCode: 7, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+905329990000' })).length, 4, 'the four movements of the key');
  for (const [name, value] of Object.entries(meta)) t.equal(await store.getMeta(name), value, `meta ${name}`);
  t.same(progress.at(-1), [keys.length, keys.length], 'progress reached the total');

  t.notOk(existsSync(join(mirror, 'snapshot.log')), 'snapshot.log no longer in the mirror directory');
  t.notOk(existsSync(join(mirror, 'journal.log')), 'journal.log no longer in the mirror directory');
  const moved = readdirSync(mirror).filter((n) => n.startsWith('legacy-memory-store-'));
  t.equal(moved.length, 1);
  t.equal(statSync(join(mirror, moved[0]!, 'snapshot.log')).size, sizes.snapshot, 'snapshot kept unchanged');
  t.equal(statSync(join(mirror, moved[0]!, 'journal.log')).size, sizes.journal, 'journal kept unchanged');
  t.notOk(existsSync(join(mirror, moved[0]!, '.reading')), 'the scratch copy is gone');
  await store.close();

  // a second start does not migrate again; a write after migration stays
  const again = await openStore(configSchema.parse({ dataDir, store: 'lmdb' }), () => {}, { onMigrationProgress: () => t.fail('migrated twice') });
  t.equal(await again.size(), keys.length);
  await again.close();
});

t.test('a migration cut short (files moved, not marked done) is finished by the next start', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iys-migrate-cut-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const { keys, meta } = await writeOldDir(dataDir);
  const mirror = join(dataDir, 'mirror');
  const { migrateLegacyMirror } = await import('../../src/mirror/migrate-store.ts');
  // first attempt: move the files aside, then "crash" before anything is written (target refuses writes)
  const target = new LmdbStore({ dataDir: mirror });
  await target.open();
  const putStates = target.putStates.bind(target);
  target.putStates = async () => { throw new Error('killed'); };
  await t.rejects(migrateLegacyMirror(mirror, target), /killed/);
  target.putStates = putStates;
  await target.close();
  t.notOk(existsSync(join(mirror, 'snapshot.log')));
  const store = await openStore(configSchema.parse({ dataDir, store: 'lmdb' }), () => {});
  t.equal(await store.size(), keys.length, 'every record after the second start');
  t.equal(await store.getMeta('sync.9.IYS.after'), meta['sync.9.IYS.after']);
  await store.close();
});

t.test('iys-gate migrate: the CLI command migrates and reports the records', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iys-migrate-cli-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const { keys, close } = await writeOldDir(dataDir);
  await close(); // another process migrates: this one lets go of the directory (a clean stop of the old release)
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/iys-gate.js'), 'migrate', '--no-progress'], {
    cwd: ROOT, env: { ...process.env, IYS_GATE_DATA_DIR: dataDir, IYS_GATE_STORE: 'memory' }, encoding: 'utf8', timeout: 60_000,
  });
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { store: 'lmdb', records: keys.length });
  t.match(r.stderr, /migration \d+\/\d+ records/);
  t.ok(readdirSync(join(dataDir, 'mirror')).some((n) => n.startsWith('legacy-memory-store-')));
});
