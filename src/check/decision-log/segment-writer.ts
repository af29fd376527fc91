import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deflate as deflateCb } from 'node:zlib';
import { LOG_MAGIC, fsyncDir } from '../../mirror/log-format.ts';
import { SegmentFile } from './segment-file.ts';
import { RecipientHasher, sealRecipients, type HmacKey } from './recipient-keys.ts';
import {
  BLOCK_HEADER_BYTES, HMAC_BYTES, RECORD_BYTES, ZERO_HASH, decodeBlockHeader, encodeBlock, extra, type ContextEntry,
} from './record-format.ts';
import {
  BLOOM_BLOCK, BLOOM_K, DLZ_MAGIC, bloomBits, bloomBlocksFor, istanbulDay, readManifest, segName, walkFrames, writeManifest,
  type ChunkEntry, type DlzHeader, type Manifest, type SegmentEntry,
} from './segments.ts';

const deflate = promisify(deflateCb);

/** Options of the writer (config `decisions`, resolved). */
export interface SegmentWriterOptions {
  dir: string;
  /** Rotate a segment past this many bytes. */
  segmentBytes: number;
  /** Whole segments whose last record is older than this are deleted (retention). */
  retentionDays: number;
  /** Keys by id; `currentKeyId` hashes new records, the others are kept for queries. */
  hmacKeys: HmacKey[];
  currentKeyId: number;
  /** AES-256-GCM key of recipient encryption, with its id; absent = recipients stored as HMACs only. */
  encryption?: { id: number; key: Buffer } | undefined;
  /** Manifest checkpoint of the open segment at most this often, ms. Default 10,000. */
  checkpointMs?: number;
  /** Raw bytes per compressed chunk. Default 1 MiB. */
  chunkBytes?: number;
  /** zlib level of compressed segments. Default 6. */
  zlibLevel?: number;
  now?: () => number;
  warn?: (msg: string) => void;
}

/** One group commit as the recording side hands it over. */
export interface WriterBatch {
  /** `count × RECORD_BYTES`: every field but key id and HMAC, which the writer fills. */
  records: Buffer;
  count: number;
  /** One per record: the canonical recipient (or `\0` + the input when it could not be normalized). */
  recipients: (string | null)[];
  asOfMs: number;
  /** Context entries created since the last batch. */
  dict: ContextEntry[];
  /** Outcome notes (JSON values) to attach. */
  notes: unknown[];
}

/**
 * Writes the decision log of one instance: blocks chained by SHA-256, one append-log.ts frame per
 * block in a zero-filled segment file (segment-file.ts; group commit, fdatasync before `write` resolves), segments rotated by size and by
 * Istanbul day, compressed after rotation with a recipient filter per chunk, retention by whole
 * segment. Runs on the writer worker (writer-worker.ts) or inline (tests, benches, the CLI).
 */
export class SegmentWriter {
  readonly #o: SegmentWriterOptions;
  readonly #hasher: RecipientHasher;
  #m!: Manifest;
  #log: SegmentFile | null = null;
  #active: SegmentEntry | null = null;
  #lastHash: Buffer = ZERO_HASH;
  #nextRecord = 0;
  /** Largest request sequence written (so ids stay unique across restarts). */
  lastSeq = 0;
  #segDict = new Set<number>();
  readonly #dict = new Map<number, ContextEntry>();
  #compressing: Promise<void> = Promise.resolve();
  #checkpointAt = 0;
  #writes: Promise<void> = Promise.resolve();

  private constructor(o: SegmentWriterOptions) {
    this.#o = o;
    const k = o.hmacKeys.find((x) => x.id === o.currentKeyId);
    if (!k) throw new RangeError(`decision log: no HMAC key with id ${o.currentKeyId}`);
    this.#hasher = new RecipientHasher(k);
  }

  get instanceId(): string { return this.#m.instanceId; }
  get manifest(): Manifest { return this.#m; }
  #now(): number { return (this.#o.now ?? Date.now)(); }

  /**
   * Opens (creating) the log in `o.dir`: reads the manifest, replays the open segment (torn tail
   * repaired by append-log.ts), finishes a compression a crash interrupted, applies retention.
   * @throws GW_ERR_LOG_CORRUPT when a segment or the manifest is damaged before its end
   */
  static async open(o: SegmentWriterOptions): Promise<SegmentWriter> {
    const w = new SegmentWriter(o);
    mkdirSync(o.dir, { recursive: true });
    const m = readManifest(o.dir);
    w.#m = m ?? { version: 1, instanceId: randomBytes(4).toString('hex'), segments: [], removed: [], active: null };
    if (!m) writeManifest(o.dir, w.#m);
    const last = w.#m.segments.at(-1);
    const prevRemoved = w.#m.removed.at(-1);
    if (last) {
      w.#nextRecord = last.firstRecord + last.records;
      w.#lastHash = Buffer.from(last.finalHash ?? last.prevHash, 'hex');
      w.lastSeq = last.lastSeq ?? 0;
    } else if (prevRemoved) {
      w.#nextRecord = prevRemoved.firstRecord + prevRemoved.records;
      w.#lastHash = Buffer.from(prevRemoved.finalHash ?? ZERO_HASH.toString('hex'), 'hex');
    }
    if (last && !last.closed) await w.#reopen(last);
    for (const s of w.#m.segments) if (s.closed && !s.compressed) w.#compressLater(s);
    await w.#compressing;
    w.#retention();
    return w;
  }

  async #reopen(s: SegmentEntry): Promise<void> {
    let records = 0;
    this.#nextRecord = s.firstRecord;
    this.#lastHash = Buffer.from(s.prevHash, 'hex');
    const log = await SegmentFile.open(join(this.#o.dir, segName(s.n, 'dlog')), {
      warn: this.#o.warn,
      onRecord: (p) => {
        const h = decodeBlockHeader(p);
        for (const d of h.dict) this.#segDict.add(d.id), this.#dict.set(d.id, d);
        if (h.count > 0) {
          const lastAt = h.recordsAt + (h.count - 1) * RECORD_BYTES;
          const firstAt = h.recordsAt;
          const t0 = p.readUIntLE(firstAt + 1, 6); const t1 = p.readUIntLE(lastAt + 1, 6);
          if (s.firstTimeMs === null) s.firstTimeMs = t0;
          s.lastTimeMs = t1;
          const q0 = p.readUIntLE(firstAt + 7, 6);
          if (s.firstSeq === null) s.firstSeq = q0;
          for (let i = 0; i < h.count; i++) this.lastSeq = Math.max(this.lastSeq, p.readUIntLE(h.recordsAt + i * RECORD_BYTES + 7, 6));
          s.lastSeq = this.lastSeq;
        }
        records += h.count;
        this.#nextRecord = h.firstRecord + h.count;
        this.#lastHash = createHash('sha256').update(p).digest();
      },
    });
    s.records = records;
    this.#log = log;
    this.#active = s;
  }

  /**
   * Writes one batch as one block. Batches are written in call order; resolves once the block is
   * durable (fdatasync).
   * @throws the fs error of a failed write (the log is failed from then on, append-log.ts)
   */
  write(b: WriterBatch): Promise<void> {
    for (const d of b.dict) this.#dict.set(d.id, d);
    const p = this.#writes.then(() => this.#write(b));
    this.#writes = p.catch(() => undefined);
    return p;
  }

  async #write(b: WriterBatch): Promise<void> {
    const timeMs = b.count > 0 ? b.records.readUIntLE(1, 6) : this.#now();
    const day = istanbulDay(timeMs);
    if (!this.#active || !this.#log || this.#log.bytes >= this.#o.segmentBytes || this.#active.day !== day) await this.#rotate(day);
    const recs = b.records;
    const h = this.#hasher;
    const needDict: ContextEntry[] = [];
    let maxSeq = 0;
    for (let i = 0; i < b.count; i++) {
      const off = i * RECORD_BYTES;
      recs[off + 17] = h.id;
      const r = b.recipients[i];
      if (r) h.hashInto(r, recs, off + 18); else recs.fill(0, off + 18, off + 18 + HMAC_BYTES);
      const ctx = recs.readUInt16LE(off + 36);
      if (!this.#segDict.has(ctx)) {
        const e = this.#dict.get(ctx);
        if (e) needDict.push(e);
        this.#segDict.add(ctx);
      }
      const seq = recs.readUIntLE(off + 7, 6);
      if (seq > maxSeq) maxSeq = seq;
    }
    const extras: Buffer[] = b.notes.map((n) => extra(1, Buffer.from(JSON.stringify(n), 'utf8')));
    if (this.#o.encryption && b.count > 0) extras.push(extra(2, sealRecipients(this.#o.encryption.id, this.#o.encryption.key, b.recipients.slice(0, b.count))));
    const block = encodeBlock(this.#lastHash, this.#nextRecord, recs, b.count, b.asOfMs, needDict, Buffer.concat(extras));
    const s = this.#active!;
    this.#lastHash = createHash('sha256').update(block).digest();
    this.#nextRecord += b.count;
    s.records += b.count;
    if (b.count > 0) {
      if (s.firstTimeMs === null) s.firstTimeMs = timeMs;
      s.lastTimeMs = recs.readUIntLE((b.count - 1) * RECORD_BYTES + 1, 6);
      const firstSeq = recs.readUIntLE(7, 6);
      if (s.firstSeq === null) s.firstSeq = firstSeq;
      this.lastSeq = Math.max(this.lastSeq, maxSeq);
      s.lastSeq = this.lastSeq;
    }
    await this.#log!.append(block);
    const now = this.#now();
    if (now - this.#checkpointAt >= (this.#o.checkpointMs ?? 10_000)) {
      this.#checkpointAt = now;
      this.#m.active = { n: s.n, records: s.records, lastHash: this.#lastHash.toString('hex'), atMs: now };
      writeManifest(this.#o.dir, this.#m);
    }
  }

  /** Closes the open segment (final hash into the manifest, compression queued) and opens the next one. */
  async #rotate(day: number): Promise<void> {
    const old = this.#active;
    if (old && this.#log) {
      await this.#log.close();
      this.#log = null;
      if (old.records === 0) {
        // an empty segment (a new day's first batch right after a rotation): reuse its number
        this.#m.segments.pop();
        try { unlinkSync(join(this.#o.dir, segName(old.n, 'dlog'))); } catch { /* never created */ }
      } else {
        old.closed = true;
        old.finalHash = this.#lastHash.toString('hex');
      }
    }
    const n = (this.#m.segments.at(-1)?.n ?? this.#m.removed.at(-1)?.n ?? 0) + 1;
    const s: SegmentEntry = {
      n, firstRecord: this.#nextRecord, records: 0, firstTimeMs: null, lastTimeMs: null, firstSeq: null, lastSeq: null,
      day, prevHash: this.#lastHash.toString('hex'), finalHash: null, closed: false, compressed: false,
    };
    this.#m.segments.push(s);
    this.#m.active = null;
    writeManifest(this.#o.dir, this.#m);
    this.#segDict = new Set();
    this.#log = await SegmentFile.open(join(this.#o.dir, segName(n, 'dlog')), { onRecord: () => undefined, warn: this.#o.warn });
    this.#active = s;
    if (old?.closed) { this.#compressLater(old); this.#retention(); }
  }

  #compressLater(s: SegmentEntry): void {
    this.#compressing = this.#compressing.then(() => this.#compress(s)).catch((err: unknown) => {
      this.#o.warn?.(`decision log: compressing ${segName(s.n, 'dlog')} failed (kept uncompressed): ${(err as Error).message}`);
    });
  }

  /** Compresses a closed segment into `.dlz` (chunks + filters), then removes the `.dlog`. */
  async #compress(s: SegmentEntry): Promise<void> {
    const rawPath = join(this.#o.dir, segName(s.n, 'dlog'));
    if (!existsSync(rawPath)) return;
    const raw = readFileSync(rawPath);
    const chunkBytes = this.#o.chunkBytes ?? 1 << 20;
    const dict = new Map<number, ContextEntry>();
    type Open = { start: number; end: number; firstRecord: number; count: number; minTime: number; maxTime: number; minSeq: number; maxSeq: number; hmacs: Buffer[] };
    const chunks: Open[] = [];
    let cur: Open | null = null;
    const walked = walkFrames(raw, raw.length >= LOG_MAGIC.length ? LOG_MAGIC.length : raw.length, (p, off) => {
      const h = decodeBlockHeader(p);
      for (const d of h.dict) dict.set(d.id, d);
      if (!cur || cur.end - cur.start >= chunkBytes) {
        cur = { start: off, end: off, firstRecord: h.firstRecord, count: 0, minTime: Infinity, maxTime: 0, minSeq: Infinity, maxSeq: 0, hmacs: [] };
        chunks.push(cur);
      }
      cur.end = off + 9 + p.length;
      for (let i = 0; i < h.count; i++) {
        const at = h.recordsAt + i * RECORD_BYTES;
        const t = p.readUIntLE(at + 1, 6); const q = p.readUIntLE(at + 7, 6);
        if (t < cur.minTime) cur.minTime = t; if (t > cur.maxTime) cur.maxTime = t;
        if (q < cur.minSeq) cur.minSeq = q; if (q > cur.maxSeq) cur.maxSeq = q;
        cur.hmacs.push(p.subarray(at + 18, at + 18 + HMAC_BYTES));
      }
      cur.count += h.count;
    });
    if (walked.damage) throw new Error(`${rawPath}: damaged at byte ${walked.end} (${walked.damage})`);
    const table: ChunkEntry[] = [];
    const blooms: Buffer[] = [];
    const datas: Buffer[] = [];
    let zOff = 0; let bloomOff = 0;
    for (const c of chunks) {
      const z = await deflate(raw.subarray(c.start, c.end), { level: this.#o.zlibLevel ?? 6 });
      const blocks = bloomBlocksFor(c.count);
      const f = Buffer.alloc(blocks * BLOOM_BLOCK);
      for (const hm of c.hmacs) bloomBits(f, 0, blocks, hm, 0, true, BLOOM_K);
      table.push({
        zOff, zLen: z.length, rawLen: c.end - c.start, firstRecord: c.firstRecord, count: c.count,
        minTime: c.count ? c.minTime : 0, maxTime: c.maxTime, minSeq: c.count ? c.minSeq : 0, maxSeq: c.maxSeq, bloomOff, bloomBlocks: blocks,
      });
      blooms.push(f); datas.push(z);
      zOff += z.length; bloomOff += blocks;
    }
    const header = Buffer.from(JSON.stringify({
      n: s.n, instanceId: this.#m.instanceId, dict: [...dict.values()].map((d) => [d.id, d.keyName, d.via]), chunks: table, bloomK: BLOOM_K,
    } satisfies DlzHeader), 'utf8');
    const lenBuf = Buffer.allocUnsafe(4);
    lenBuf.writeUInt32LE(header.length, 0);
    const out = Buffer.concat([DLZ_MAGIC, lenBuf, header, ...blooms, ...datas]);
    const tmp = join(this.#o.dir, segName(s.n, 'dlz') + '.tmp');
    const fd = openSync(tmp, 'w');
    try { writeSync(fd, out); fsyncSync(fd); } finally { closeSync(fd); }
    renameSync(tmp, join(this.#o.dir, segName(s.n, 'dlz')));
    fsyncDir(this.#o.dir);
    s.compressed = true;
    writeManifest(this.#o.dir, this.#m);
    unlinkSync(rawPath);
    fsyncDir(this.#o.dir);
  }

  /** Deletes closed segments whose last record is older than retentionDays; the manifest keeps what it removed. */
  #retention(): void {
    const cutoff = this.#now() - this.#o.retentionDays * 86_400_000;
    let changed = false;
    while (this.#m.segments.length > 1 || (this.#m.segments[0]?.closed ?? false)) {
      const s = this.#m.segments[0]!;
      if (!s.closed || !s.compressed || s.lastTimeMs === null || s.lastTimeMs >= cutoff) break;
      for (const ext of ['dlz', 'dlog'] as const) { try { unlinkSync(join(this.#o.dir, segName(s.n, ext))); } catch { /* gone */ } }
      this.#m.segments.shift();
      this.#m.removed.push({ n: s.n, firstRecord: s.firstRecord, records: s.records, lastTimeMs: s.lastTimeMs, finalHash: s.finalHash, removedAtMs: this.#now(), why: `retention ${this.#o.retentionDays} days` });
      this.#o.warn?.(`decision log: retention removed ${segName(s.n, 'dlz')} (${s.records} records, last ${new Date(s.lastTimeMs).toISOString()})`);
      changed = true;
    }
    if (changed) { writeManifest(this.#o.dir, this.#m); fsyncDir(this.#o.dir); }
  }

  /** Waits for writes and compressions in flight (tests, close). */
  async idle(): Promise<void> { await this.#writes; await this.#compressing; }

  /** Rotates now (tests, `audit` tooling): closes the open segment when it holds records. */
  async rotateNow(): Promise<void> {
    const p = this.#writes.then(async () => { if (this.#active && this.#active.records > 0) await this.#rotate(istanbulDay(this.#now())); });
    this.#writes = p.catch(() => undefined);
    await p;
    await this.#compressing;
  }

  /** Applies retention now (also done at open and after each rotation). */
  retentionNow(): void { this.#retention(); }

  /** Finishes writes and compressions, checkpoints the manifest, closes the segment. */
  async close(): Promise<void> {
    await this.idle();
    if (this.#log) {
      await this.#log.close();
      this.#log = null;
      const s = this.#active!;
      this.#m.active = { n: s.n, records: s.records, lastHash: this.#lastHash.toString('hex'), atMs: this.#now() };
      writeManifest(this.#o.dir, this.#m);
    }
  }
}

export { BLOCK_HEADER_BYTES };
