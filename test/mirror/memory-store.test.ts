import t from 'tap';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Movement } from '../../src/domain/types.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';

const mv = (over: Partial<Movement>): Movement => ({
  brandCode: 1, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+905320000001', status: 'ONAY',
  source: 'HS_WEB', consentDate: '2025-01-01 10:00:00', creationDate: '2025-01-01 10:00:05',
  transactionId: 'ab'.repeat(32), noncanonical: false, ...over,
});

function tempDir(t: { teardown(fn: () => void): void }) {
  const d = mkdtempSync(join(tmpdir(), 'iysgate-ms-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

t.test('snapshot on close, journal after it, both replayed; record fields round-trip', async (t) => {
  const dir = tempDir(t);
  const a = new MemoryStore({ dataDir: dir });
  await a.open();
  await a.apply([mv({}), mv({ status: 'RET', consentDate: '2025-02-01 10:00:00', source: 'IYS_MOBIL', transactionId: 'tx-not-hex' })]);
  await a.apply([mv({ recipient: 'ali@example.com', type: 'EPOSTA', retailerCode: 77, retailerAccess: [1, 2] })]);
  await a.setMeta('cursor', 'abc');
  await a.close();
  t.ok(readFileSync(join(dir, 'snapshot.log'), 'utf8').length > 0, 'snapshot written');
  t.equal(readFileSync(join(dir, 'journal.log'), 'utf8'), '', 'journal truncated after the snapshot');
  const b = new MemoryStore({ dataDir: dir });
  await b.open();
  await b.apply([mv({ recipient: '+905320000002' })]); // goes to the journal only
  await b.close();
  const c = new MemoryStore({ dataDir: dir });
  await c.open();
  t.teardown(() => c.close());
  t.equal(await c.size(), 3);
  const rec = await c.get({ brandCode: 1, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+905320000001' });
  t.match(rec, { status: 'RET', source: 'IYS_MOBIL', consentDate: '2025-02-01 10:00:00', transactionId: 'tx-not-hex' });
  const hist = await c.history({ brandCode: 1, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+905320000001' });
  t.same(hist.map((h) => h.status), ['RET', 'ONAY']);
  t.equal(hist[1]!.transactionId, 'ab'.repeat(32));
  const mail = await c.get({ brandCode: 1, recipientType: 'BIREYSEL', type: 'EPOSTA', recipient: 'ali@example.com' });
  t.match(mail, { retailerCode: 77, retailerAccess: [1, 2] });
  t.equal(await c.getMeta('cursor'), 'abc');
});

t.test('a torn last journal record (crash mid-write) is truncated with a warning; earlier records survive', async (t) => {
  const dir = tempDir(t);
  const a = new MemoryStore({ dataDir: dir });
  await a.open();
  await a.apply([mv({})]);
  // simulate kill -9: no close(), plus half a line appended
  appendFileSync(join(dir, 'journal.log'), '1\tB\tM\t+9053200000');
  const warnings: string[] = [];
  const b = new MemoryStore({ dataDir: dir, warn: (m) => warnings.push(m) });
  await b.open();
  t.teardown(() => b.close());
  t.equal(await b.size(), 1);
  t.match(warnings.join('\n'), /torn last record/);
});

t.test('a second process cannot open a data directory in use', async (t) => {
  const dir = tempDir(t);
  const a = new MemoryStore({ dataDir: dir });
  await a.open();
  t.teardown(() => a.close());
  // a lock held by a live process other than this one
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)']);
  t.teardown(() => child.kill());
  await a.close();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'LOCK'), String(child.pid));
  const b = new MemoryStore({ dataDir: dir });
  await t.rejects(b.open(), /in use by process/);
});

t.test('ordering and idempotency per key', async (t) => {
  const s = new MemoryStore({ dataDir: null });
  await s.open();
  const key = { brandCode: 1, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+905320000009' } as const;
  t.same(await s.apply([mv({ ...key, status: 'RET', consentDate: '2025-03-01 10:00:00' })]), ['applied']);
  t.same(await s.apply([mv({ ...key, status: 'ONAY', consentDate: '2025-02-01 10:00:00' })]), ['ignoredOlder'], 'late older movement changes nothing');
  t.same(await s.apply([mv({ ...key, status: 'ONAY', consentDate: '2025-02-01 10:00:00' })]), ['duplicate'], 'same movement twice');
  t.same(await s.apply([mv({ ...key, status: 'RET', consentDate: '2025-03-01 10:00:00' })]), ['duplicate']);
  t.equal((await s.get(key))!.status, 'RET');
  // same second, same transactionId, RET wins the tie
  const k2 = { ...key, recipient: '+905320000010' };
  const out = await s.apply([mv({ ...k2, status: 'RET', transactionId: 'cd'.repeat(32) }), mv({ ...k2, status: 'ONAY', transactionId: 'cd'.repeat(32) })]);
  t.same(out, ['applied', 'ignoredOlder']);
  t.equal((await s.get(k2))!.status, 'RET');
  const hist = await s.history(k2);
  t.equal(hist.length, 2, 'both movements kept although they share a transactionId');
});

t.test('the journal is compacted while running, without losing what is written meanwhile', async (t) => {
  const dir = tempDir(t);
  const a = new MemoryStore({ dataDir: dir, compactJournalBytes: 4096 });
  await a.open();
  // concurrent writers across many compactions; no clean close afterwards (a crash)
  const all = Array.from({ length: 400 }, (_, i) => mv({ recipient: `+90532${String(3000000 + i)}` }));
  await Promise.all(Array.from({ length: 40 }, (_, k) => (async () => {
    for (let j = k; j < all.length; j += 40) await a.apply([all[j]!]);
  })()));
  await a.maybeCompact();
  t.ok(a.journalBytes < 4096 + 2000, `journal kept small (${a.journalBytes} bytes)`);
  t.ok(readFileSync(join(dir, 'snapshot.log'), 'utf8').length > 0, 'snapshots written while running');
  const b = new MemoryStore({ dataDir: dir });
  await b.open();
  t.teardown(() => b.close());
  t.equal(await b.size(), 400, 'every acknowledged movement survives');
});

t.test('a closed durable store refuses writes (GW_ERR_STORE_UNAVAILABLE) instead of acknowledging what would not reach the journal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-closed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new MemoryStore({ dataDir: dir });
  const m = mv({ status: 'RET', source: 'HS_MESAJ', consentDate: '2026-12-01 10:00:00' });
  await t.rejects(store.apply([m]), { code: 'GW_ERR_STORE_UNAVAILABLE' }, 'before open');
  await store.open();
  t.same(await store.apply([m]), ['applied']);
  await store.close();
  await t.rejects(store.apply([{ ...m, consentDate: '2026-12-01 11:00:00' }]), { code: 'GW_ERR_STORE_UNAVAILABLE' }, 'after close');
  await t.rejects(store.setMeta('x', 'y'), { code: 'GW_ERR_STORE_UNAVAILABLE' });
  const again = new MemoryStore({ dataDir: dir });
  await again.open();
  t.teardown(() => again.close());
  t.equal((await again.get(m))?.consentDate, '2026-12-01 10:00:00', 'only the acknowledged write is on disk');
});
