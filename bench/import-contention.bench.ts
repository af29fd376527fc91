/**
 * Issue 12 item 6: do imports starve checks? One gateway process (embedded store, a 100,000-row
 * mirror), single `POST /v1/check` at a fixed offered rate (autocannon `overallRate`, below
 * capacity, so latency is service time plus whatever the import makes it wait): first idle, then
 * while a 1,000,000-row İYS daily file (≈150 MB) is streamed into `POST /v1/mirror/import` on the
 * same gateway. Target: p99 during the import ≤ 2 × idle p99 + 5 ms.
 *
 *   node --import tsx bench/import-contention.bench.ts [--parsers worker,loop] [--rows 1000000] [--rate 500] [--connections 10] [--window 5] [--max 240]
 *
 * Each `--parsers` mode (config `importParser`) gets its own gateway and fresh mirror, in sequence.
 *
 * Bounded: the import gets at most `--max` seconds; the check load runs in `--window`-second
 * windows while the import runs. Figures: bench/README.md ("Imports and checks").
 */
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { generateDaily } from './gen-daily.ts';
import { DATA_DIR, HOST, fmt, formatRun, machine, runLoad, stopChild, writeResult, type LoadResult } from './lib/harness.ts';
import { AUTH, BRAND, checkBodies, prepareMirror, startGateway } from './lib/workload.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' }, rate: { type: 'string', default: '500' },
    connections: { type: 'string', default: '10' }, window: { type: 'string', default: '5' }, max: { type: 'string', default: '240' },
    idle: { type: 'string', default: '10' }, parsers: { type: 'string', default: 'worker,loop' },
  },
});
const rows = Number(values.rows);
const params = { connections: Number(values.connections), durationS: Number(values.window), pipelining: 1, overallRate: Number(values.rate) };

const big = join(DATA_DIR, `iys-daily-${rows}-contention.csv`);
await generateDaily({ rows, out: big, seed: 3 });
const bytes = statSync(big).size;
console.log(`machine: ${JSON.stringify(machine())}`);
console.log(`import file ${fmt(rows)} rows, ${fmt(bytes / 1e6, 1)} MB; check load ${params.overallRate} req/s over ${params.connections} connections, ${params.durationS} s windows`);

interface ModeResult { mode: string; idle: LoadResult; windows: LoadResult[]; importSeconds: number; status: number; report: unknown; medianP99: number; worstP99: number; boundMs: number }

/** One gateway with `importParser: mode` on a fresh 100,000-row mirror: idle p99, then p99 during the import. */
async function runMode(mode: string): Promise<ModeResult> {
  const m = await prepareMirror(100_000);
  const gw = await startGateway(m, [], { importParser: mode });
  const { bodies } = checkBodies(m, 1000);
  const requests = bodies.map((b) => ({ body: JSON.stringify(b) }));
  console.log(`\n== importParser: ${mode} (gateway pid ${gw.pid}, mirror ${fmt(m.consents)} consents)`);
  await runLoad('warm-up', gw, '/v1/check', requests, { ...params, durationS: 3 }, AUTH);
  const idle = await runLoad('idle', gw, '/v1/check', requests, { ...params, durationS: Number(values.idle) }, AUTH);
  console.log(formatRun(idle));
  const t0 = performance.now();
  let importDone = false;
  let importMs = 0;
  const imp = request(`http://${HOST}:${gw.port}/v1/mirror/import?brandCode=${BRAND}`, {
    method: 'POST', headers: { ...AUTH, 'content-type': 'text/csv' }, body: createReadStream(big),
    headersTimeout: Number(values.max) * 1000, bodyTimeout: Number(values.max) * 1000,
  }).then(async (r) => {
    const report = await r.body.json() as { rows: number };
    importMs = performance.now() - t0;
    importDone = true;
    return { status: r.statusCode, report };
  });
  const windows: LoadResult[] = [];
  while (!importDone && performance.now() - t0 < Number(values.max) * 1000) {
    const w = await runLoad(`import +${Math.round((performance.now() - t0) / 1000)}s`, gw, '/v1/check', requests, params, AUTH);
    windows.push(w);
    console.log(formatRun(w));
  }
  const result = await imp;
  await stopChild(gw);
  const p99s = windows.map((w) => w.p99).sort((a, b) => a - b);
  const medianP99 = p99s[p99s.length >> 1] ?? NaN;
  const worstP99 = p99s[p99s.length - 1] ?? NaN;
  const boundMs = 2 * idle.p99 + 5;
  console.log(`import: ${result.status} ${JSON.stringify(result.report)} in ${fmt(importMs / 1000, 1)} s = ${fmt(result.report.rows / (importMs / 1000))} rows/s`);
  console.log(`check p99 idle ${fmt(idle.p99, 2)} ms; during the import: median window p99 ${fmt(medianP99, 2)} ms, worst window ${fmt(worstP99, 2)} ms; bound 2×idle+5 = ${fmt(boundMs, 2)} ms → worst ${worstP99 <= boundMs ? 'within' : 'MISSED'}, median ${medianP99 <= boundMs ? 'within' : 'MISSED'}`);
  return { mode, idle, windows, importSeconds: importMs / 1000, status: result.status, report: result.report, medianP99, worstP99, boundMs };
}

const results: ModeResult[] = [];
for (const mode of String(values.parsers).split(',')) results.push(await runMode(mode));
console.log('\nsummary');
for (const r of results) {
  console.log(`${r.mode.padEnd(7)} idle p99 ${fmt(r.idle.p99, 2).padStart(6)} ms | during import p99 median ${fmt(r.medianP99, 2).padStart(7)} ms, worst ${fmt(r.worstP99, 2).padStart(7)} ms | ratio median/idle ${fmt(r.medianP99 / r.idle.p99, 2)} | bound ${fmt(r.boundMs, 2)} ms | import ${fmt(r.importSeconds, 1)} s`);
}
writeResult('import-contention', { rows, bytes, params, results });
