// raw LMDB put strategies on the 1M file's keys: node --import tsx bench/lib/lmdb-raw.ts FILE MODE TXN
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { ImportRowParser } from '../../src/mirror/import-rows.ts';
import { writeKey, encodeValueInto } from '../../src/mirror/lmdb-codec.ts';
import type { Movement } from '../../src/domain/types.ts';
const [file, mode = 'plain', txnS = '5000', wm = '0'] = process.argv.slice(2);
const TXN = Number(txnS);
const ms: Movement[] = [];
const p = new ImportRowParser(7, '2099-01-01 00:00:00', (m) => ms.push(m), () => {});
p.push(readFileSync(file!, 'utf8')); p.end();
const N = ms.length;
const keys: Buffer[] = new Array(N); const vals: Buffer[] = new Array(N);
const sc = Buffer.allocUnsafe(4096);
for (let i = 0; i < N; i++) { const m = ms[i]!; let n = writeKey(m, sc); keys[i] = Buffer.from(sc.subarray(0, n)); n = encodeValueInto(m, sc, 0); vals[i] = Buffer.from(sc.subarray(0, n)); }
ms.length = 0;
const dir = mkdtempSync(join(tmpdir(), 'lraw-'));
const env = open({ path: join(dir, 'x.mdb'), noSubdir: true, maxDbs: 4, mapSize: 64 * 1024 ** 3, overlappingSync: false, noMemInit: true, encoding: 'binary', keyEncoding: 'binary', useWritemap: wm === '1' });
const db = env.openDB<Buffer, Buffer>({ name: 'records', encoding: 'binary', keyEncoding: 'binary' });
const c0 = process.cpuUsage(); const t0 = performance.now();
for (let s = 0; s < N; s += TXN) {
  let idx = Array.from({ length: Math.min(TXN, N - s) }, (_, j) => s + j);
  if (mode.includes('sort')) idx.sort((a, b) => Buffer.compare(keys[a]!, keys[b]!));
  env.transactionSync(() => {
    for (const i of idx) { if (!mode.includes('noget')) db.getBinaryFast(keys[i]!); db.put(keys[i]!, vals[i]!); }
  });
}
const t = (performance.now() - t0) / 1000; const c = process.cpuUsage(c0);
console.log(JSON.stringify({ mode, TXN, wm, N, wall: +t.toFixed(2), rowsPerS: Math.round(N / t), usCpuPerRow: +((c.user + c.system) / N).toFixed(2), sysUs: +(c.system / N).toFixed(2) }));
await env.close(); rmSync(dir, { recursive: true, force: true });
