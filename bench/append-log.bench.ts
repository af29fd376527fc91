/**
 * Issue 12 item 1: cost of the append-log framing (length + CRC-32 per record), as ratios against
 * a baseline measured in the same run.
 *
 * 1. Snapshot decode: a 1,000,000-movement snapshot read and decoded line by line, framed
 *    (readLogFile: frame scan + CRC-32) vs the same lines unframed (the earlier release's chunked
 *    line reader); plus, for context, the full MemoryStore.open() of the framed directory.
 * 2. Journal appends: 20,000 single-movement records from 50 concurrent writers through AppendLog
 *    (framed, group commit, fdatasync) vs an unframed group-commit baseline (same batching,
 *    appendFile + datasync of the plain lines, as GroupCommitLog did).
 *
 *   node --import tsx bench/append-log.bench.ts [--rows 1000000] [--appends 20000]
 */
import { mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Movement } from '../src/domain/types.ts';
import { AppendLog, readLogFile } from '../src/mirror/append-log.ts';
import { MemoryStore } from '../src/mirror/memory-store.ts';
import { lineToMovement, movementToLine } from '../src/mirror/movement-codec.ts';

const arg = (name: string, def: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : def; };
const ROWS = arg('rows', 1_000_000);
const APPENDS = arg('appends', 20_000);
const root = mkdtempSync(join(tmpdir(), 'iysgate-bench-alog-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const mv = (i: number): Movement => ({
  brandCode: 700001, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: `+90532${String(i).padStart(7, '0')}`, status: i % 3 ? 'ONAY' : 'RET',
  source: 'HS_WEB', consentDate: '2026-11-20 10:00:00', creationDate: '2026-11-20 10:00:01', transactionId: (i.toString(16).padStart(8, '0')).repeat(8), noncanonical: false,
});

async function timeOpen(dir: string): Promise<{ s: number; size: number }> {
  const t0 = performance.now();
  const s = new MemoryStore({ dataDir: dir });
  await s.open();
  const secs = (performance.now() - t0) / 1000;
  const size = await s.size();
  // no close(): a crash, so the next open reads the same files
  return { s: secs, size };
}

// 1. restart ------------------------------------------------------------------------------------
const lines: string[] = [];
for (let i = 0; i < ROWS; i++) lines.push(movementToLine(mv(i)));
const legacyDir = join(root, 'legacy');
mkdirSync(legacyDir);
writeFileSync(join(legacyDir, 'snapshot.log'), lines.join(''));
const framedDir = join(root, 'framed');
{
  const s = new MemoryStore({ dataDir: framedDir });
  await s.open();
  for (let i = 0; i < ROWS; i += 10_000) s.applyInMemory(lines.slice(i, i + 10_000).map((_, k) => mv(i + k)));
  await s.setMeta('bench', 'x'); // makes close() write the snapshot
  await s.close();
}
// framing cost alone: the same snapshot bytes read and decoded line by line, unframed (the
// earlier release's reader: 8 MiB chunks split on \n) vs framed (readLogFile: scan + CRC-32)
async function decodeUnframed(path: string): Promise<{ s: number; n: number }> {
  const t0 = performance.now();
  const fh = await open(path, 'r');
  const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
  let rest = '';
  let n = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    const text = rest + buf.toString('utf8', 0, bytesRead);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) { if (lineToMovement(text.slice(start, nl))) n++; start = nl + 1; }
    rest = text.slice(start);
  }
  await fh.close();
  return { s: (performance.now() - t0) / 1000, n };
}
async function decodeFramed(path: string): Promise<{ s: number; n: number }> {
  const t0 = performance.now();
  let n = 0;
  await readLogFile(path, {
    onRecord: (p) => {
      const text = p.toString('utf8');
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) { if (lineToMovement(text.slice(start, nl))) n++; start = nl + 1; }
    },
  });
  return { s: (performance.now() - t0) / 1000, n };
}
const dec: Array<{ u: number; f: number }> = [];
for (let r = 0; r < 3; r++) {
  const u = await decodeUnframed(join(legacyDir, 'snapshot.log'));
  const f = await decodeFramed(join(framedDir, 'snapshot.log'));
  if (u.n !== ROWS || f.n !== ROWS) throw new Error(`decoded ${u.n}/${f.n} of ${ROWS}`);
  dec.push({ u: u.s, f: f.s });
}
const bu = Math.min(...dec.map((d) => d.u));
const bf = Math.min(...dec.map((d) => d.f));
const framedOpen = await timeOpen(framedDir);
console.log(`snapshot decode, ${ROWS.toLocaleString('en')} movements: unframed lines ${bu.toFixed(2)} s; framed (scan + CRC-32) ${bf.toFixed(2)} s `
  + `(${(bf / bu).toFixed(2)}× the baseline's time; best of 3); file ${(statSync(join(framedDir, 'snapshot.log')).size / 1e6).toFixed(1)} MB framed vs ${(statSync(join(legacyDir, 'snapshot.log')).size / 1e6).toFixed(1)} MB unframed; `
  + `full MemoryStore.open() of the framed directory ${framedOpen.s.toFixed(2)} s (${framedOpen.size.toLocaleString('en')} consents)`);

// 2. appends ------------------------------------------------------------------------------------
async function unframedBaseline(path: string): Promise<number> {
  const fh = await open(path, 'a');
  let pending: string[] = [];
  let waiters: Array<() => void> = [];
  let flushing: Promise<void> | null = null;
  const flush = async () => {
    while (pending.length) {
      const text = pending.join(''); const ws = waiters; pending = []; waiters = [];
      await fh.appendFile(text); await fh.datasync();
      for (const w of ws) w();
    }
    flushing = null;
  };
  const append = (text: string) => new Promise<void>((r) => { pending.push(text); waiters.push(r); if (!flushing) flushing = flush(); });
  const t0 = performance.now();
  await writers((i) => append(lines[i % lines.length]!));
  const secs = (performance.now() - t0) / 1000;
  await fh.close();
  return secs;
}
async function framed(path: string): Promise<number> {
  const log = await AppendLog.open(path, { onRecord: () => undefined });
  const t0 = performance.now();
  await writers((i) => log.append(lines[i % lines.length]!));
  const secs = (performance.now() - t0) / 1000;
  await log.close();
  return secs;
}
async function writers(one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 50 }, async () => { while (next < APPENDS) await one(next++); }));
}
const base = await unframedBaseline(join(root, 'plain.log'));
const ours = await framed(join(root, 'framed.log'));
const base2 = await unframedBaseline(join(root, 'plain2.log'));
const ours2 = await framed(join(root, 'framed2.log'));
const b = Math.min(base, base2);
const o = Math.min(ours, ours2);
console.log(`journal appends, ${APPENDS.toLocaleString('en')} records from 50 writers: unframed group commit ${(APPENDS / b).toFixed(0)} appends/s; `
  + `AppendLog ${(APPENDS / o).toFixed(0)} appends/s (${(b / o).toFixed(2)}× the baseline's rate; best of 2 each)`);
