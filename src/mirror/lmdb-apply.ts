import { open as openLmdb, type Database, type RootDatabase } from 'lmdb';
import { compareMovements, resolveMovement, sameMovement } from '../domain/consent-order.ts';
import type { ConsentKey, Movement } from '../domain/types.ts';
import type { ApplyOutcome } from './consent-store.ts';
import {
  FLAG_HAS_HISTORY, TIMELINE_APPLIED, decodeHistory, decodeValue, encodeHistory, encodeValue, encodeValueInto,
  keyBuffer, readKey, timelineKeyInto, writeKey,
} from './lmdb-codec.ts';
import { DEFAULT_TIMELINE_RETENTION_MS } from './timeline.ts';

/** The named databases of the LMDB environment (lmdb-codec.ts describes their bytes). */
export interface LmdbDatabases {
  env: RootDatabase;
  records: Database<Buffer, Buffer>;
  history: Database<Buffer, Buffer>;
  meta: Database<string, string>;
  /** The movement history with applied times (timeline.ts; key and value: lmdb-codec.ts "Timeline"). */
  timeline: Database<Buffer, Buffer>;
}

/**
 * Opens the environment file `path` (`consents.mdb`) with the store's options, the same on every
 * thread that opens it (lmdb-js shares one native environment per file in a process: the LMDB
 * store on the request loop, an import worker applying in its own transactions). Commits are
 * synchronous (`overlappingSync: false`): a commit that returned is fsynced.
 * @param mapSizeBytes address space reserved for the map (virtual, not RAM)
 * @param opts.readOnly open for reading only (a tool beside a running gateway: LMDB lets other
 *   processes read the file while one writes)
 * @throws what lmdb-js throws (unreadable file, no space for the lock file)
 */
export function openLmdbDatabases(path: string, mapSizeBytes: number, opts: { readOnly?: boolean } = {}): LmdbDatabases {
  const env = openLmdb({
    path,
    ...(opts.readOnly ? { readOnly: true } : {}),
    noSubdir: true,
    maxDbs: 8,
    mapSize: mapSizeBytes,
    overlappingSync: false, // a commit means fsynced (lmdb-store.ts)
    noMemInit: true,
    encoding: 'binary',
    keyEncoding: 'binary',
  });
  return {
    env,
    records: env.openDB<Buffer, Buffer>({ name: 'records', encoding: 'binary', keyEncoding: 'binary' }),
    history: env.openDB<Buffer, Buffer>({ name: 'history', encoding: 'binary', keyEncoding: 'binary' }),
    meta: env.openDB<string, string>({ name: 'meta', encoding: 'string' }),
    timeline: env.openDB<Buffer, Buffer>({ name: 'timeline', encoding: 'binary', keyEncoding: 'binary' }),
  };
}

/**
 * The one write rule of the LMDB store: a movement's read-modify-write of its key (current
 * record, bounded history) inside a write transaction the caller holds (`transaction` callback
 * or `transactionSync`), with the ordering rules of consent-order.ts (as MemoryStore's). Used by
 * LmdbStore.apply on the request loop and by the import worker (import-worker.ts) on its own
 * handle of the same environment. Key and value go through reused scratch buffers: inside a write
 * transaction lmdb-js copies both at once.
 */
export class LmdbWriter {
  readonly #wkey = Buffer.allocUnsafe(4096);
  readonly #wval = Buffer.allocUnsafe(4096);
  readonly #tkey = Buffer.allocUnsafe(4096 + 11);
  readonly #tval = Buffer.allocUnsafe(4096);
  /** Sequence of this writer's timeline entries (orders entries of one key applied in the same ms); random start. */
  #seq = Math.floor(Math.random() * 0x1_0000_0000);
  /**
   * The applied time (epoch ms) recorded in the timeline for the movements applied next: the
   * caller sets it at the start of each transaction (LmdbStore.apply, LmdbImportSink.commit).
   */
  appliedAt = Date.now();

  /**
   * @param historyPerKey movements kept per key, current one included (≥ 1)
   * @param timeline the movement history database and its retention in ms (timeline.ts); null
   *   writes none (tools that rewrite state, not movements)
   */
  constructor(
    private readonly records: Database<Buffer, Buffer>, private readonly history: Database<Buffer, Buffer>, private readonly historyPerKey: number,
    private readonly timeline: { db: Database<Buffer, Buffer>; retentionMs?: number } | null = null,
  ) {}

  /** Applies `m` in the caller's write transaction; the outcome as ConsentStore.apply reports it. */
  applyOne(m: Movement): ApplyOutcome {
    const records = this.records;
    const k = m.recipient.length * 4 + 6 <= this.#wkey.length ? this.#wkey.subarray(0, writeKey(m, this.#wkey)) : keyBuffer(m);
    const v = records.getBinaryFast(k);
    if (v === undefined || v === null) {
      records.put(k, this.#valueOf(m, 0));
      if (this.timeline) this.#note(k, m, true, false);
      return 'applied';
    }
    const flags = v[0]!;
    const cur = decodeValue(m, v); // copies out of the reused buffer before the next read
    const hist = flags & FLAG_HAS_HISTORY ? this.readHistory(m) : [];
    if (hist.some((h) => sameMovement(h, m))) return 'duplicate';
    const outcome = resolveMovement(cur, m);
    if (outcome === 'duplicate') return outcome;
    if (outcome === 'applied') hist.unshift(cur);
    else { hist.push(m); hist.sort((a, b) => compareMovements(b, a)); }
    if (hist.length > this.historyPerKey - 1) hist.length = this.historyPerKey - 1;
    const hasHist = hist.length > 0 ? FLAG_HAS_HISTORY : 0;
    if (outcome === 'applied') records.put(k, this.#valueOf(m, hasHist));
    else if ((flags & FLAG_HAS_HISTORY) !== hasHist) records.put(k, this.#valueOf(cur, hasHist));
    if (hasHist) this.history.put(k, encodeHistory(hist));
    if (this.timeline) this.#note(k, m, outcome === 'applied', true);
    return outcome;
  }

  /**
   * Adds `m` to the timeline of key bytes `k` at `appliedAt`, then (for a key seen before) drops
   * what retention no longer needs (timeline.ts pruneTimeline; one cursor step when nothing is old).
   */
  #note(k: Buffer, m: Movement, applied: boolean, seen: boolean): void {
    const tl = this.timeline!;
    const at = this.appliedAt;
    const tk = this.#tkey.length >= k.length + 11 ? this.#tkey : Buffer.allocUnsafe(k.length + 11);
    const n = timelineKeyInto(k, at, this.#seq, tk);
    this.#seq = (this.#seq + 1) >>> 0;
    const vlen = 16 + (m.transactionId === null ? 0 : 2 + 3 * m.transactionId.length) + 4 * (m.retailerAccess?.length ?? 0);
    const val = vlen <= this.#tval.length ? this.#tval.subarray(0, encodeValueInto(m, this.#tval, 0, applied ? TIMELINE_APPLIED : 0)) : encodeValue(m, applied ? TIMELINE_APPLIED : 0);
    tl.db.put(tk.subarray(0, n), val);
    if (!seen) return;
    const cutoff = at - (tl.retentionMs ?? DEFAULT_TIMELINE_RETENTION_MS);
    if (cutoff < 0) return;
    const start = Buffer.allocUnsafe(k.length + 11);
    timelineKeyInto(k, 0, 0, start);
    const end = Buffer.allocUnsafe(k.length + 11);
    timelineKeyInto(k, cutoff, 0xffff_ffff, end);
    const old: { key: Buffer; applied: boolean }[] = [];
    for (const e of tl.db.getRange({ start, end })) old.push({ key: Buffer.from(e.key), applied: (e.value[0]! & TIMELINE_APPLIED) !== 0 });
    if (old.length === 0 || (old.length === 1 && old[0]!.applied)) return;
    let keep = -1;
    for (let i = 0; i < old.length; i++) if (old[i]!.applied) keep = i;
    for (let i = 0; i < old.length; i++) if (i !== keep) tl.db.remove(old[i]!.key);
  }

  /**
   * Applies a movement given as its encoded key and value (lmdb-import-sink.ts EncodedBatch:
   * writeKey and encodeValueInto without extra flags) in the caller's write transaction, with the
   * same outcome and the same bytes written as `applyOne` of the movement they encode (records,
   * history and timeline). A key not yet held (the common case of an import) is one get and the
   * puts of the given bytes, with no movement object made; a held key decodes the movement and
   * goes through `applyOne`.
   */
  applyEncoded(key: Buffer, value: Buffer): ApplyOutcome {
    const v = this.records.getBinaryFast(key);
    if (v === undefined || v === null) {
      this.records.put(key, value);
      if (this.timeline) this.#noteNew(key, value);
      return 'applied';
    }
    return this.applyOne(decodeValue(readKey(key), value));
  }

  /** `#note(k, m, true, false)` for a movement given as its value bytes (flags byte first). */
  #noteNew(k: Buffer, value: Buffer): void {
    const tk = this.#tkey.length >= k.length + 11 ? this.#tkey : Buffer.allocUnsafe(k.length + 11);
    const n = timelineKeyInto(k, this.appliedAt, this.#seq, tk);
    this.#seq = (this.#seq + 1) >>> 0;
    const val = value.length <= this.#tval.length ? this.#tval.subarray(0, value.length) : Buffer.allocUnsafe(value.length);
    value.copy(val);
    val[0] = val[0]! | TIMELINE_APPLIED;
    this.timeline!.db.put(tk.subarray(0, n), val);
  }

  /** Older movements of `key` (current record excluded), newest first. */
  readHistory(key: ConsentKey): Movement[] {
    const v = this.history.getBinaryFast(keyBuffer(key));
    return v ? decodeHistory(key, v) : [];
  }

  /** The value of `m` in the write scratch (valid until the next call), or a fresh buffer when large. */
  #valueOf(m: Movement, extraFlags: number): Buffer {
    // an upper bound of valueLength without its hex test (a usual value is 42 bytes)
    const n = 16 + (m.transactionId === null ? 0 : 2 + 3 * m.transactionId.length) + 4 * (m.retailerAccess?.length ?? 0);
    return n <= this.#wval.length ? this.#wval.subarray(0, encodeValueInto(m, this.#wval, 0, extraFlags)) : encodeValue(m, extraFlags);
  }
}
