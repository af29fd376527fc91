/**
 * `npm run bench`: runs every benchmark of issue 2 "Speed and size" in sequence, each in its own
 * Node process (so one's heap and JIT state never colour the next), then prints a summary of
 * `bench/results/*.json` against the targets.
 *
 *   1. bench/normalize.bench.ts   micro-benchmark of recipient normalization (hot function)
 *      bench/lookup.bench.ts      per-recipient CPU cost of each check step, in process
 *   2. bench/check.bench.ts       POST /v1/check vs baseline (req/s ratio ≥ 0.75, p99 ratio ≤ 2)
 *   3. bench/batch.bench.ts       POST /v1/check/batch × 1,000 (≥ 500,000 recipients/s)
 *   4. bench/import.bench.ts      1,000,000-row import (≥ 100,000 rows/s), memory (≤ 200 B/consent),
 *                                 restart (≤ 5 s), CLI import end to end
 *
 * Run: `npm run bench` (= `node --import tsx bench/run-all.ts`) [-- --only check,batch] [-- --profile]
 * Exit code: 0 when every benchmark ran (targets missed are reported, not failures: these are
 * benchmarks, not tests); 1 when one crashed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_DIR, RESULTS_DIR, ROOT, fmt, machine } from './lib/harness.ts';

const { values } = parseArgs({ options: { only: { type: 'string' }, profile: { type: 'boolean' } } });
const only = values.only ? new Set(values.only.split(',')) : null;
const steps: Array<{ name: string; file: string; nodeArgs?: string[]; args?: string[] }> = [
  { name: 'normalize', file: 'normalize.bench.ts' },
  { name: 'lookup', file: 'lookup.bench.ts' },
  { name: 'check', file: 'check.bench.ts', args: values.profile ? ['--profile'] : [] },
  { name: 'batch', file: 'batch.bench.ts', args: values.profile ? ['--profile'] : [] },
  { name: 'import', file: 'import.bench.ts', nodeArgs: ['--expose-gc'] },
];

const m = machine();
console.log(`iys-gate benchmarks — ${new Date().toISOString()} — ${m.cpus} × ${m.model}, Node ${m.node}, ${m.platform}\n`);
const ran: string[] = [];
let failed = false;
for (const s of steps) {
  if (only && !only.has(s.name)) continue;
  if (!existsSync(join(BENCH_DIR, s.file))) { console.log(`(skipping ${s.file}: not present)`); continue; }
  console.log(`━━ ${s.file} ━━`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [...(s.nodeArgs ?? []), '--import', 'tsx', join(BENCH_DIR, s.file), ...(s.args ?? [])], {
    cwd: ROOT, stdio: 'inherit', timeout: 300_000,
  });
  console.log(`(${s.file}: ${((Date.now() - t0) / 1000).toFixed(0)} s, exit ${r.status ?? r.signal})\n`);
  if (r.status !== 0) failed = true; else ran.push(s.name);
}

const read = (name: string): Record<string, any> | null => { // eslint-disable-line @typescript-eslint/no-explicit-any -- result files are our own JSON, read field by field for printing
  const f = join(RESULTS_DIR, `${name}.json`);
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
};
const mark = (ok: boolean | undefined) => (ok === undefined ? '—' : ok ? 'PASS' : 'MISS');
const rows: string[][] = [];
const c = ran.includes('check') ? read('check') : null;
if (c) {
  const B = c.baseline.aggregate; const G = c.gateway.aggregate;
  rows.push(['POST /v1/check req/s', `${fmt(G.reqPerSec)} vs baseline ${fmt(B.reqPerSec)}`, `${c.ratios.reqPerSec.toFixed(2)}×`, '≥ 0.75×', mark(c.targets.reqPerSec.ok)]);
  rows.push(['POST /v1/check p99', `${G.p99.toFixed(2)} ms vs baseline ${B.p99.toFixed(2)} ms`, `${c.ratios.p99.toFixed(2)}×`, '≤ 2×', mark(c.targets.p99.ok)]);
  rows.push(['  server CPU per request', `${G.serverCpuUsPerReq.toFixed(1)} µs vs baseline ${B.serverCpuUsPerReq.toFixed(1)} µs`, `${c.ratios.serverCpuPerReq.toFixed(2)}×`, '(info)', '']);
}
const b = ran.includes('batch') ? read('batch') : null;
if (b) {
  rows.push(['POST /v1/check/batch ×1,000', `${fmt(b.gateway.recipientsPerSec)} recipients/s vs baseline ${fmt(b.baseline.recipientsPerSec)}`, `${b.ratios.recipientsPerSec.toFixed(2)}×`, '≥ 500,000/s', mark(b.targets.recipientsPerSec.ok)]);
  rows.push(['  server CPU per recipient', `${b.gateway.cpuUsPerRecipient.toFixed(2)} µs vs baseline ${(b.baseline.aggregate.serverCpuUsPerReq / b.size).toFixed(2)} µs`, '', '(info)', '']);
}
const l = ran.includes('lookup') ? read('lookup') : null;
if (l) {
  const ns = l.nsPerRecipient as Record<string, number>;
  rows.push(['  in process, CPU ns/recipient', `checkBatch ${ns['CheckService.checkBatch (per recipient)']?.toFixed(0)}, store.getSync ${ns['store.getSync(key) (full record decode)']?.toFixed(0)}, Map.get ${ns['baseline: Map.get(canonical)']?.toFixed(0)}`, '', '(info)', '']);
}
const i = ran.includes('import') ? read('import') : null;
if (i) {
  rows.push(['Import 1,000,000 rows', `${fmt(i.import.rowsPerSec)} rows/s wall (${i.import.seconds.toFixed(1)} s), ${fmt(i.import.rowsPerCpuSecond)} rows/CPU-s; csv-parse+Map ${fmt(i.baseline.csvParseMapRowsPerSec)} rows/s`, '', '≥ 100,000/s', mark(i.targets.rowsPerSec.ok)]);
  rows.push(['Mirror memory', `${i.memory.bytesPerConsent.toFixed(0)} B/consent (${fmt(i.import.consents)} consents)`, '', '≤ 200 B', mark(i.targets.bytesPerConsent.ok)]);
  rows.push(['Restart (open on same dir)', `${i.restart.openSeconds.toFixed(2)} s wall (${i.restart.openCpuSeconds.toFixed(2)} s CPU); process → /readyz ${i.restart.processReadySeconds.toFixed(2)} s`, '', '≤ 5 s', mark(i.targets.restartOpenS.ok)]);
  if (i.cli) rows.push(['CLI import end to end', `${i.cli.seconds.toFixed(1)} s (${fmt(i.cli.rowsPerSec)} rows/s)`, '', '(info)', '']);
}
if (rows.length) {
  const w = [0, 1, 2, 3, 4].map((k) => Math.max(...rows.map((r) => r[k]!.length)));
  console.log('SUMMARY');
  for (const r of rows) console.log(r.map((x, k) => x.padEnd(w[k]!)).join('  '));
}
process.exitCode = failed ? 1 : 0;
