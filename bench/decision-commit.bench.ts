/**
 * Decision-log group commit as a forwarding door uses it (issue 15 durability, issue 16 speed):
 * `--concurrency` senders (200 = the SMPP bench's 4 binds × window 50) each record one decision
 * and wait for `commit()` (its record on disk, fdatasync) before the next, for `--seconds`.
 * Prints commits/s, records per group commit, commit latency p50/p99, and, in the same run, the
 * raw fdatasync latency of this disk appending to a file (size change: a journal commit) and
 * overwriting zero-filled space (what segment-file.ts does).
 *
 * Run: node --import tsx bench/decision-commit.bench.ts [--writer worker|inline] [--concurrency 200] [--seconds 4]
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DecisionLog } from '../src/check/decision-log/decision-log.ts';
import { writeResult } from './lib/harness.ts';

const { values } = parseArgs({ options: { writer: { type: 'string', default: 'worker' }, concurrency: { type: 'string', default: '200' }, seconds: { type: 'string', default: '4' } } });
const SECONDS = Number(values.seconds); const CONC = Number(values.concurrency);
const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

/** fdatasync after each 600-byte write: appending (the file grows) vs overwriting zero-filled space. */
function rawSync(dir: string, prefill: boolean): { p50: number; p99: number; perSec: number } {
  const fd = openSync(join(dir, prefill ? 'zero.bin' : 'append.bin'), 'w');
  const b = Buffer.alloc(600, 7);
  if (prefill) { const z = Buffer.alloc(1 << 20); for (let i = 0; i < 16; i++) writeSync(fd, z, 0, z.length, i << 20); fdatasyncSync(fd); }
  const lat: number[] = []; const end = performance.now() + 1500; let pos = 0;
  while (performance.now() < end && pos + 600 < 16 << 20) { const t = performance.now(); writeSync(fd, b, 0, 600, pos); pos += 600; fdatasyncSync(fd); lat.push(performance.now() - t); }
  closeSync(fd);
  lat.sort((a, b2) => a - b2);
  return { p50: q(lat, 0.5), p99: q(lat, 0.99), perSec: lat.length / 1.5 };
}

const dir = mkdtempSync(join(tmpdir(), 'iysgate-commit-bench-'));
try {
  const append = rawSync(dir, false); const zero = rawSync(dir, true);
  console.log(`decision-commit bench — writer ${values.writer}, ${CONC} senders, loadavg ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`  fdatasync of this disk: appending p50 ${append.p50.toFixed(3)} ms p99 ${append.p99.toFixed(2)} ms | overwriting zero-filled space p50 ${zero.p50.toFixed(3)} ms p99 ${zero.p99.toFixed(2)} ms (${(append.p50 / zero.p50).toFixed(1)}× faster)`);
  const log = await DecisionLog.open({
    dir: join(dir, 'decisions'), mode: 'all', flushMs: 200, segmentBytes: 64 << 20, retentionDays: 1095,
    hmacKeys: [{ id: 1, key: Buffer.alloc(32, 1) }], currentKeyId: 1, writer: values.writer as 'worker' | 'inline',
  });
  const REQ = { brandCode: 1, type: 'MESAJ' as const, recipientType: 'BIREYSEL' as const, messageType: 'TICARI' as const };
  const ctx = { entrance: 'smpp' as const, via: 'bench', keyName: 'bench', contextId: log.contextId('bench', 'bench') };
  let n = 0; const lat: number[] = [];
  const c0 = process.cpuUsage(); const t0 = performance.now(); const end = t0 + SECONDS * 1000;
  const sender = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      log.record(ctx, log.newSeq(), 0, Date.now(), 0, REQ, 'ALLOW', 'CONSENT_ONAY', { status: 'ONAY' }, `+90532${String(10_000_000 + (n % 10_000)).slice(1)}`, '');
      await log.commit();
      n++; lat.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: CONC }, sender));
  const secs = (performance.now() - t0) / 1000; const cpu = process.cpuUsage(c0);
  lat.sort((a, b) => a - b);
  const r = { commitsPerSec: n / secs, groupCommits: log.commits, recordsPerGroupCommit: n / log.commits, p50Ms: q(lat, 0.5), p99Ms: q(lat, 0.99), cpuSecondsMainAndWorker: (cpu.user + cpu.system) / 1e6, loadavg: loadavg()[0]! };
  console.log(`  ${Math.round(r.commitsPerSec)} durable commits/s, ${log.commits} group commits (${r.recordsPerGroupCommit.toFixed(1)} records each), commit p50 ${r.p50Ms.toFixed(3)} ms p99 ${r.p99Ms.toFixed(2)} ms; CPU ${r.cpuSecondsMainAndWorker.toFixed(2)} s (process, both threads); loadavg ${r.loadavg.toFixed(1)}`);
  await log.close();
  writeResult(`decision-commit-${values.writer}`, { concurrency: CONC, seconds: SECONDS, fdatasync: { append, zeroFilled: zero }, ...r });
} finally { rmSync(dir, { recursive: true, force: true }); }
