/**
 * Issue 15 "Speed and size", the writer and the readers on a large generated log: N decisions
 * (default 100,000,000) over 10 days written directly with the log's writer (SegmentWriter:
 * recipient HMACs, block chain, fdatasync per block, rotation by size and day, zlib + recipient
 * filters after rotation), then
 * - bytes per decision on disk before compression (the frames) and after (the files);
 * - a recipient lookup (GET /v1/decisions' reader) over all N: target ≤ 1 s;
 * - `audit verify` of all N: target ≥ 5,000,000 records/s.
 *
 * Bounded: `--records N` (default 100M, ~4.6 GB of frames written, ~1.3 GB kept after
 * compression), data in bench/data/decisions-<N> reused by later runs unless `--fresh`.
 * Run: `node --import tsx bench/decision-log.bench.ts [--records 100000000] [--fresh]`
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DATA_DIR, fmt, writeResult } from './lib/harness.ts';
import { SegmentWriter } from '../src/check/decision-log/segment-writer.ts';
import { RECORD_BYTES, encodeRecord } from '../src/check/decision-log/record-format.ts';
import { queryDecisions } from '../src/check/decision-log/reader.ts';
import { readManifest } from '../src/check/decision-log/segments.ts';
import { verifyDecisionLogs } from '../src/check/decision-log/verify.ts';

const { values } = parseArgs({ options: { records: { type: 'string' }, fresh: { type: 'boolean' }, batch: { type: 'string' } } });
const N = Number(values.records ?? 100_000_000);
const BATCH = Number(values.batch ?? 16_384);
const DISTINCT = Math.min(10_000_000, Math.max(1000, Math.floor(N / 10))); // each recipient decided ~10 times over the 10 days (7 digits after +90555)
const KEY = { id: 1, key: Buffer.alloc(32, 42) };
const T0 = Date.UTC(2026, 2, 1, 5, 0, 0);
const SPAN = 10 * 86_400_000;
const dir = join(DATA_DIR, `decisions-${N}`);
const recipientOf = (i: number) => `+90555${String((i * 7919) % DISTINCT).padStart(7, '0')}`;

if (values.fresh) rmSync(dir, { recursive: true, force: true });
let writeS: number | null = null;
const done = existsSync(dir) && (readManifest(dir)?.segments.reduce((n, s) => n + s.records, 0) ?? 0) >= N;
if (!done) {
  rmSync(dir, { recursive: true, force: true });
  let clock = T0;
  const w = await SegmentWriter.open({ dir, segmentBytes: 64 * 1024 * 1024, retentionDays: 100_000, hmacKeys: [KEY], currentKeyId: 1, zlibLevel: 6, now: () => clock });
  const t0 = performance.now();
  const f = {
    timeMs: 0, seq: 0, index: 0, brandCode: 7, type: 'MESAJ' as const, recipientType: 'BIREYSEL' as const, declaredMessageType: 'TICARI' as const, messageType: 'TICARI' as const,
    decision: 'ALLOW' as 'ALLOW' | 'BLOCK', reason: 'CONSENT_ONAY' as 'CONSENT_ONAY' | 'CONSENT_RET', entrance: 'batch' as const, lint: 'not-run' as const,
    consentStatus: 'ONAY' as 'ONAY' | 'RET', source: 'HS_WEB' as const, consentDateS: 1_760_000_000, ref: 0, contextId: 0,
  };
  let pending: Promise<void> = Promise.resolve();
  for (let base = 0; base < N; base += BATCH) {
    const n = Math.min(BATCH, N - base);
    const records = Buffer.allocUnsafe(n * RECORD_BYTES);
    const recipients = new Array<string>(n);
    for (let j = 0; j < n; j++) {
      const i = base + j;
      f.timeMs = T0 + Math.floor((i / N) * SPAN); f.seq = 1 + Math.floor(i / 1000); f.index = i % 1000;
      const block = i % 13 === 0;
      f.decision = block ? 'BLOCK' : 'ALLOW'; f.reason = block ? 'CONSENT_RET' : 'CONSENT_ONAY'; f.consentStatus = block ? 'RET' : 'ONAY'; f.ref = (i * 2654435761) >>> 0;
      encodeRecord(records, j * RECORD_BYTES, f);
      recipients[j] = recipientOf(i);
    }
    clock = T0 + Math.floor(((base + n) / N) * SPAN);
    await pending; // one block in flight while the next is built
    pending = w.write({ records, count: n, recipients, asOfMs: T0, dict: base === 0 ? [{ id: 0, keyName: 'bench', via: '' }] : [], notes: [] });
    if (base % (BATCH * 500) === 0 && base > 0) process.stdout.write(`  ${fmt(base)} records, ${fmt(base / ((performance.now() - t0) / 1000))}/s\n`);
  }
  await pending;
  await w.close();
  writeS = (performance.now() - t0) / 1000;
  console.log(`wrote ${fmt(N)} decisions in ${writeS.toFixed(1)} s (${fmt(N / writeS)} records/s, compression included)`);
}
const m = readManifest(dir)!;
let fileBytes = 0;
for (const f of readdirSync(dir)) if (f.startsWith('seg-')) fileBytes += statSync(join(dir, f)).size;
const frames = N * RECORD_BYTES + Math.ceil(N / BATCH) * (9 + 55) + 4; // records + frame and block headers (+ one dictionary entry)
console.log(`log: ${m.segments.length} segments, ${fmt(fileBytes)} bytes on disk = ${(fileBytes / N).toFixed(2)} B/decision compressed; ${(frames / N).toFixed(2)} B/decision before compression`);

const keys = { hmacKeys: [KEY] };
const lookups: { what: string; ms: number; found: number }[] = [];
for (const [what, r] of [['a recipient decided ~10 times', recipientOf(123_457)], ['another', recipientOf(N - 5)], ['a recipient never decided', '+905329999999']] as const) {
  const t0 = performance.now(); const c0 = process.cpuUsage();
  const got = queryDecisions([dir], { recipient: r }, keys, { limit: 1000 }).decisions;
  const ms = performance.now() - t0; const c = process.cpuUsage(c0); const cpuMs = (c.user + c.system) / 1000;
  lookups.push({ what, ms, cpuMs, found: got.length } as { what: string; ms: number; found: number });
  console.log(`lookup (${what}) over ${fmt(N)}: ${got.length} found in ${ms.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU (target ≤ 1000 ms: ${ms <= 1000 ? 'PASS' : 'FAIL'} wall, ${cpuMs <= 1000 ? 'PASS' : 'FAIL'} CPU)`);
}
const tv = performance.now(); const cv0 = process.cpuUsage();
const v = verifyDecisionLogs([dir]);
const vs = (performance.now() - tv) / 1000; const cv = process.cpuUsage(cv0); const vcpu = (cv.user + cv.system) / 1e6;
const rate = v.records / vs; const cpuRate = v.records / vcpu;
console.log(`verify: ${v.ok ? 'ok' : 'BROKEN'}, ${fmt(v.records)} records in ${vs.toFixed(1)} s wall = ${fmt(rate)} records/s; ${vcpu.toFixed(1)} CPU-s = ${fmt(cpuRate)} records per CPU-second (target ≥ 5,000,000/s: ${rate >= 5_000_000 ? 'PASS' : 'FAIL'} wall, ${cpuRate >= 5_000_000 ? 'PASS' : 'FAIL'} per CPU-second); load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
const file = writeResult(`decision-log-${N}`, { records: N, batch: BATCH, writeS, segments: m.segments.length, fileBytes, bytesBeforeCompression: frames / N, bytesAfter: fileBytes / N, lookups, verify: { ok: v.ok, records: v.records, s: vs, perS: rate, cpuS: vcpu, perCpuS: cpuRate } });
console.log(`results: ${file}`);
