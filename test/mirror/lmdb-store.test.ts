import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckService } from '../../src/check/check-service.ts';
import type { ConsentKey, Movement } from '../../src/domain/types.ts';
import { decodeHistory, decodeValue, encodeHistory, encodeValue, keyBuffer, readKey } from '../../src/mirror/lmdb-codec.ts';
import { LmdbStore } from '../../src/mirror/lmdb-store.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { mv, norm } from './store-contract.ts';

const keyOf = (m: Movement): ConsentKey => ({ brandCode: m.brandCode, recipientType: m.recipientType, type: m.type, recipient: m.recipient });

async function fresh(t: Test): Promise<{ dir: string; store: LmdbStore }> {
  const dir = mkdtempSync(join(tmpdir(), 'iys-lmdb-'));
  const store = new LmdbStore({ dataDir: dir });
  await store.open();
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  return { dir, store };
}

t.test('codec: keys and values round-trip; phones pack to nibbles', async (t) => {
  const recipients = ['+905321220006', '+90532122000', '+4416329609612', 'AYSE@xn--rnek-4qa.com.tr', 'ali.veli+iys@example.com', '+', '+9'];
  for (const recipient of recipients) {
    for (const [recipientType, type] of [['BIREYSEL', 'MESAJ'], ['TACIR', 'EPOSTA'], ['TACIR', 'ARAMA']] as const) {
      const k = { brandCode: 4_000_000_000, recipientType, type, recipient };
      t.same(readKey(keyBuffer(k)), k, `${recipient} ${recipientType} ${type}`);
    }
  }
  t.equal(keyBuffer({ brandCode: 7, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+905321220006' }).length, 12, '4 brand + 1 combo + 1 tag + 6 digit bytes');
  const ms: Movement[] = [
    mv({ brandCode: 1, recipient: '+905321220001' }),
    mv({ brandCode: 1, recipient: '+905321220001', transactionId: 'ABCDEF'.repeat(10) + 'ABCD', status: 'RET', noncanonical: true }),
    mv({ brandCode: 1, recipient: '+905321220001', transactionId: 'ş'.repeat(300), source: null, consentDate: null, creationDate: null }),
    mv({ brandCode: 1, recipient: '+905321220001', retailerCode: 0, retailerAccess: [4_294_967_295, 1] }),
    mv({ brandCode: 1, recipient: '+905321220001', retailerCode: null, retailerAccess: [5] }),
    mv({ brandCode: 1, recipient: '+905321220001', transactionId: null, source: 'IYS_FRAME_SMS' }),
  ];
  for (const m of ms) t.same(norm(decodeValue(keyOf(m), encodeValue(m))), norm(m));
  t.equal(encodeValue(ms[0]!).length, 42, 'a usual İYS record is 42 bytes');
  t.same(decodeHistory(keyOf(ms[0]!), encodeHistory(ms)).map(norm), ms.map(norm));
});

t.test('a duplicate of a movement whose transaction is not committed waits for that commit (issue 12 item 2)', async (t) => {
  const { store } = await fresh(t);
  const env = store.environment!;
  const m = mv({ brandCode: 9, recipient: '+905321229999', status: 'RET' });
  // A transaction held open stands for a slow disk: nothing queued behind it can commit.
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const held = env.transaction(() => gate);
  const order: string[] = [];
  const original = store.apply([m]).then((o) => { order.push(`original:${o[0]}`); return o; });
  const duplicate = store.apply([m]).then((o) => { order.push(`duplicate:${o[0]}`); return o; });
  // a variant: the same movement inside a larger batch with another key
  const other = mv({ brandCode: 9, recipient: '+905321229998' });
  const mixed = store.apply([other, m]).then((o) => { order.push(`mixed:${o.join(',')}`); return o; });
  await new Promise((r) => setTimeout(r, 50));
  t.same(order, [], 'nothing acknowledged while the first write is not durable');
  t.equal(store.getSync(keyOf(m)), null, 'uncommitted data is not read as the mirror');
  release();
  await held;
  t.same(await Promise.all([original, duplicate, mixed]), [['applied'], ['duplicate'], ['applied', 'duplicate']]);
  t.same(order, ['original:applied', 'duplicate:duplicate', 'mixed:applied,duplicate'], 'the duplicate answers after (with) the original');
  t.equal(store.getSync(keyOf(m))?.status, 'RET');
  // after the commit, a replay is a duplicate at once (nothing in flight)
  t.same(await store.apply([m]), ['duplicate']);
});

t.test('a later duplicate, queued while the original commits, still resolves after the original', async (t) => {
  const { store } = await fresh(t);
  const env = store.environment!;
  const m = mv({ brandCode: 10, recipient: '+905321228888', status: 'RET' });
  const order: string[] = [];
  const original = store.apply([m]).then(() => order.push('original'));
  let release!: () => void;
  const held = env.transaction(() => new Promise<void>((r) => { release = r; }));
  const duplicate = store.apply([m]).then((o) => { order.push(`duplicate:${o[0]}`); });
  await new Promise((r) => setTimeout(r, 20));
  release();
  await Promise.all([original, held, duplicate]);
  t.same(order, ['original', 'duplicate:duplicate']);
});

t.test('one process per directory: the LOCK guards the LMDB directory against both stores', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iys-lmdb-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const src = new URL('../../src/mirror/lmdb-store.ts', import.meta.url).href;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
    `const { LmdbStore } = await import(${JSON.stringify(src)}); await new LmdbStore({ dataDir: ${JSON.stringify(dir)} }).open(); console.log('open'); setInterval(() => {}, 1000);`,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child did not open the store in 20 s')), 20_000);
    child.stdout!.on('data', (d: Buffer) => { if (String(d).includes('open')) { clearTimeout(timer); resolve(); } });
  });
  await t.rejects(new LmdbStore({ dataDir: dir }).open(), { code: 'GW_ERR_DATA_DIR_LOCKED', message: /Data directory in use by process \d+/ });
  await t.rejects(new MemoryStore({ dataDir: dir }).open(), { code: 'GW_ERR_DATA_DIR_LOCKED', message: /Data directory in use by process \d+/ });
});

t.test('a closed store fails closed: sync reads throw STORE_UNAVAILABLE, checks BLOCK', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iys-lmdb-closed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new LmdbStore({ dataDir: dir });
  await store.open();
  const m = mv({ brandCode: 11, recipient: '+905321227777' });
  await store.apply([m]);
  const checks = new CheckService({ store, policy: { tacirWithoutRecord: 'allow', tacirOverBireyselRet: 'block' } as never, mirrorMaxAgeMs: 0 });
  const req = { brandCode: 11, recipient: m.recipient, type: 'MESAJ', recipientType: 'BIREYSEL', messageType: 'TICARI' } as const;
  t.equal((await checks.check(req)).decision, 'ALLOW');
  await store.close();
  t.throws(() => store.getSync(keyOf(m)), { code: 'GW_ERR_STORE_UNAVAILABLE' });
  t.throws(() => store.peekMany([keyOf(m)]), { code: 'GW_ERR_STORE_UNAVAILABLE' });
  await t.rejects(store.apply([m]), { code: 'GW_ERR_STORE_UNAVAILABLE' });
  t.same(await checks.check(req).then((a) => [a.decision, a.reason]), ['BLOCK', 'STORE_UNAVAILABLE']);
  const batch = await checks.checkBatch({ brandCode: 11, type: 'MESAJ', recipientType: 'BIREYSEL', messageType: 'TICARI' }, [m.recipient]);
  t.same(batch.results.map((r) => r.reason), ['STORE_UNAVAILABLE']);
  t.equal(await store.ping(), false);
});

t.test('history stays bounded per key', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iys-lmdb-hist-'));
  const store = new LmdbStore({ dataDir: dir, historyPerKey: 4 });
  await store.open();
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const ms = Array.from({ length: 10 }, (_, i) => mv({ brandCode: 12, recipient: '+905321226666', status: i % 2 ? 'RET' : 'ONAY',
    consentDate: `2026-03-${String(10 + i)} 10:00:00`, creationDate: `2026-03-${String(10 + i)} 10:00:01` }));
  await store.apply(ms);
  const h = await store.history(keyOf(ms[0]!));
  t.same(h.map((x) => x.consentDate), ms.slice(6).reverse().map((x) => x.consentDate), 'the newest 4, newest first');
});
