import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  DEFAULT_MAX_RECORD_BYTES, FRAME_HEADER, KIND_DATA, KIND_SEAL, LOG_MAGIC, asidePath, checkFrame, corrupt, encodeFrame,
  findValidFrameAfter, fsyncDir, readLegacyLines, repairTornTail, scanFramed, zeroFrom, type LegacyFormat,
} from './log-format.ts';

/**
 * Whole files of the append-only log layer (snapshot, compacted outbox, job state) and the replay
 * shared with AppendLog.open. Format and recovery rule: append-log.ts.
 */

/** What a replay needs: the record callback, warnings, the legacy reader. */
export interface ReplayOptions {
  onRecord(payload: Buffer, offset: number): void;
  warn?: (msg: string) => void;
  legacy?: LegacyFormat;
}

/**
 * Reads `path` with the recovery rule; for `whole` files (written by writeLogFileSync) a torn
 * tail or a missing seal is corruption, never repaired. Legacy appendable files are converted.
 */
export async function replayFile(path: string, opts: ReplayOptions, max: number, whole: boolean): Promise<{ sealed: boolean; legacy: boolean }> {
  let fh: FileHandle | null;
  try { fh = await open(path, 'r'); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { sealed: false, legacy: false };
    throw err;
  }
  try {
    const size = (await fh.stat()).size;
    if (size === 0) return { sealed: false, legacy: false };
    const head = Buffer.alloc(Math.min(size, LOG_MAGIC.length));
    await fh.read(head, 0, head.length, 0);
    if (head.equals(LOG_MAGIC.subarray(0, head.length))) {
      if (head.length < LOG_MAGIC.length) {
        if (whole) throw corrupt(path, 0, 'file header cut short');
        await fh.close();
        fh = null;
        repairTornTail(path, 0, size, 'file header cut short', opts.warn);
        return { sealed: false, legacy: false };
      }
      const r = await scanFramed(fh, size, max, opts.onRecord);
      if (r.damage === null) {
        if (whole && !r.sealed) throw corrupt(path, r.validEnd, 'file ends without its seal record (incomplete)');
        return { sealed: r.sealed, legacy: false };
      }
      const later = await findValidFrameAfter(fh, r.validEnd, size, max);
      if (later >= 0) throw corrupt(path, r.validEnd, `${r.damage}; a valid record follows at byte ${later}`);
      if (whole) throw corrupt(path, r.validEnd, `${r.damage}; the file is incomplete`);
      await fh.close();
      fh = null;
      repairTornTail(path, r.validEnd, size, r.damage, opts.warn);
      return { sealed: false, legacy: false };
    }
    if (!opts.legacy) throw corrupt(path, 0, 'not an iys-gate log file (no IYSLOG1 header)');
    if (whole) {
      await readLegacyLines(fh, path, opts.legacy, (line) => opts.onRecord(Buffer.from(line, 'utf8'), -1), opts.warn);
      return { sealed: false, legacy: true };
    }
    // convert: replay and write the framed copy in one pass; it replaces the old file (kept as
    // `.legacy`) before anything is appended
    const writer = new LogFileWriter(path);
    try {
      const kept = await readLegacyLines(fh, path, opts.legacy, (line) => {
        const b = Buffer.from(line, 'utf8');
        opts.onRecord(b, -1);
        writer.add(b);
      }, opts.warn);
      const aside = asidePath(path, '.legacy');
      copyFileSync(path, aside);
      writer.commit(false);
      opts.warn?.(`${path}: converted from the format of an earlier release (${kept} records; old file kept as ${aside})`);
    } finally {
      writer.abandon();
    }
    return { sealed: false, legacy: true };
  } finally {
    if (fh) await fh.close();
  }
}

/**
 * Opens a preallocated log (append-log.ts `preallocate`) for read and write (created when missing),
 * replays its valid frames and applies the recovery rule with zeros as the clean end: the first
 * invalid frame ends the valid part at X; only zeros after X: the clean end (the handle stays open,
 * `size` is the preallocated space); other bytes after X and no valid frame after them: a torn
 * tail, copied to `.broken` and truncated at X; a valid frame after X: GW_ERR_LOG_CORRUPT, nothing
 * changed. A file of zeros only is an empty log; a cut magic is a torn first write.
 * @returns the handle (opened `r+`), the end of the valid records `end` and the file size `size`
 * @throws GW_ERR_LOG_CORRUPT (file, byte offset); fs errors
 */
export async function openPreallocatedFile(path: string, opts: ReplayOptions, max: number): Promise<{ fh: FileHandle; end: number; size: number }> {
  let fh = await open(path, 'r+').catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return open(path, 'w+'); throw err; });
  let owned = false;
  try {
    const size = (await fh.stat()).size;
    let end = 0;
    if (size > 0) {
      const head = Buffer.alloc(Math.min(size, LOG_MAGIC.length));
      await fh.read(head, 0, head.length, 0);
      if (head.equals(LOG_MAGIC)) {
        const scan = await scanFramed(fh, size, max, opts.onRecord);
        end = scan.validEnd;
        if (scan.damage && !(await zeroFrom(fh, end, size))) {
          if ((await findValidFrameAfter(fh, end, size, max)) >= 0) throw corrupt(path, end, scan.damage);
          await fh.close();
          repairTornTail(path, end, size, scan.damage, opts.warn);
          fh = await open(path, 'r+');
          owned = true;
          return { fh, end, size: end };
        }
      } else if (!(await zeroFrom(fh, 0, size))) {
        // only zeros: grown, first frame never written (an empty log); a cut magic: a torn first write
        if (size >= LOG_MAGIC.length || !LOG_MAGIC.subarray(0, size).equals(head)) throw corrupt(path, 0, 'not an iys-gate log file (no IYSLOG1 header)');
        await fh.close();
        repairTornTail(path, 0, size, 'magic cut short', opts.warn);
        fh = await open(path, 'r+');
        owned = true;
        return { fh, end: 0, size: 0 };
      }
    }
    owned = true;
    return { fh, end, size };
  } finally {
    if (!owned) await fh.close().catch(() => undefined);
  }
}

/** Writes `<path>.tmp` frame by frame; `commit` fsyncs and renames it over `path`. */
class LogFileWriter {
  readonly #tmp: string;
  #fd: number | null;
  #chunk: Buffer[] = [LOG_MAGIC];
  #size = LOG_MAGIC.length;

  constructor(readonly path: string) {
    this.#tmp = `${path}.tmp`;
    this.#fd = openSync(this.#tmp, 'w');
  }

  add(payload: Buffer, kind = KIND_DATA): void {
    if (payload.length === 0) return;
    if (payload.length > DEFAULT_MAX_RECORD_BYTES) throw new RangeError(`${this.path}: record of ${payload.length} bytes (at most ${DEFAULT_MAX_RECORD_BYTES})`);
    this.#chunk.push(encodeFrame(payload, kind));
    this.#size += payload.length + FRAME_HEADER;
    if (this.#size >= 4 * 1024 * 1024) this.#flush();
  }

  #flush(): void {
    if (this.#chunk.length) writeSync(this.#fd!, Buffer.concat(this.#chunk));
    this.#chunk = [];
    this.#size = 0;
  }

  commit(sealed: boolean): void {
    if (sealed) this.add(Buffer.from('{"seal":1}'), KIND_SEAL);
    this.#flush();
    fsyncSync(this.#fd!);
    closeSync(this.#fd!);
    this.#fd = null;
    renameSync(this.#tmp, this.path);
    fsyncDir(dirname(this.path));
  }

  /** Closes and removes the temp file unless committed. */
  abandon(): void {
    if (this.#fd === null) return;
    closeSync(this.#fd);
    this.#fd = null;
    try { unlinkSync(this.#tmp); } catch { /* already gone */ }
  }
}

/**
 * Writes a whole log file: `<path>.tmp` with the magic and one frame per record (plus a seal frame
 * when `sealed`), fsync, rename over `path`, directory fsync. A crash at any point leaves either
 * the old file or the new one.
 * @param records payloads (1 byte … 64 MiB each)
 * @throws fs errors (ENOSPC, EIO, …); the old file is then unchanged
 */
export function writeLogFileSync(path: string, records: Iterable<Buffer | string>, opts: { sealed: boolean }): void {
  const w = new LogFileWriter(path);
  try {
    for (const r of records) w.add(typeof r === 'string' ? Buffer.from(r, 'utf8') : r);
    w.commit(opts.sealed);
  } finally {
    w.abandon();
  }
}

/**
 * Reads a whole file written by `writeLogFileSync(…, { sealed: true })`. Returns null when the file
 * does not exist. A legacy file (no magic) is read through `legacy` (whole: the entire text as one
 * record; lines: each line) — the caller rewrites it in the new format at its next write.
 * @throws GW_ERR_LOG_CORRUPT (file, offset) for any damaged record, a missing seal, or an unframed
 *   file without a legacy reader
 */
export async function readLogFile(path: string, opts: { onRecord(payload: Buffer): void; legacy?: LegacyFormat | 'whole'; warn?: (m: string) => void }): Promise<{ legacy: boolean } | null> {
  if (!existsSync(path)) return null;
  if (opts.legacy === 'whole') {
    const buf = readFileSync(path);
    if (!buf.subarray(0, LOG_MAGIC.length).equals(LOG_MAGIC)) {
      if (buf.length > 0) opts.onRecord(buf);
      return { legacy: true };
    }
  }
  const r = await replayFile(path, {
    onRecord: (p) => opts.onRecord(p), ...(opts.warn ? { warn: opts.warn } : {}),
    ...(opts.legacy && opts.legacy !== 'whole' ? { legacy: opts.legacy } : {}),
  }, DEFAULT_MAX_RECORD_BYTES, true);
  return { legacy: r.legacy };
}

/** Reads a sealed single-record file synchronously (small state files); null when missing. */
export function readLogFileSync(path: string, legacyWhole = true): Buffer | null {
  if (!existsSync(path)) return null;
  const buf = readFileSync(path);
  if (!buf.subarray(0, LOG_MAGIC.length).equals(LOG_MAGIC)) {
    if (legacyWhole) return buf;
    throw corrupt(path, 0, 'not an iys-gate log file (no IYSLOG1 header)');
  }
  const records: Buffer[] = [];
  let pos = LOG_MAGIC.length;
  let sealed = false;
  while (pos < buf.length) {
    const c = checkFrame(buf, pos, buf.length, DEFAULT_MAX_RECORD_BYTES);
    if (!c.ok) throw corrupt(path, pos, c.reason);
    if (sealed) throw corrupt(path, pos, 'record after the seal');
    if (c.kind === KIND_SEAL) sealed = true;
    else records.push(buf.subarray(pos + FRAME_HEADER, pos + FRAME_HEADER + c.len));
    pos += FRAME_HEADER + c.len;
  }
  if (!sealed) throw corrupt(path, pos, 'file ends without its seal record (incomplete)');
  return records.length === 1 ? records[0]! : Buffer.concat(records);
}

const STATE_PIECE_BYTES = 16 * 1024 * 1024;

/**
 * Writes a JSON state file (upload job state, …) durably as a sealed framed file: the JSON text in
 * records of ≤ 16 MiB, temp file, fsync, rename, directory fsync (writeLogFileSync).
 * @throws fs errors (ENOSPC, EIO, …); the previous state file is then unchanged
 */
export function writeStateFileSync(path: string, value: unknown): void {
  const all = Buffer.from(JSON.stringify(value), 'utf8');
  const pieces: Buffer[] = [];
  for (let i = 0; i < all.length; i += STATE_PIECE_BYTES) pieces.push(all.subarray(i, i + STATE_PIECE_BYTES));
  writeLogFileSync(path, pieces, { sealed: true });
}

/**
 * Reads a state file written by writeStateFileSync (or a plain JSON file of the earlier release);
 * null when missing.
 * @throws GW_ERR_LOG_CORRUPT (file, offset) when a record is damaged or the seal is missing;
 *   SyntaxError when a legacy plain file is not JSON
 */
export function readStateFileSync<T>(path: string): T | null {
  const buf = readLogFileSync(path);
  return buf === null ? null : JSON.parse(buf.toString('utf8')) as T;
}
