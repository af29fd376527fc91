import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { normalizeRecipient } from '../../domain/recipient.ts';
import type { ConsentType } from '../../domain/types.ts';
import { RecipientHasher, openRecipients, type HmacKey } from './recipient-keys.ts';
import {
  HMAC_BYTES, RECORD_BYTES, decodeBlockHeader, decodeExtras, decodeRecord, formatDecisionId, secondsIysDate,
  type ContextEntry, type DecodedRecord,
} from './record-format.ts';
import {
  BLOOM_BLOCK, BLOOM_K_V1, LOG_MAGIC, bloomBits, readDlzHeader, readManifest, segName, walkFrames, type ChunkEntry, type DlzLayout, type SegmentEntry,
} from './segments.ts';

/**
 * Reads decision logs (one directory per instance; a fleet's on a shared volume): the query of
 * `GET /v1/decisions` and `iys-gate audit query|export`, newest first, paged by cursor. A lookup
 * by recipient hashes it under every HMAC key and reads only the chunks whose filter may hold it
 * (README "Proving decisions").
 */

/** Filters of a query; all optional, all must hold. Times are epoch ms, inclusive. */
export interface DecisionQuery {
  /** A recipient as written (normalized with `type`, or as a phone then as an e-mail address when no type). */
  recipient?: string | undefined;
  type?: ConsentType | undefined;
  brandCode?: number | undefined;
  /** Brands the caller may see (a brand-scoped key); undefined = all. */
  brands?: readonly number[] | undefined;
  fromMs?: number | undefined;
  toMs?: number | undefined;
  decision?: 'ALLOW' | 'BLOCK' | undefined;
  reason?: string | undefined;
  entrance?: string | undefined;
  /** One request: its instance and sequence (a decision id), optionally one recipient index. */
  id?: { instanceId: string; seq: number; index: number | null } | undefined;
}

/** One decision as answered by queries. */
export interface FoundDecision {
  /** `<instance>-<seq>/<index>`: the record; the part before `/` is the request-level id. */
  id: string;
  requestId: string;
  instanceId: string;
  recordNo: number;
  time: string;
  timeMs: number;
  entrance: string;
  via: string;
  apiKey: string;
  brandCode: number;
  type: string;
  recipientType: string;
  declaredMessageType: string;
  messageType: string;
  promotionalLint: string;
  decision: string;
  reason: string;
  consent: { status: string; source: string | null; consentDate: string | null; movementRef: string | null } | null;
  asOf: string | null;
  /** `<key id>:<hex of the first 80 bits of HMAC-SHA256>`. */
  recipientHmac: string;
  /** In clear only when the log is encrypted and the reader holds the key. */
  recipient?: string;
  /** Outcome notes of the request found in the same segment (upstream status, report id). */
  notes?: unknown[];
  segment: number;
}

export interface ReadKeys { hmacKeys: HmacKey[]; encryptionKey?: Buffer | undefined }

/** Cursor of the next page: the last answered record's time, instance and record number. */
export interface Cursor { t: number; i: string; r: number }
export const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');
export function decodeCursor(s: string): Cursor | null {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor;
    return typeof c.t === 'number' && typeof c.i === 'string' && typeof c.r === 'number' ? c : null;
  } catch { return null; }
}

/** Newest first: time, then instance, then record number. */
function newerFirst(a: FoundDecision, b: FoundDecision): number {
  return b.timeMs - a.timeMs || (a.instanceId < b.instanceId ? 1 : a.instanceId > b.instanceId ? -1 : 0) || b.recordNo - a.recordNo;
}
function olderThan(d: FoundDecision, c: Cursor): boolean {
  return d.timeMs < c.t || (d.timeMs === c.t && (d.instanceId < c.i || (d.instanceId === c.i && d.recordNo < c.r)));
}

/** The recipient HMACs to look for: the canonical form (and the raw input, how an unreadable one was stored) under every key. */
export function recipientHmacs(recipient: string, type: ConsentType | undefined, keys: readonly HmacKey[]): { keyId: number; hmac: Buffer }[] {
  const forms = new Set<string>([`\0${recipient}`]);
  for (const t of type ? [type] : (['MESAJ', 'EPOSTA'] as const)) {
    const n = normalizeRecipient(recipient, t);
    if (n.ok) forms.add(n.canonical);
  }
  const out: { keyId: number; hmac: Buffer }[] = [];
  for (const k of keys) {
    const h = new RecipientHasher(k);
    for (const f of forms) out.push({ keyId: k.id, hmac: h.hash(f) });
  }
  return out;
}

/** A decoded block with its segment dictionary so far. */
export interface BlockView { payload: Buffer; dict: Map<number, ContextEntry>; segment: number; offset: number }

/** Reads `length` bytes at `position` of a file. */
function pread(path: string, position: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try { const b = Buffer.alloc(length); readSync(fd, b, 0, length, position); return b; } finally { closeSync(fd); }
}

/**
 * The blocks of one segment that may hold what `q` asks (time, id and recipient filters on the
 * chunk table of a compressed segment; a raw segment is read whole).
 */
export function* segmentBlocks(dir: string, s: SegmentEntry, q: { fromMs?: number | undefined; toMs?: number | undefined; seq?: number | undefined; hmacs?: Buffer[] | undefined }): Generator<BlockView> {
  const dlz = join(dir, segName(s.n, 'dlz'));
  const dlog = join(dir, segName(s.n, 'dlog'));
  if (existsSync(dlz)) {
    const h: DlzLayout = readDlzHeader(dlz);
    const dict = new Map<number, ContextEntry>(h.dict.map(([id, keyName, via]) => [id, { id, keyName, via }]));
    const fd = openSync(dlz, 'r');
    try {
      for (const c of h.chunks) {
        if (!chunkMayHold(fd, h, c, q)) continue;
        const z = Buffer.alloc(c.zLen);
        readSync(fd, z, 0, c.zLen, h.dataAt + c.zOff);
        const raw = inflateSync(z);
        const views: BlockView[] = [];
        walkFrames(raw, 0, (payload, offset) => views.push({ payload, dict, segment: s.n, offset }));
        yield* views;
      }
    } finally { closeSync(fd); }
    return;
  }
  if (!existsSync(dlog)) return;
  const raw = readFileSync(dlog);
  if (raw.length < LOG_MAGIC.length) return;
  const dict = new Map<number, ContextEntry>();
  const views: BlockView[] = [];
  walkFrames(raw, LOG_MAGIC.length, (payload, offset) => {
    try { for (const d of decodeBlockHeader(payload).dict) dict.set(d.id, d); } catch { /* verify names it */ }
    views.push({ payload, dict, segment: s.n, offset });
  });
  yield* views;
}

function chunkMayHold(fd: number, h: DlzLayout, c: ChunkEntry, q: { fromMs?: number | undefined; toMs?: number | undefined; seq?: number | undefined; hmacs?: Buffer[] | undefined }): boolean {
  if (c.count === 0) return false;
  if (q.fromMs !== undefined && c.maxTime < q.fromMs) return false;
  if (q.toMs !== undefined && c.minTime > q.toMs) return false;
  if (q.seq !== undefined && (q.seq < c.minSeq || q.seq > c.maxSeq)) return false;
  if (q.hmacs && q.hmacs.length > 0) {
    const blk = Buffer.alloc(BLOOM_BLOCK);
    let any = false;
    for (const hm of q.hmacs) {
      const at = hm.readUInt32LE(0) % c.bloomBlocks;
      readSync(fd, blk, 0, BLOOM_BLOCK, h.bloomAt + (c.bloomOff + at) * BLOOM_BLOCK);
      // the block was read alone: test it as a one-block filter at the same in-block bits
      if (bloomInBlock(blk, hm, h.bloomK ?? BLOOM_K_V1)) { any = true; break; }
    }
    if (!any) return false;
  }
  return true;
}

function bloomInBlock(blk: Buffer, hm: Buffer, k: number): boolean {
  // same bit positions as bloomBits, within the one block already selected
  const a = hm.readUInt16LE(4); const b = hm.readUInt16LE(6) | 1;
  for (let i = 0; i < k; i++) {
    const bit = (a + i * b) & 511;
    if ((blk[bit >> 3]! & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}
export { bloomBits };

/** Decodes the records of a block that pass `keep`. */
export function blockRecords(v: BlockView, instanceId: string, keys: ReadKeys | null, keep: (r: DecodedRecord, recordNo: number) => boolean, pre?: (p: Buffer, off: number) => boolean): FoundDecision[] {
  const h = decodeBlockHeader(v.payload);
  const out: FoundDecision[] = [];
  let ex: ReturnType<typeof decodeExtras> | null = null;
  let clear: string[] | null = null;
  const p = v.payload;
  for (let i = 0; i < h.count; i++) {
    const off = h.recordsAt + i * RECORD_BYTES;
    if (pre && !pre(p, off)) continue; // on the record's bytes: no object for records that cannot match
    const r = decodeRecord(v.payload, off);
    const recordNo = h.firstRecord + i;
    if (!keep(r, recordNo)) continue;
    ex ??= decodeExtras(v.payload, h);
    if (keys?.encryptionKey && ex.sealed && clear === null) {
      try { clear = openRecipients(keys.encryptionKey, ex.sealed.subarray(0)); } catch { clear = []; }
    }
    out.push(present(r, recordNo, instanceId, v, h.asOfMs, clear?.[i]));
  }
  return out;
}

function present(r: DecodedRecord, recordNo: number, instanceId: string, v: BlockView, asOfMs: number, clear: string | undefined): FoundDecision {
  const ctx = v.dict.get(r.contextId);
  const requestId = formatDecisionId(instanceId, r.seq);
  const d: FoundDecision = {
    id: `${requestId}/${r.index}`, requestId, instanceId, recordNo, time: new Date(r.timeMs).toISOString(), timeMs: r.timeMs,
    entrance: r.entrance, via: ctx?.via ?? '', apiKey: ctx?.keyName ?? '', brandCode: r.brandCode, type: r.type, recipientType: r.recipientType,
    declaredMessageType: r.declaredMessageType, messageType: r.messageType, promotionalLint: r.lint, decision: r.decision, reason: r.reason,
    consent: r.consentStatus === null ? null : {
      status: r.consentStatus, source: r.source, consentDate: r.consentDateS ? secondsIysDate(r.consentDateS) : null,
      movementRef: r.ref ? r.ref.toString(16).padStart(8, '0') : null,
    },
    asOf: asOfMs ? new Date(asOfMs).toISOString() : null,
    recipientHmac: `${r.keyId}:${r.hmac.toString('hex')}`,
    segment: v.segment,
  };
  if (clear !== undefined && clear !== '') d.recipient = clear.startsWith('\0') ? clear.slice(1) : clear;
  return d;
}

/**
 * Runs a query over `dirs` (each one instance's decision directory): at most `limit` decisions,
 * newest first, older than `cursor`.
 * @returns the page and the cursor of the next one (null when this was the last)
 */
export function queryDecisions(dirs: readonly string[], q: DecisionQuery, keys: ReadKeys, opts: { limit: number; cursor?: Cursor | null }): { decisions: FoundDecision[]; next: Cursor | null } {
  const wanted = q.recipient !== undefined ? recipientHmacs(q.recipient, q.type, keys.hmacKeys) : null;
  const hmacs = wanted?.map((w) => w.hmac);
  const from = q.fromMs ?? 0; const to = q.toMs ?? Number.MAX_SAFE_INTEGER;
  // the recipient test runs on every record of every chunk the filters let through: plain byte
  // compares (first byte first: 255 of 256 other records fail there), no Buffer.compare call
  const ws = wanted?.map((w) => ({ keyId: w.keyId, b: Array.from(w.hmac.subarray(0, HMAC_BYTES)) }));
  const pre = (p: Buffer, off: number): boolean => {
    if (ws) {
      let hit = false;
      for (const w of ws) {
        const b = w.b; const at = off + 18;
        if (p[at] !== b[0] || p[off + 17] !== w.keyId) continue;
        let i = 1;
        while (i < HMAC_BYTES && p[at + i] === b[i]) i++;
        if (i === HMAC_BYTES) { hit = true; break; }
      }
      if (!hit) return false;
    }
    if (q.id && p.readUIntLE(off + 7, 6) !== q.id.seq) return false;
    if (q.brandCode !== undefined && p.readUInt32LE(off + 28) !== q.brandCode) return false;
    if (q.fromMs !== undefined || q.toMs !== undefined) { const t = p.readUIntLE(off + 1, 6); if (t < from || t > to) return false; }
    return true;
  };
  const all: FoundDecision[] = [];
  const limit = opts.limit;
  for (const dir of dirs) {
    const m = readManifest(dir);
    if (!m) continue;
    if (q.id && q.id.instanceId !== m.instanceId) continue;
    const mine: FoundDecision[] = [];
    for (let si = m.segments.length - 1; si >= 0; si--) {
      const s = m.segments[si]!;
      if (s.closed) {
        if (q.fromMs !== undefined && s.lastTimeMs !== null && s.lastTimeMs < q.fromMs) continue;
        if (q.toMs !== undefined && s.firstTimeMs !== null && s.firstTimeMs > q.toMs) continue;
        if (q.id && s.firstSeq !== null && s.lastSeq !== null && (q.id.seq < s.firstSeq || q.id.seq > s.lastSeq)) continue;
      }
      const found: FoundDecision[] = [];
      const notes: { id: string }[] = [];
      for (const v of segmentBlocks(dir, s, { fromMs: q.fromMs, toMs: q.toMs, seq: q.id?.seq, hmacs })) {
        let h;
        try { h = decodeBlockHeader(v.payload); } catch { continue; }
        if (h.extrasLen > 0) for (const n of decodeExtras(v.payload, h).notes) notes.push(n as { id: string });
        found.push(...blockRecords(v, m.instanceId, keys, (r, recordNo) => {
          if (q.fromMs !== undefined && r.timeMs < q.fromMs) return false;
          if (q.toMs !== undefined && r.timeMs > q.toMs) return false;
          if (q.brandCode !== undefined && r.brandCode !== q.brandCode) return false;
          if (q.brands && !q.brands.includes(r.brandCode)) return false;
          if (q.type && r.type !== q.type) return false;
          if (q.decision && r.decision !== q.decision) return false;
          if (q.reason && r.reason !== q.reason) return false;
          if (q.entrance && r.entrance !== q.entrance) return false;
          if (q.id && (r.seq !== q.id.seq || (q.id.index !== null && r.index !== q.id.index))) return false;
          if (wanted && !wanted.some((w) => w.keyId === r.keyId && w.hmac.equals(r.hmac))) return false;
          if (opts.cursor && !olderThan({ timeMs: r.timeMs, instanceId: m.instanceId, recordNo } as FoundDecision, opts.cursor)) return false;
          return true;
        }, pre));
      }
      if (notes.length > 0) {
        const byId = new Map<string, unknown[]>();
        for (const n of notes) { const l = byId.get(n.id) ?? []; l.push(n); byId.set(n.id, l); }
        for (const d of found) { const l = byId.get(d.requestId); if (l) d.notes = l; }
      }
      mine.push(...found);
      if (mine.length >= limit) break;
    }
    all.push(...mine);
  }
  all.sort(newerFirst);
  const page = all.slice(0, limit);
  const last = page.at(-1);
  return { decisions: page, next: all.length >= limit && last ? { t: last.timeMs, i: last.instanceId, r: last.recordNo } : null };
}

export { HMAC_BYTES };

/** What proves one record: its block, the hashes around it and the manifest's anchor. */
export interface DecisionProof {
  segment: number;
  /** The block holding the record (base64 of its payload: SHA-256 of it is `blockHash`). */
  block: string;
  blockFirstRecord: number;
  /** Position of the record in the block, and its 46 bytes (hex). */
  indexInBlock: number;
  recordBytes: string;
  prevHash: string;
  blockHash: string;
  /** The next block's `prevHash` (equals `blockHash` when the chain holds), null for the last block so far. */
  nextPrevHash: string | null;
  /** The segment's final hash (manifest) when closed, else the manifest checkpoint of the open segment. */
  anchor: { kind: 'segment-final' | 'checkpoint' | 'none'; hash: string | null; records: number | null };
  /** How to check all of it: `iys-gate audit verify <dir>` walks every block to the anchor. */
  verify: string;
}

/** The proof of the record `recordNo` of instance `instanceId` in `dirs`, or null when not found. */
export function decisionProof(dirs: readonly string[], instanceId: string, segment: number, recordNo: number): DecisionProof | null {
  for (const dir of dirs) {
    const m = readManifest(dir);
    if (!m || m.instanceId !== instanceId) continue;
    const s = m.segments.find((x) => x.n === segment);
    if (!s) return null;
    let found: { payload: Buffer; i: number; first: number } | null = null;
    let nextPrev: string | null = null;
    for (const v of segmentBlocks(dir, s, {})) {
      const h = decodeBlockHeader(v.payload);
      if (found) { nextPrev = h.prevHash.toString('hex'); break; }
      if (recordNo >= h.firstRecord && recordNo < h.firstRecord + h.count) found = { payload: Buffer.from(v.payload), i: recordNo - h.firstRecord, first: h.firstRecord };
    }
    if (!found) return null;
    const h = decodeBlockHeader(found.payload);
    const at = h.recordsAt + found.i * RECORD_BYTES;
    return {
      segment, block: found.payload.toString('base64'), blockFirstRecord: found.first, indexInBlock: found.i,
      recordBytes: found.payload.subarray(at, at + RECORD_BYTES).toString('hex'),
      prevHash: h.prevHash.toString('hex'), blockHash: createHash('sha256').update(found.payload).digest('hex'), nextPrevHash: nextPrev,
      anchor: s.closed ? { kind: 'segment-final', hash: s.finalHash, records: s.records }
        : m.active?.n === s.n ? { kind: 'checkpoint', hash: m.active.lastHash, records: m.active.records } : { kind: 'none', hash: null, records: null },
      verify: 'iys-gate audit verify <decisions directory>',
    };
  }
  return null;
}
