import { truncateSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { openPreallocatedFile, replayFile, type ReplayOptions } from './log-files.ts';
import { DEFAULT_MAX_RECORD_BYTES, LOG_MAGIC, encodeFrame, zeros, type LegacyFormat } from './log-format.ts';

/**
 * The one append-only log layer of iys-gate (STYLE.md "Many doors, one gate"; like etcd's
 * `server/storage/wal` and its `repair.go`). Every file the gateway appends to or writes whole —
 * the mirror journal and snapshot, the outbox log, upload job state, and any later log (dead
 * letters, decision log) — goes through this module, so one recovery rule holds for all of them.
 *
 * ## Format (version 1)
 * A file starts with the 8-byte magic `IYSLOG1\n`, then frames:
 *
 *     u32 LE payload length (1 … maxRecordBytes) | u8 kind (1 data, 2 seal) | u32 LE CRC-32 | payload
 *
 * The CRC-32 (zlib.crc32) covers the 5 bytes of length and kind, then the payload. Length 0 and
 * kind 0 are invalid, so a zero-filled tail (a file system that grew the file but never wrote the
 * data) is never read as records. An empty file (0 bytes) is a valid empty log; the magic is
 * written with the first append.
 *
 * ## Recovery rule (applied by `AppendLog.open` before the first append)
 * - The file is scanned frame by frame. The first invalid frame (bad CRC, bad kind or length, or
 *   running past the end) ends the valid part at offset X.
 * - If no valid frame starts anywhere after X, the bytes from X are a **torn tail** (a crash
 *   mid-write: never acknowledged, since `append()` resolves only after fdatasync). The file is
 *   copied aside to `<file>.broken` (`.broken.1`, … if taken), truncated at X, fdatasynced, the
 *   directory fsynced, and a warning names the file, offset and byte count. Appends then start at X:
 *   a new record is never glued onto a fragment (field case C42).
 * - If a valid frame follows X, the damage is in the **middle**: records after it would be lost by
 *   truncating. Nothing is changed and `open` throws `GW_ERR_LOG_CORRUPT` naming the file and byte
 *   offset; the gateway refuses to start with it (README "Data files" says how to recover).
 * - **Decided: a damaged last record is a torn tail** (test "a flipped byte in the last record
 *   only"), even when its frame is whole (length and
 *   bytes all present, only the CRC wrong). A crash during a write can leave exactly that (the
 *   page holding the header reached the disk, part of the payload did not), and nothing read from
 *   the file can tell it from bit rot of an acknowledged record. Refusing to start on it would
 *   turn every such crash into an outage, so it is truncated like any tail; the bytes are kept
 *   in `<file>.broken` and the warning names the offset, so a record lost to bit rot is still
 *   there to inspect. Damage anywhere before the last record is never truncated (the rule above).
 *
 * ## Legacy files
 * Files written before this format (plain text lines, no magic) are read line by line through
 * `legacy` (an unterminated last line is a torn tail; a line `legacy.valid` refuses is salvaged
 * from its last valid suffix when a record was glued onto a fragment, else skipped with a
 * warning), then rewritten in the framed format (temp file, fsync, rename, directory fsync) before
 * the first append. The old file is kept as `<file>.legacy`.
 *
 * ## Whole files
 * `writeLogFileSync` writes a file whole (snapshot, compacted outbox, job state): temp file,
 * fsync, rename, directory fsync. A `sealed` file ends with a seal frame; `readLogFileSync`
 * refuses a sealed file without it (`GW_ERR_LOG_CORRUPT`): a whole file is complete by
 * construction, so any damage means lost records and is never truncated away.
 *
 * ## Preallocated files
 * With `preallocate` (the decision log's open segments) the records are written into space that
 * was **zero-filled ahead** (like PostgreSQL's zero-filled WAL segments), so that a group commit's
 * fdatasync flushes data blocks only: appending past the end of a file changes its size, and on
 * ext4/xfs every such fdatasync also commits the file system journal (measured: p50 1.5 ms
 * appending vs 0.21 ms overwriting zero-filled blocks, `bench/README.md` "Decision log").
 * - Appends overwrite the zero tail at the logical end; when a batch does not fit, the file is
 *   grown by `growBytes` of zeros in the same write + fdatasync (one journal commit per grow).
 * - The format is the one above; a zero tail is the clean end (frames of length 0 are invalid, so
 *   zeros are never read as records). At `close()` the file is cut to its records, so a closed
 *   file is an ordinary log file.
 * - Recovery at open is the rule above with zeros as the clean end: only zeros after the valid
 *   part: nothing to repair; other bytes and no valid frame after them: a torn tail (copied to
 *   `.broken`, truncated, never glued onto); a valid frame after them: GW_ERR_LOG_CORRUPT. A file
 *   of zeros only is an empty log. Legacy (unframed) files are not read in this mode.
 *
 * Import everything from this file; the code is split into log-format.ts (frames, scan, repair,
 * legacy lines) and log-files.ts (whole files, state files, the replay shared with `open`).
 */


export { DEFAULT_MAX_RECORD_BYTES, LOG_MAGIC, encodeFrame, type LegacyFormat } from './log-format.ts';
export { allZero } from './log-format.ts';
export { readLogFile, readLogFileSync, readStateFileSync, writeLogFileSync, writeStateFileSync } from './log-files.ts';

/**
 * The file operations of the append path, replaceable in tests (a delayed or failing fsync).
 * Both receive the handle the log opened in append mode.
 */
export interface LogFs {
  /** Writes all of `data` at the end of the file. */
  write(fh: FileHandle, data: Buffer, path: string): Promise<void>;
  /** fdatasync of the file. */
  datasync(fh: FileHandle, path: string): Promise<void>;
  /** Writes all of `data` at byte `at` (preallocated files only); default: node:fs positional writes. */
  writeAt?(fh: FileHandle, data: Buffer, at: number, path: string): Promise<void>;
}

/** The real file layer (node:fs). */
export const nodeLogFs: LogFs = {
  write: (fh, data) => fh.appendFile(data),
  datasync: (fh) => fh.datasync(),
  writeAt: writeAll,
};

async function writeAll(fh: FileHandle, data: Buffer, at: number): Promise<void> {
  for (let off = 0; off < data.length;) {
    const { bytesWritten } = await fh.write(data, off, data.length - off, at + off);
    off += bytesWritten;
  }
}

/** How to read a file written before the framed format (plain lines). */
export interface AppendLogOptions extends ReplayOptions {
  /** Called with each valid record's payload in file order (legacy: each line, without `\n`). */
  onRecord(payload: Buffer, offset: number): void;
  /** File layer of the append path; default `nodeLogFs`. */
  fs?: LogFs;
  /** Receives recovery warnings (torn tail repaired, legacy file converted). Default: ignored. */
  warn?: (msg: string) => void;
  /** How to read a legacy (unframed) file; without it such a file is GW_ERR_LOG_CORRUPT at offset 0. */
  legacy?: LegacyFormat;
  /** Largest payload, bytes; bigger frames are invalid and `append` rejects them. Default 64 MiB. */
  maxRecordBytes?: number;
  /**
   * Write into zero-filled space ahead of the records (module docstring "Preallocated files"):
   * `growBytes` of zeros are added at a time (rounded up to 4 KiB; default 1 MiB when
   * `preallocate` is `{}`). `legacy` is not read in this mode. Default: off (plain appends).
   */
  preallocate?: { growBytes?: number };
}


/**
 * An append-only, CRC-framed log file with group commit. Open with `AppendLog.open()` (replays and
 * recovers); `append()` resolves after the record is written and fdatasynced; concurrent appends
 * share one write + fdatasync.
 *
 * After a failed write or fdatasync the log is **failed**: every later `append`/`sync` rejects with
 * that first error until the process restarts (memory may hold what the disk does not; an fsync
 * error cannot be retried safely). The next start's recovery truncates whatever the failure left.
 */
export class AppendLog {
  #fh: FileHandle | null = null;
  #pending: Buffer[] = [];
  #waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  #flushing: Promise<void> | null = null;
  /** The batch being written and fdatasynced now (settles with it), or null. */
  #inflight: Promise<void> | null = null;
  #bytes = 0;
  #failed: Error | null = null;
  readonly #fs: LogFs;
  readonly #max: number;
  /** Preallocated mode: zeros added at a time, bytes; 0 = plain appends. */
  readonly #grow: number;
  /** Preallocated mode: where the next write goes (the end of what is written). */
  #pos = 0;
  /** Preallocated mode: the file size (the zero-filled space ends here). */
  #allocated = 0;

  private constructor(readonly path: string, fs: LogFs, max: number, grow: number) {
    this.#fs = fs;
    this.#max = max;
    this.#grow = grow;
  }

  /**
   * Opens `path` (created when missing): replays every valid record through `opts.onRecord`,
   * repairs a torn tail or converts a legacy file, then opens it for appends.
   * @throws GW_ERR_LOG_CORRUPT (file and byte offset) when a damaged record has valid records after it,
   *   or when the file is not in the framed format and no `legacy` reader was given
   * @throws fs errors (EACCES, EIO, …) from reading or repairing
   */
  static async open(path: string, opts: AppendLogOptions): Promise<AppendLog> {
    const grow = opts.preallocate ? Math.max(4096, Math.ceil((opts.preallocate.growBytes ?? 1 << 20) / 4096) * 4096) : 0;
    const log = new AppendLog(path, opts.fs ?? nodeLogFs, opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES, grow);
    if (log.#grow > 0) {
      const f = await openPreallocatedFile(path, opts, log.#max);
      log.#fh = f.fh;
      log.#bytes = log.#pos = f.end;
      log.#allocated = f.size;
      return log;
    }
    await replayFile(path, opts, log.#max, false);
    log.#fh = await open(path, 'a');
    log.#bytes = (await log.#fh.stat()).size;
    return log;
  }

  /** Bytes in the file, including appends not yet flushed. */
  get bytes(): number { return this.#bytes; }

  /**
   * Appends one record (`payload`, 1 byte … maxRecordBytes). Resolves once it is durable.
   * @throws RangeError for an empty or oversized payload; the fs error of a failed write or
   *   fdatasync (ENOSPC, EIO, …), and the same error for every later append (the log is failed)
   */
  append(payload: string | Buffer): Promise<void> {
    if (!this.#fh) return Promise.reject(new Error(`log ${this.path} is not open`));
    if (this.#failed) return Promise.reject(this.#failed);
    const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    if (data.length === 0 || data.length > this.#max) return Promise.reject(new RangeError(`log ${this.path}: record of ${data.length} bytes (1 … ${this.#max} allowed)`));
    let frame = encodeFrame(data);
    if (this.#bytes === 0) frame = Buffer.concat([LOG_MAGIC, frame]);
    this.#pending.push(frame);
    this.#bytes += frame.length;
    return this.#waitPending();
  }

  /**
   * A barrier: resolves once every record appended before the call is durable (at once when none
   * is pending). Rejects when one of them failed (or the log is failed).
   */
  sync(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#pending.length > 0) return this.#waitPending(); // written after the batch in flight
    return this.#inflight ?? Promise.resolve();
  }

  #waitPending(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#flushing) this.#flushing = this.#flushLoop();
    return p;
  }

  async #flushLoop(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const data = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
        const waiters = this.#waiters;
        this.#pending = [];
        this.#waiters = [];
        if (this.#failed) { for (const w of waiters) w.reject(this.#failed); continue; }
        let settle!: (err: Error | null) => void;
        this.#inflight = new Promise<void>((resolve, reject) => { settle = (err) => (err ? reject(err) : resolve()); });
        this.#inflight.catch(() => undefined); // observed by sync() callers only
        try {
          await this.#write(data);
          await this.#fs.datasync(this.#fh!, this.path);
          for (const w of waiters) w.resolve();
          settle(null);
        } catch (err) {
          this.#failed = err instanceof Error ? err : new Error(String(err));
          for (const w of waiters) w.reject(this.#failed);
          settle(this.#failed);
        } finally {
          this.#inflight = null;
        }
      }
    } finally {
      this.#flushing = null;
    }
  }

  /** Writes one batch: appended, or (preallocated) over the zero tail, growing it when full. */
  async #write(data: Buffer): Promise<void> {
    const fh = this.#fh!;
    if (this.#grow === 0) return this.#fs.write(fh, data, this.path);
    const writeAt = this.#fs.writeAt ?? writeAll;
    await writeAt(fh, data, this.#pos, this.path);
    const end = this.#pos + data.length;
    if (end > this.#allocated) {
      // zeros ahead, in the same fdatasync (the one journal commit of the next growBytes)
      const to = end + this.#grow;
      for (let at = end; at < to;) { const n = Math.min(zeros().length, to - at); await writeAt(fh, zeros().subarray(0, n), at, this.path); at += n; }
      this.#allocated = to;
    }
    this.#pos = end;
  }

  /** The error that failed the log, or null while it works. */
  get failure(): Error | null { return this.#failed; }

  /** Waits for pending appends, then closes (preallocated: cuts the zero tail first, fdatasync). Idempotent. */
  async close(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    const fh = this.#fh;
    this.#fh = null;
    if (!fh) return;
    try {
      if (this.#grow > 0 && this.#failed === null && this.#allocated > this.#pos) {
        await fh.truncate(this.#pos);
        await fh.datasync();
        this.#allocated = this.#pos;
      }
    } finally { await fh.close(); }
  }

  /** True while appends are pending or being written. */
  get busy(): boolean { return this.#flushing !== null; }

  /** Resolves when nothing is pending nor being written (check `busy` again after the await). */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  /**
   * Empties the file synchronously (0 bytes: a valid empty log; the next append writes the magic).
   * Only safe when `idle()` just resolved and the caller made what the file held redundant in the
   * same synchronous step (a snapshot): nothing can be in flight.
   */
  truncateIdleSync(): void {
    if (!this.#fh || this.#flushing) throw new Error(`log ${this.path} is not idle`);
    truncateSync(this.path, 0);
    this.#bytes = this.#pos = this.#allocated = 0;
  }
}
