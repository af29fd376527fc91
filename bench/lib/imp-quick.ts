// Quick import timing (no baselines): node --import tsx bench/lib/imp-quick.ts FILE [worker|loop] [lmdb|memory]
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { importCsv } from '../../src/mirror/importer.ts';
import { LmdbStore } from '../../src/mirror/lmdb-store.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
const file = process.argv[2]!; const parser = (process.argv[3] ?? 'worker') as 'worker' | 'loop'; const kind = process.argv[4] ?? 'lmdb';
const dir = mkdtempSync(join(tmpdir(), 'impq-'));
const store = kind === 'lmdb' ? new LmdbStore({ dataDir: dir }) : new MemoryStore({ dataDir: dir });
await store.open();
const t = performance.now(); const c = process.cpuUsage();
const r = await importCsv(createReadStream(file), { brandCode: 7, store, parser });
const s = (performance.now() - t) / 1000; const cu = process.cpuUsage(c); const cpu = (cu.user + cu.system) / 1e6;
console.log(JSON.stringify({ kind, parser, rows: r.rows, applied: r.applied, wall: +s.toFixed(2), rowsPerS: Math.round(r.rows / s), cpuMain: +cpu.toFixed(2), load: loadavg()[0] }));
await store.close(); rmSync(dir, { recursive: true, force: true });
