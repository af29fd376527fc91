// Local validation rate of an upload file (issue 6 target: ≥ 100,000 rows/s). A stub client
// throws at the first batch submit, so only parsing and validation are timed.
// Run: node --import tsx bench/upload-validate.bench.ts [rows=200000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { bulkUpload } from '../src/iys/bulk-upload.ts';
import type { IysClient } from '../src/iys/client.ts';

const rows = Number(process.argv[2] ?? 200_000);
const csv = 'recipient,type,source,status,consentDate,recipientType\n'
  + Array.from({ length: rows }, (_, i) => i % 10 === 0
    ? `ali.${i}@example.com,EPOSTA,HS_WEB,ONAY,2026-03-11 10:${String(i % 60).padStart(2, '0')}:00,BIREYSEL`
    : `0533 ${String(1_000_000 + i).padStart(7, '0')},MESAJ,HS_WEB,${i % 3 ? 'ONAY' : 'RET'},2026-03-11 10:00:00,BIREYSEL`).join('\n') + '\n';
// Stops the upload right after validation: the first batch submit throws.
const stop = new Error('validation done');
const client = { addConsentBatch: async () => { throw stop; } } as unknown as IysClient;
const dir = mkdtempSync(join(tmpdir(), 'iysgate-bench-val-'));
let secs = 0;
for (let run = 0; run < 3; run++) {
  rmSync(join(dir, 's.json'), { force: true });
  const t0 = process.hrtime.bigint();
  await bulkUpload(Readable.from([csv]), {
    brandCode: 700001, client, store: null, statePath: join(dir, 's.json'), reportPath: join(dir, 'r.csv'),
    now: () => Date.parse('2026-03-12T12:00:00+03:00'),
  }).catch((e) => { if (e !== stop) throw e; });
  secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`run ${run + 1}: ${rows} rows validated in ${secs.toFixed(2)} s = ${Math.round(rows / secs)} rows/s`);
}
rmSync(dir, { recursive: true, force: true });
