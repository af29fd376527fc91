import { CONSENT_TYPES, RECIPIENT_TYPES, type ConsentKey, type Movement } from '../domain/types.ts';
import { RT_CODE, TYPE_CODE, decodeDate, decodeSource, encodeDate, encodeSource } from './movement-codec.ts';

/**
 * Binary layout of the LMDB store (lmdb-store.ts). Little code, no schema library: every byte is
 * accounted for here.
 *
 * Key (records and history DBs): `brandCode` uint32 BE · combo uint8 (recipientType×3 + type) ·
 * recipient. A recipient of the form `+<digits>` (every canonical phone) is tag 0x01 then the
 * digits as nibbles (digit+1, a 0 nibble pads an odd count): `+905321220006` is 7 bytes; anything
 * else (e-mail) is tag 0x02 then its UTF-8 bytes. Big-endian brand first: one brand is one key
 * range (iterate(brandCode)).
 *
 * Record value: flags uint8 · source uint8 (movement-codec.ts code, 0 = null) · consentDate and
 * creationDate uint32 LE (seconds, 0 = null) · transactionId: 32 raw bytes when it is 64 lower-case
 * hex digits (flag TX_HEX), else uint16 LE length + UTF-8 (flag TX_TEXT), else nothing (null) ·
 * retailer (flag RETAILER): retailerCode int32 LE (-1 = null) · count uint16 LE · count × uint32 LE ·
 * applied time (flag APPLIED_AT): uint48 LE epoch ms when the store applied this record (the newest
 * entry of the key's movement history, timeline.ts). A usual İYS record is 48 bytes (42 before the
 * movement history).
 *
 * History value: the older movements of a key (current record excluded), newest first, each as
 * uint16 LE length + record value (flag HAS_HISTORY unused inside it).
 *
 * Timeline (movement history with applied times, timeline.ts), its own database, holding every
 * movement of a key but its current record (whose applied time is in its record value): the
 * records it superseded and the older movements it ignored. Key = the record key · 0x00 ·
 * appliedAt uint48 BE (epoch ms) · sequence uint32 BE (11 bytes more; no record key holds a 0x00
 * byte after its 6-byte head, so one key's entries are one range, in time order); value = the
 * movement as a record value whose flag TIMELINE_APPLIED marks `applied` (else `ignoredOlder`).
 * So a key's first movement (every row of an import into an empty mirror) costs 6 bytes; each
 * later one moves the record it replaces here: a 23-byte key + 42-byte value for a usual phone
 * movement (bench/README.md for the bytes measured on disk).
 */

export { FLAG_NONCANONICAL, FLAG_RET } from './policy-view.ts';
import { FLAG_NONCANONICAL, FLAG_RET } from './policy-view.ts';
/** The key has older movements in the history DB. */
export const FLAG_HAS_HISTORY = 4;
/** In a timeline value (never in a record value): the movement became the current record. */
export const TIMELINE_APPLIED = 4;
const FLAG_TX_HEX = 8;
const FLAG_TX_TEXT = 16;
const FLAG_RETAILER = 32;
/** A record value ends with the time (epoch ms, uint48 LE) the store applied it: the movement history's newest entry (timeline.ts). */
const FLAG_APPLIED_AT = 64;

/** True for 64 lower-case hex digits (the usual İYS transactionId: stored as 32 raw bytes). */
function isHex64(s: string): boolean {
  if (s.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

const TAG_PHONE = 1;
const TAG_TEXT = 2;

/** Writes the key of `k` into `buf` at 0; returns its length. `buf` must hold 6 + 4×recipient.length bytes. */
export function writeKey(k: ConsentKey, buf: Buffer): number {
  buf.writeUInt32BE(k.brandCode >>> 0, 0);
  buf[4] = RT_CODE[k.recipientType] * 3 + TYPE_CODE[k.type];
  const r = k.recipient;
  let phone = r.length >= 2 && r.length <= 41 && r.charCodeAt(0) === 43; // '+'
  for (let i = 1; phone && i < r.length; i++) { const c = r.charCodeAt(i); if (c < 48 || c > 57) phone = false; }
  if (!phone) {
    buf[5] = TAG_TEXT;
    return 6 + buf.write(r, 6, 'utf8');
  }
  buf[5] = TAG_PHONE;
  let o = 6;
  for (let i = 1; i < r.length; i += 2) {
    const hi = r.charCodeAt(i) - 47;
    const lo = i + 1 < r.length ? r.charCodeAt(i + 1) - 47 : 0;
    buf[o++] = (hi << 4) | lo;
  }
  return o;
}

/** A fresh Buffer holding the key of `k`. */
export function keyBuffer(k: ConsentKey): Buffer {
  const scratch = Buffer.allocUnsafe(6 + 4 * k.recipient.length);
  const n = writeKey(k, scratch);
  return Buffer.from(scratch.subarray(0, n));
}

/**
 * Writes the timeline key of record key bytes `k` at `appliedAt` (ms, < 2^48) with `seq` into
 * `out` (≥ k.length + 11 bytes); returns its length.
 */
export function timelineKeyInto(k: Uint8Array, appliedAt: number, seq: number, out: Buffer): number {
  out.set(k, 0);
  const o = k.length;
  out[o] = 0;
  out.writeUIntBE(appliedAt, o + 1, 6);
  out.writeUInt32BE(seq >>> 0, o + 7);
  return o + 11;
}

/** The applied time (ms) inside a timeline key. */
export function timelineKeyTime(tk: Uint8Array): number {
  const b = Buffer.from(tk.buffer, tk.byteOffset, tk.length);
  return b.readUIntBE(b.length - 10, 6);
}

/** Inverse of writeKey. */
export function readKey(buf: Uint8Array): ConsentKey {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const brandCode = b.readUInt32BE(0);
  const combo = b[4]!;
  const recipientType = RECIPIENT_TYPES[combo >= 3 ? 1 : 0]!;
  const type = CONSENT_TYPES[combo % 3]!;
  let recipient: string;
  if (b[5] === TAG_PHONE) {
    recipient = '+';
    for (let i = 6; i < b.length; i++) {
      const x = b[i]!;
      recipient += String.fromCharCode(47 + (x >> 4));
      if ((x & 15) !== 0) recipient += String.fromCharCode(47 + (x & 15));
    }
  } else recipient = b.toString('utf8', 6);
  return { brandCode, recipientType, type, recipient };
}

/** Bytes the value of `m` takes (encodeValue writes exactly this many; 6 more with an applied time). */
export function valueLength(m: Movement, withAppliedAt = false): number {
  let n = withAppliedAt ? 16 : 10;
  const tx = m.transactionId;
  if (tx !== null) n += isHex64(tx) ? 32 : 2 + Buffer.byteLength(tx, 'utf8');
  if (hasRetailer(m)) n += 6 + 4 * (m.retailerAccess?.length ?? 0);
  return n;
}

function hasRetailer(m: Movement): boolean {
  return m.retailerCode != null || (m.retailerAccess != null && m.retailerAccess.length > 0);
}

/**
 * Writes the value of `m` at `off` in `buf`; `extraFlags` is OR-ed into the flags byte; with
 * `appliedAt` (epoch ms, < 2^48) the value ends with it (records only). Returns the end offset.
 */
export function encodeValueInto(m: Movement, buf: Buffer, off: number, extraFlags = 0, appliedAt?: number): number {
  let flags = extraFlags | (m.status === 'RET' ? FLAG_RET : 0) | (m.noncanonical ? FLAG_NONCANONICAL : 0);
  buf[off + 1] = encodeSource(m.source);
  buf.writeUInt32LE(encodeDate(m.consentDate) >>> 0, off + 2);
  buf.writeUInt32LE(encodeDate(m.creationDate) >>> 0, off + 6);
  let o = off + 10;
  const tx = m.transactionId;
  if (tx !== null) {
    if (isHex64(tx)) { flags |= FLAG_TX_HEX; buf.write(tx, o, 32, 'hex'); o += 32; } else {
      flags |= FLAG_TX_TEXT;
      const n = buf.write(tx, o + 2, 'utf8');
      buf.writeUInt16LE(n, o);
      o += 2 + n;
    }
  }
  if (hasRetailer(m)) {
    flags |= FLAG_RETAILER;
    buf.writeInt32LE(m.retailerCode ?? -1, o);
    const access = m.retailerAccess ?? [];
    buf.writeUInt16LE(access.length, o + 4);
    o += 6;
    for (const a of access) { buf.writeUInt32LE(a >>> 0, o); o += 4; }
  }
  if (appliedAt !== undefined) { flags |= FLAG_APPLIED_AT; buf.writeUIntLE(appliedAt, o, 6); o += 6; }
  buf[off] = flags;
  return o;
}

/** The value of `m` as a fresh Buffer (with `appliedAt`: see encodeValueInto). */
export function encodeValue(m: Movement, extraFlags = 0, appliedAt?: number): Buffer {
  const buf = Buffer.allocUnsafe(valueLength(m, appliedAt !== undefined));
  encodeValueInto(m, buf, 0, extraFlags, appliedAt);
  return buf;
}

/**
 * Copies a record value written without an applied time (encodeValueInto, no `appliedAt`) into
 * `out` with `appliedAt` (epoch ms) appended and flagged, as encodeValueInto with it would write;
 * returns the length (value.length + 6).
 */
export function withAppliedAt(value: Uint8Array, appliedAt: number, out: Buffer): number {
  out.set(value, 0);
  out[0] = out[0]! | FLAG_APPLIED_AT;
  out.writeUIntLE(appliedAt, value.length, 6);
  return value.length + 6;
}

/** The applied time (epoch ms) a record value ends with, or null (written before the movement history existed). */
export function valueAppliedAt(v: Uint8Array): number | null {
  if (!(v[0]! & FLAG_APPLIED_AT)) return null;
  return Buffer.from(v.buffer, v.byteOffset, v.length).readUIntLE(v.length - 6, 6);
}

/** Decodes a value at `off` (length `len`) into the movement of key `k`. */
export function decodeValue(k: ConsentKey, buf: Uint8Array, off = 0, len = buf.length - off): Movement {
  const b = Buffer.from(buf.buffer, buf.byteOffset + off, len);
  const flags = b[0]!;
  const m: Movement = {
    brandCode: k.brandCode, recipientType: k.recipientType, type: k.type, recipient: k.recipient,
    status: flags & FLAG_RET ? 'RET' : 'ONAY',
    source: decodeSource(b[1]!),
    consentDate: decodeDate(b.readUInt32LE(2)),
    creationDate: decodeDate(b.readUInt32LE(6)),
    transactionId: null,
    noncanonical: (flags & FLAG_NONCANONICAL) !== 0,
  };
  let o = 10;
  if (flags & FLAG_TX_HEX) { m.transactionId = b.toString('hex', o, o + 32); o += 32; } else if (flags & FLAG_TX_TEXT) {
    const n = b.readUInt16LE(o);
    m.transactionId = b.toString('utf8', o + 2, o + 2 + n);
    o += 2 + n;
  }
  if (flags & FLAG_RETAILER) {
    const code = b.readInt32LE(o);
    const count = b.readUInt16LE(o + 4);
    o += 6;
    const access: number[] = [];
    for (let i = 0; i < count; i++) { access.push(b.readUInt32LE(o)); o += 4; }
    m.retailerCode = code === -1 ? null : code;
    m.retailerAccess = access.length > 0 ? access : null;
  }
  return m;
}

/** Retailer fields of a value (policy reads), or null when it has none. */
export function decodeRetailer(b: Buffer): { code: number | null; access: number[] | null } | null {
  const flags = b[0]!;
  if (!(flags & FLAG_RETAILER)) return null;
  let o = 10;
  if (flags & FLAG_TX_HEX) o += 32; else if (flags & FLAG_TX_TEXT) o += 2 + b.readUInt16LE(o);
  const code = b.readInt32LE(o);
  const count = b.readUInt16LE(o + 4);
  o += 6;
  const access: number[] = [];
  for (let i = 0; i < count; i++) { access.push(b.readUInt32LE(o)); o += 4; }
  return { code: code === -1 ? null : code, access: access.length > 0 ? access : null };
}

/** History value: `list` (newest first) as uint16 LE length + value each. */
export function encodeHistory(list: readonly Movement[]): Buffer {
  let n = 0;
  for (const m of list) n += 2 + valueLength(m);
  const buf = Buffer.allocUnsafe(n);
  let o = 0;
  for (const m of list) {
    const end = encodeValueInto(m, buf, o + 2);
    buf.writeUInt16LE(end - o - 2, o);
    o = end;
  }
  return buf;
}

/** Inverse of encodeHistory for key `k`. */
export function decodeHistory(k: ConsentKey, buf: Uint8Array): Movement[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const out: Movement[] = [];
  for (let o = 0; o + 2 <= b.length;) {
    const n = b.readUInt16LE(o);
    out.push(decodeValue(k, b, o + 2, n));
    o += 2 + n;
  }
  return out;
}
