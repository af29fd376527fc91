import type { Movement } from '../domain/types.ts';
import type { ApplyOutcome } from './consent-store.ts';
import { LmdbWriter, openLmdbDatabases, type LmdbDatabases } from './lmdb-apply.ts';
import { encodeValueInto, writeKey } from './lmdb-codec.ts';

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
 * Movements encoded for the applying thread (the import's parser worker → its applier worker,
 * import-worker.ts): per movement `uint16 LE key length · key · uint16 LE value length · value`,
 * key and value exactly as the LMDB store writes them (lmdb-codec.ts: writeKey, encodeValueInto
 * without extra flags). The bytes live in one ArrayBuffer of their own, so `take()` can hand it
 * over as a transferable (no copy between threads, no structured clone of movement objects).
 */
export class EncodedBatch {
  #buf: Buffer;
  #off = 0;
  #count = 0;

  /** @param initialBytes the first buffer's size (grows by doubling) */
  constructor(private readonly initialBytes = 64 * 1024) { this.#buf = Buffer.allocUnsafeSlow(initialBytes); }

  /** Movements added since the last take(). */
  get count(): number { return this.#count; }

  /** Appends `m` (key and value bytes). */
  add(m: Movement): void {
    // upper bounds: writeKey needs 6 + 4 × recipient.length; a value as LmdbWriter's #valueOf bound
    const keyMax = 6 + 4 * m.recipient.length;
    const valMax = 16 + (m.transactionId === null ? 0 : 2 + 3 * m.transactionId.length) + 4 * (m.retailerAccess?.length ?? 0);
    this.#ensure(4 + keyMax + valMax);
    const buf = this.#buf;
    const o = this.#off;
    const kbuf = keyMax <= scratchKey.length ? scratchKey : Buffer.allocUnsafe(keyMax);
    const kl = writeKey(m, kbuf);
    buf.writeUInt16LE(kl, o);
    kbuf.copy(buf, o + 2, 0, kl);
    const vo = o + 2 + kl;
    const end = encodeValueInto(m, buf, vo + 2, 0);
    buf.writeUInt16LE(end - vo - 2, vo);
    this.#off = end;
    this.#count++;
  }

  #ensure(n: number): void {
    if (this.#off + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#off + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.#buf.copy(next, 0, 0, this.#off);
    this.#buf = next;
  }

  /**
   * The bytes added since the last take(), as an ArrayBuffer the caller owns (transferable), and
   * their count; null when nothing was added. A fresh buffer is started.
   */
  take(): { bytes: ArrayBuffer; length: number; count: number } | null {
    if (this.#count === 0) return null;
    const out = { bytes: this.#buf.buffer as ArrayBuffer, length: this.#off, count: this.#count };
    this.#buf = Buffer.allocUnsafeSlow(this.initialBytes);
    this.#off = 0; this.#count = 0;
    return out;
  }
}
const scratchKey = Buffer.allocUnsafe(4096);

/** One received batch being applied: its bytes, the offset of its next movement, movements left. */
interface Pending { buf: Buffer; off: number; left: number }

/**
 * An import's movements applied to the LMDB environment from the import's applier worker
 * (import-worker.ts), in large synchronous transactions: LMDB's cost per row falls steeply with
 * the rows per transaction (a commit writes every page it touched once: 10.4 µs CPU per row at
 * 5,000 rows per commit, 4.2 µs at 100,000, 3.9 µs at 250,000 on 1M random keys, bench/README.md).
 * Movements arrive encoded (EncodedBatch, from the parser worker) and are applied in arrival
 * (file) order with LmdbWriter.applyEncoded, the store's one write rule; every commit is fsynced
 * before its counts are reported. A transaction holds LMDB's single writer lock, so it is bounded
 * in rows and in time: other writers (a refusal on the request loop) wait at most about `txnMs`
 * plus one fsync; readers never wait.
 */
export class LmdbImportSink {
  readonly #dbs: LmdbDatabases;
  readonly #writer: LmdbWriter;
  #pending: Pending[] = [];
  #backlog = 0;
  #taken = 0;

  /**
   * `txnRows` movements per transaction at most, and the backlog that starts one (default 250,000);
   * `txnMs` the time a transaction may run before it commits what it applied (default 1,000 ms).
   */
  readonly txnRows: number;
  readonly txnMs: number;

  /** @param target the store (LmdbStore.importTarget()) and the transaction bounds */
  constructor(target: LmdbImportTarget) {
    this.txnRows = Math.max(1, target.txnRows ?? 250_000);
    this.txnMs = Math.max(1, target.txnMs ?? 1000);
    this.#dbs = openLmdbDatabases(target.lmdbPath, target.mapSizeBytes);
    // every imported row gets its movement-history entry (timeline.ts) in the same transaction
    this.#writer = new LmdbWriter(this.#dbs.records, this.#dbs.history, target.historyPerKey, {
      db: this.#dbs.timeline, ...(target.timelineRetentionMs !== undefined ? { retentionMs: target.timelineRetentionMs } : {}),
    });
  }

  /** Queues an encoded batch (EncodedBatch.take(): `length` bytes of `bytes`, `count` movements). */
  addBatch(bytes: ArrayBuffer, length: number, count: number): void {
    if (count <= 0) return;
    this.#pending.push({ buf: Buffer.from(bytes, 0, length), off: 0, left: count });
    this.#backlog += count;
  }

  /** Queues one movement (encoded here; tests and small callers). */
  add(m: Movement): void {
    const b = new EncodedBatch(256);
    b.add(m);
    const t = b.take()!;
    this.addBatch(t.bytes, t.length, t.count);
  }

  /** Movements queued and not yet committed. */
  get backlog(): number { return this.#backlog; }

  /** Movements taken into committed transactions since this sink was made. */
  get committedRows(): number { return this.#taken; }

  /**
   * Commits queued movements: while at least `txnRows` wait (or, with `all`, any), one transaction
   * at a time. Returns the outcomes committed (durable), zeros when nothing was due.
   * @throws what LMDB throws (disk full, map full): that transaction is aborted, nothing of it counted
   */
  commit(all: boolean): OutcomeCounts {
    const counts: OutcomeCounts = { applied: 0, ignoredOlder: 0, duplicate: 0 };
    const writer = this.#writer;
    while (this.#backlog > 0 && (all || this.#backlog >= this.txnRows)) {
      const c: OutcomeCounts = { applied: 0, ignoredOlder: 0, duplicate: 0 };
      const limit = Math.min(this.#backlog, this.txnRows);
      // positions are advanced on copies: an aborted transaction leaves the queue as it was
      let idx = 0;
      let off = this.#pending[0]!.off;
      let left = this.#pending[0]!.left;
      let done = 0;
      const t0 = performance.now();
      this.#dbs.env.transactionSync(() => {
        writer.appliedAt = Date.now(); // one applied time per transaction (at most txnMs apart from the commit)
        while (done < limit) {
          const p = this.#pending[idx]!;
          const buf = p.buf;
          const kl = buf.readUInt16LE(off);
          const k = buf.subarray(off + 2, off + 2 + kl);
          const vo = off + 2 + kl;
          const vl = buf.readUInt16LE(vo);
          c[writer.applyEncoded(k, buf.subarray(vo + 2, vo + 2 + vl))]++;
          off = vo + 2 + vl;
          done++;
          if (--left === 0 && done < limit) { idx++; off = 0; left = this.#pending[idx]!.left; }
          if ((done & 1023) === 0 && performance.now() - t0 >= this.txnMs) break;
        }
      });
      // committed: drop the batches applied whole, keep the position in the one applied in part
      if (left === 0) idx++;
      this.#pending.splice(0, idx);
      if (this.#pending.length > 0 && left > 0) { this.#pending[0]!.off = off; this.#pending[0]!.left = left; }
      this.#backlog -= done;
      this.#taken += done;
      counts.applied += c.applied; counts.ignoredOlder += c.ignoredOlder; counts.duplicate += c.duplicate;
    }
    return counts;
  }

  /** Drops what is not committed and closes this thread's handle (the environment stays open elsewhere). */
  async close(): Promise<void> {
    this.#pending = []; this.#backlog = 0;
    await this.#dbs.env.close();
  }
}

