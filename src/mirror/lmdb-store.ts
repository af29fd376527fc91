import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import { compareMovements } from '../domain/consent-order.ts';
import type { PolicyRecord } from '../domain/policy.ts';
import type { ConsentKey, ConsentRecord, Movement } from '../domain/types.ts';
import { storeUnavailable } from '../errors.ts';
import type { ApplyOutcome, ConsentStore } from './consent-store.ts';
import { acquireLock } from './dir-lock.ts';
import { checkLmdbFile } from './lmdb-check.ts';
import { policyView } from './policy-view.ts';
import { LmdbWriter, openLmdbDatabases } from './lmdb-apply.ts';
import {
  FLAG_HAS_HISTORY, TIMELINE_APPLIED, decodeHistory, decodeRetailer, decodeValue, encodeHistory,
  encodeValue, keyBuffer, readKey, timelineKeyInto, timelineKeyTime, valueAppliedAt, writeKey,
} from './lmdb-codec.ts';
import { DEFAULT_TIMELINE_RETENTION_MS, type AppliedMovement, type ApplyOptions } from './timeline.ts';

/** Options of the LMDB store. */
export interface LmdbStoreOptions {
  /** Directory of `consents.mdb` (+ `consents.mdb-lock`) and the `LOCK` file; created when missing. */
  dataDir: string;
  /** Movements kept per key for `history()`, current one included. Default 32 (as MemoryStore). */
  historyPerKey?: number;
  /** Address space reserved for the map, in bytes (virtual, not RAM). Default 256 GiB (~2.5 billion consents). */
  mapSizeBytes?: number;
  /** Receives warnings. Default: ignored. */
  warn?: (msg: string) => void;
  /** How long the movement history (timeline) is kept, ms. Default 1,095 days (decisions.retentionDays). */
  timelineRetentionMs?: number;
  /**
   * Read only, without the directory lock: for offline tools beside a running gateway (`audit
   * export`); LMDB lets other processes read the file while the gateway writes. Writes reject.
   */
  readOnly?: boolean;
}

/** File name of the LMDB environment inside `dataDir`. */
export const LMDB_FILE = 'consents.mdb';


/**
 * The embedded consent store on LMDB (`lmdb` on npm): records, bounded history per key and meta
 * (sync cursors) in one memory-mapped, transactional file, `<dataDir>/consents.mdb`. The mirror
 * lives in the OS page cache, not in the V8 heap: open is instant whatever the size, close writes
 * nothing, and reads are synchronous (a B-tree walk in mapped memory, no I/O once the pages are
 * cached). Layout: lmdb-codec.ts (a usual record is a 12-byte key and a 42-byte value).
 *
 * Writes: `apply()` runs as one lmdb-js asynchronous transaction callback (read-modify-write of
 * each movement inside the write transaction, so concurrent calls see each other's writes in
 * call order); callbacks queued while a commit is under way are group-committed together. The
 * environment is opened with `overlappingSync: false`: a commit returns only after LMDB's
 * synchronous commit (data and meta page fsynced), so a promise that resolved is durable and
 * survives `kill -9` and power loss. A duplicate of a movement still in flight is answered with
 * its own transaction, which commits after (or with) the original's: it never resolves first.
 *
 * Failure policy: a closed store or an LMDB error rejects (async) or throws (sync reads) a
 * `GW_ERR_STORE_UNAVAILABLE`; callers fail closed.
 */
export class LmdbStore implements ConsentStore {
  readonly kind = 'embedded' as const;
  readonly #opts: LmdbStoreOptions & { historyPerKey: number };
  #env: RootDatabase | null = null;
  #records: Database<Buffer, Buffer> | null = null;
  #history: Database<Buffer, Buffer> | null = null;
  #meta: Database<string, string> | null = null;
  #timeline: Database<Buffer, Buffer> | null = null;
  #lock: (() => void) | null = null;
  readonly #scratch = Buffer.allocUnsafe(4096);
  /** Writes not yet resolved, and the ref'd timer that keeps the event loop alive meanwhile (see #track). */
  #writesPending = 0;
  #keepAlive: NodeJS.Timeout | null = null;
  #writer: LmdbWriter | null = null;

  constructor(opts: LmdbStoreOptions) {
    this.#opts = { ...opts, historyPerKey: opts.historyPerKey ?? 32 };
  }

  /**
   * Takes the directory lock, checks the data file (lmdb-check.ts) and opens the environment (no
   * replay: instant at any size).
   * @throws GW_ERR_STORE_CORRUPT when the file is damaged; GW_ERR_STORE_UNAVAILABLE when lmdb cannot open it
   */
  async open(): Promise<void> {
    if (this.#env) return;
    const dir = this.#opts.dataDir;
    const readOnly = this.#opts.readOnly === true;
    if (!readOnly) mkdirSync(dir, { recursive: true });
    this.#lock = readOnly ? () => undefined : acquireLock(join(dir, 'LOCK'));
    try {
      // a damaged file is refused here, before lmdb maps it (it would crash the process)
      checkLmdbFile(join(dir, LMDB_FILE));
      const dbs = openLmdbDatabases(join(dir, LMDB_FILE), this.#mapSize, { readOnly });
      this.#env = dbs.env;
      this.#records = dbs.records;
      this.#history = dbs.history;
      this.#meta = dbs.meta;
      this.#timeline = dbs.timeline;
      this.#writer = new LmdbWriter(dbs.records, dbs.history, this.#opts.historyPerKey, { db: dbs.timeline, retentionMs: this.#retentionMs });
    } catch (err) {
      this.#lock();
      this.#lock = null;
      if ((err as { code?: string }).code === 'GW_ERR_STORE_CORRUPT') throw err;
      throw storeUnavailable(err, `cannot open ${join(dir, LMDB_FILE)}: ${(err as Error).message}`);
    }
  }

  /** Waits for writes in flight, closes the environment and releases the lock; idempotent. */
  async close(): Promise<void> {
    const env = this.#env;
    if (!env) return;
    this.#env = null;
    this.#records = null;
    this.#history = null;
    this.#meta = null;
    this.#timeline = null;
    this.#writer = null;
    try {
      await env.close();
    } finally {
      this.#lock?.();
      this.#lock = null;
    }
  }

  get #mapSize(): number { return this.#opts.mapSizeBytes ?? 256 * 1024 ** 3; }
  get #retentionMs(): number { return this.#opts.timelineRetentionMs ?? DEFAULT_TIMELINE_RETENTION_MS; }

  /**
   * Where another thread of this process may write this store's mirror directly (the import
   * worker, import-worker.ts: it opens the same file with openLmdbDatabases and applies with
   * LmdbWriter in transactions of its own, so an import's per-row work leaves the request loop).
   * Null when closed. Each write the worker makes must be followed by `sawExternalCommit()` on
   * this thread before it is reported as done.
   */
  importTarget(): { lmdbPath: string; mapSizeBytes: number; historyPerKey: number; timelineRetentionMs: number } | null {
    if (!this.#env) return null;
    return { lmdbPath: join(this.#opts.dataDir, LMDB_FILE), mapSizeBytes: this.#mapSize, historyPerKey: this.#opts.historyPerKey, timelineRetentionMs: this.#retentionMs };
  }

  /**
   * Another thread committed to the environment: the next read on this thread starts a fresh
   * read snapshot (lmdb-js renews its read transaction on a timer only), so a check answered
   * after an import's answer sees what the import wrote.
   */
  sawExternalCommit(): void {
    this.#env?.resetReadTxn();
  }

  /**
   * The lmdb-js root database while open, else null: for tools and tests (a test holds a write
   * transaction open with `environment.transaction(() => promise)` to stand for a slow disk).
   */
  get environment(): RootDatabase | null { return this.#env; }

  async get(key: ConsentKey): Promise<ConsentRecord | null> {
    return this.getSync(key);
  }

  /**
   * Synchronous lookup (check hot path): the committed record of `key`, or null.
   * @throws GW_ERR_STORE_UNAVAILABLE when the store is closed or LMDB fails
   */
  getSync(key: ConsentKey): ConsentRecord | null {
    const v = this.#read(key);
    return v === undefined ? null : decodeValue(key, v);
  }

  /**
   * What the decision policy needs of each key's record (status, non-canonical flag, dealer
   * access), without decoding dates or transactionIds: the batch path. Same order; null = none.
   * The common views are shared frozen objects: do not mutate.
   * @throws GW_ERR_STORE_UNAVAILABLE when the store is closed or LMDB fails
   */
  peekMany(keys: readonly ConsentKey[]): (PolicyRecord | null)[] {
    const out = new Array<PolicyRecord | null>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const v = this.#read(keys[i]!);
      if (v === undefined) { out[i] = null; continue; }
      out[i] = policyView(v[0]!, decodeRetailer(v));
    }
    return out;
  }

  async getMany(keys: readonly ConsentKey[]): Promise<(ConsentRecord | null)[]> {
    const out = new Array<ConsentRecord | null>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = this.getSync(keys[i]!);
    return out;
  }

  /**
   * Applies movements in array order inside one write transaction; resolves once it is committed
   * and fsynced (group commit with every other write queued meanwhile).
   * @throws GW_ERR_STORE_UNAVAILABLE (rejects) when closed or when LMDB fails (disk full, map full)
   */
  async apply(movements: readonly Movement[], opts?: ApplyOptions): Promise<ApplyOutcome[]> {
    if (movements.length === 0) return [];
    const env = this.#live();
    const at = opts?.appliedAtMs ?? Date.now();
    try {
      return await this.#track(env.transaction(() => {
        const out: ApplyOutcome[] = new Array(movements.length);
        const writer = this.#writer!;
        writer.appliedAt = at;
        for (let i = 0; i < movements.length; i++) out[i] = writer.applyOne(movements[i]!);
        return out;
      }));
    } catch (err) {
      throw storeUnavailable(err, `LMDB write failed: ${(err as Error).message}`);
    }
  }

  async history(key: ConsentKey): Promise<Movement[]> {
    const v = this.#read(key);
    if (v === undefined) return [];
    const cur = decodeValue(key, v);
    const older = v[0]! & FLAG_HAS_HISTORY ? this.#readHistory(key) : [];
    return [cur, ...older].sort((a, b) => compareMovements(b, a));
  }

  /**
   * The key's movement history (ConsentStore.timeline): one range of the timeline database (the
   * records it replaced, the movements it ignored) plus the current record at the applied time its
   * value carries, in time order.
   */
  async timeline(key: ConsentKey): Promise<AppliedMovement[]> {
    const db = this.#timeline;
    if (!db) throw storeUnavailable(null, 'the LMDB store is closed');
    const v = this.#read(key);
    const current: AppliedMovement | null = v === undefined ? null : (() => {
      const at = valueAppliedAt(v);
      return at === null ? null : { movement: decodeValue(key, v), appliedAt: at, outcome: 'applied' as const };
    })();
    const k = keyBuffer(key);
    const start = Buffer.allocUnsafe(k.length + 11);
    timelineKeyInto(k, 0, 0, start);
    const end = Buffer.allocUnsafe(k.length + 11);
    timelineKeyInto(k, 2 ** 48 - 1, 0xffff_ffff, end);
    try {
      const out: AppliedMovement[] = [];
      for (const { key: tk, value } of db.getRange({ start, end, snapshot: true })) {
        out.push({ movement: decodeValue(key, value), appliedAt: timelineKeyTime(tk), outcome: value[0]! & TIMELINE_APPLIED ? 'applied' : 'ignoredOlder' });
      }
      if (current) {
        // in time order; the current record after any entry of the same ms (it was applied last)
        let i = out.length;
        while (i > 0 && out[i - 1]!.appliedAt > current.appliedAt) i--;
        out.splice(i, 0, current);
      }
      return out;
    } catch (err) {
      throw storeUnavailable(err, `LMDB read failed: ${(err as Error).message}`);
    }
  }

  /** Every current record (of one brand: one key range), in key order, from one read snapshot. */
  async *iterate(brandCode?: number): AsyncIterable<ConsentRecord> {
    const records = this.#liveRecords();
    let range: Iterable<{ key: Buffer; value: Buffer }>;
    if (brandCode === undefined) range = records.getRange({ snapshot: true });
    else {
      const start = Buffer.alloc(4); start.writeUInt32BE(brandCode >>> 0, 0);
      const end = Buffer.alloc(5); end.writeUInt32BE(brandCode >>> 0, 0); end[4] = 0xff;
      range = records.getRange({ start, end, snapshot: true });
    }
    let n = 0;
    for (const { key, value } of range) {
      yield decodeValue(readKey(key), value);
      if (++n % 10_000 === 0) await new Promise<void>((r) => setImmediate(r)); // let the loop breathe
    }
  }

  async size(): Promise<number> {
    return (this.#liveRecords().getStats() as { entryCount: number }).entryCount;
  }

  async ping(): Promise<boolean> { return this.#env !== null; }

  async getMeta(name: string): Promise<string | null> {
    if (!this.#meta) throw storeUnavailable(null, 'the LMDB store is closed');
    return this.#meta.get(name) ?? null;
  }

  /** Durable (fsynced) before it resolves. */
  async setMeta(name: string, value: string): Promise<void> {
    if (!this.#meta) throw storeUnavailable(null, 'the LMDB store is closed');
    try { await this.#track(this.#meta.put(name, value)); } catch (err) {
      throw storeUnavailable(err, `LMDB write failed: ${(err as Error).message}`);
    }
  }

  /** Every meta value (migration, tests). */
  metaEntries(): [string, string][] {
    if (!this.#meta) throw storeUnavailable(null, 'the LMDB store is closed');
    return [...this.#meta.getRange({})].map(({ key, value }) => [key, value]);
  }

  /**
   * Writes a key's full state (current record and older movements, newest first) as a migration
   * does, in one transaction per call; resolves once durable. Keys present are overwritten.
   */
  async putStates(states: readonly { record: Movement; older: readonly Movement[] }[]): Promise<void> {
    const env = this.#live();
    const records = this.#records!;
    const history = this.#history!;
    await this.#track(env.transaction(() => {
      for (const { record, older } of states) {
        const k = keyBuffer(record);
        const list = older.slice(0, this.#opts.historyPerKey - 1);
        records.put(k, encodeValue(record, list.length > 0 ? FLAG_HAS_HISTORY : 0));
        if (list.length > 0) history.put(k, encodeHistory(list)); else history.remove(k);
      }
    }));
  }

  // ------------------------------------------------------------------------------------------

  /**
   * Keeps the event loop alive until `p` settles. lmdb-js runs transaction callbacks on the main
   * thread when its write worker asks through an unref'd handle; a process with nothing else
   * pending (CLI import: only the awaited commit) could end its loop meanwhile and hang at exit
   * with the worker waiting (seen once at 8.75M rows, bench/README.md).
   */
  #track<T>(p: Promise<T>): Promise<T> {
    if (this.#writesPending++ === 0) this.#keepAlive = setInterval(() => {}, 3_600_000);
    const done = () => { if (--this.#writesPending === 0 && this.#keepAlive) { clearInterval(this.#keepAlive); this.#keepAlive = null; } };
    p.then(done, done);
    return p;
  }

  #live(): RootDatabase {
    if (!this.#env) throw storeUnavailable(null, 'the LMDB store is closed');
    return this.#env;
  }

  #liveRecords(): Database<Buffer, Buffer> {
    if (!this.#records) throw storeUnavailable(null, 'the LMDB store is closed');
    return this.#records;
  }

  /** The stored value of `key` (a reused buffer: valid until the next read), or undefined. */
  #read(key: ConsentKey): Buffer | undefined {
    const records = this.#liveRecords();
    const buf = key.recipient.length * 4 + 6 <= this.#scratch.length ? this.#scratch : Buffer.allocUnsafe(key.recipient.length * 4 + 6);
    const n = writeKey(key, buf);
    try {
      return records.getBinaryFast(buf.subarray(0, n)) ?? undefined;
    } catch (err) {
      throw storeUnavailable(err, `LMDB read failed: ${(err as Error).message}`);
    }
  }

  #readHistory(key: ConsentKey): Movement[] {
    const v = this.#history!.getBinaryFast(keyBuffer(key));
    return v ? decodeHistory(key, v) : [];
  }
}
