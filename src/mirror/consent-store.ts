import type { ConsentKey, ConsentRecord, Movement } from '../domain/types.ts';
import type { PolicyRecord } from '../domain/policy.ts';
import type { AppliedMovement, ApplyOptions } from './timeline.ts';

export type { AppliedMovement, ApplyOptions } from './timeline.ts';

/** Outcome of applying one movement to a store. */
export type ApplyOutcome =
  /** The movement is now the current record of its key. */
  | 'applied'
  /** The key already holds a newer record (consent-order.ts); kept in history only. */
  | 'ignoredOlder'
  /** The identical movement was applied before (idempotent replay); nothing changed. */
  | 'duplicate';

/**
 * The consent mirror: one interface, three implementations (embedded: lmdb-store.ts and
 * memory-store.ts, fleet: redis-store.ts). All recipients passed in are already canonical (domain/recipient.ts).
 *
 * Failure policy: methods reject with a `GW_ERR_STORE_UNAVAILABLE` error (src/errors.ts) when
 * the backing store cannot answer within its configured timeout; callers fail closed.
 */
export interface ConsentStore {
  /** `'embedded'` or `'redis'`, for /readyz and metrics. */
  readonly kind: 'embedded' | 'redis';
  /** Opens files / connections and replays state. Resolves when the store can answer. */
  open(): Promise<void>;
  /** Flushes and closes; idempotent. */
  close(): Promise<void>;
  /** The current record of `key`, or null when the mirror has none. */
  get(key: ConsentKey): Promise<ConsentRecord | null>;
  /** Current records for `keys`, same order and length; null for a miss. One round trip. */
  getMany(keys: readonly ConsentKey[]): Promise<(ConsentRecord | null)[]>;
  /**
   * Optional synchronous probe of an in-process cache in front of a remote store: the record,
   * `null` when the cache knows the mirror has none, or `undefined` when the cache cannot answer
   * (miss, cache disabled, key not encodable) and the caller must use `get`/`getMany`. Never
   * throws. Lets a warm single check answer without a promise, a timer or a round trip.
   */
  peekCached?(key: ConsentKey): ConsentRecord | null | undefined;
  /**
   * Optional synchronous read of an embedded store that holds the whole mirror in process or in
   * mapped memory (memory-store.ts, lmdb-store.ts): the record, or null when the mirror has none.
   * Never waits on I/O. Lets a single check answer without a promise.
   * @throws GW_ERR_STORE_UNAVAILABLE when the store cannot answer (closed, disk error); callers fail closed
   */
  getSync?(key: ConsentKey): ConsentRecord | null;
  /**
   * Optional synchronous batch read of what the decision policy needs (as getPolicyMany) for an
   * embedded store: same order and length as `keys`, null for a miss.
   * @throws GW_ERR_STORE_UNAVAILABLE as getSync
   */
  peekMany?(keys: readonly ConsentKey[]): (PolicyRecord | null)[];
  /**
   * Optional batch read of what the decision policy needs (status, non-canonical flag, dealer
   * access) of each key's record: same order and length as `keys`, null for a miss, one round
   * trip. Cheaper than getMany where dates and transactionIds are not shown (batch checks).
   * Rejects like getMany.
   */
  getPolicyMany?(keys: readonly ConsentKey[]): Promise<(PolicyRecord | null)[]>;
  /**
   * Optional: the bound (ms) the store itself puts on a read of `keys` keys issued now (it grows
   * with the work queued ahead, redis-store.ts). Callers that add a backstop bound of their own
   * (CheckService) add it to this, so the backstop never cuts a read the store still waits for.
   */
  readBoundMs?(keys: number): number;
  /**
   * Applies movements in array order, each atomically, keeping the newer record per key
   * (consent-order.ts). Durable before the promise resolves: a movement whose apply resolved
   * survives `kill -9`. Returns one outcome per movement.
   *
   * Every movement that is not a `duplicate` is also added to the key's movement history
   * (`timeline`) with its applied time (`opts.appliedAtMs`, default now) in the same atomic unit
   * as the record write (journal record, LMDB transaction, Redis script): a record change is
   * never durable without its history entry.
   */
  apply(movements: readonly Movement[], opts?: ApplyOptions): Promise<ApplyOutcome[]>;
  /**
   * The movement history of `key` (timeline.ts): each movement the store applied to the key, with
   * its applied time (ms) and outcome, oldest applied first; empty when none is known.
   * Bounded by the store's retention (default 1,095 days; timeline.ts pruneTimeline: the last
   * record applied before the cutoff is kept, so `recordAt` answers for any time inside it).
   * Movements applied by a release without this history have no entry.
   * @throws GW_ERR_STORE_UNAVAILABLE (rejects) as get
   */
  timeline(key: ConsentKey): Promise<AppliedMovement[]>;
  /** Every movement stored for `key`, newest first (bounded per key; see implementation). */
  history(key: ConsentKey): Promise<Movement[]>;
  /** Every current record, optionally of one brand; order unspecified. */
  iterate(brandCode?: number): AsyncIterable<ConsentRecord>;
  /** Number of keys held (current records). */
  size(): Promise<number>;
  /** True when the store can answer now (used by /readyz). Never throws. */
  ping(): Promise<boolean>;
  /** Small durable metadata (sync cursors, last-fresh time). null when unset. */
  getMeta(name: string): Promise<string | null>;
  setMeta(name: string, value: string): Promise<void>;
}
