import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { DEFAULT_MAX_RECORD_BYTES, checkFrame } from '../../mirror/log-format.ts';
import { decodeBlockHeader, ZERO_HASH } from './record-format.ts';
import { LOG_MAGIC, readDlzHeader, readManifest, segName, segmentFiles, walkFrames, type Manifest, type SegmentEntry } from './segments.ts';

/** The first break `verify` found, named so an officer can point at it. */
export interface VerifyBreak {
  dir: string;
  file: string;
  /** Number (in the instance's log) of the first record that cannot be trusted, when known. */
  record: number | null;
  /** Byte offset in the segment's raw frames, when known. */
  offset: number | null;
  what: string;
}

export interface VerifyResult {
  ok: boolean;
  dirs: number;
  segments: number;
  blocks: number;
  records: number;
  /** Segments retention removed (listed in the manifest, files gone on purpose). */
  removed: number;
  breaks: VerifyBreak[];
  /** Not breaks: a torn tail of the open segment (a crash; the writer truncates it at its next start). */
  warnings: string[];
}

/**
 * Walks every chain of every directory (README "Proving decisions", `iys-gate audit verify`):
 * each frame's CRC, each block's link to the hash of the one before (the first block of a segment
 * to the previous segment's final hash, also across segments retention removed), contiguous record
 * numbers (a deleted or reordered block shows as a jump), each closed segment's final hash and
 * record count against the manifest (a truncated or replaced segment, even one re-chained
 * consistently), the open segment against the manifest's checkpoint, and segment files the manifest
 * does not list. Stops a directory at its first break.
 */
export function verifyDecisionLogs(dirs: readonly string[]): VerifyResult {
  const res: VerifyResult = { ok: true, dirs: 0, segments: 0, blocks: 0, records: 0, removed: 0, breaks: [], warnings: [] };
  for (const dir of dirs) {
    res.dirs++;
    let m: Manifest | null;
    try { m = readManifest(dir); } catch (err) {
      res.breaks.push({ dir, file: 'manifest', record: null, offset: null, what: `manifest unreadable: ${(err as Error).message}` });
      continue;
    }
    if (!m) { res.breaks.push({ dir, file: 'manifest', record: null, offset: null, what: 'no manifest: not a decision log directory' }); continue; }
    const b = verifyDir(dir, m, res);
    if (b) res.breaks.push(b);
  }
  res.ok = res.breaks.length === 0;
  return res;
}

function verifyDir(dir: string, m: Manifest, res: VerifyResult): VerifyBreak | null {
  res.removed += m.removed.length;
  const listed = new Set(m.segments.map((s) => s.n));
  for (const f of segmentFiles(dir)) {
    if (!listed.has(f.n)) return { dir, file: segName(f.n, f.ext), record: null, offset: null, what: 'segment file not listed in the manifest (added, or its manifest entry removed)' };
  }
  let hash = ZERO_HASH.toString('hex');
  let next = 0;
  const lastRemoved = m.removed.at(-1);
  if (lastRemoved) { hash = lastRemoved.finalHash ?? hash; next = lastRemoved.firstRecord + lastRemoved.records; }
  for (const s of m.segments) {
    res.segments++;
    if (s.prevHash !== hash) return { dir, file: segName(s.n, s.compressed ? 'dlz' : 'dlog'), record: s.firstRecord, offset: null, what: 'segment does not start from the previous segment\'s final hash (manifest)' };
    if (s.firstRecord !== next) return { dir, file: segName(s.n, 'dlog'), record: next, offset: null, what: `segment starts at record ${s.firstRecord}, expected ${next} (records missing between segments)` };
    const r = verifySegment(dir, s, m, res, hash, next);
    if ('break' in r) return r.break;
    hash = r.hash; next = r.next;
  }
  return null;
}

function frameSources(dir: string, s: SegmentEntry): { file: string; parts: Buffer[] } | { file: string; missing: string } {
  const dlz = segName(s.n, 'dlz'); const dlog = segName(s.n, 'dlog');
  if (existsSync(join(dir, dlz))) {
    const path = join(dir, dlz);
    let h;
    try { h = readDlzHeader(path); } catch (err) { return { file: dlz, missing: `compressed segment unreadable: ${(err as Error).message}` }; }
    const fd = openSync(path, 'r');
    try {
      const parts: Buffer[] = [];
      for (const c of h.chunks) {
        const z = Buffer.alloc(c.zLen);
        if (readSync(fd, z, 0, c.zLen, h.dataAt + c.zOff) !== c.zLen) return { file: dlz, missing: `chunk at record ${c.firstRecord} cut short` };
        try { parts.push(inflateSync(z)); } catch (err) { return { file: dlz, missing: `chunk at record ${c.firstRecord} does not inflate: ${(err as Error).message}` }; }
      }
      return { file: dlz, parts };
    } finally { closeSync(fd); }
  }
  if (existsSync(join(dir, dlog))) {
    const raw = readFileSync(join(dir, dlog));
    if (raw.length === 0) return { file: dlog, parts: [] };
    if (!raw.subarray(0, LOG_MAGIC.length).equals(LOG_MAGIC)) return { file: dlog, missing: 'not a decision segment (magic)' };
    return { file: dlog, parts: [raw.subarray(LOG_MAGIC.length)] };
  }
  return { file: dlog, missing: s.closed ? 'segment file missing (deleted outside retention)' : '' };
}

function verifySegment(dir: string, s: SegmentEntry, m: Manifest, res: VerifyResult, startHash: string, startRecord: number): { hash: string; next: number } | { break: VerifyBreak } {
  const src = frameSources(dir, s);
  if ('missing' in src) {
    if (src.missing === '' && s.records === 0) return { hash: startHash, next: startRecord };
    return { break: { dir, file: src.file, record: startRecord, offset: null, what: src.missing || 'open segment file missing' } };
  }
  let prev = Buffer.from(startHash, 'hex');
  let next = startRecord;
  let records = 0;
  let failure: VerifyBreak | null = null;
  const checkpoint = m.active && m.active.n === s.n ? m.active : null;
  let checkpointSeen = checkpoint === null || checkpoint.records === 0;
  let base = 0;
  for (const [pi, part] of src.parts.entries()) {
    const walked = walkFrames(part, 0, (payload, offset) => {
      if (failure) return;
      let h;
      try { h = decodeBlockHeader(payload); } catch (err) {
        failure = { dir, file: src.file, record: next, offset: base + offset, what: `block unreadable: ${(err as Error).message}` }; return;
      }
      if (!h.prevHash.equals(prev)) {
        failure = { dir, file: src.file, record: h.firstRecord, offset: base + offset, what: 'hash chain broken: the block does not carry the hash of the block before it (a record was changed, deleted or reordered before this point)' };
        return;
      }
      if (h.firstRecord !== next) {
        failure = { dir, file: src.file, record: next, offset: base + offset, what: `record numbers jump from ${next} to ${h.firstRecord} (records deleted or reordered)` };
        return;
      }
      prev = createHash('sha256').update(payload).digest();
      next += h.count; records += h.count;
      res.blocks++; res.records += h.count;
      if (checkpoint && !checkpointSeen && records === checkpoint.records) {
        if (prev.toString('hex') !== checkpoint.lastHash) {
          failure = { dir, file: src.file, record: next - h.count, offset: base + offset, what: 'the open segment differs from the manifest\'s checkpoint (records changed)' };
          return;
        }
        checkpointSeen = true;
      }
    });
    if (failure) return { break: failure };
    if (walked.damage) {
      const last = pi === src.parts.length - 1;
      if (!s.closed && last && !validFrameAfter(part, walked.end)) {
        res.warnings.push(`${join(dir, src.file)}: torn tail at byte ${LOG_MAGIC.length + base + walked.end} (${walked.damage}); a crash left it, the writer truncates it at its next start`);
      } else {
        return { break: { dir, file: src.file, record: next, offset: base + walked.end, what: `damaged frame (${walked.damage})` } };
      }
    }
    base += part.length;
  }
  if (s.closed) {
    if (records !== s.records) return { break: { dir, file: src.file, record: startRecord + Math.min(records, s.records), offset: null, what: `segment holds ${records} records, the manifest says ${s.records} (truncated or records removed)` } };
    if (prev.toString('hex') !== s.finalHash) return { break: { dir, file: src.file, record: startRecord, offset: null, what: 'segment\'s final hash does not match the manifest (the segment was replaced or rewritten)' } };
  } else if (!checkpointSeen) {
    return { break: { dir, file: src.file, record: next, offset: null, what: `the open segment holds ${records} records, fewer than the manifest's checkpoint of ${checkpoint!.records} (truncated, or records removed)` } };
  }
  return { hash: prev.toString('hex'), next };
}

/** True when a valid frame starts anywhere after `from` (then the damage is not a torn tail: append-log.ts's rule). */
function validFrameAfter(buf: Buffer, from: number): boolean {
  for (let i = from + 1; i + 9 <= buf.length; i++) {
    const len = buf.readUInt32LE(i);
    if (len < 55 || i + 9 + len > buf.length || buf[i + 4] !== 1) continue;
    if (checkFrame(buf, i, buf.length, DEFAULT_MAX_RECORD_BYTES).ok) return true;
  }
  return false;
}
