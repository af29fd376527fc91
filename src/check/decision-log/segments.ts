import { closeSync, existsSync, openSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { allZero, readStateFileSync, writeStateFileSync } from '../../mirror/append-log.ts';
import { FRAME_HEADER, LOG_MAGIC, checkFrame, DEFAULT_MAX_RECORD_BYTES } from '../../mirror/log-format.ts';
import type { ContextEntry } from './record-format.ts';

/**
 * The files of one instance's decision log, under `<dataDir>/decisions/` (README "Proving
 * decisions"):
 * - `manifest`: a state file (append-log.ts `writeStateFileSync`: sealed, atomic) listing every
 *   segment in order with its first record number, counts, time range, the hash it starts from
 *   and, once closed, its final hash; segments removed by retention stay listed under `removed`;
 *   `active` is a checkpoint of the open segment (records and hash so far), at most `checkpointMs` old;
 * - `seg-NNNNNN.dlog`: a segment being written or not yet compressed: an append-log.ts file
 *   (magic, CRC frames; torn-tail rule of append-log.ts), one frame per block; the open one is
 *   followed by a zero-filled tail (segment-file.ts: fdatasync without a size change), cut at close;
 * - `seg-NNNNNN.dlz`: a closed segment, compressed: magic `IYSDLZ1\n`, u32 LE header length, the
 *   header (JSON: the segment's context dictionary and its chunk table), the chunks' recipient
 *   filters, then the chunks: each a zlib stream of whole frames (~1 MiB raw), so a lookup inflates
 *   only the chunks whose filter (a blocked Bloom filter of the recipient HMACs, ~10 bits each) may
 *   hold the recipient. The frames inside are byte for byte those of the `.dlog` file: CRCs and the
 *   hash chain verify the same after compression.
 */

export const MANIFEST = 'manifest';
export const DLZ_MAGIC = Buffer.from('IYSDLZ1\n', 'latin1');

export interface SegmentEntry {
  n: number;
  /** Number of the segment's first record in the instance's log. */
  firstRecord: number;
  /** Records held (set when closed). */
  records: number;
  firstTimeMs: number | null;
  lastTimeMs: number | null;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Istanbul calendar day (days since epoch) of its records. */
  day: number;
  /** Hex SHA-256 the segment's first block chains from. */
  prevHash: string;
  /** Hex hash of the segment's last block (set when closed). */
  finalHash: string | null;
  closed: boolean;
  compressed: boolean;
}

export interface RemovedEntry { n: number; firstRecord: number; records: number; lastTimeMs: number | null; finalHash: string | null; removedAtMs: number; why: string }

export interface Manifest {
  version: 1;
  instanceId: string;
  segments: SegmentEntry[];
  removed: RemovedEntry[];
  /** Checkpoint of the open segment: its records and last hash when written. */
  active: { n: number; records: number; lastHash: string; atMs: number } | null;
}

export interface ChunkEntry {
  /** Offset of the zlib stream from the data start, and its length. */
  zOff: number; zLen: number; rawLen: number;
  firstRecord: number; count: number;
  minTime: number; maxTime: number; minSeq: number; maxSeq: number;
  /** Offset of the chunk's filter from the filter start, in 64-byte blocks. */
  bloomOff: number; bloomBlocks: number;
}

/** `bloomK`: bits per key of the chunk filters (absent: BLOOM_K_V1, files of the first format). */
export interface DlzHeader { n: number; instanceId: string; dict: [number, string, string][]; chunks: ChunkEntry[]; bloomK?: number }
/** A header as read, with where its filters and chunk data start in the file. */
export interface DlzLayout extends DlzHeader { bloomAt: number; dataAt: number }

export const segName = (n: number, ext: 'dlog' | 'dlz') => `seg-${String(n).padStart(6, '0')}.${ext}`;
/** Istanbul calendar day (days since 1970-01-01) of an epoch-ms time. */
export const istanbulDay = (ms: number) => Math.floor((ms + 3 * 3600_000) / 86_400_000);

/** The manifest of `dir`, or null when there is none (a directory no log was written to). */
export function readManifest(dir: string): Manifest | null {
  return readStateFileSync<Manifest>(join(dir, MANIFEST));
}
export function writeManifest(dir: string, m: Manifest): void {
  writeStateFileSync(join(dir, MANIFEST), m);
}

/** Segment files present in `dir` (numbers), for verify's "file without manifest entry" check. */
export function segmentFiles(dir: string): { n: number; ext: 'dlog' | 'dlz' }[] {
  if (!existsSync(dir)) return [];
  const out: { n: number; ext: 'dlog' | 'dlz' }[] = [];
  for (const f of readdirSync(dir)) {
    const m = /^seg-(\d{6})\.(dlog|dlz)$/.exec(f);
    if (m) out.push({ n: Number(m[1]), ext: m[2] as 'dlog' | 'dlz' });
  }
  return out.sort((a, b) => a.n - b.n);
}

/** Reads a `.dlz` header. @throws Error when the file is not one */
export function readDlzHeader(path: string): DlzLayout {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(12);
    readSync(fd, head, 0, 12, 0);
    if (!head.subarray(0, 8).equals(DLZ_MAGIC)) throw new Error('not a compressed decision segment');
    const len = head.readUInt32LE(8);
    const json = Buffer.alloc(len);
    if (readSync(fd, json, 0, len, 12) !== len) throw new Error('compressed segment header cut short');
    const h = JSON.parse(json.toString('utf8')) as DlzHeader;
    const bloomAt = 12 + len;
    const blocks = h.chunks.reduce((n, c) => n + c.bloomBlocks, 0);
    return { ...h, bloomAt, dataAt: bloomAt + blocks * BLOOM_BLOCK };
  } finally { closeSync(fd); }
}

/**
 * Walks the frames of raw segment bytes (no magic): calls `onBlock(payload, offset)` per valid
 * frame and returns where the valid part ends and why, when it ends before `buf.length`. Only
 * zeros after the last frame are the clean end of an open segment (its zero-filled tail,
 * segment-file.ts), not damage: a zero frame header is never valid.
 */
export function walkFrames(buf: Buffer, start: number, onBlock: (payload: Buffer, offset: number) => void): { end: number; damage: string | null } {
  let pos = start;
  while (pos < buf.length) {
    const c = checkFrame(buf, pos, buf.length, DEFAULT_MAX_RECORD_BYTES);
    if (!c.ok) return { end: pos, damage: allZero(buf, pos) ? null : c.reason };
    onBlock(buf.subarray(pos + FRAME_HEADER, pos + FRAME_HEADER + c.len), pos);
    pos += FRAME_HEADER + c.len;
  }
  return { end: pos, damage: null };
}

export function dictOf(entries: Iterable<ContextEntry>): Map<number, ContextEntry> {
  const m = new Map<number, ContextEntry>();
  for (const e of entries) m.set(e.id, e);
  return m;
}

/**
 * Blocked Bloom filter over recipient HMACs: 64-byte blocks, `k` bits per key within one block.
 * Files written before `bloomK` was in the header used 10 bits per key and k = 7 (≈ 1 % false
 * positives: over 100M records ~50 chunks inflated for nothing per lookup); new ones use
 * BLOOM_BITS_PER_KEY = 16 and BLOOM_K = 11 (≈ 0.1 %), at 0.75 B more per decision on disk.
 */
export const BLOOM_BLOCK = 64;
export const BLOOM_K = 11;
export const BLOOM_K_V1 = 7;
export const BLOOM_BITS_PER_KEY = 16;
export function bloomBlocksFor(keys: number): number { return Math.max(1, Math.ceil((keys * BLOOM_BITS_PER_KEY) / 512)); }
/** Sets (add) or tests the `k` bits of `hmac` (at `off`) in the filter `f` of `blocks` blocks starting at byte `base`. */
export function bloomBits(f: Buffer, base: number, blocks: number, hmac: Buffer, off: number, add: boolean, k = BLOOM_K): boolean {
  const blk = hmac.readUInt32LE(off) % blocks;
  const a = hmac.readUInt16LE(off + 4);
  const b = hmac.readUInt16LE(off + 6) | 1;
  const at = base + blk * BLOOM_BLOCK;
  for (let i = 0; i < k; i++) {
    const bit = (a + i * b) & 511;
    const byte = at + (bit >> 3); const mask = 1 << (bit & 7);
    if (add) f[byte]! |= mask;
    else if ((f[byte]! & mask) === 0) return false;
  }
  return true;
}
export { LOG_MAGIC };
