// lmdb-import-sink.ts: movements encoded on the parser thread (EncodedBatch) and applied with
// LmdbWriter.applyEncoded in bounded transactions write the same bytes, with the same outcomes,
// as LmdbWriter.applyOne of each movement in order (the store's one write rule).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Movement } from '../../src/domain/types.ts';
import { LmdbWriter, openLmdbDatabases } from '../../src/mirror/lmdb-apply.ts';
import { valueAppliedAt } from '../../src/mirror/lmdb-codec.ts';
import { EncodedBatch, LmdbImportSink, type OutcomeCounts } from '../../src/mirror/lmdb-import-sink.ts';
import { mv } from './store-contract.ts';

/** A seeded mix: new keys, later and older movements of held keys, exact duplicates, e-mails, long fields. */
function movements(n: number): Movement[] {
  let s = 7;
  const rnd = () => { s = (s * 1_103_515_245 + 12_345) % 2_147_483_648; return s / 2_147_483_648; };
  const out: Movement[] = [];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(rnd() * n * 0.6);
    const day = String(1 + Math.floor(rnd() * 28)).padStart(2, '0');
    const m = mv({
      brandCode: 7, recipient: k % 5 === 0 ? `user${k}@example.com` : `+90532${String(k).padStart(7, '0')}`,
      type: k % 5 === 0 ? 'EPOSTA' : 'MESAJ', status: rnd() < 0.3 ? 'RET' : 'ONAY',
      consentDate: `2026-10-${day} 10:00:00`, creationDate: `2026-11-${day} 10:00:00`,
      transactionId: k % 7 === 0 ? 'ab'.repeat(32) : k % 11 === 0 ? 'x'.repeat(3000) : `tx${i}`,
      ...(k % 13 === 0 ? { retailerCode: k, retailerAccess: [1, 2, k] } : {}),
      noncanonical: k % 17 === 0,
    });
    out.push(m);
    if (rnd() < 0.05) out.push({ ...m }); // an exact duplicate
  }
  return out;
}

function dump(path: string): Array<[string, string, string]> {
  const dbs = openLmdbDatabases(path, 2 ** 30);
  const rows: Array<[string, string, string]> = [];
  for (const [name, db] of [['records', dbs.records], ['history', dbs.history]] as const) {
    for (const { key, value } of db.getRange()) {
      let v = Buffer.from(value);
      if (name === 'records') {
        // a record ends with the time it was applied (6 bytes, flag 64): the two runs differ there only
        if (valueAppliedAt(v) === null) throw new Error('a record without its applied time');
        v = Buffer.from(v.subarray(0, v.length - 6)); v[0] = v[0]! & ~64;
      }
      rows.push([name, Buffer.from(key as Uint8Array).toString('hex'), v.toString('hex')]);
    }
  }
  // timeline keys end in applied time and a writer sequence (11 bytes): compare the consent key
  // and the value, as a sorted set (a replaced record enters at the time it had been applied, and
  // those times differ between one transaction and many: so does the order within a key)
  const tl: Array<[string, string, string]> = [];
  for (const { key, value } of dbs.timeline.getRange()) {
    const k = Buffer.from(key as Uint8Array);
    tl.push(['timeline', k.subarray(0, k.length - 11).toString('hex'), Buffer.from(value).toString('hex')]);
  }
  rows.push(...tl.sort((x, y) => (x[1] + x[2] < y[1] + y[2] ? -1 : x[1] + x[2] > y[1] + y[2] ? 1 : 0)));
  void dbs.env.close();
  return rows;
}

t.test('encoded batches applied in bounded transactions = applyOne in order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iys-sink-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ms = movements(20_000);

  // reference: applyOne, one transaction
  const refPath = join(dir, 'ref.mdb');
  const ref = openLmdbDatabases(refPath, 2 ** 30);
  const writer = new LmdbWriter(ref.records, ref.history, 3, { db: ref.timeline });
  writer.appliedAt = Date.now() - 60_000; // before the sink's: same order of entries within a key
  const want: OutcomeCounts = { applied: 0, ignoredOlder: 0, duplicate: 0 };
  ref.env.transactionSync(() => { for (const m of ms) want[writer.applyOne(m)]++; });
  await ref.env.close();

  // batches of uneven sizes, transactions of 777 movements (a transaction ends inside a batch)
  const path = join(dir, 'sink.mdb');
  const sink = new LmdbImportSink({ lmdbPath: path, mapSizeBytes: 2 ** 30, historyPerKey: 3, txnRows: 777 });
  const got: OutcomeCounts = { applied: 0, ignoredOlder: 0, duplicate: 0 };
  const add = (c: OutcomeCounts) => { got.applied += c.applied; got.ignoredOlder += c.ignoredOlder; got.duplicate += c.duplicate; };
  const b = new EncodedBatch(64);
  let commits = 0;
  for (let i = 0; i < ms.length; i++) {
    b.add(ms[i]!);
    if (i % 313 === 0 || i % 1000 === 999) {
      const x = b.take()!;
      sink.addBatch(x.bytes, x.length, x.count);
      const before = sink.committedRows;
      add(sink.commit(false));
      if (sink.committedRows > before) commits++;
      t.ok(sink.backlog < 777, 'commit(false) leaves less than one transaction queued');
    }
  }
  const x = b.take();
  if (x) sink.addBatch(x.bytes, x.length, x.count);
  add(sink.commit(true));
  t.equal(sink.backlog, 0);
  t.equal(sink.committedRows, ms.length);
  await sink.close();
  t.ok(commits > 20, `${commits} commits`);
  t.same(got, want, `outcomes ${JSON.stringify(want)}`);
  t.ok(want.ignoredOlder > 0 && want.duplicate > 0 && want.applied > 0, 'every outcome occurs');
  const a = dump(refPath);
  const c = dump(path);
  t.equal(c.length, a.length, `${a.length} records, history and timeline entries`);
  t.same(c, a, 'byte-identical records (but their applied times) and history; the same timeline entries');
  // the timeline holds what a key's current record replaced and what it ignored (timeline.ts)
  const records = c.filter((r) => r[0] === 'records').length;
  t.equal(c.filter((r) => r[0] === 'timeline').length, want.applied - records + want.ignoredOlder,
    'a timeline entry per replaced record and per ignored older movement');
});

t.test('a transaction cut by time commits what it applied; the rest follows', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iys-sink-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ms = movements(5000);
  const sink = new LmdbImportSink({ lmdbPath: join(dir, 's.mdb'), mapSizeBytes: 2 ** 30, historyPerKey: 3, txnRows: 10_000, txnMs: 1 });
  const b = new EncodedBatch();
  for (const m of ms) b.add(m);
  const x = b.take()!;
  t.equal(x.count, ms.length);
  sink.addBatch(x.bytes, x.length, x.count);
  const c = sink.commit(true);
  t.equal(c.applied + c.ignoredOlder + c.duplicate, ms.length);
  t.equal(sink.committedRows, ms.length);
  await sink.close();
});
