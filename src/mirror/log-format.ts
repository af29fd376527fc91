import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, truncateSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { crc32 } from 'node:zlib';
import { gatewayError } from '../errors.ts';

/**
 * The on-disk format of append-log.ts (frames, scan, torn-tail repair, legacy line files). Read
 * append-log.ts's docstring for the format and the recovery rule; use its exports, not these.
 */

export const LOG_MAGIC = Buffer.from('IYSLOG1\n', 'latin1');
export const FRAME_HEADER = 9;
export const KIND_DATA = 1;
export const KIND_SEAL = 2;
export const READ_CHUNK = 8 * 1024 * 1024;
/** Default largest payload of one record, bytes (64 MiB). */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

export interface LegacyFormat {
  /** True when `line` (without its `\n`) is a complete record of the old format. */
  valid(line: string): boolean;
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

export function checkFrame(buf: Buffer, pos: number, end: number, max: number): FrameCheck {
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
export async function findValidFrameAfter(fh: FileHandle, from: number, size: number, max: number): Promise<number> {
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

export interface ScanResult {
  /** End of the last valid frame (= where appends continue). */
  validEnd: number;
  size: number;
  sealed: boolean;
  records: number;
  /** Why the frame at validEnd is invalid, when validEnd < size. */
  damage: string | null;
}

/** Scans a framed file (magic already checked), calling onRecord for each data record. */
export async function scanFramed(fh: FileHandle, size: number, max: number, onRecord: (p: Buffer, off: number) => void): Promise<ScanResult> {
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

export function corrupt(path: string, offset: number, what: string): Error {
  return gatewayError('GW_ERR_LOG_CORRUPT', [path, String(offset), what]);
}

export function fsyncDir(dir: string): void {
  const dfd = openSync(dir, 'r');
  try { fsyncSync(dfd); } finally { closeSync(dfd); }
}

export function asidePath(path: string, suffix: string): string {
  let p = `${path}${suffix}`;
  for (let i = 1; existsSync(p); i++) p = `${path}${suffix}.${i}`;
  return p;
}

/** Copies the file aside (`.broken`), truncates at `at`, fsyncs file and directory (etcd repair.go). */
export function repairTornTail(path: string, at: number, size: number, why: string, warn?: (m: string) => void): void {
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
 * last line; salvages a record glued onto a torn line (C42).
 * @throws GW_ERR_LOG_CORRUPT (file, byte offset) for an unreadable complete line with nothing
 *   salvageable in it: only a last line can be torn by a crash, so that is damage, never skipped
 */
export async function readLegacyLines(fh: FileHandle, path: string, legacy: LegacyFormat, onLine: (line: string) => void, warn?: (m: string) => void): Promise<number> {
  const decoder = new StringDecoder('utf8');
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  let rest = '';
  let lineNo = 0;
  let kept = 0;
  let offset = 0; // byte offset of the line being read
  const take = (line: string) => {
    lineNo++;
    const at = offset;
    offset += Buffer.byteLength(line) + 1;
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
    // Only the last line of a file can be torn by a crash, and a record glued onto a torn line was
    // salvaged above: an unreadable complete line before the end is damage, never skipped silently.
    throw corrupt(path, at, `line ${lineNo} of a file written by an earlier release is unreadable`);
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

const ZEROS = Buffer.alloc(1 << 16);

/** A zero-filled buffer of 64 KiB (to write preallocated space with); never write into it. */
export function zeros(): Buffer { return ZEROS; }

/** True when `buf` holds only zero bytes from `from`. */
export function allZero(buf: Buffer, from: number): boolean {
  for (let at = from; at < buf.length; at += ZEROS.length) {
    const n = Math.min(ZEROS.length, buf.length - at);
    if (buf.compare(ZEROS, 0, n, at, at + n) !== 0) return false;
  }
  return true;
}

/** True when the bytes of `fh` from `from` to `size` are all zero. */
export async function zeroFrom(fh: FileHandle, from: number, size: number): Promise<boolean> {
  const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, size - from)));
  for (let at = from; at < size;) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - at), at);
    if (bytesRead === 0) break;
    if (!allZero(buf.subarray(0, bytesRead), 0)) return false;
    at += bytesRead;
  }
  return true;
}
