import type { Movement } from '../domain/types.ts';
import type { ApplyOutcome } from './consent-store.ts';
import { LmdbWriter, openLmdbDatabases, type LmdbDatabases } from './lmdb-apply.ts';

/** Where an import worker writes: LmdbStore.importTarget(). */
export interface LmdbImportTarget {
  lmdbPath: string; mapSizeBytes: number; historyPerKey: number;
  /** Retention of the movement history (timeline.ts), ms; default 1,095 days. */
  timelineRetentionMs?: number;
  /** Transaction bounds (LmdbImportSink's constructor); defaults when absent. */
  txnRows?: number; txnMs?: number;
}

/** Outcome counts of committed movements. */
export type OutcomeCounts = Record<ApplyOutcome, number>;

/**
 * An import's movements applied to the LMDB environment from the import worker's own thread
 * (import-worker.ts), in large synchronous transactions: LMDB's cost per row falls steeply with
 * the rows per transaction (a commit writes every page it touched once: 10.4 µs CPU per row at
 * 5,000 rows per commit, 4.2 µs at 100,000, 3.9 µs at 250,000 on 1M random keys, bench/README.md). Movements are
 * applied in arrival (file) order with LmdbWriter, the store's one write rule; every commit is
 * fsynced before its counts are reported. A transaction holds LMDB's single writer lock, so it is
 * bounded in rows and in time: other writers (a refusal on the request loop) wait at most about
 * `txnMs` plus one fsync; readers never wait.
 */
export class LmdbImportSink {
  readonly #dbs: LmdbDatabases;
  readonly #writer: LmdbWriter;
  #pending: Movement[] = [];
  #done = 0;

  /**
   * @param target the store (LmdbStore.importTarget()) and the transaction bounds: `txnRows`
   *   movements per transaction at most, and the backlog that starts one (default 250,000);
   *   `txnMs` the time a transaction may run before it commits what it applied (default 1,000 ms)
   */
  readonly txnRows: number;
  readonly txnMs: number;

  constructor(target: LmdbImportTarget) {
    this.txnRows = Math.max(1, target.txnRows ?? 250_000);
    this.txnMs = Math.max(1, target.txnMs ?? 1000);
    this.#dbs = openLmdbDatabases(target.lmdbPath, target.mapSizeBytes);
    // every imported row gets its movement-history entry (timeline.ts) in the same transaction
    this.#writer = new LmdbWriter(this.#dbs.records, this.#dbs.history, target.historyPerKey, {
      db: this.#dbs.timeline, ...(target.timelineRetentionMs !== undefined ? { retentionMs: target.timelineRetentionMs } : {}),
    });
  }

  /** Queues a movement (applied by a later `commit`). */
  add(m: Movement): void { this.#pending.push(m); }

  /** Movements queued and not yet committed. */
  get backlog(): number { return this.#pending.length - this.#done; }

  /**
   * Commits queued movements: while at least `txnRows` wait (or, with `all`, any), one transaction
   * at a time. Returns the outcomes committed (durable), zeros when nothing was due.
   * @throws what LMDB throws (disk full, map full): that transaction is aborted, nothing of it counted
   */
  commit(all: boolean): OutcomeCounts {
    const counts: OutcomeCounts = { applied: 0, ignoredOlder: 0, duplicate: 0 };
    const writer = this.#writer;
    while (this.backlog > 0 && (all || this.backlog >= this.txnRows)) {
      const c: OutcomeCounts = { applied: 0, ignoredOlder: 0, duplicate: 0 };
      const list = this.#pending;
      const start = this.#done;
      const end = Math.min(list.length, start + this.txnRows);
      let i = start;
      const t0 = performance.now();
      this.#dbs.env.transactionSync(() => {
        writer.appliedAt = Date.now(); // one applied time per transaction (at most txnMs apart from the commit)
        while (i < end) {
          c[writer.applyOne(list[i++]!)]++;
          if ((i & 1023) === 0 && performance.now() - t0 >= this.txnMs) break;
        }
      });
      this.#done = i;
      counts.applied += c.applied; counts.ignoredOlder += c.ignoredOlder; counts.duplicate += c.duplicate;
    }
    if (this.#done === this.#pending.length) { this.#pending = []; this.#done = 0; }
    return counts;
  }

  /** Drops what is not committed and closes this thread's handle (the environment stays open elsewhere). */
  async close(): Promise<void> {
    this.#pending = []; this.#done = 0;
    await this.#dbs.env.close();
  }
}
