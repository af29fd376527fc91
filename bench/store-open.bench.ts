/**
 * Restart, shutdown and lookup cost of an existing LMDB mirror directory (issue 11): opens
 * `<dir>/mirror/consents.mdb` with LmdbStore (wall time of open(), consents held), reads `--keys`
 * recipients of the given CSV with getSync and peekMany (ns per lookup, cold then warm page cache),
 * then starts a whole gateway process on the directory (spawn → /readyz 200) and stops it
 * (SIGTERM → exit).
 *
 * Run: `node --import tsx bench/store-open.bench.ts --dir DATA_DIR --csv FILE [--keys 200000]`
 */
import { createReadStream } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { ConsentKey, ConsentType, RecipientType } from '../src/domain/types.ts';
import { LmdbStore } from '../src/mirror/lmdb-store.ts';
import { fmt, freePort, startChild, stopChild, writeResult } from './lib/harness.ts';

const { values } = parseArgs({ options: { dir: { type: 'string' }, csv: { type: 'string' }, keys: { type: 'string' }, name: { type: 'string' } } });
if (!values.dir || !values.csv) throw new Error('--dir DATA_DIR --csv FILE');
const N = Number(values.keys ?? 200_000);
console.log(`machine: load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

const keys: ConsentKey[] = [];
let header = true;
for await (const line of createInterface({ input: createReadStream(values.csv), crlfDelay: Infinity })) {
  if (header) { header = false; continue; }
  const f = line.split(',');
  if (f.length !== 8) continue;
  keys.push({ brandCode: 7, recipientType: f[3] as RecipientType, type: f[4] as ConsentType, recipient: f[2]! });
  if (keys.length >= N) break;
}

let t = process.hrtime.bigint();
const store = new LmdbStore({ dataDir: join(values.dir, 'mirror') });
await store.open();
const openS = Number(process.hrtime.bigint() - t) / 1e9;
const consents = await store.size();
console.log(`open(): ${(openS * 1000).toFixed(1)} ms for ${fmt(consents)} consents`);

const timed = (label: string, fn: () => number) => {
  const c0 = process.cpuUsage(); const t0 = process.hrtime.bigint();
  const hits = fn();
  const ns = Number(process.hrtime.bigint() - t0) / keys.length;
  const c = process.cpuUsage(c0);
  const cpuNs = ((c.user + c.system) * 1000) / keys.length;
  console.log(`${label.padEnd(28)} ${ns.toFixed(0).padStart(6)} ns/lookup wall, ${cpuNs.toFixed(0).padStart(6)} ns CPU (${fmt(hits)} hits of ${fmt(keys.length)})`);
  return { ns, cpuNs, hits };
};
const getCold = timed('getSync (first pass)', () => { let h = 0; for (const k of keys) if (store.getSync(k)) h++; return h; });
const getWarm = timed('getSync (warm)', () => { let h = 0; for (const k of keys) if (store.getSync(k)) h++; return h; });
const peek = timed('peekMany ×1000 (warm)', () => { let h = 0; for (let i = 0; i < keys.length; i += 1000) for (const r of store.peekMany(keys.slice(i, i + 1000))) if (r) h++; return h; });
await store.close();

const port = await freePort();
t = process.hrtime.bigint();
const gw = await startChild({
  name: 'gateway', script: 'src/server.ts', port, readyPath: '/readyz', timeoutMs: 120_000,
  env: { IYS_GATE_PORT: String(port), IYS_GATE_HOST: '127.0.0.1', IYS_GATE_DATA_DIR: values.dir, IYS_GATE_STORE: 'lmdb', IYS_GATE_API_KEY: 'bench-key-0123456789abcdef' },
});
const readyS = Number(process.hrtime.bigint() - t) / 1e9;
t = process.hrtime.bigint();
await stopChild(gw, 'SIGTERM', 60_000);
const closeS = Number(process.hrtime.bigint() - t) / 1e9;
console.log(`gateway process: spawn → /readyz 200 ${readyS.toFixed(2)} s; SIGTERM → exit ${closeS.toFixed(2)} s`);
writeResult(values.name ?? `store-open-${consents}`, { consents, openSeconds: openS, getSync: { cold: getCold, warm: getWarm }, peekMany: peek, processReadySeconds: readyS, processCloseSeconds: closeS, loadavg: loadavg() });
