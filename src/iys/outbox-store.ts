import type { Movement } from '../domain/types.ts';
import type { ApplyOutcome, ConsentStore } from '../mirror/consent-store.ts';
import type { OutboxItem } from './outbox.ts';

/** What a caller gives to queue one item (the store adds id, state, attempts and times). */
export type OutboxEntry = Pick<OutboxItem, 'brandCode' | 'consent' | 'origin' | 'receivedAt' | 'deadline'>;

/** Fields an update may change (identity, consent and creation fields are fixed). */
export type OutboxPatch = Partial<Omit<OutboxItem, 'id' | 'brandCode' | 'consent' | 'origin' | 'receivedAt' | 'createdAt'>>;

/**
 * The outbox of consents and refusals to register in İYS: two twins behind this one interface,
 * with one contract suite (test/iys/outbox-contract.ts, run against both):
 * - `file` (outbox.ts): `<dataDir>/outbox/outbox.log`, one gateway per data directory (embedded
 *   store, or a single Redis instance with a persistent volume);
 * - `redis` (redis-outbox.ts): shared by every gateway of a fleet on one Redis, updates fenced by
 *   the İYS-work lease (leader-lease.ts) so only the current leader changes an item.
 *
 * Every method that writes resolves only once the write is durable (fsync / Redis accepted it).
 * Failures reject with GW_ERR_STORE_UNAVAILABLE (Redis) or the file layer's error; a fenced update
 * by an instance that lost the lease rejects with {@link FencedError}.
 */
export interface OutboxStore {
  readonly kind: 'file' | 'redis';
  /** Replays / connects. @throws as the implementation documents */
  open(): Promise<void>;
  /** Flushes (file: compacts) and releases; idempotent. */
  close(): Promise<void>;
  /**
   * Adds items durably (any instance; not fenced).
   * @param now epoch ms of creation (default the outbox clock)
   * @returns the stored items, with ids, state `pending`, `nextAttemptAt` = now
   */
  add(entries: readonly OutboxEntry[], now?: number): Promise<OutboxItem[]>;
  /**
   * Adds items and applies `movements` to the mirror as one unit where the backend can (Redis on
   * one node: one Lua script), else the items first, then the mirror (issue 12 item 3: a mirror
   * write that fails leaves at worst a queued refusal the mirror lacks, never an applied refusal
   * İYS is not told of). Resolves after both are durable.
   * @throws GW_ERR_STORE_UNAVAILABLE (the items may be queued; the movements may be applied)
   */
  addAndApply(entries: readonly OutboxEntry[], movements: readonly Movement[], store: ConsentStore, now?: number): Promise<{ items: OutboxItem[]; outcomes: ApplyOutcome[] }>;
  /** Applies patches durably (`updatedAt` set to now). Unknown ids are ignored. Fenced on Redis. */
  update(patches: ReadonlyArray<{ id: string; patch: OutboxPatch }>, now?: number): Promise<void>;
  get(id: string): Promise<OutboxItem | undefined>;
  /** Every item held (done ones up to their retention), in creation order, optionally filtered. */
  list(filter?: (it: OutboxItem) => boolean): Promise<OutboxItem[]>;
  /** Open items (pending or submitted) whose `nextAttemptAt` ≤ now, in creation order. */
  due(now: number): Promise<OutboxItem[]>;
}

/** A write refused because this instance no longer holds the İYS-work lease (its fencing token is stale). */
export class FencedError extends Error {
  readonly code = 'FENCED';
  constructor(what: string) {
    super(`${what}: this instance no longer holds the İYS lease (fencing token refused)`);
  }
}
