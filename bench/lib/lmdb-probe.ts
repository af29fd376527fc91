// Progress of an import into an LMDB file, read from another process (LMDB readers never block):
// node --import tsx bench/lib/lmdb-probe.ts FILE.mdb [INTERVAL_S]  → one JSON line per interval
import { loadavg } from 'node:os';
import { open } from 'lmdb';
const [path, every = '60'] = process.argv.slice(2);
const env = open({ path: path!, noSubdir: true, maxDbs: 4, readOnly: true, encoding: 'binary', keyEncoding: 'binary' });
const db = env.openDB({ name: 'records', encoding: 'binary', keyEncoding: 'binary' });
let last = { t: performance.now(), n: 0 };
const tick = () => {
  env.resetReadTxn();
  const n = (db.getStats() as { entryCount: number }).entryCount;
  const t = performance.now();
  console.log(JSON.stringify({ at: new Date().toISOString().slice(11, 19), consents: n, rowsPerS: Math.round((n - last.n) / ((t - last.t) / 1000)), load: +loadavg()[0]!.toFixed(1) }));
  last = { t, n };
};
tick();
setInterval(tick, Number(every) * 1000);
