import { mkdir } from 'node:fs/promises';
import { acquireLock } from './dir-lock.ts';
import { copyFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { resolveMovement, sameMovement, compareMovements } from '../domain/consent-order.ts';
import type { PolicyRecord } from '../domain/policy.ts';
import { CONSENT_SOURCES, type ConsentKey, type ConsentRecord, type ConsentSource, type Movement } from '../domain/types.ts';
import type { ApplyOutcome, ConsentStore } from './consent-store.ts';
import { DEFAULT_TIMELINE_RETENTION_MS, pruneTimeline, type AppliedMovement, type ApplyOptions } from './timeline.ts';
import { storeUnavailable } from '../errors.ts';
import { FLAG_NONCANONICAL, FLAG_RET, policyView } from './policy-view.ts';
import { AppendLog, readLogFile, writeLogFileSync, type LegacyFormat, type LogFs } from './append-log.ts';
import {
  RT_CODE, TYPE_CODE, decodeDate, decodeSource, encodeDate, encodeSource, lineToMovement, movementToLine,
} from './movement-codec.ts';

/** Options of the embedded store. */
export interface MemoryStoreOptions {
  /** Directory for `journal.log` and `snapshot.log`; null keeps everything in memory only (tests). */
  dataDir: string | null;
  /** Journal size in bytes past which `maybeCompact()` writes a snapshot. Default 256 MiB. */
  compactJournalBytes?: number;
  /** Movements kept per key for `history()`, current one included. Default 32. */
  historyPerKey?: number;
  /** Receives warnings (torn journal tail repaired, legacy files converted, …). Default: ignored. */
  warn?: (msg: string) => void;
  /** File layer of the journal's append path (append-log.ts `LogFs`); tests inject a slow or failing fsync. */
  fs?: LogFs;
  /** How long the movement history (timeline) is kept, ms. Default 1,095 days (decisions.retentionDays). */
  timelineRetentionMs?: number;
}

/** One timeline entry in memory (timeline.ts AppliedMovement, without the key). */
interface TimelineEntry { m: Movement; appliedAt: number; outcome: 'applied' | 'ignoredOlder' }

const SHARDS = 16; // a V8 Map holds at most 2^24 entries; shards lift the limit per (brand, type)
const TX_BYTES = 32;
const UPPER_HEX = /[A-F]/;

/**
 * The embedded consent store (default): all current records in memory in a compact layout,
 * durable through an append-only journal with group-committed fsync plus snapshots.
 *
 * Layout: per brand and (recipientType, type) pair, 16 `Map<recipient, slot>` shards; per slot,
 * typed arrays hold flags (RET, non-canonical), source, consentDate and creationDate (uint32
 * seconds) and a 64-hex transactionId as 32 raw bytes. About 110 bytes per consent (see
 * bench/README.md for the measured figure). History beyond the current record lives in a side
 * map only for keys that saw more than one movement.
 *
 * Durability: `apply()` resolves after the journal record is fsynced; a restart replays
 * `snapshot.log` then `journal.log` through append-log.ts (CRC-framed records: a torn tail is
 * copied aside and truncated before the first append, damage before the end refuses the start
 * with GW_ERR_LOG_CORRUPT). An `apply()` whose movement is a duplicate of one still being written
 * resolves only once that write is durable (a `duplicate` answer never precedes the original's
 * fsync). Files of the earlier unframed format are read and rewritten as a framed snapshot.
 */
export class MemoryStore implements ConsentStore {
  readonly kind = 'embedded' as const;
  readonly #opts: Required<Omit<MemoryStoreOptions, 'warn' | 'fs'>> & Pick<MemoryStoreOptions, 'warn' | 'fs'>;
  /**
   * Movement history per slot (timeline.ts), in time order, without the current record: the
   * records a key's current one replaced and the movements it ignored (most keys have none).
   */
  readonly #timeline = new Map<number, TimelineEntry[]>();
  /** When each slot's current record was applied (epoch ms; NaN = unknown): 8 bytes per consent. */
  #recAt = new Float64Array(0);
  /** Applied time of the movements being applied or replayed now; null = unknown (no timeline entry). */
  #appliedAt: number | null = null;
  readonly #brands = new Map<number, Map<string, number>[][]>();
  #cap = 0;
  #count = 0;
  #flags = new Uint8Array(0);
  #source = new Uint8Array(0);
  #cdate = new Uint32Array(0);
  #crdate = new Uint32Array(0);
  #tx: Buffer = Buffer.alloc(0);
  readonly #txOther = new Map<number, string>();
  readonly #retailer = new Map<number, { code: number | null; access: number[] | null }>();
  readonly #history = new Map<number, Movement[]>();
  readonly #meta = new Map<string, string>();
  #log: AppendLog | null = null;
  #opened = false;
  #compacting: Promise<void> | null = null;
  #lock: (() => void) | null = null;

  constructor(opts: MemoryStoreOptions) {
    this.#opts = {
      dataDir: opts.dataDir,
      compactJournalBytes: opts.compactJournalBytes ?? 256 * 1024 * 1024,
      historyPerKey: opts.historyPerKey ?? 32,
      timelineRetentionMs: opts.timelineRetentionMs ?? DEFAULT_TIMELINE_RETENTION_MS,
      warn: opts.warn,
      fs: opts.fs,
    };
    this.#grow(1024);
  }

  /** Replays snapshot and journal, then opens the journal for appends. */
  async open(): Promise<void> {
    if (this.#opened) return;
    const dir = this.#opts.dataDir;
    if (dir !== null) {
      await mkdir(dir, { recursive: true });
      this.#lock = acquireLock(join(dir, 'LOCK'));
      try {
        const warn = this.#opts.warn;
        const snap = await readLogFile(join(dir, 'snapshot.log'), {
          onRecord: (p) => this.#replayRecord(p, 'snapshot.log'), legacy: JOURNAL_LEGACY, ...(warn ? { warn } : {}),
        });
        this.#log = await AppendLog.open(join(dir, 'journal.log'), {
          onRecord: (p) => this.#replayRecord(p, 'journal.log'), legacy: JOURNAL_LEGACY,
          ...(warn ? { warn } : {}), ...(this.#opts.fs ? { fs: this.#opts.fs } : {}),
        });
        if (snap?.legacy) {
          // an unframed snapshot of an earlier release: rewrite everything as a framed snapshot now
          copyFileSync(join(dir, 'snapshot.log'), join(dir, 'snapshot.log.legacy'));
          this.#writeSnapshotSync();
          this.#log.truncateIdleSync();
          warn?.(`${join(dir, 'snapshot.log')}: converted from the format of an earlier release`);
        }
      } catch (err) {
        await this.#log?.close();
        this.#log = null;
        this.#lock?.();
        this.#lock = null;
        throw err;
      }
    }
    this.#opened = true;
  }

  /** Writes a snapshot (so the next start replays fast) and closes the journal. */
  async close(): Promise<void> {
    if (!this.#opened) return;
    this.#opened = false;
    if (this.#compacting) await this.#compacting;
    if (this.#log) {
      await this.#log.close();
      if (this.#log.bytes > 0) {
        this.#writeSnapshotSync();
        truncateSync(this.#log.path, 0);
      }
      this.#log = null;
    }
    this.#lock?.();
    this.#lock = null;
  }

  async get(key: ConsentKey): Promise<ConsentRecord | null> {
    return this.getSync(key);
  }

  /** Synchronous lookup used on the hot path (the embedded store never waits on I/O). */
  getSync(key: ConsentKey): ConsentRecord | null {
    const slot = this.#slotOf(key, false);
    return slot < 0 ? null : this.#decode(key, slot);
  }

  /**
   * What the decision policy needs of each key's record (status, non-canonical flag, dealer
   * access), without decoding dates or transactionIds: the batch path. Same order; null = none.
   * The common views are shared frozen objects: do not mutate.
   */
  peekMany(keys: readonly ConsentKey[]): (PolicyRecord | null)[] {
    const out = new Array<PolicyRecord | null>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const slot = this.#slotOf(keys[i]!, false);
      if (slot < 0) { out[i] = null; continue; }
      out[i] = policyView(this.#flags[slot]!, this.#retailer.get(slot));
    }
    return out;
  }

  async getMany(keys: readonly ConsentKey[]): Promise<(ConsentRecord | null)[]> {
    const out = new Array<ConsentRecord | null>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = this.getSync(keys[i]!);
    return out;
  }

  /**
   * Applies movements (ConsentStore.apply): durable before the promise resolves.
   * @throws GW_ERR_STORE_UNAVAILABLE (rejects) when a durable store is not open (closed at
   *   shutdown: nothing may be acknowledged that would not reach the journal), or its journal failed
   */
  async apply(movements: readonly Movement[], opts?: ApplyOptions): Promise<ApplyOutcome[]> {
    this.#assertWritable();
    const at = opts?.appliedAtMs ?? Date.now();
    const { outcomes, lines } = this.applyInMemory(movements, at);
    if (this.#log && lines.length > 0) {
      // the applied time heads the journal record: replay gives each movement its timeline entry
      await this.#log.append(`#t\t${at}\n` + lines.join('')).catch((err: unknown) => { throw journalFailed(err); });
      if (this.#log.bytes >= this.#opts.compactJournalBytes) {
        this.maybeCompact().catch((err: unknown) => this.#opts.warn?.(`journal compaction failed: ${(err as Error).message}`));
      }
    } else if (this.#log && lines.length < outcomes.length) {
      // A duplicate of a movement whose journal write may still be in flight (issue 12 item 2):
      // answer only once everything written before is durable, so a crash cannot undo the original
      // after this call was acknowledged. At once when nothing is pending.
      await this.#log.sync().catch((err: unknown) => { throw journalFailed(err); });
    }
    return outcomes;
  }

  /**
   * Applies movements to memory only and returns the journal lines to persist. Used by apply()
   * and by replay; exposed for the importer, which batches journal writes itself.
   */
  applyInMemory(movements: readonly Movement[], appliedAt: number = Date.now()): { outcomes: ApplyOutcome[]; lines: string[] } {
    const outcomes: ApplyOutcome[] = new Array(movements.length);
    const lines: string[] = [];
    this.#appliedAt = appliedAt;
    try {
      for (let i = 0; i < movements.length; i++) {
        const m = movements[i]!;
        const o = this.#applyOne(m);
        outcomes[i] = o;
        if (o !== 'duplicate') lines.push(movementToLine(m));
      }
    } finally {
      this.#appliedAt = null;
    }
    return { outcomes, lines };
  }

  async timeline(key: ConsentKey): Promise<AppliedMovement[]> {
    const slot = this.#slotOf(key, false);
    if (slot < 0) return [];
    const list = this.#timeline.get(slot) ?? [];
    const out: AppliedMovement[] = list.map((e) => ({ movement: { ...e.m, brandCode: key.brandCode, recipientType: key.recipientType, type: key.type, recipient: key.recipient }, appliedAt: e.appliedAt, outcome: e.outcome }));
    const at = this.#recAt[slot]!;
    if (!Number.isNaN(at)) {
      // the current record, in time order (after any entry of the same ms: it was applied last)
      let i = out.length;
      while (i > 0 && out[i - 1]!.appliedAt > at) i--;
      out.splice(i, 0, { movement: this.#decode(key, slot), appliedAt: at, outcome: 'applied' });
    }
    return out;
  }

  async history(key: ConsentKey): Promise<Movement[]> {
    const slot = this.#slotOf(key, false);
    if (slot < 0) return [];
    const cur = this.#decode(key, slot);
    const older = this.#history.get(slot) ?? [];
    return [cur, ...older].sort((a, b) => compareMovements(b, a));
  }

  async *iterate(brandCode?: number): AsyncIterable<ConsentRecord> {
    for (const [brand, combos] of this.#brands) {
      if (brandCode !== undefined && brand !== brandCode) continue;
      for (let c = 0; c < combos.length; c++) {
        const recipientType = c < 3 ? 'BIREYSEL' : 'TACIR';
        const type = (['MESAJ', 'ARAMA', 'EPOSTA'] as const)[c % 3]!;
        for (const shard of combos[c]!) {
          for (const [recipient, slot] of shard) yield this.#decode({ brandCode: brand, recipientType, type, recipient }, slot);
        }
      }
    }
  }

  async size(): Promise<number> { return this.#count; }
  /** A store with a data directory takes writes only while open (before open or after close, none would reach disk). */
  #assertWritable(): void {
    if (this.#opts.dataDir !== null && !this.#opened) throw storeUnavailable(null, 'the embedded store is closed');
  }

  /** False once the journal failed a write or fsync (it then refuses writes until a restart). */
  async ping(): Promise<boolean> { return this.#opened && !this.#log?.failure; }

  async getMeta(name: string): Promise<string | null> { return this.#meta.get(name) ?? null; }

  /** Every meta value, name → value (migration copies them all: migrate-store.ts). */
  metaEntries(): [string, string][] { return [...this.#meta]; }

  async setMeta(name: string, value: string): Promise<void> {
    this.#assertWritable();
    this.#meta.set(name, value);
    if (this.#log) await this.#log.append(`#m\t${name}\t${JSON.stringify(value)}\n`);
  }

  /**
   * Writes a snapshot and empties the journal once it passed `compactJournalBytes` (apply() calls it;
   * before, the journal only shrank at a clean shutdown). The snapshot and the truncation happen in
   * one synchronous step while no journal write is pending or in flight, so every movement is in
   * the snapshot or still in the journal: none is lost by a crash in between.
   */
  async maybeCompact(): Promise<void> {
    if (!this.#log || this.#log.bytes < this.#opts.compactJournalBytes || this.#compacting) return;
    const log = this.#log;
    this.#compacting = (async () => {
      do await log.idle(); while (log.busy); // an append may land between idle() and here
      if (this.#log !== log) return; // closed meanwhile: close() writes its own snapshot
      this.#writeSnapshotSync();
      log.truncateIdleSync();
    })().finally(() => { this.#compacting = null; });
    await this.#compacting;
  }

  /** Journal bytes currently on disk (for metrics). */
  get journalBytes(): number { return this.#log?.bytes ?? 0; }

  // ------------------------------------------------------------------------------------------

  #applyOne(m: Movement): ApplyOutcome {
    const slot = this.#slotOf(m, true);
    if (slot >= this.#count) { // new key: #slotOf reserved a fresh slot
      this.#count = slot + 1;
      this.#write(slot, m);
      this.#recAt[slot] = this.#appliedAt ?? NaN; // its history: the record itself, no entry
      return 'applied';
    }
    const cur = this.#decode(m, slot);
    const hist = this.#history.get(slot);
    if (hist?.some((h) => sameMovement(h, m))) return 'duplicate';
    const outcome = resolveMovement(cur, m);
    if (outcome === 'duplicate') return outcome;
    const list = hist ?? [];
    if (outcome === 'applied') {
      const replaced = detach(cur);
      list.unshift(replaced);
      this.#write(slot, m);
      const curAt = this.#recAt[slot]!;
      this.#recAt[slot] = this.#appliedAt ?? NaN;
      // the replaced record joins the movement history at the time it had been applied
      if (!Number.isNaN(curAt)) this.#note(slot, { m: replaced, appliedAt: curAt, outcome: 'applied' });
    } else {
      const older = detach(m);
      list.push(older);
      list.sort((a, b) => compareMovements(b, a));
      if (this.#appliedAt !== null) this.#note(slot, { m: older, appliedAt: this.#appliedAt, outcome: 'ignoredOlder' });
    }
    if (list.length > this.#opts.historyPerKey - 1) list.length = this.#opts.historyPerKey - 1;
    this.#history.set(slot, list);
    return outcome;
  }

  /**
   * Adds a timeline entry to `slot`, then applies retention (timeline.ts pruneTimeline, relative
   * to the applied time of this write; entries before the cutoff all go when the current record
   * itself is older than the cutoff).
   */
  #note(slot: number, e: TimelineEntry): void {
    const list = this.#timeline.get(slot);
    if (!list) { this.#timeline.set(slot, [e]); return; }
    // in time order (a replaced record enters at the earlier time it had been applied)
    let i = list.length;
    while (i > 0 && list[i - 1]!.appliedAt > e.appliedAt) i--;
    list.splice(i, 0, e);
    if (this.#appliedAt === null) return;
    const cutoff = this.#appliedAt - this.#opts.timelineRetentionMs;
    let kept = pruneTimeline(list, cutoff);
    const curAt = this.#recAt[slot]!;
    if (!Number.isNaN(curAt) && curAt <= cutoff) kept = kept.filter((x) => x.appliedAt > cutoff);
    if (kept !== list) this.#timeline.set(slot, kept);
  }

  #slotOf(key: ConsentKey, create: boolean): number {
    let combos = this.#brands.get(key.brandCode);
    if (!combos) {
      if (!create) return -1;
      combos = Array.from({ length: 6 }, () => Array.from({ length: SHARDS }, () => new Map<string, number>()));
      this.#brands.set(key.brandCode, combos);
    }
    const r = key.recipient;
    const shard = combos[RT_CODE[key.recipientType] * 3 + TYPE_CODE[key.type]]![r.charCodeAt(r.length - 1) & (SHARDS - 1)]!;
    const slot = shard.get(r);
    if (slot !== undefined) return slot;
    if (!create) return -1;
    const fresh = this.#count;
    if (fresh >= this.#cap) this.#grow(this.#cap * 2);
    shard.set(flat(r), fresh);
    return fresh;
  }

  #write(slot: number, m: Movement): void {
    this.#flags[slot] = (m.status === 'RET' ? FLAG_RET : 0) | (m.noncanonical ? FLAG_NONCANONICAL : 0);
    this.#source[slot] = encodeSource(m.source);
    this.#cdate[slot] = encodeDate(m.consentDate);
    this.#crdate[slot] = encodeDate(m.creationDate);
    const tx = m.transactionId;
    const off = slot * TX_BYTES;
    // hex write stops at the first non-hex pair: 32 bytes written = a 64-hex id (lower case, so it decodes back identically)
    if (tx !== null && tx.length === 64 && this.#tx.write(tx, off, TX_BYTES, 'hex') === TX_BYTES && !UPPER_HEX.test(tx)) {
      this.#txOther.delete(slot);
    } else {
      this.#tx.fill(0, off, off + TX_BYTES);
      if (tx !== null) this.#txOther.set(slot, tx); else this.#txOther.delete(slot);
    }
    if (m.retailerCode != null || (m.retailerAccess && m.retailerAccess.length > 0)) {
      this.#retailer.set(slot, { code: m.retailerCode ?? null, access: m.retailerAccess ?? null });
    } else this.#retailer.delete(slot);
  }

  #decode(key: ConsentKey, slot: number): ConsentRecord {
    const flags = this.#flags[slot]!;
    const off = slot * TX_BYTES;
    let transactionId: string | null = this.#txOther.get(slot) ?? null;
    if (transactionId === null) {
      let nonzero = false;
      for (let i = off; i < off + TX_BYTES; i++) if (this.#tx[i] !== 0) { nonzero = true; break; }
      if (nonzero) transactionId = this.#tx.toString('hex', off, off + TX_BYTES);
    }
    const rec: ConsentRecord = {
      brandCode: key.brandCode, recipientType: key.recipientType, type: key.type, recipient: key.recipient,
      status: flags & FLAG_RET ? 'RET' : 'ONAY',
      source: decodeSource(this.#source[slot]!),
      consentDate: decodeDate(this.#cdate[slot]!),
      creationDate: decodeDate(this.#crdate[slot]!),
      transactionId,
      noncanonical: (flags & FLAG_NONCANONICAL) !== 0,
    };
    const r = this.#retailer.get(slot);
    if (r) { rec.retailerCode = r.code; rec.retailerAccess = r.access; }
    return rec;
  }

  #grow(cap: number): void {
    const grow8 = (a: Uint8Array, n: number) => { const b = new Uint8Array(n); b.set(a); return b; };
    const grow32 = (a: Uint32Array, n: number) => { const b = new Uint32Array(n); b.set(a); return b; };
    this.#flags = grow8(this.#flags, cap);
    this.#source = grow8(this.#source, cap);
    this.#cdate = grow32(this.#cdate, cap);
    this.#crdate = grow32(this.#crdate, cap);
    const at = new Float64Array(cap).fill(NaN);
    at.set(this.#recAt);
    this.#recAt = at;
    const tx = Buffer.alloc(cap * TX_BYTES);
    tx.set(this.#tx);
    this.#tx = tx;
    this.#cap = cap;
  }

  /** One journal or snapshot record: one or more lines (a legacy record is one line without `\n`). */
  #replayRecord(payload: Buffer, file: string): void {
    const text = payload.toString('utf8');
    this.#appliedAt = null; // a record states its applied time in a first `#t` line (none: unknown)
    let start = 0;
    for (let nl = text.indexOf('\n'); ; nl = text.indexOf('\n', start)) {
      const end = nl < 0 ? text.length : nl;
      if (end > start) this.#replayLine(text.slice(start, end), file);
      if (nl < 0) break;
      start = nl + 1;
    }
    this.#appliedAt = null;
  }

  #replayLine(line: string, file: string): void {
    if (line.startsWith('#t\t')) { // the applied time of the lines after it ('-': unknown)
      const at = Number(line.slice(3));
      this.#appliedAt = line.length > 3 && Number.isSafeInteger(at) ? at : null;
      return;
    }
    if (line.startsWith('#T\t')) { this.#replayTimelineLine(line, file); return; }
    if (line.startsWith('#m\t')) {
      const [, name, value] = line.split('\t');
      if (name !== undefined && value !== undefined) this.#meta.set(name, JSON.parse(value) as string);
      return;
    }
    const m = lineToMovement(line);
    // inside a record whose checksum holds: only a line of an unknown (newer) format gets here
    if (m === null) { this.#opts.warn?.(`${file}: unreadable line in a valid record skipped (written by a newer release?)`); return; }
    this.#applyOne(m);
  }

  /** A snapshot's timeline entry: `#T`, appliedAt ms, `a` (applied) or `i` (ignoredOlder), then the movement line. */
  #replayTimelineLine(line: string, file: string): void {
    const t1 = line.indexOf('\t', 3);
    const t2 = t1 < 0 ? -1 : line.indexOf('\t', t1 + 1);
    const at = Number(line.slice(3, t1));
    const o = line.slice(t1 + 1, t2);
    const m = t2 < 0 ? null : lineToMovement(line.slice(t2 + 1));
    if (m === null || !Number.isSafeInteger(at) || (o !== 'a' && o !== 'i')) {
      this.#opts.warn?.(`${file}: unreadable movement-history line skipped`);
      return;
    }
    const slot = this.#slotOf(m, false);
    if (slot < 0) return; // the snapshot writes a key's records before its timeline
    const e: TimelineEntry = { m: detach(m), appliedAt: at, outcome: o === 'a' ? 'applied' : 'ignoredOlder' };
    const list = this.#timeline.get(slot);
    if (list) list.push(e); else this.#timeline.set(slot, [e]);
  }

  /**
   * Writes every record, history entry and meta value as a sealed framed file (append-log.ts:
   * snapshot.log.tmp, fsync, rename, directory fsync), 10,000 lines per record.
   */
  #writeSnapshotSync(): void {
    const self = this;
    function* records(): Generator<string> {
      let chunk: string[] = [];
      for (const [brand, combos] of self.#brands) {
        for (let c = 0; c < combos.length; c++) {
          const recipientType = c < 3 ? 'BIREYSEL' : 'TACIR';
          const type = (['MESAJ', 'ARAMA', 'EPOSTA'] as const)[c % 3]!;
          for (const shard of combos[c]!) {
            for (const [recipient, slot] of shard) {
              const key = { brandCode: brand, recipientType, type, recipient } as const;
              const hist = self.#history.get(slot);
              // older movements replay at an unknown time, the current record at its applied time
              chunk.push('#t\t-\n');
              if (hist) for (let i = hist.length - 1; i >= 0; i--) chunk.push(movementToLine(hist[i]!));
              const at = self.#recAt[slot]!;
              if (!Number.isNaN(at)) chunk.push(`#t\t${at}\n`);
              chunk.push(movementToLine(self.#decode(key, slot)));
              const tl = self.#timeline.get(slot);
              if (tl) for (const e of tl) chunk.push(`#T\t${e.appliedAt}\t${e.outcome === 'applied' ? 'a' : 'i'}\t${movementToLine(e.m)}`);
              if (chunk.length >= 10000) { yield chunk.join(''); chunk = []; }
            }
          }
        }
      }
      for (const [name, value] of self.#meta) chunk.push(`#m\t${name}\t${JSON.stringify(value)}\n`);
      if (chunk.length) yield chunk.join('');
    }
    writeLogFileSync(join(this.#opts.dataDir!, 'snapshot.log'), records(), { sealed: true });
  }
}

/** A failed journal write or fsync as GW_ERR_STORE_UNAVAILABLE (503; the fs error is its cause). */
function journalFailed(err: unknown): Error {
  return storeUnavailable(err, `journal write failed (${(err as Error).message}); writes are refused until a restart`);
}

/**
 * Lines of the unframed journal/snapshot of earlier releases: a line is a record when it decodes
 * and encodes back to the same text (so a fragment glued before a record is told apart).
 */
const JOURNAL_LEGACY: LegacyFormat = {
  valid(line) {
    if (line.startsWith('#m\t')) {
      const f = line.split('\t');
      if (f.length !== 3) return false;
      try { return typeof JSON.parse(f[2]!) === 'string'; } catch { return false; }
    }
    const m = lineToMovement(line);
    return m !== null && movementToLine(m) === line + '\n';
  },
};

/**
 * A copy of `s` that shares no memory with the string it was cut from. V8 represents a substring
 * of 13+ characters as a slice that keeps its whole parent alive: a recipient split from a CSV
 * line would pin the line, and the line its 64 KiB read chunk (measured: 139 → 292 bytes per
 * consent). Only long-lived strings (map keys, history) are copied.
 */
function flat(s: string): string {
  if (s.length < 13) return s; // V8 copies substrings this short
  // A round trip through bytes yields a fresh sequential string (a char-by-char concatenation
  // left cons-string wrappers behind: measured 280 vs 138 bytes per consent).
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** A movement whose strings share no memory with the input they were parsed from (see flat). */
function detach(m: Movement): Movement {
  const out: Movement = {
    ...m, recipient: flat(m.recipient), consentDate: m.consentDate && flat(m.consentDate),
    creationDate: m.creationDate && flat(m.creationDate), transactionId: m.transactionId && flat(m.transactionId),
  };
  if (m.source !== null) out.source = CONSENT_SOURCE_SET.get(m.source) ?? m.source;
  return out;
}

const CONSENT_SOURCE_SET = new Map<string, ConsentSource>(CONSENT_SOURCES.map((x) => [x, x]));
