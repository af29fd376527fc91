import { LRUCache } from 'lru-cache';
import { gatewayError } from '../errors.ts';
import type { ConsentRecord } from '../domain/types.ts';
import type { PolicyRecord } from '../domain/policy.ts';

/** Options of the in-process consent cache (validated at construction, field case C33). */
export interface ConsentCacheOptions {
  /** Most records held (integer ≥ 1). No default: the operator sizes it. */
  maxEntries: number;
  /** Most bytes held, as estimated per entry by `entrySize` (integer ≥ 1024). */
  maxBytes: number;
  /**
   * Safety net: an entry older than this is not served even without an invalidation (ms,
   * integer ≥ 1; default 60,000). Invalidation by pub/sub is the real mechanism.
   */
  ttlMs?: number;
}

/**
 * Cached value: a whole record, just what the policy reads of it (`full: false`, filled by batch
 * lookups), or `null` for "the mirror has no record" (an answer for both kinds of lookup).
 */
type Entry = { rec: ConsentRecord | null; full: true } | { rec: PolicyRecord; full: false };

const NULL_ENTRY_BYTES = 64;

/**
 * Estimated bytes of one cached entry: the key and the record's strings (UTF-16: 2 bytes per
 * code unit) plus a fixed 160-byte allowance for object and LRU bookkeeping.
 */
export function entrySize(key: string, e: Entry): number {
  if (!e.full) return 2 * key.length + NULL_ENTRY_BYTES + 8 * (e.rec.retailerAccess?.length ?? 0);
  const r = e.rec;
  if (r === null) return 2 * key.length + NULL_ENTRY_BYTES;
  return 160 + 2 * (key.length + r.recipient.length + (r.source?.length ?? 0) + (r.consentDate?.length ?? 0)
    + (r.creationDate?.length ?? 0) + (r.transactionId?.length ?? 0)) + 8 * (r.retailerAccess?.length ?? 0);
}

function checkInt(name: string, v: unknown, min: number, issues: string[]): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    issues.push(`${name} must be an integer >= ${min} (got ${JSON.stringify(v)})`);
  }
}

/**
 * Validates cache options the way boot must (C33: an lru-cache built with `maxSize` but no
 * `sizeCalculation` only fails on the first `set`, i.e. the first production request).
 * @throws `GW_ERR_CONFIG_INVALID` listing every issue
 */
export function validateCacheOptions(opts: unknown): Required<ConsentCacheOptions> {
  const issues: string[] = [];
  if (typeof opts !== 'object' || opts === null) {
    throw gatewayError('GW_ERR_CONFIG_INVALID', ['cache: expected { maxEntries, maxBytes, ttlMs? }']);
  }
  const o = opts as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['maxEntries', 'maxBytes', 'ttlMs'].includes(k)) issues.push(`unknown cache option ${k}`);
  }
  checkInt('cache.maxEntries', o.maxEntries, 1, issues);
  checkInt('cache.maxBytes', o.maxBytes, 1024, issues);
  if (o.ttlMs !== undefined) checkInt('cache.ttlMs', o.ttlMs, 1, issues);
  if (issues.length > 0) throw gatewayError('GW_ERR_CONFIG_INVALID', [issues.join('; ')]);
  return { maxEntries: o.maxEntries as number, maxBytes: o.maxBytes as number, ttlMs: (o.ttlMs as number | undefined) ?? 60_000 };
}

/**
 * In-process LRU of consent records in front of a shared store, keyed by the store's field
 * string. It never serves a stale record:
 * - `invalidate()` on every local write (before the write is acknowledged) and on every remote
 *   invalidation message;
 * - a lookup that started before an invalidation of its key (or before a `reset()`) does not
 *   populate the cache when it completes (`begin()` / `fill()` epochs);
 * - while the invalidation feed is down the cache is `disable()`d: no hits, no fills.
 */
export class ConsentCache {
  readonly options: Required<ConsentCacheOptions>;
  private readonly lru: LRUCache<string, Entry>;
  private epoch = 0;
  private resetEpoch = 0;
  private inFlight = 0;
  private readonly invalidatedAt = new Map<string, number>();
  private enabled = false;
  /** Counters for metrics and tests. */
  readonly stats = { hits: 0, misses: 0, invalidations: 0, resets: 0 };

  /** @throws `GW_ERR_CONFIG_INVALID` for invalid options (see validateCacheOptions) */
  constructor(opts: ConsentCacheOptions) {
    this.options = validateCacheOptions(opts);
    this.lru = new LRUCache<string, Entry>({
      max: this.options.maxEntries,
      maxSize: this.options.maxBytes,
      sizeCalculation: (e, k) => entrySize(k, e),
      ttl: this.options.ttlMs,
      ttlAutopurge: false,
    });
  }

  /** True when hits may be served. */
  get isEnabled(): boolean {
    return this.enabled;
  }

  /** Number of entries held. */
  get size(): number {
    return this.lru.size;
  }

  /** Bytes held, as estimated by entrySize. */
  get calculatedBytes(): number {
    return this.lru.calculatedSize;
  }

  /**
   * `undefined` on a miss (or while disabled, or when only the policy view is held); a whole
   * record or `null` (known absent) on a hit.
   */
  lookup(key: string): ConsentRecord | null | undefined {
    return this.#find(key, true, true) as ConsentRecord | null | undefined;
  }

  /**
   * `lookup` for a synchronous probe ahead of a read (RedisStore.peekCached): a hit counts, a
   * miss does not (the read that follows counts it, once).
   */
  probe(key: string): ConsentRecord | null | undefined {
    return this.#find(key, true, false) as ConsentRecord | null | undefined;
  }

  /** Like `lookup`, for the batch path: any entry answers (a whole record is a policy view too). */
  lookupPolicy(key: string): PolicyRecord | null | undefined {
    return this.#find(key, false, true);
  }

  #find(key: string, wholeOnly: boolean, countMiss: boolean): ConsentRecord | PolicyRecord | null | undefined {
    if (!this.enabled) return undefined;
    const e = this.lru.get(key);
    if (e === undefined || (wholeOnly && !e.full)) {
      if (countMiss) this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    return e.rec;
  }

  /** The current epoch: what `begin()` would return now. */
  get currentEpoch(): number {
    return this.epoch;
  }

  /**
   * True when a read started at `token` is still current for `key`: the cache serves, and `key`
   * was neither invalidated nor the cache reset since (the rule `fill` applies). Lets a lookup join
   * a read of the same key already in flight instead of making its own.
   */
  currentSince(token: number, key: string): boolean {
    return this.#mayFill(token, key);
  }

  /** Marks the start of a backing-store read; pass the token to `fill` and then call `end`. */
  begin(): number {
    this.inFlight++;
    return this.epoch;
  }

  /** Ends a read started by `begin` (always, also on failure). */
  end(): void {
    this.inFlight--;
    if (this.inFlight === 0) this.invalidatedAt.clear();
  }

  /** Stores what a read started at `token` returned, unless `key` was invalidated since. */
  fill(token: number, key: string, rec: ConsentRecord | null): void {
    if (this.#mayFill(token, key)) this.lru.set(key, { rec, full: true });
  }

  /**
   * Stores a policy view read at `token` (same rules as `fill`); never replaces a whole record
   * (`null`, "no record", is stored as a whole answer).
   */
  fillPolicy(token: number, key: string, rec: PolicyRecord | null): void {
    if (!this.#mayFill(token, key)) return;
    if (rec === null) { this.lru.set(key, { rec: null, full: true }); return; }
    const cur = this.lru.peek(key);
    if (cur === undefined || !cur.full) this.lru.set(key, { rec, full: false });
  }

  #mayFill(token: number, key: string): boolean {
    if (!this.enabled || token < this.resetEpoch) return false;
    const inv = this.invalidatedAt.get(key);
    return inv === undefined || inv <= token;
  }

  /** Drops `keys` (a write happened or is happening elsewhere). */
  invalidate(keys: Iterable<string>): void {
    this.epoch++;
    for (const k of keys) {
      this.lru.delete(k);
      if (this.inFlight > 0) this.invalidatedAt.set(k, this.epoch);
      this.stats.invalidations++;
    }
  }

  /** Drops everything and ignores reads started before now; serves again when `enable`d. */
  reset(): void {
    this.epoch++;
    this.resetEpoch = this.epoch;
    this.lru.clear();
  }

  /** Starts serving (after the invalidation feed is confirmed subscribed). Resets first. */
  enable(): void {
    this.reset();
    this.enabled = true;
  }

  /** Stops serving and drops everything (invalidation feed lost). */
  disable(): void {
    if (this.enabled) this.stats.resets++; // counted when serving stops, not at every (re)enable
    this.enabled = false;
    this.reset();
  }
}
