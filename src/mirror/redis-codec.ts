import { gatewayError } from '../errors.ts';
import type { PolicyRecord } from '../domain/policy.ts';
import {
  CONSENT_SOURCES, CONSENT_TYPES, RECIPIENT_TYPES,
  type ConsentKey, type ConsentRecord, type ConsentSource, type ConsentType, type Movement, type RecipientType,
} from '../domain/types.ts';

/**
 * Compact encoding of consent records for the Redis store (redis-store.ts). One consent is one
 * field/value pair inside a bucket hash, so that Redis keeps buckets in its compact `listpack`
 * form (fields and values ≤ 64 bytes, ≤ 128 pairs per hash with the server defaults).
 *
 * Field (ASCII): `<brandCode base36><kind char A–F><recipient>` where the kind char encodes
 * recipientType × type and a Turkish phone `+90…` is stored without its `+90`.
 *
 * Value (binary), bytes 1-based as the Lua script reads them:
 *   1      status: `O` ONAY, `R` RET; lower case when `noncanonical`
 *   2      source: `-` null, else `a` + index in CONSENT_SOURCES
 *   3–8    consentDate, 6 chars base36, order-preserving (`000000` = null, sorts first)
 *   9–14   creationDate, same encoding
 *   15     transactionId: `n` null; `h` + 32 raw bytes (64 lower-case hex digits);
 *          `s` + 2-byte big-endian length + UTF-8 bytes (anything else)
 *   rest   optional extras (ASCII): `<retailerCode base36>` then `/<retailerAccess base36,…>`
 *          when retailerAccess is an array
 * Bytes 1…end of the transactionId are the movement's identity (consent-order.ts sameMovement);
 * bytes 3–14 followed by the status are its sort key (compareMovements).
 */

const KIND_CHARS = 'ABCDEF';
const SOURCE_BASE = 0x61; // 'a'
/** First year representable by the 6-char date code (codes cover 2010-01-01 … 2074-12-31). */
const YEAR0 = 2010;
const YEARS = 65;
const HEX64_RE = /^[0-9a-f]{64}$/;
const NULL_DATE = '000000';

/** Rejects input the compact encoding cannot hold exactly (400 `GW_ERR_VALIDATION`). */
function invalid(what: string): never {
  throw gatewayError('GW_ERR_VALIDATION', [what]);
}

function kindIndex(recipientType: RecipientType, type: ConsentType): number {
  const r = RECIPIENT_TYPES.indexOf(recipientType);
  const t = CONSENT_TYPES.indexOf(type);
  if (r < 0) invalid(`recipientType ${String(recipientType)}`);
  if (t < 0) invalid(`type ${String(type)}`);
  return r * CONSENT_TYPES.length + t;
}

/**
 * The hash field of a key. Throws `GW_ERR_VALIDATION` for a brandCode that is not a
 * non-negative safe integer, an unknown type/recipientType, or a recipient that is empty or holds
 * a line break or control character.
 */
export function encodeField(key: ConsentKey): string {
  const { brandCode, recipient } = key;
  if (!Number.isSafeInteger(brandCode) || brandCode < 0) invalid(`brandCode ${String(brandCode)}`);
  if (typeof recipient !== 'string' || recipient.length === 0 || /[\x00-\x1f\x7f]/.test(recipient)) {
    invalid('recipient');
  }
  const kind = KIND_CHARS[kindIndex(key.recipientType, key.type)]!;
  let r: string;
  if (recipient.includes('@')) r = recipient;
  else if (/^\+90\d+$/.test(recipient)) r = recipient.slice(3);
  else if (recipient.startsWith('+')) r = recipient;
  else r = `=${recipient}`;
  return brandCode.toString(36) + kind + r;
}

/** Inverse of encodeField. */
export function decodeField(field: string): ConsentKey {
  let i = 0;
  while (i < field.length && KIND_CHARS.indexOf(field[i]!) < 0) i++;
  const kind = KIND_CHARS.indexOf(field[i] ?? '');
  if (kind < 0) throw new Error(`corrupt consent field ${JSON.stringify(field)}`);
  const brandCode = parseInt(field.slice(0, i), 36);
  const r = field.slice(i + 1);
  let recipient: string;
  if (r.includes('@') || r.startsWith('+')) recipient = r;
  else if (r.startsWith('=')) recipient = r.slice(1);
  else recipient = `+90${r}`;
  return {
    brandCode,
    recipientType: RECIPIENT_TYPES[Math.floor(kind / CONSENT_TYPES.length)]!,
    type: CONSENT_TYPES[kind % CONSENT_TYPES.length]!,
    recipient,
  };
}

/**
 * 6-char order-preserving code of a `YYYY-MM-DD HH:mm:ss` date (years 2010–2074), `000000`
 * for null. Any other shape throws `GW_ERR_VALIDATION`.
 */
export function encodeDate(d: string | null, name = 'date'): string {
  if (d === null || d === undefined) return NULL_DATE;
  if (d === lastDateIn) return lastDateOut;
  if (typeof d !== 'string' || d.length !== 19 || d.charCodeAt(4) !== 45 || d.charCodeAt(7) !== 45
    || d.charCodeAt(10) !== 32 || d.charCodeAt(13) !== 58 || d.charCodeAt(16) !== 58) {
    invalid(`${name} ${JSON.stringify(d)} is not YYYY-MM-DD HH:mm:ss`);
  }
  let n = 0;
  let bad = false;
  const v: number[] = DIGITS;
  for (let k = 0; k < 14; k++) {
    const c = d.charCodeAt(DIGIT_POS[k]!) - 48;
    if (c < 0 || c > 9) bad = true;
    v[k] = c;
  }
  if (bad) invalid(`${name} ${JSON.stringify(d)} is not YYYY-MM-DD HH:mm:ss`);
  const y = v[0]! * 1000 + v[1]! * 100 + v[2]! * 10 + v[3]!;
  const mo = v[4]! * 10 + v[5]!;
  const da = v[6]! * 10 + v[7]!;
  const h = v[8]! * 10 + v[9]!;
  const mi = v[10]! * 10 + v[11]!;
  const s = v[12]! * 10 + v[13]!;
  if (y < YEAR0 || y >= YEAR0 + YEARS || mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || s > 59) {
    invalid(`${name} ${d} out of range`);
  }
  n = (((((y - YEAR0) * 12 + mo - 1) * 31 + da - 1) * 24 + h) * 60 + mi) * 60 + s + 1;
  lastDateIn = d;
  lastDateOut = n.toString(36).padStart(6, '0');
  return lastDateOut;
}

const DIGIT_POS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
const DIGITS: number[] = new Array<number>(14).fill(0);
// one-entry memo: movements of one import often share their dates
let lastDateIn = '';
let lastDateOut = '';
let lastCodeIn = '';
let lastCodeOut: string | null = null;

function p(x: number): string {
  return x < 10 ? `0${x}` : String(x);
}

/** Inverse of encodeDate. */
export function decodeDate(code: string): string | null {
  if (code === NULL_DATE) return null;
  if (code === lastCodeIn) return lastCodeOut;
  lastCodeIn = code;
  lastCodeOut = decodeDateUncached(code);
  return lastCodeOut;
}

function decodeDateUncached(code: string): string {
  let n = parseInt(code, 36) - 1;
  const s = n % 60; n = (n - s) / 60;
  const mi = n % 60; n = (n - mi) / 60;
  const h = n % 24; n = (n - h) / 24;
  const da = n % 31; n = (n - da) / 31;
  const mo = n % 12; n = (n - mo) / 12;
  return `${YEAR0 + n}-${p(mo + 1)}-${p(da + 1)} ${p(h)}:${p(mi)}:${p(s)}`;
}

function nonNegInt(x: unknown, name: string): number {
  if (!Number.isSafeInteger(x) || (x as number) < 0) invalid(`${name} ${String(x)}`);
  return x as number;
}

/**
 * Encodes a movement's value (see the module doc). Throws `GW_ERR_VALIDATION` for a status,
 * source or date outside the İYS vocabulary, or retailer codes that are not non-negative integers.
 */
export function encodeValue(m: Movement): Buffer {
  let st: string;
  if (m.status === 'ONAY') st = 'O';
  else if (m.status === 'RET') st = 'R';
  else invalid(`status ${String(m.status)}`);
  if (m.noncanonical) st = st.toLowerCase();
  let src = '-';
  if (m.source !== null && m.source !== undefined) {
    const i = CONSENT_SOURCES.indexOf(m.source);
    if (i < 0) invalid(`source ${String(m.source)}`);
    src = String.fromCharCode(SOURCE_BASE + i);
  }
  const head = st + src + encodeDate(m.consentDate, 'consentDate') + encodeDate(m.creationDate, 'creationDate');
  let extras = '';
  if (m.retailerCode !== null && m.retailerCode !== undefined) extras += nonNegInt(m.retailerCode, 'retailerCode').toString(36);
  if (Array.isArray(m.retailerAccess)) {
    extras += `/${m.retailerAccess.map((x) => nonNegInt(x, 'retailerAccess').toString(36)).join(',')}`;
  }
  const t = m.transactionId;
  let buf: Buffer;
  let o: number;
  if (t === null || t === undefined) {
    buf = Buffer.allocUnsafe(15 + extras.length);
    buf.write(head, 0, 'latin1');
    buf[14] = 0x6e; // n
    o = 15;
  } else if (t.length === 64 && HEX64_RE.test(t)) {
    buf = Buffer.allocUnsafe(47 + extras.length);
    buf.write(head, 0, 'latin1');
    buf[14] = 0x68; // h
    buf.write(t, 15, 'hex');
    o = 47;
  } else {
    const len = Buffer.byteLength(String(t), 'utf8');
    if (len > 0xff00) invalid('transactionId too long');
    buf = Buffer.allocUnsafe(17 + len + extras.length);
    buf.write(head, 0, 'latin1');
    buf[14] = 0x73; // s
    buf.writeUInt16BE(len, 15);
    buf.write(String(t), 17, 'utf8');
    o = 17 + len;
  }
  if (extras.length > 0) {
    if (o + extras.length > 0xff00) invalid('retailerAccess too long');
    buf.write(extras, o, 'latin1');
  }
  return buf;
}

/** Number of leading bytes of an encoded value that identify the movement (identity). */
export function identityLength(v: Buffer): number {
  const marker = v[14];
  if (marker === 0x6e /* n */) return 15;
  if (marker === 0x68 /* h */) return 47;
  return 17 + v.readUInt16BE(15);
}

/**
 * Decodes a stored value for the key of `field` into a record. Optional fields are present only
 * when set: `noncanonical` only when true, `retailerCode`/`retailerAccess` only when stored.
 */
export function decodeValue(key: ConsentKey, v: Buffer): ConsentRecord {
  const head = v.toString('latin1', 0, 14);
  const st = head[0]!;
  const srcCode = head.charCodeAt(1);
  const rec: ConsentRecord = {
    brandCode: key.brandCode,
    recipientType: key.recipientType,
    type: key.type,
    recipient: key.recipient,
    status: st === 'R' || st === 'r' ? 'RET' : 'ONAY',
    source: head[1] === '-' ? null : (CONSENT_SOURCES[srcCode - SOURCE_BASE] as ConsentSource),
    consentDate: decodeDate(head.slice(2, 8)),
    creationDate: decodeDate(head.slice(8, 14)),
    transactionId: null,
  };
  const marker = v[14];
  let end: number;
  if (marker === 0x6e) end = 15;
  else if (marker === 0x68) { rec.transactionId = v.toString('hex', 15, 47); end = 47; }
  else { const len = v.readUInt16BE(15); rec.transactionId = v.toString('utf8', 17, 17 + len); end = 17 + len; }
  if (st === 'o' || st === 'r') rec.noncanonical = true;
  if (end < v.length) readExtras(rec, v.toString('latin1', end));
  return rec;
}

/** Sets retailerCode / retailerAccess from a value's extras (see the module doc). */
function readExtras(rec: { retailerCode?: number | null; retailerAccess?: number[] | null }, extras: string): void {
  const slash = extras.indexOf('/');
  const rc = slash < 0 ? extras : extras.slice(0, slash);
  if (rc !== '') rec.retailerCode = parseInt(rc, 36);
  if (slash >= 0) {
    const list = extras.slice(slash + 1);
    rec.retailerAccess = list === '' ? [] : list.split(',').map((x) => parseInt(x, 36));
  }
}

// The four views without dealer data, shared and frozen: a batch decodes most records with no
// allocation. Indexed by the status byte's char code (O R o r).
const POLICY_VIEWS: (PolicyRecord | undefined)[] = [];
POLICY_VIEWS[0x4f] = Object.freeze({ status: 'ONAY', noncanonical: false });
POLICY_VIEWS[0x52] = Object.freeze({ status: 'RET', noncanonical: false });
POLICY_VIEWS[0x6f] = Object.freeze({ status: 'ONAY', noncanonical: true });
POLICY_VIEWS[0x72] = Object.freeze({ status: 'RET', noncanonical: true });

/**
 * What the decision policy reads of a record, from its status byte (value byte 1: `O R o r`, as a
 * char code) and the value's extras (latin1; '' when none). Records without extras decode to
 * shared frozen objects: do not mutate the result.
 * @throws Error for a status byte outside `O R o r` (corrupt data)
 */
export function decodePolicy(status: number, extras: string): PolicyRecord {
  const view = POLICY_VIEWS[status];
  if (view === undefined) throw new Error(`corrupt consent value: status byte ${status}`);
  if (extras === '') return view;
  const rec: PolicyRecord = { status: view.status, noncanonical: view.noncanonical };
  readExtras(rec, extras);
  return rec;
}

/** decodePolicy of a whole stored value (the cluster path reads whole values). */
export function decodePolicyValue(v: Buffer): PolicyRecord {
  const end = identityLength(v);
  return decodePolicy(v[0]!, end < v.length ? v.toString('latin1', end) : '');
}

/** Splits a stored history blob (2-byte big-endian length + value, repeated) into values. */
export function decodeHistory(blob: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 2 <= blob.length) {
    const len = blob.readUInt16BE(i);
    out.push(blob.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return out;
}

/** 32-bit FNV-1a of a string's UTF-16 code units; picks a key's bucket. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
