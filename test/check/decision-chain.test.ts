/**
 * Issue 15: the decision log's chain (verify names each tampering), rotation by size and by day,
 * compression, retention by whole segment, key rotation, and query correctness over 10 days of
 * generated records.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync, crc32 } from 'node:zlib';
import { SegmentWriter, type SegmentWriterOptions } from '../../src/check/decision-log/segment-writer.ts';
import { syntheticBatch, type SyntheticDecision } from '../../src/check/decision-log/synthetic.ts';
import { readDlzHeader, readManifest } from '../../src/check/decision-log/segments.ts';
import { queryDecisions } from '../../src/check/decision-log/reader.ts';
import { verifyDecisionLogs } from '../../src/check/decision-log/verify.ts';
import { auditMain } from '../../src/check/decision-log/audit-cli.ts';
import { LOG_MAGIC } from '../../src/mirror/log-format.ts';
import { BLOCK_HEADER_BYTES, RECORD_BYTES } from '../../src/check/decision-log/record-format.ts';

const K1 = { id: 1, key: Buffer.alloc(32, 1) };
const K2 = { id: 2, key: Buffer.alloc(32, 2) };
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5, 6, 0, 0); // 09:00 Istanbul

function tmp(t: { teardown(f: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'iysgate-dlog-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

let clock = T0;
const opts = (dir: string, o: Partial<SegmentWriterOptions> = {}): SegmentWriterOptions => ({
  dir, segmentBytes: 24 * 1024, retentionDays: 1095, hmacKeys: [K1], currentKeyId: 1, chunkBytes: 8 * 1024, now: () => clock, checkpointMs: 0, ...o,
});

/** Day d, record i: a deterministic mix of brands, decisions, reasons and entrances; recipient +90555000<i % 500>. */
function gen(d: number, i: number, seq: number): SyntheticDecision {
  const allow = (i * 7 + d) % 3 !== 0;
  return {
    timeMs: T0 + d * DAY + i * 20_000, seq, index: 0, brandCode: 100 + (i % 3), type: i % 5 === 0 ? 'EPOSTA' : 'MESAJ',
    decision: allow ? 'ALLOW' : 'BLOCK', reason: allow ? 'CONSENT_ONAY' : 'CONSENT_RET', consentStatus: allow ? 'ONAY' : 'RET',
    entrance: (['check', 'batch', 'proxy', 'send'] as const)[i % 4], recipient: i % 5 === 0 ? `u${i % 500}@example.com` : `+90555000${String(i % 500).padStart(4, '0')}`,
  };
}

async function writeDays(dir: string, days: number, perDay: number, o: Partial<SegmentWriterOptions> = {}): Promise<SyntheticDecision[]> {
  const w = await SegmentWriter.open(opts(dir, o));
  const all: SyntheticDecision[] = [];
  let seq = 1;
  for (let d = 0; d < days; d++) {
    for (let i = 0; i < perDay; i += 50) {
      const ds: SyntheticDecision[] = [];
      for (let j = i; j < Math.min(perDay, i + 50); j++) ds.push(gen(d, j, seq++));
      clock = ds.at(-1)!.timeMs;
      await w.write(syntheticBatch(ds));
      all.push(...ds);
    }
  }
  await w.close();
  return all;
}

t.test('rotation by size and by day, compression, verify ok; query correctness over 10 days', async (t) => {
  const dir = tmp(t);
  const all = await writeDays(dir, 10, 1000);
  const m = readManifest(dir)!;
  t.ok(m.segments.length >= 20, `rotated by size (${m.segments.length} segments for 10 days)`);
  const days = new Set(m.segments.map((s) => s.day));
  t.equal(days.size, 10, 'one day per segment (rotated by Istanbul day)');
  t.ok(m.segments.filter((s) => s.closed).every((s) => s.compressed), 'closed segments are compressed');
  t.ok(readdirSync(dir).filter((f) => f.endsWith('.dlog')).length === 1, 'only the open segment is uncompressed');
  const dlz = readdirSync(dir).find((f) => f.endsWith('.dlz'))!;
  t.ok(readDlzHeader(join(dir, dlz)).chunks.length > 1, 'compressed in several chunks');
  const v = verifyDecisionLogs([dir]);
  t.same([v.ok, v.records, v.breaks], [true, 10_000, []]);

  const keys = { hmacKeys: [K1] };
  const check = (name: string, q: Parameters<typeof queryDecisions>[1], pred: (d: SyntheticDecision) => boolean) => {
    const got = queryDecisions([dir], q, keys, { limit: 100_000 }).decisions;
    const want = all.filter(pred).sort((a, b) => b.timeMs - a.timeMs);
    t.same(got.map((g) => [g.timeMs, g.brandCode, g.decision, g.entrance]), want.map((w) => [w.timeMs, w.brandCode, w.decision, w.entrance]), `${name}: ${want.length} records`);
  };
  const from = T0 + 3 * DAY, to = T0 + 6 * DAY + 5 * 3600_000;
  check('recipient over all days', { recipient: '05550000042' }, (d) => d.recipient === '+905550000042');
  check('recipient + range + brand', { recipient: '+90 555 000 0042', fromMs: from, toMs: to, brandCode: 100 }, (d) => d.recipient === '+905550000042' && d.timeMs >= from && d.timeMs <= to && d.brandCode === 100);
  check('e-mail recipient, BLOCK', { recipient: 'U10@Example.com', type: 'EPOSTA', decision: 'BLOCK' }, (d) => d.recipient === 'u10@example.com' && d.decision === 'BLOCK');
  check('range + entrance + reason, no recipient', { fromMs: from, toMs: from + DAY, entrance: 'proxy', reason: 'CONSENT_RET' }, (d) => d.timeMs >= from && d.timeMs <= from + DAY && d.entrance === 'proxy' && d.reason === 'CONSENT_RET');
  check('brands of a scoped key', { brands: [101], fromMs: T0 + 9 * DAY }, (d) => d.brandCode === 101 && d.timeMs >= T0 + 9 * DAY);
  check('a recipient never seen', { recipient: '+905559999999' }, () => false);
  // pages: cursor walks the whole answer without gaps or repeats
  const seen: number[] = [];
  let cursor = null;
  for (;;) {
    const p = queryDecisions([dir], { recipient: '+905550000042' }, keys, { limit: 7, cursor });
    seen.push(...p.decisions.map((d) => d.timeMs));
    if (!p.next) break;
    cursor = p.next;
  }
  t.same(seen, all.filter((d) => d.recipient === '+905550000042').map((d) => d.timeMs).sort((a, b) => b - a), 'paged by cursor');
});

t.test('retention removes only expired whole segments and says so; the chain still verifies', async (t) => {
  const dir = tmp(t);
  await writeDays(dir, 6, 400, { retentionDays: 3 });
  clock = T0 + 6 * DAY + 3600_000;
  const w = await SegmentWriter.open(opts(dir, { retentionDays: 3 }));
  await w.close();
  const m = readManifest(dir)!;
  t.ok(m.removed.length > 0, 'segments removed');
  t.ok(m.removed.every((r) => r.lastTimeMs! < clock - 3 * DAY && /retention 3 days/.test(r.why)), 'only those whose last record is older than retentionDays');
  t.ok(m.segments.every((s) => s.lastTimeMs === null || s.lastTimeMs >= clock - 3 * DAY - DAY), 'younger segments kept');
  for (const r of m.removed) t.notOk(existsSync(join(dir, `seg-${String(r.n).padStart(6, '0')}.dlz`)), 'file deleted');
  const v = verifyDecisionLogs([dir]);
  t.equal(v.ok, true, JSON.stringify(v.breaks));
  t.equal(v.removed, m.removed.length);
  const left = queryDecisions([dir], { recipient: '+905550000001' }, { hmacKeys: [K1] }, { limit: 10_000 }).decisions;
  t.ok(left.length > 0 && left.every((d) => d.timeMs >= m.segments[0]!.firstTimeMs!), 'queries read what is kept');
});

t.test('key rotation: old records are found by the old key id, new ones by the new', async (t) => {
  const dir = tmp(t);
  clock = T0;
  const w1 = await SegmentWriter.open(opts(dir));
  await w1.write(syntheticBatch([{ timeMs: T0, seq: 1, recipient: '+905551112233' }]));
  await w1.close();
  const w2 = await SegmentWriter.open(opts(dir, { hmacKeys: [K1, K2], currentKeyId: 2 }));
  await w2.write(syntheticBatch([{ timeMs: T0 + 1000, seq: 2, recipient: '+905551112233' }]));
  await w2.close();
  const both = queryDecisions([dir], { recipient: '+905551112233' }, { hmacKeys: [K1, K2] }, { limit: 10 }).decisions;
  t.same(both.map((d) => d.recipientHmac.split(':')[0]), ['2', '1'], 'both found, each under its key id');
  t.equal(queryDecisions([dir], { recipient: '+905551112233' }, { hmacKeys: [K2] }, { limit: 10 }).decisions.length, 1, 'without the old key only the new record');
  t.equal(verifyDecisionLogs([dir]).ok, true);
});

/** Frames of a segment (raw .dlog, or the .dlz's chunks inflated) as one buffer of frames (no magic). */
function framesOf(dir: string, n: number): Buffer {
  const name = `seg-${String(n).padStart(6, '0')}`;
  if (existsSync(join(dir, `${name}.dlog`))) return readFileSync(join(dir, `${name}.dlog`)).subarray(LOG_MAGIC.length);
  const h = readDlzHeader(join(dir, `${name}.dlz`));
  const f = readFileSync(join(dir, `${name}.dlz`));
  return Buffer.concat(h.chunks.map((c) => inflateSync(f.subarray(h.dataAt + c.zOff, h.dataAt + c.zOff + c.zLen))));
}
/** Writes `frames` back as segment n's raw file (the verify reads whichever exists). */
function putFrames(dir: string, n: number, frames: Buffer): void {
  const name = `seg-${String(n).padStart(6, '0')}`;
  if (existsSync(join(dir, `${name}.dlz`))) unlinkSync(join(dir, `${name}.dlz`));
  writeFileSync(join(dir, `${name}.dlog`), Buffer.concat([LOG_MAGIC, frames]));
}
/** Splits frames into [offset, payload] pairs. */
function split(frames: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p < frames.length;) { const len = frames.readUInt32LE(p); out.push(Buffer.from(frames.subarray(p + 9, p + 9 + len))); p += 9 + len; }
  return out;
}
function frame(payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUInt32LE(payload.length, 0); h[4] = 1; h.writeUInt32LE(crc32(payload, crc32(h.subarray(0, 5))), 5);
  return Buffer.concat([h, payload]);
}
/** Re-chains blocks from `prev` (a forger who recomputes every hash), returns the frames. */
function rechain(blocks: Buffer[], prev: Buffer): Buffer {
  const out: Buffer[] = [];
  for (const b of blocks) { prev.copy(b, 1); out.push(frame(b)); prev = createHash('sha256').update(b).digest(); }
  return Buffer.concat(out);
}

t.test('tampering: audit verify names each', async (t) => {
  const base = tmp(t);
  const src = join(base, 'src');
  await writeDays(src, 2, 600);
  const m = readManifest(src)!;
  const closed = m.segments.find((s) => s.closed)!;
  const open = m.segments.at(-1)!;
  t.equal(verifyDecisionLogs([src]).ok, true);
  const cases: [string, (dir: string) => void, RegExp][] = [
    ['flip one byte (CRC)', (dir) => { const f = framesOf(dir, closed.n); f[9 + BLOCK_HEADER_BYTES + 5]! ^= 1; putFrames(dir, closed.n, f); }, /damaged frame \(checksum mismatch\)/],
    ['flip one byte, CRC recomputed', (dir) => {
      const bs = split(framesOf(dir, closed.n)); bs[0]![BLOCK_HEADER_BYTES + 33]! ^= 1; // a record's reason
      putFrames(dir, closed.n, Buffer.concat(bs.map(frame)));
    }, /hash chain broken/],
    ['delete one record', (dir) => {
      const bs = split(framesOf(dir, closed.n)); const b = bs[1]!;
      const count = b.readUInt32LE(39); b.writeUInt32LE(count - 1, 39);
      const at = BLOCK_HEADER_BYTES + 4 * RECORD_BYTES; // (no dictionary after the first block)
      bs[1] = Buffer.concat([b.subarray(0, at), b.subarray(at + RECORD_BYTES)]);
      putFrames(dir, closed.n, Buffer.concat(bs.map(frame)));
    }, /hash chain broken|record numbers jump/],
    ['reorder two records', (dir) => {
      const bs = split(framesOf(dir, closed.n)); const b = bs[2]!;
      const a = BLOCK_HEADER_BYTES; const r0 = Buffer.from(b.subarray(a, a + RECORD_BYTES));
      b.copy(b, a, a + RECORD_BYTES, a + 2 * RECORD_BYTES); r0.copy(b, a + RECORD_BYTES);
      putFrames(dir, closed.n, Buffer.concat(bs.map(frame)));
    }, /hash chain broken/],
    ['reorder two blocks', (dir) => {
      const bs = split(framesOf(dir, closed.n)); [bs[1], bs[2]] = [bs[2]!, bs[1]!];
      putFrames(dir, closed.n, Buffer.concat(bs.map(frame)));
    }, /hash chain broken|record numbers jump/],
    ['truncate a closed segment', (dir) => { const f = framesOf(dir, closed.n); const bs = split(f); putFrames(dir, closed.n, Buffer.concat(bs.slice(0, -2).map(frame))); }, /holds \d+ records, the manifest says/],
    ['truncate the compressed file', (dir) => { const p = join(dir, `seg-${String(closed.n).padStart(6, '0')}.dlz`); truncateSync(p, readFileSync(p).length - 100); }, /cut short|does not inflate/],
    ['truncate the open segment', (dir) => { const bs = split(framesOf(dir, open.n)); putFrames(dir, open.n, Buffer.concat(bs.slice(0, -1).map(frame))); }, /fewer than the manifest's checkpoint/],
    ['replace a segment with a re-chained forgery', (dir) => {
      const bs = split(framesOf(dir, closed.n));
      for (const b of bs) b.writeUInt32LE(999, BLOCK_HEADER_BYTES + (b.readUInt16LE(49) > 0 ? 0 : 0) + 28); // every first record's brand
      putFrames(dir, closed.n, rechain(bs, Buffer.from(closed.prevHash, 'hex')));
    }, /final hash does not match the manifest/],
    ['a segment file the manifest does not list', (dir) => { writeFileSync(join(dir, 'seg-000999.dlog'), LOG_MAGIC); }, /not listed in the manifest/],
    ['a segment deleted', (dir) => { unlinkSync(join(dir, `seg-${String(closed.n).padStart(6, '0')}.dlz`)); }, /segment file missing/],
  ];
  for (const [name, tamper, want] of cases) {
    const dir = join(base, name.replace(/\W+/g, '-'));
    cpSync(src, dir, { recursive: true });
    tamper(dir);
    const v = verifyDecisionLogs([dir]);
    t.equal(v.ok, false, `${name}: broken`);
    t.match(v.breaks[0]?.what ?? '', want, `${name}: ${v.breaks[0]?.what}`);
    t.ok(v.breaks[0]?.file.startsWith('seg-'), `${name}: names the file (${v.breaks[0]?.file} record ${v.breaks[0]?.record})`);
  }
  // the CLI: ok with counts / BROKEN and exit 1
  const out: string[] = [];
  const sink = { write: (s: string) => { out.push(s); return true; } } as unknown as NodeJS.WritableStream;
  t.equal(await auditMain(['verify', src], sink, sink), 0);
  t.match(out.join(''), /^ok: 1 directory, \d+ segments, \d+ blocks, 1200 records/);
  out.length = 0;
  t.equal(await auditMain(['verify', join(base, 'flip-one-byte-CRC-recomputed')], sink, sink), 1);
  t.match(out.join(''), /BROKEN .*seg-\d+\.dlog record \d+.*hash chain broken/);
});
