import {
  closeSync, copyFileSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, truncateSync, unlinkSync, writeSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { crc32 } from 'node:zlib';
import { gatewayError } from '../errors.ts';

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
 */

export const LOG_MAGIC = Buffer.from('IYSLOG1\n', 'latin1');
const FRAME_HEADER = 9;
const KIND_DATA = 1;
const KIND_SEAL = 2;
const READ_CHUNK = 8 * 1024 * 1024;
/** Default largest payload of one record, bytes (64 MiB). */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

/**
 * The file operations of the append path, replaceable in tests (a delayed or failing fsync).
 * Both receive the handle the log opened in append mode.
 */
export interface LogFs {
  /** Writes all of `data` at the end of the file. */
  write(fh: FileHandle, data: Buffer, path: string): Promise<void>;
  /** fdatasync of the file. */
  datasync(fh: FileHandle, path: string): Promise<void>;
}

/** The real file layer (node:fs). */
export const nodeLogFs: LogFs = {
  write: (fh, data) => fh.appendFile(data),
  datasync: (fh) => fh.datasync(),
};

/** How to read a file written before the framed format (plain lines). */
export interface LegacyFormat {
  /** True when `line` (without its `\n`) is a complete record of the old format. */
  valid(line: string): boolean;
}

export interface AppendLogOptions {
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
}

/** Encodes one frame. */
export function encodeFrame(payload: Buffer, kind = KIND_DATA): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out[4] = kind;
  out.writeUInt32LE(crc32(payload, crc32(out.subarray(0, 5))), 5);
  payload.copy(out, FRAME_HEADER);
  return out;
}

/** Result of checking the frame at `pos` of `buf` (`total` = file size known so far). */
type FrameCheck = { ok: true; kind: number; len: number } | { ok: false; reason: string; needMore?: boolean };

function checkFrame(buf: Buffer, pos: number, end: number, max: number): FrameCheck {
  if (end - pos < FRAME_HEADER) return { ok: false, reason: 'frame header cut short', needMore: true };
  const len = buf.readUInt32LE(pos);
  const kind = buf[pos + 4]!;
  if (len === 0 || len > max) return { ok: false, reason: `impossible record length ${len}` };
  if (kind !== KIND_DATA && kind !== KIND_SEAL) return { ok: false, reason: `unknown record kind ${kind}` };
  if (end - pos < FRAME_HEADER + len) return { ok: false, reason: 'record cut short', needMore: true };
  const want = buf.readUInt32LE(pos + 5);
  const got = crc32(buf.subarray(pos + FRAME_HEADER, pos + FRAME_HEADER + len), crc32(buf.subarray(pos, pos + 5)));
  if (got !== want) return { ok: false, reason: 'checksum mismatch' };
  return { ok: true, kind, len };
}

/** Offset of the first valid frame starting in (from, size), or -1. Reads the rest of the file. */
async function findValidFrameAfter(fh: FileHandle, from: number, size: number, max: number): Promise<number> {
  const window = Math.min(READ_CHUNK, size - from);
  let base = from + 1;
  while (base + FRAME_HEADER <= size) {
    const n = Math.min(window, size - base);
    const buf = Buffer.allocUnsafe(n);
    await fh.read(buf, 0, n, base);
    for (let i = 0; i + FRAME_HEADER <= n; i++) {
      const len = buf.readUInt32LE(i);
      const kind = buf[i + 4];
      if (len === 0 || len > max || (kind !== KIND_DATA && kind !== KIND_SEAL) || base + i + FRAME_HEADER + len > size) continue;
      let frame: Buffer;
      if (i + FRAME_HEADER + len <= n) frame = buf.subarray(i, i + FRAME_HEADER + len);
      else { frame = Buffer.allocUnsafe(FRAME_HEADER + len); await fh.read(frame, 0, frame.length, base + i); }
      if (checkFrame(frame, 0, frame.length, max).ok) return base + i;
    }
    base += n - FRAME_HEADER + 1;
  }
  return -1;
}

interface ScanResult {
  /** End of the last valid frame (= where appends continue). */
  validEnd: number;
  size: number;
  sealed: boolean;
  records: number;
  /** Why the frame at validEnd is invalid, when validEnd < size. */
  damage: string | null;
}

/** Scans a framed file (magic already checked), calling onRecord for each data record. */
async function scanFramed(fh: FileHandle, size: number, max: number, onRecord: (p: Buffer, off: number) => void): Promise<ScanResult> {
  let buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(size, 1)));
  let bufStart = LOG_MAGIC.length; // file offset of buf[0]
  let have = 0;
  let pos = 0; // into buf
  let records = 0;
  let sealed = false;
  let fileRead = LOG_MAGIC.length;
  for (;;) {
    const c = checkFrame(buf, pos, have, max);
    if (c.ok) {
      if (sealed) return { validEnd: bufStart + pos, size, sealed: false, records, damage: 'record after the seal' };
      if (c.kind === KIND_SEAL) sealed = true;
      else { onRecord(buf.subarray(pos + FRAME_HEADER, pos + FRAME_HEADER + c.len), bufStart + pos); records++; }
      pos += FRAME_HEADER + c.len;
      continue;
    }
    if (c.needMore && fileRead < size) {
      // keep the unread part, read more (grow when one frame is bigger than the buffer)
      const rest = have - pos;
      const need = rest >= FRAME_HEADER ? FRAME_HEADER + buf.readUInt32LE(pos) : FRAME_HEADER;
      if (need > buf.length) {
        const next = Buffer.allocUnsafe(need);
        buf.copy(next, 0, pos, have);
        buf = next;
      } else buf.copyWithin(0, pos, have);
      bufStart += pos;
      have = rest;
      pos = 0;
      const { bytesRead } = await fh.read(buf, have, buf.length - have, fileRead);
      if (bytesRead === 0) break;
      have += bytesRead;
      fileRead += bytesRead;
      continue;
    }
    const at = bufStart + pos;
    if (at >= size) return { validEnd: size, size, sealed, records, damage: null };
    return { validEnd: at, size, sealed, records, damage: c.reason };
  }
  return { validEnd: bufStart + pos, size, sealed, records, damage: bufStart + pos < size ? 'read stopped short' : null };
}

function corrupt(path: string, offset: number, what: string): Error {
  return gatewayError('GW_ERR_LOG_CORRUPT', [path, String(offset), what]);
}

function fsyncDir(dir: string): void {
  const dfd = openSync(dir, 'r');
  try { fsyncSync(dfd); } finally { closeSync(dfd); }
}

function asidePath(path: string, suffix: string): string {
  let p = `${path}${suffix}`;
  for (let i = 1; existsSync(p); i++) p = `${path}${suffix}.${i}`;
  return p;
}

/** Copies the file aside (`.broken`), truncates at `at`, fsyncs file and directory (etcd repair.go). */
function repairTornTail(path: string, at: number, size: number, why: string, warn?: (m: string) => void): void {
  const aside = asidePath(path, '.broken');
  copyFileSync(path, aside);
  truncateSync(path, at);
  const fd = openSync(path, 'r+');
  try { fsyncSync(fd); } finally { closeSync(fd); }
  fsyncDir(dirname(path));
  warn?.(`${path}: torn last record at byte ${at} (${size - at} bytes, ${why}) left by a crash: copied to ${aside} and truncated there before any append`);
}

/**
 * Streams a legacy (line) file: each kept line goes to `onLine` (without `\n`). Warns for a torn
 * last line and for unreadable lines; salvages a record glued onto a torn line (C42).
 */
async function readLegacyLines(fh: FileHandle, path: string, legacy: LegacyFormat, onLine: (line: string) => void, warn?: (m: string) => void): Promise<number> {
  const decoder = new StringDecoder('utf8');
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  let rest = '';
  let lineNo = 0;
  let kept = 0;
  const take = (line: string) => {
    lineNo++;
    if (line.length === 0) return;
    if (legacy.valid(line)) { onLine(line); kept++; return; }
    // an earlier release appended after a torn line (C42): the record glued on is a valid suffix
    for (let i = 1; i < line.length; i++) {
      const tail = line.slice(i);
      if (legacy.valid(tail)) {
        onLine(tail); kept++;
        warn?.(`${path}:${lineNo}: a record glued onto a torn line by an earlier release was recovered (fragment of ${i} characters dropped)`);
        return;
      }
    }
    warn?.(`${path}:${lineNo}: unreadable line of a file written by an earlier release skipped`);
  };
  for (let pos = 0; ;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    const text = rest + decoder.write(buf.subarray(0, bytesRead));
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      take(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest.length > 0) warn?.(`${path}: ignored a torn last line (${Buffer.byteLength(rest)} bytes) of a file written by an earlier release`);
  return kept;
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

  private constructor(readonly path: string, fs: LogFs, max: number) {
    this.#fs = fs;
    this.#max = max;
  }

  /**
   * Opens `path` (created when missing): replays every valid record through `opts.onRecord`,
   * repairs a torn tail or converts a legacy file, then opens it for appends.
   * @throws GW_ERR_LOG_CORRUPT (file and byte offset) when a damaged record has valid records after it,
   *   or when the file is not in the framed format and no `legacy` reader was given
   * @throws fs errors (EACCES, EIO, …) from reading or repairing
   */
  static async open(path: string, opts: AppendLogOptions): Promise<AppendLog> {
    const log = new AppendLog(path, opts.fs ?? nodeLogFs, opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
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
          await this.#fs.write(this.#fh!, data, this.path);
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

  /** The error that failed the log, or null while it works. */
  get failure(): Error | null { return this.#failed; }

  /** Waits for pending appends, then closes. Idempotent. */
  async close(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    const fh = this.#fh;
    this.#fh = null;
    if (fh) await fh.close();
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
    this.#bytes = 0;
  }
}

/**
 * Reads `path` with the recovery rule; for `whole` files (written by writeLogFileSync) a torn
 * tail or a missing seal is corruption, never repaired. Legacy appendable files are converted.
 */
async function replayFile(path: string, opts: AppendLogOptions, max: number, whole: boolean): Promise<{ sealed: boolean; legacy: boolean }> {
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
