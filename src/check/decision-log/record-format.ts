import { crc32 } from 'node:zlib';
import { CONSENT_SOURCES, REASONS, type ConsentSource, type ConsentType, type Decision, type MessageType, type RecipientType } from '../../domain/types.ts';
import { ENTRANCES, type Entrance } from '../entrances.ts';

/**
 * The binary layout of the decision log (README "Proving decisions").
 *
 * ## One decision: 46 bytes, fixed
 *
 *     off len field
 *       0   1 record version (1)
 *       1   6 time, epoch ms (u48 LE)
 *       7   6 request sequence (u48 LE): with the instance id, the request-level decision id
 *      13   4 index of the recipient in the request (u32 LE)
 *      17   1 recipient HMAC key id (config decisions.hmacKeys[].id)
 *      18  10 recipient: HMAC-SHA256(key, canonical recipient), first 80 bits
 *      28   4 brandCode (u32 LE)
 *      32   1 bits 0–1 type (MESAJ ARAMA EPOSTA), bit 2 recipientType TACIR, bit 3 declared
 *             messageType BILGILENDIRME, bit 4 effective messageType BILGILENDIRME, bit 5 ALLOW,
 *             bits 6–7 consent status used (0 none, 1 ONAY, 2 RET, 3 store unavailable)
 *      33   1 reason (index in REASON_CODES)
 *      34   1 bits 0–3 entrance (index in ENTRANCES), bits 4–7 promotional lint (LINT_VERDICTS)
 *      35   1 consent source (0 none, else 1 + index in CONSENT_SOURCES)
 *      36   2 context id (u16 LE): the (API key name, via) pair, from the block's dictionary
 *      38   4 consentDate, epoch seconds (u32 LE; 0 = none or not read)
 *      42   4 movement reference: CRC-32 of `creationDate|transactionId` (0 = none or not read)
 *
 * ## One block (the payload of one append-log.ts frame; one group commit)
 *
 *     0  1 block version (1)
 *     1 32 hash of the previous block (SHA-256 of its payload); a segment's first block: the
 *          previous segment's last hash (32 zero bytes for the log's first block)
 *    33  6 number of the block's first record in the instance's log (u48 LE; contiguous)
 *    39  4 record count n (u32 LE)
 *    43  6 mirror asOf of every record of the block, epoch ms (u48 LE; 0 = never fresh)
 *    49  2 dictionary entries d (u16 LE)
 *    51  4 extras byte length e (u32 LE)
 *    55    d × [u16 id, u8 len, key name, u8 len, via] (UTF-8)
 *          n × 46-byte records
 *          e bytes of extras: [u8 tag, u32 LE len, bytes]…; tag 1 an outcome note (JSON), tag 2
 *          the block's recipients AES-256-GCM-encrypted (u8 key id, 12-byte IV, 16-byte tag,
 *          ciphertext of the recipients joined by `\n`, '' for none)
 *
 * The hash chain runs block to block (group commits), so hashing stays off the per-request path
 * and a decision costs 46 bytes; a record's proof is its block and the chain after it.
 */

export const RECORD_BYTES = 46;
export const BLOCK_HEADER_BYTES = 55;
export const HASH_BYTES = 32;
export const HMAC_BYTES = 10;
export const ZERO_HASH = Buffer.alloc(HASH_BYTES);

/** Reason codes of the log: the API's REASONS, then the log's own (a message the promotional policy, or the commercial content check, refused). */
export const REASON_CODES = [...REASONS, 'PROMOTIONAL_REFUSED', 'CONTENT_REFUSED'] as const;
export type LogReason = (typeof REASON_CODES)[number];
/** Promotional lint verdict of a record: `not-run` for checks (the lint reads texts; checks carry none). */
export const LINT_VERDICTS = ['not-run', 'none', 'warn', 'treat-as-commercial', 'block', 'undeclarable'] as const;
export type LintVerdict = (typeof LINT_VERDICTS)[number];
export const CONSENT_TYPE_CODES: readonly ConsentType[] = ['MESAJ', 'ARAMA', 'EPOSTA'];
export const CONSENT_STATUS_CODES = [null, 'ONAY', 'RET', 'UNAVAILABLE'] as const;
export type UsedStatus = (typeof CONSENT_STATUS_CODES)[number];

const REASON_INDEX = new Map<string, number>(REASON_CODES.map((r, i) => [r, i]));
const ENTRANCE_INDEX = new Map<string, number>(ENTRANCES.map((e, i) => [e, i]));
const LINT_INDEX = new Map<string, number>(LINT_VERDICTS.map((e, i) => [e, i]));
const SOURCE_INDEX = new Map<string, number>(CONSENT_SOURCES.map((s, i) => [s, i + 1]));
const TYPE_INDEX: Record<ConsentType, number> = { MESAJ: 0, ARAMA: 1, EPOSTA: 2 };

export function reasonCode(r: string): number {
  const i = REASON_INDEX.get(r);
  if (i === undefined) throw new RangeError(`decision log: unknown reason ${r}`);
  return i;
}
export function entranceCode(e: Entrance): number { return ENTRANCE_INDEX.get(e)!; }
export function lintCode(v: LintVerdict): number { return LINT_INDEX.get(v)!; }
export function sourceCode(s: string | null | undefined): number { return s ? SOURCE_INDEX.get(s) ?? 0 : 0; }

/**
 * `YYYY-MM-DD HH:mm:ss` Turkish time (İYS dates) → epoch seconds; 0 when null or unreadable.
 * Runs once per recorded decision: a date with day ≤ 28 and fields in range is computed from its
 * digits (days from the civil date, no string building); any other goes through Date.parse, so
 * the result is Date.parse's for every input (test/check/decision-record-format.test.ts).
 */
export function iysDateSeconds(d: string | null | undefined): number {
  if (!d || d.length < 19) return 0;
  const y = digits(d, 0, 4); const mo = digits(d, 5, 2); const day = digits(d, 8, 2);
  const h = digits(d, 11, 2); const mi = digits(d, 14, 2); const sec = digits(d, 17, 2);
  if (y >= 1970 && mo >= 1 && mo <= 12 && day >= 1 && day <= 28 && h <= 23 && mi <= 59 && sec <= 59
    && d.charCodeAt(4) === 45 && d.charCodeAt(7) === 45 && d.charCodeAt(13) === 58 && d.charCodeAt(16) === 58) {
    const yy = mo <= 2 ? y - 1 : y; const era = Math.floor(yy / 400); const yoe = yy - era * 400;
    const doy = Math.floor((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5) + day - 1;
    const days = era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
    const s = days * 86400 + h * 3600 + mi * 60 + sec - 3 * 3600;
    return s > 0 ? s : 0;
  }
  const ms = Date.parse(`${d.slice(0, 10)}T${d.slice(11, 19)}+03:00`);
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
}
/** The decimal number of `n` digits at `at`, or -1 when one is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) { const c = s.charCodeAt(i) - 48; if (c < 0 || c > 9) return -1; v = v * 10 + c; }
  return v;
}
/** Epoch seconds → `YYYY-MM-DD HH:mm:ss` Turkish time. */
export function secondsIysDate(s: number): string {
  return new Date(s * 1000 + 3 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}
/**
 * The movement reference: CRC-32 of `creationDate|transactionId` (picks the movement out of its
 * key's history); 0 when both are null. ASCII input (İYS dates and ids) is checksummed here from
 * a table (once per recorded decision, no UTF-8 encoding); other input through zlib.crc32, same value.
 */
export function movementRef(creationDate: string | null | undefined, transactionId: string | null | undefined): number {
  if (!creationDate && !transactionId) return 0;
  const a = creationDate ?? ''; const b = transactionId ?? '';
  let c = -1;
  for (let i = 0; i < a.length; i++) { const x = a.charCodeAt(i); if (x > 127) return crc32(`${a}|${b}`) || 1; c = CRC_TABLE[(c ^ x) & 255]! ^ (c >>> 8); }
  c = CRC_TABLE[(c ^ 124) & 255]! ^ (c >>> 8);
  for (let i = 0; i < b.length; i++) { const x = b.charCodeAt(i); if (x > 127) return crc32(`${a}|${b}`) || 1; c = CRC_TABLE[(c ^ x) & 255]! ^ (c >>> 8); }
  return ((c ^ -1) >>> 0) || 1;
}
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; t[n] = c; }
  return t;
})();

/** Fields of one decision as the writer takes them (the recipient is hashed by the writer). */
export interface DecisionFields {
  timeMs: number;
  seq: number;
  index: number;
  brandCode: number;
  type: ConsentType;
  recipientType: RecipientType;
  declaredMessageType: MessageType;
  messageType: MessageType;
  decision: Decision;
  reason: LogReason;
  entrance: Entrance;
  lint: LintVerdict;
  consentStatus: UsedStatus;
  source: ConsentSource | null;
  /** epoch seconds, 0 = none */
  consentDateS: number;
  ref: number;
  contextId: number;
}

/** Writes the record's fields (all but key id and HMAC) at `off` of `buf`. */
export function encodeRecord(buf: Buffer, off: number, f: DecisionFields): void {
  buf[off] = 1;
  buf.writeUIntLE(f.timeMs, off + 1, 6);
  buf.writeUIntLE(f.seq, off + 7, 6);
  buf.writeUInt32LE(f.index, off + 13);
  buf.writeUInt32LE(f.brandCode, off + 28);
  buf[off + 32] = TYPE_INDEX[f.type] | (f.recipientType === 'TACIR' ? 4 : 0) | (f.declaredMessageType === 'BILGILENDIRME' ? 8 : 0)
    | (f.messageType === 'BILGILENDIRME' ? 16 : 0) | (f.decision === 'ALLOW' ? 32 : 0) | (statusCode(f.consentStatus) << 6);
  buf[off + 33] = reasonCode(f.reason);
  buf[off + 34] = entranceCode(f.entrance) | (lintCode(f.lint) << 4);
  buf[off + 35] = sourceCode(f.source);
  buf.writeUInt16LE(f.contextId, off + 36);
  buf.writeUInt32LE(f.consentDateS >>> 0, off + 38);
  buf.writeUInt32LE(f.ref >>> 0, off + 42);
}

function statusCode(s: UsedStatus): number {
  return s === null ? 0 : s === 'ONAY' ? 1 : s === 'RET' ? 2 : 3;
}

/** One decision as read back. */
export interface DecodedRecord {
  timeMs: number; seq: number; index: number; keyId: number; hmac: Buffer; brandCode: number;
  type: ConsentType; recipientType: RecipientType; declaredMessageType: MessageType; messageType: MessageType;
  decision: Decision; reason: LogReason; entrance: Entrance; lint: LintVerdict;
  consentStatus: UsedStatus; source: ConsentSource | null; consentDateS: number; ref: number; contextId: number;
}

export function decodeRecord(buf: Buffer, off: number): DecodedRecord {
  const bits = buf[off + 32]!;
  const e = buf[off + 34]!;
  const src = buf[off + 35]!;
  return {
    timeMs: buf.readUIntLE(off + 1, 6), seq: buf.readUIntLE(off + 7, 6), index: buf.readUInt32LE(off + 13),
    keyId: buf[off + 17]!, hmac: Buffer.from(buf.subarray(off + 18, off + 18 + HMAC_BYTES)), brandCode: buf.readUInt32LE(off + 28),
    type: CONSENT_TYPE_CODES[bits & 3] ?? 'MESAJ', recipientType: bits & 4 ? 'TACIR' : 'BIREYSEL',
    declaredMessageType: bits & 8 ? 'BILGILENDIRME' : 'TICARI', messageType: bits & 16 ? 'BILGILENDIRME' : 'TICARI',
    decision: bits & 32 ? 'ALLOW' : 'BLOCK', consentStatus: CONSENT_STATUS_CODES[bits >> 6]!,
    reason: REASON_CODES[buf[off + 33]!] ?? 'INVALID_RECIPIENT', entrance: ENTRANCES[e & 15] ?? 'check', lint: LINT_VERDICTS[e >> 4] ?? 'not-run',
    source: src === 0 ? null : CONSENT_SOURCES[src - 1] ?? null, contextId: buf.readUInt16LE(off + 36),
    consentDateS: buf.readUInt32LE(off + 38), ref: buf.readUInt32LE(off + 42),
  };
}

/** A dictionary entry: the context of a set of decisions. */
export interface ContextEntry { id: number; keyName: string; via: string }

/** Header of one decoded block. */
export interface BlockHeader {
  prevHash: Buffer; firstRecord: number; count: number; asOfMs: number; dict: ContextEntry[];
  /** Offset of the first record in the payload. */
  recordsAt: number; extrasAt: number; extrasLen: number;
}

/**
 * Builds one block payload.
 * @param records `count × RECORD_BYTES` bytes, fully encoded (HMACs included)
 * @param extras tagged extras (already framed with tag and length)
 */
export function encodeBlock(prevHash: Buffer, firstRecord: number, records: Buffer, count: number, asOfMs: number, dict: readonly ContextEntry[], extras: Buffer): Buffer {
  const dictBufs = dict.map((d) => {
    const k = Buffer.from(d.keyName.slice(0, 120), 'utf8').subarray(0, 255);
    const v = Buffer.from(d.via.slice(0, 120), 'utf8').subarray(0, 255);
    const b = Buffer.allocUnsafe(4 + k.length + v.length);
    b.writeUInt16LE(d.id, 0); b[2] = k.length; k.copy(b, 3); b[3 + k.length] = v.length; v.copy(b, 4 + k.length);
    return b;
  });
  const head = Buffer.allocUnsafe(BLOCK_HEADER_BYTES);
  head[0] = 1;
  prevHash.copy(head, 1);
  head.writeUIntLE(firstRecord, 33, 6);
  head.writeUInt32LE(count, 39);
  head.writeUIntLE(asOfMs, 43, 6);
  head.writeUInt16LE(dict.length, 49);
  head.writeUInt32LE(extras.length, 51);
  return Buffer.concat([head, ...dictBufs, records.subarray(0, count * RECORD_BYTES), extras]);
}

/**
 * Reads a block header.
 * @throws Error naming what is wrong when the payload is not a version-1 block of consistent length
 */
export function decodeBlockHeader(p: Buffer): BlockHeader {
  if (p.length < BLOCK_HEADER_BYTES || p[0] !== 1) throw new Error('not a decision block');
  const count = p.readUInt32LE(39);
  const d = p.readUInt16LE(49);
  const extrasLen = p.readUInt32LE(51);
  const dict: ContextEntry[] = [];
  let pos = BLOCK_HEADER_BYTES;
  for (let i = 0; i < d; i++) {
    if (pos + 4 > p.length) throw new Error('block dictionary cut short');
    const id = p.readUInt16LE(pos); const kl = p[pos + 2]!;
    const keyName = p.toString('utf8', pos + 3, pos + 3 + kl);
    const vl = p[pos + 3 + kl]!;
    const via = p.toString('utf8', pos + 4 + kl, pos + 4 + kl + vl);
    dict.push({ id, keyName, via });
    pos += 4 + kl + vl;
  }
  const extrasAt = pos + count * RECORD_BYTES;
  if (extrasAt + extrasLen !== p.length) throw new Error(`block length ${p.length} does not match its ${count} records and ${extrasLen} bytes of extras`);
  return { prevHash: p.subarray(1, 33), firstRecord: p.readUIntLE(33, 6), count, asOfMs: p.readUIntLE(43, 6), dict, recordsAt: pos, extrasAt, extrasLen };
}

/** Extras of a block: outcome notes (tag 1) and the encrypted recipients (tag 2). */
export function decodeExtras(p: Buffer, h: BlockHeader): { notes: unknown[]; sealed: Buffer | null } {
  const notes: unknown[] = [];
  let sealed: Buffer | null = null;
  for (let pos = h.extrasAt, end = h.extrasAt + h.extrasLen; pos + 5 <= end;) {
    const tag = p[pos]!; const len = p.readUInt32LE(pos + 1);
    const body = p.subarray(pos + 5, pos + 5 + len);
    if (tag === 1) { try { notes.push(JSON.parse(body.toString('utf8'))); } catch { /* verify reports via the hash */ } }
    else if (tag === 2) sealed = body;
    pos += 5 + len;
  }
  return { notes, sealed };
}

export function extra(tag: number, body: Buffer): Buffer {
  const h = Buffer.allocUnsafe(5);
  h[0] = tag; h.writeUInt32LE(body.length, 1);
  return Buffer.concat([h, body]);
}

/** A request-level decision id: `<instance id>-<sequence base 36>` (e.g. `7f3a9c21-kx8f0a2`). */
export function formatDecisionId(instanceId: string, seq: number): string {
  return `${instanceId}-${seq.toString(36)}`;
}

/** Parses a decision id (`<instance>-<seq>[/<index>]`); null when it is not one. */
export function parseDecisionId(id: string): { instanceId: string; seq: number; index: number | null } | null {
  const m = /^([0-9a-f]{8})-([0-9a-z]{1,10})(?:\/(\d{1,9}))?$/.exec(id);
  if (!m) return null;
  const seq = parseInt(m[2]!, 36);
  if (!Number.isSafeInteger(seq) || seq >= 2 ** 48) return null;
  return { instanceId: m[1]!, seq, index: m[3] === undefined ? null : Number(m[3]) };
}
