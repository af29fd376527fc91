/**
 * Issue 15 "Speed and size": `/v1/check` and `/v1/check/batch` with the decision log on
 * (`decisions.log: all`) against the same gateway with it off, in the same run (alternating runs,
 * same mirror: a 100,000-row daily file imported once, its data directory copied for the second
 * gateway), plus the bytes each decision took on disk (segments before compression).
 *
 * Targets: check req/s with the log ≥ 0.9 × without; batch (1,000 recipients per request) with the
 * log ≥ 500,000 recipients/s; ≤ 48 bytes per decision.
 *
 * Run: `node --import tsx bench/decision-log-http.bench.ts [--rounds 2] [--duration 10]`
 */
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { aggregate, fmt, formatRun, runLoad, stopChild, writeResult, type LoadParams, type LoadResult } from './lib/harness.ts';
import { AUTH, batchBodies, benchMirror, checkBodies, startGateway } from './lib/workload.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, duration: { type: 'string' }, rows: { type: 'string' } } });
const ROUNDS = Number(values.rounds ?? 2);
const DURATION = Number(values.duration ?? 10);
const { mirror } = await benchMirror(undefined, Number(values.rows ?? 100_000));
const onDir = mirror.dataDir + '-log';
rmSync(onDir, { recursive: true, force: true });
cpSync(mirror.dataDir, onDir, { recursive: true });
const off = await startGateway(mirror, [], { decisions: { log: 'off' } });
const on = await startGateway({ ...mirror, dataDir: onDir }, [], { decisions: { log: 'all' } });

const checks = checkBodies(mirror, 1000).bodies.map((b) => ({ body: JSON.stringify(b) }));
const batches = batchBodies(mirror, 20, 1000).bodies.map((b) => ({ body: JSON.stringify(b) }));
const checkP: LoadParams = { connections: 50, durationS: DURATION, pipelining: 1 };
const batchP: LoadParams = { connections: 8, durationS: DURATION, pipelining: 1 };
const warm = (p: LoadParams): LoadParams => ({ ...p, durationS: 3 });
for (const g of [off, on]) {
  await runLoad(`warm-up ${g === on ? 'log on' : 'log off'}`, g, '/v1/check', checks, warm(checkP), AUTH);
  await runLoad(`warm-up batch ${g === on ? 'log on' : 'log off'}`, g, '/v1/check/batch', batches, warm(batchP), AUTH);
}
const runs: Record<'checkOff' | 'checkOn' | 'batchOff' | 'batchOn', LoadResult[]> = { checkOff: [], checkOn: [], batchOff: [], batchOn: [] };
for (let r = 1; r <= ROUNDS; r++) {
  for (const [k, g] of [['checkOff', off], ['checkOn', on]] as const) { const x = await runLoad(`${k} #${r}`, g, '/v1/check', checks, checkP, AUTH); console.log(formatRun(x)); runs[k]!.push(x); }
  for (const [k, g] of [['batchOff', off], ['batchOn', on]] as const) { const x = await runLoad(`${k} #${r}`, g, '/v1/check/batch', batches, batchP, AUTH); console.log(formatRun(x)); runs[k]!.push(x); }
}
const A = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, aggregate(v)])) as unknown as Record<keyof typeof runs, LoadResult>;
await stopChild(on, 'SIGTERM');
await stopChild(off, 'SIGTERM');
const dir = join(onDir, 'decisions');
let segBytes = 0;
for (const f of readdirSync(dir)) if (f.startsWith('seg-')) segBytes += statSync(join(dir, f)).size;
// every measured and warm-up decision of the log-on gateway is in its log: count them by verify
const { verifyDecisionLogs } = await import('../src/check/decision-log/verify.ts');
const v = verifyDecisionLogs([dir]);
// raw bytes per decision: the segments are compressed after rotation; the raw size is the frames' sum
const { segmentBlocks } = await import('../src/check/decision-log/reader.ts');
const { readManifest } = await import('../src/check/decision-log/segments.ts');
let raw = 0;
for (const s of readManifest(dir)!.segments) for (const b of segmentBlocks(dir, s, {})) raw += b.payload.length + 9;
const ratio = A.checkOn.reqPerSec / A.checkOff.reqPerSec;
const batchOn = A.batchOn.reqPerSec * 1000; const batchOff = A.batchOff.reqPerSec * 1000;
const perDecision = raw / Math.max(1, v.records);
console.log(`\n/v1/check: log off ${fmt(A.checkOff.reqPerSec)} req/s (${A.checkOff.serverCpuUsPerReq.toFixed(1)} µs CPU/req), log on ${fmt(A.checkOn.reqPerSec)} req/s (${A.checkOn.serverCpuUsPerReq.toFixed(1)} µs CPU/req): ${ratio.toFixed(3)}× (target ≥ 0.9: ${ratio >= 0.9 ? 'PASS' : 'FAIL'})`);
console.log(`/v1/check/batch ×1000: log off ${fmt(batchOff)} recipients/s, log on ${fmt(batchOn)} recipients/s (${(batchOn / batchOff).toFixed(3)}×; target ≥ 500,000/s: ${batchOn >= 500_000 ? 'PASS' : 'FAIL'})`);
console.log(`on disk: ${fmt(v.records)} decisions (chain ${v.ok ? 'ok' : 'BROKEN'}), ${fmt(raw)} bytes of frames before compression = ${perDecision.toFixed(1)} B/decision (target ≤ 48: ${perDecision <= 48 ? 'PASS' : 'FAIL'}), ${fmt(segBytes)} bytes in files (${(segBytes / Math.max(1, v.records)).toFixed(1)} B/decision after compression of closed segments)`);
const file = writeResult('decision-log-http', {
  rounds: ROUNDS, durationS: DURATION, runs, aggregate: A, checkRatio: ratio, batchOn, batchOff, records: v.records, rawBytes: raw, fileBytes: segBytes, bytesPerDecision: perDecision,
  targets: { checkRatio: { value: ratio, target: '≥ 0.9', ok: ratio >= 0.9 }, batch: { value: batchOn, target: '≥ 500000', ok: batchOn >= 500_000 }, bytes: { value: perDecision, target: '≤ 48', ok: perDecision <= 48 } },
});
console.log(`results: ${file}`);
rmSync(mirror.dataDir, { recursive: true, force: true });
rmSync(onDir, { recursive: true, force: true });
