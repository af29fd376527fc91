// Quick import timing (no baselines): node --import tsx bench/lib/imp-quick.ts FILE [worker|loop] [lmdb|memory] [KEEP_DIR]
// (KEEP_DIR: import into that directory and keep it, e.g. for store-open.bench.ts)
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg, getPriority, setPriority } from 'node:os';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { importCsv } from '../../src/mirror/importer.ts';
import { LmdbStore } from '../../src/mirror/lmdb-store.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
const file = process.argv[2]!; const parser = (process.argv[3] ?? 'worker') as 'worker' | 'loop'; const kind = process.argv[4] ?? 'lmdb';
const keep = process.argv[5];
const dir = keep ?? mkdtempSync(join(tmpdir(), 'impq-'));
const store = kind === 'lmdb' ? new LmdbStore({ dataDir: dir }) : new MemoryStore({ dataDir: dir });
await store.open();
// NICE0=1: the import worker thread back at nice 0 (as root), for throughput runs on a shared machine
if (process.env.NICE0) setInterval(() => { for (const t of readdirSync('/proc/self/task')) { try { if (getPriority(Number(t)) > 0) setPriority(Number(t), 0); } catch { /* gone */ } } }, 200).unref();
const t = performance.now(); const c = process.cpuUsage();
const r = await importCsv(createReadStream(file), { brandCode: 7, store, parser });
const s = (performance.now() - t) / 1000; const cu = process.cpuUsage(c); const cpu = (cu.user + cu.system) / 1e6;
console.log(JSON.stringify({ kind, parser, rows: r.rows, applied: r.applied, wall: +s.toFixed(2), rowsPerS: Math.round(r.rows / s), cpuMain: +cpu.toFixed(2), load: loadavg()[0] }));
const c2 = process.cpuUsage(); const t2 = performance.now(); await store.close();
console.log(JSON.stringify({ closeS: +((performance.now() - t2) / 1000).toFixed(3), loadEnd: loadavg()[0], cpuPerRowUs: +((cu.user + cu.system) / r.rows).toFixed(2), rowsPerCpuS: Math.round(r.rows / cpu), closeCpuS: (process.cpuUsage(c2).user) / 1e6 }));
if (!keep) rmSync(dir, { recursive: true, force: true });
