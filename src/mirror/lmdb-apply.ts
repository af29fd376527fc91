import { open as openLmdb, type Database, type RootDatabase } from 'lmdb';
import { compareMovements, resolveMovement, sameMovement } from '../domain/consent-order.ts';
import type { ConsentKey, Movement } from '../domain/types.ts';
import type { ApplyOutcome } from './consent-store.ts';
import {
  FLAG_HAS_HISTORY, TIMELINE_APPLIED, decodeHistory, decodeValue, encodeHistory, encodeValue, encodeValueInto,
  keyBuffer, readKey, timelineKeyInto, valueAppliedAt, withAppliedAt, writeKey,
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
    // the record carries its own applied time: a key's first movement adds 6 bytes, no timeline entry
    const at = this.timeline ? this.appliedAt : undefined;
    if (v === undefined || v === null) {
      records.put(k, this.#valueOf(m, 0, at));
      return 'applied';
    }
    const flags = v[0]!;
    const cur = decodeValue(m, v); // copies out of the reused buffer before the next read
    const curAt = valueAppliedAt(v);
    const hist = flags & FLAG_HAS_HISTORY ? this.readHistory(m) : [];
    if (hist.some((h) => sameMovement(h, m))) return 'duplicate';
    const outcome = resolveMovement(cur, m);
    if (outcome === 'duplicate') return outcome;
    if (outcome === 'applied') hist.unshift(cur);
    else { hist.push(m); hist.sort((a, b) => compareMovements(b, a)); }
    if (hist.length > this.historyPerKey - 1) hist.length = this.historyPerKey - 1;
    const hasHist = hist.length > 0 ? FLAG_HAS_HISTORY : 0;
    if (outcome === 'applied') records.put(k, this.#valueOf(m, hasHist, at));
    else if ((flags & FLAG_HAS_HISTORY) !== hasHist) records.put(k, this.#valueOf(cur, hasHist, curAt ?? undefined));
    if (hasHist) this.history.put(k, encodeHistory(hist));
    if (this.timeline) {
      // the replaced record (at its own applied time) or the ignored movement joins the timeline
      if (outcome === 'applied') { if (curAt !== null) this.#note(k, cur, curAt, true); } else this.#note(k, m, at!, false);
      this.#prune(k, outcome === 'applied' ? at! : curAt);
    }
    return outcome;
  }

  /** Adds `m` to the timeline of key bytes `k` at `appliedAt` (ms), marked applied or ignoredOlder. */
  #note(k: Buffer, m: Movement, appliedAt: number, applied: boolean): void {
    const tk = this.#tkey.length >= k.length + 11 ? this.#tkey : Buffer.allocUnsafe(k.length + 11);
    const n = timelineKeyInto(k, appliedAt, this.#seq, tk);
    this.#seq = (this.#seq + 1) >>> 0;
    const vlen = 16 + (m.transactionId === null ? 0 : 2 + 3 * m.transactionId.length) + 4 * (m.retailerAccess?.length ?? 0);
    const flag = applied ? TIMELINE_APPLIED : 0;
    const val = vlen <= this.#tval.length ? this.#tval.subarray(0, encodeValueInto(m, this.#tval, 0, flag)) : encodeValue(m, flag);
    this.timeline!.db.put(tk.subarray(0, n), val);
  }

  /**
   * Retention of the timeline of key bytes `k` (timeline.ts pruneTimeline): entries applied at or
   * before now − retention go, but the last applied one among them, unless the current record
   * (applied at `currentAt`, null = unknown) is itself that old. One cursor step when nothing is old.
   */
  #prune(k: Buffer, currentAt: number | null): void {
    const tl = this.timeline!;
    const cutoff = this.appliedAt - (tl.retentionMs ?? DEFAULT_TIMELINE_RETENTION_MS);
    if (cutoff < 0) return;
    const start = Buffer.allocUnsafe(k.length + 11);
    timelineKeyInto(k, 0, 0, start);
    const end = Buffer.allocUnsafe(k.length + 11);
    timelineKeyInto(k, cutoff, 0xffff_ffff, end);
    const old: { key: Buffer; applied: boolean }[] = [];
    for (const e of tl.db.getRange({ start, end })) old.push({ key: Buffer.from(e.key), applied: (e.value[0]! & TIMELINE_APPLIED) !== 0 });
    if (old.length === 0) return;
    let keep = -1;
    if (currentAt === null || currentAt > cutoff) for (let i = 0; i < old.length; i++) if (old[i]!.applied) keep = i;
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
      // as applyOne: the record carries its applied time (6 bytes), no timeline entry
      if (!this.timeline) this.records.put(key, value);
      else {
        const out = value.length + 6 <= this.#tval.length ? this.#tval : Buffer.allocUnsafe(value.length + 6);
        this.records.put(key, out.subarray(0, withAppliedAt(value, this.appliedAt, out)));
      }
      return 'applied';
    }
    return this.applyOne(decodeValue(readKey(key), value));
  }

  /** Older movements of `key` (current record excluded), newest first. */
  readHistory(key: ConsentKey): Movement[] {
    const v = this.history.getBinaryFast(keyBuffer(key));
    return v ? decodeHistory(key, v) : [];
  }

  /** The value of `m` (with its applied time when given) in the write scratch (valid until the next call), or a fresh buffer when large. */
  #valueOf(m: Movement, extraFlags: number, appliedAt?: number): Buffer {
    // an upper bound of valueLength without its hex test (a usual value is 48 bytes)
    const n = 22 + (m.transactionId === null ? 0 : 2 + 3 * m.transactionId.length) + 4 * (m.retailerAccess?.length ?? 0);
    return n <= this.#wval.length ? this.#wval.subarray(0, encodeValueInto(m, this.#wval, 0, extraFlags, appliedAt)) : encodeValue(m, extraFlags, appliedAt);
  }
}
