// import-worker.ts: the worker parser gives the same report and mirror as the loop parser.
import { Readable } from 'node:stream';
import t from 'tap';
import { importCsv } from '../../src/mirror/importer.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';

const HEADER = 'creationDate,transactionId,recipient,recipientType,type,status,consentDate,source';
const row = (n: number) => `2026-11-01 10:00:00,tx${n},+90532${String(n).padStart(7, '0')},BIREYSEL,MESAJ,${n % 3 ? 'ONAY' : 'RET'},2026-11-01 10:00:00,HS_WEB`;

async function run(parser: 'loop' | 'worker', chunks: string[]) {
  const store = new MemoryStore({ dataDir: null });
  await store.open();
  const report = await importCsv(Readable.from(chunks), { brandCode: 7, store, parser, maxErrors: 5 });
  return { report, store };
}

t.test('same report and records from both parsers, bad rows included', async (t) => {
  const lines = [HEADER, ...Array.from({ length: 12_000 }, (_, i) => (i % 1000 === 7 ? 'broken,row' : i % 1500 === 3 ? row(i).replace('+90532', '+90212x') : row(i)))];
  lines.splice(500, 0, '"open quote', 'still open",x');
  const text = lines.join('\n') + '\n';
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 7001) chunks.push(text.slice(i, i + 7001));
  const loop = await run('loop', chunks);
  const worker = await run('worker', chunks);
  t.same(worker.report, loop.report);
  t.ok(loop.report.rejected > 5 && loop.report.errors.length === 5, `${loop.report.rejected} rejected, 5 errors kept`);
  t.equal(await worker.store.size(), await loop.store.size());
  for (const n of [0, 1, 3, 11_999]) {
    const key = { brandCode: 7, recipientType: 'BIREYSEL' as const, type: 'MESAJ' as const, recipient: `+90532${String(n).padStart(7, '0')}` };
    t.same(await worker.store.get(key), await loop.store.get(key));
  }
});

t.test('a header matching no layout is GW_ERR_IMPORT_FORMAT from the worker too; the worker stops', async (t) => {
  await t.rejects(run('worker', ['a,b,c\n1,2,3\n']), { code: 'GW_ERR_IMPORT_FORMAT', statusCode: 400 });
  await t.rejects(run('worker', ['']), { code: 'GW_ERR_IMPORT_FORMAT', message: /empty body/ });
});

t.test('parallel imports beyond the worker cap parse on the loop, same results', async (t) => {
  const text = [HEADER, ...Array.from({ length: 3000 }, (_, i) => row(i))].join('\n') + '\n';
  const runs = await Promise.all(Array.from({ length: 6 }, () => run('worker', [text])));
  for (const r of runs) t.match(r.report, { rows: 3000, applied: 3000, rejected: 0 });
});

// With an LMDB store the worker applies the rows itself (lmdb-import-sink.ts), in transactions of
// its own on the same environment: same report and records as the loop, visible to reads on this
// thread as soon as the import resolves, and an aborted import leaves the writer lock free.
t.test('LMDB: the worker applies the rows itself; same report and records as the loop', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { LmdbStore } = await import('../../src/mirror/lmdb-store.ts');
  const dirs: string[] = [];
  t.teardown(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
  const open = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iw-lmdb-'));
    dirs.push(dir);
    const store = new LmdbStore({ dataDir: dir });
    await store.open();
    t.teardown(() => store.close());
    return store;
  };
  // 12,000 rows, each key twice (the second an older or newer movement), bad rows included
  const lines = [HEADER];
  for (let i = 0; i < 6000; i++) lines.push(i % 1000 === 7 ? 'broken,row' : row(i));
  for (let i = 0; i < 6000; i++) lines.push(row(i).replace('2026-11-01 10:00:00,HS_WEB', i % 2 ? '2026-11-02 10:00:00,HS_WEB' : '2026-10-01 10:00:00,HS_WEB').replace(/,tx(\d+),/, ',ty$1,').replace(i % 4 === 0 ? 'ONAY' : 'RET', i % 4 === 0 ? 'RET' : 'ONAY'));
  const text = lines.join('\n') + '\n';
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 5003) chunks.push(text.slice(i, i + 5003));
  const loop = await open();
  const worker = await open();
  const loopReport = await importCsv(Readable.from(chunks), { brandCode: 7, store: loop, parser: 'loop', maxErrors: 5 });
  // 1,000-movement transactions: the import commits many times, never through this thread's apply
  let applyCalls = 0;
  const apply = worker.apply.bind(worker);
  worker.apply = async (ms) => { applyCalls++; return apply(ms); };
  const workerReport = await importCsv(Readable.from(chunks), { brandCode: 7, store: worker, parser: 'worker', maxErrors: 5, workerTxnRows: 1000 });
  t.same(workerReport, loopReport);
  t.equal(applyCalls, 0, 'the worker wrote the rows (no apply on this thread)');
  t.ok(loopReport.applied > 6000 && loopReport.ignoredOlder > 0 && loopReport.rejected === 6, `${loopReport.applied} applied, ${loopReport.ignoredOlder} older, ${loopReport.rejected} rejected`);
  t.equal(await worker.size(), await loop.size());
  for (const n of [0, 1, 2, 3, 5999]) {
    const key = { brandCode: 7, recipientType: 'BIREYSEL' as const, type: 'MESAJ' as const, recipient: `+90532${String(n).padStart(7, '0')}` };
    t.same(worker.getSync(key), loop.getSync(key), `record ${n} read synchronously right after the import`);
    t.same(await worker.history(key), await loop.history(key), `history ${n}`);
  }

  // an import whose input fails mid-way: rejected, and the store still takes writes at once
  const failing = Readable.from((async function* () { yield chunks[0]!; yield chunks[1]!; throw new Error('client went away'); })());
  await t.rejects(importCsv(failing, { brandCode: 7, store: worker, parser: 'worker', workerTxnRows: 10 }), /client went away/);
  const m = { brandCode: 7, recipientType: 'BIREYSEL' as const, type: 'ARAMA' as const, recipient: '+905329999999', status: 'RET' as const, source: 'HS_WEB' as const, consentDate: '2026-11-03 10:00:00', creationDate: null, transactionId: null, noncanonical: false };
  t.same(await worker.apply([m]), ['applied'], 'a refusal after the aborted import is written (the writer lock is free)');
  t.equal(worker.getSync(m)?.status, 'RET');
});

t.test('the import worker thread runs at a lower CPU priority than the request loop (Linux)', { skip: process.platform !== 'linux' }, async (t) => {
  const { readdirSync, readFileSync } = await import('node:fs');
  await run('worker', [`${HEADER}\n${row(1)}\n`]); // the worker ran its start-up code
  const nice = (task: string) => Number(readFileSync(`/proc/self/task/${task}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
  const tasks = readdirSync('/proc/self/task');
  const loop = nice(String(process.pid));
  if (loop >= 10) { t.pass(`the whole process already runs at nice ${loop}: nothing to lower`); return; }
  t.ok(tasks.some((x) => nice(x) === 10), `one thread (the import worker) at nice 10, the request loop at ${loop}`);
});
