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
