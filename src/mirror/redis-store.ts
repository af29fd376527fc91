import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Cluster, type Redis } from 'ioredis';
import { gatewayError } from '../errors.ts';
import type { ConsentKey, ConsentRecord, Movement } from '../domain/types.ts';
import type { PolicyRecord } from '../domain/policy.ts';
import type { ApplyOutcome, ConsentStore } from './consent-store.ts';
import { DEFAULT_TIMELINE_RETENTION_MS, type AppliedMovement, type ApplyOptions } from './timeline.ts';
import { ConsentCache, validateCacheOptions, type ConsentCacheOptions } from './cached-store.ts';
import { decodeField, decodeHistory, decodeValue, encodeField, encodeValue, fnv1a } from './redis-codec.ts';
import { planRead, POLICY_VIEWS, sliceRead, WHOLE_RECORDS, type ReadKind } from './redis-reads.ts';
import { createClient, positiveInt, quit, unavailable, waitReady, withTimeout, type RedisClient } from './redis-connection.ts';
import { InvalidationFeed } from './redis-invalidation.ts';
import { checkRedisSettings } from './redis-settings.ts';

export { checkRedisSettings } from './redis-settings.ts';

/** Options of the Redis-backed consent store. */
export interface RedisStoreOptions {
  /**
   * `redis://[user:pass@]host:port[/db]` (or `rediss://`). With `cluster: true`, one or more seed
   * nodes separated by commas (`redis://h1:7000,redis://h2:7001`).
   */
  url: string;
  /** Connect to a Redis Cluster (default false). */
  cluster?: boolean;
  /**
   * Prefix of every key and of the invalidation channel (default `iys:`). Must not hold `{` or
   * `}` (the store places its own hash tags).
   */
  keyPrefix?: string;
  /**
   * Base bound of one Redis round trip of a read (get/getMany/history/ping/getMeta) in ms, default
   * 40. A read that Redis has not answered by its bound rejects with `GW_ERR_STORE_UNAVAILABLE`;
   * callers fail closed. The bound of a lookup grows with the work Redis has to do before it can
   * answer (see `timeoutPerKeyUs`), so a healthy Redis busy with a big batch is not taken for a
   * hung one (issue 12 item 7); a Redis that is down answers at once and a hung one (SIGSTOP) fails
   * at the bound.
   */
  commandTimeoutMs?: number;
  /**
   * Bound added per key (or movement) of work Redis must do before it answers a read, in µs,
   * default 100: the read's own keys, and those of every read and write this store has in flight
   * on the connection before it (Redis answers a connection in order). Redis spends ~3–4 µs per
   * key inside the scripts on a quiet 2-core box (bench/README-redis.md) and a 10,000-key batch
   * took up to 265 ms alone and 590 ms beside 200 single lookups on the same box under a load
   * average of 15–20; 100 µs covers that. A single lookup alone: commandTimeoutMs + 0.1 ms; a cold
   * 10,000-key batch: + 1,000 ms.
   */
  timeoutPerKeyUs?: number;
  /**
   * Most the base bound of a read may grow to while recent round trips of a healthy but loaded
   * Redis were slow, in ms, default commandTimeoutMs (off: a hung Redis fails a single lookup at
   * commandTimeoutMs, the fault figure of test/integration/redis-failure.test.ts). The base bound
   * is commandTimeoutMs, or
   * twice the slowest recent round trip of a small read (halving every 2 s) when that is more, up
   * to this cap; likewise the per-key allowance is timeoutPerKeyUs or twice the slowest recent
   * time per key of a big read, up to 10 × timeoutPerKeyUs. A Redis starved of CPU keeps
   * answering; a hung one (no answers) is failed at the caps at worst, and at the configured
   * bounds again within seconds.
   */
  timeoutCapMs?: number;
  /**
   * Keys per Lua call of a batched read (default 500): a 10,000-key batch goes out as 20 pipelined
   * calls, each with its own bound (the batch's work and what was in flight ahead of it), so single
   * lookups interleave between them instead of waiting behind one long script.
   */
  readSliceKeys?: number;
  /**
   * Lowest bound of a read that fetches more than 64 records from Redis (batch checks), in ms,
   * default 200 (never below commandTimeoutMs).
   */
  batchTimeoutMs?: number;
  /**
   * Bound of one write in ms, default 2,000: setMeta, an apply() of up to 5,000 movements (one
   * more writeTimeoutMs per further 5,000), each iterate/size step.
   */
  writeTimeoutMs?: number;
  /** Bound of connecting in open() in ms, default 2,000. */
  connectTimeoutMs?: number;
  /**
   * Number of bucket hashes (power of two, default 16,384). Size it so that consents / buckets
   * stays below ~100 (buckets stay listpack-encoded up to 128 records): the default suits up to
   * ~1.5 M consents. Fixed for the life of the data: open() refuses a different value.
   */
  bucketCount?: number;
  /** Movements kept per key, current record included (default 20, ≥ 1). */
  maxHistory?: number;
  /** How long the movement history (timeline.ts) is kept, ms. Default 1,095 days (decisions.retentionDays). */
  timelineRetentionMs?: number;
  /**
   * In-process lru-cache in front of Redis, invalidated by pub/sub on every write; `false`
   * disables it. Default `{ maxEntries: 100_000, maxBytes: 64 MiB, ttlMs: 60_000 }`.
   */
  cache?: ConsentCacheOptions | false;
  /**
   * Interval of the invalidation feed's heartbeat in ms (default 1,000): the store publishes a
   * heartbeat on its channel and expects it back on its subscription within the interval
   * (redis-invalidation.ts). When one does not come back, or a publish fails, the cache stops
   * serving and the subscription is re-established, so a silently partitioned or hung Redis
   * lets a process serve cached records for at most ~2 intervals (a Cluster's subscriber node
   * included).
   */
  heartbeatMs?: number;
  /** Movements per Lua call in apply() (default 500). */
  applyChunkSize?: number;
  /** Check the server's eviction and persistence settings in open() (default true). */
  checkSettings?: boolean;
  /** Receives boot warnings (default: `process.emitWarning` with code `IYS_GATE_REDIS_SETTINGS`). */
  onWarning?: (message: string) => void;
}

const DEFAULT_CACHE: ConsentCacheOptions = { maxEntries: 100_000, maxBytes: 64 * 1024 * 1024, ttlMs: 60_000 };
const APPLY_LUA = readFileSync(new URL('./lua/applyMovements-3n.lua', import.meta.url), 'utf8');
const GET_LUA = readFileSync(new URL('./lua/getRecords-n.lua', import.meta.url), 'utf8');
const OUTBOX_ADD_PART = readFileSync(new URL('./lua/outboxAdd-part.lua', import.meta.url), 'utf8');
/** The İYS outbox add alone (redis-outbox.ts). */
export const OUTBOX_ADD_LUA = OUTBOX_ADD_PART.replaceAll('ARGV_BASE', '0') + '\nreturn 1\n';
/** Outbox add, then the movements, in one script: a refusal queued and applied atomically. */
const OUTBOX_APPLY_LUA = OUTBOX_ADD_PART.replaceAll('ARGV_BASE', '6') + '\n' + APPLY_LUA;
/** Half-life of the slow round trips that widen read bounds (ms). */
const HALF_LIFE_MS = 2_000;
const OUTCOMES: Record<number, ApplyOutcome> = { 0: 'ignoredOlder', 1: 'applied', 2: 'duplicate' };

type Client = RedisClient;
type ApplyFn = (numKeys: number, ...args: (string | Buffer | number)[]) => Promise<number[]>;
type GetFn = (numKeys: number, ...args: string[]) => Promise<Buffer>;


/**
 * Consent store on Redis or Redis Cluster (issue 4). Layout under `keyPrefix` (`p`):
 * - `p c{b}`: bucket hash b of current records, field/value as in redis-codec.ts;
 * - `p h{b}`: bucket hash b of older movements per key (only keys with more than one);
 * - `p meta`: hash of getMeta/setMeta; `p cfg`: hash of the layout (bucketCount);
 * - channel `p inv`: writer id and applied fields, '\n'-joined, published by the apply script.
 * The `{b}` hash tag keeps a key's current and history buckets on one slot, so each movement is
 * applied by one Lua script even on a cluster.
 *
 * Durability is Redis's: run it with `appendonly yes` (see checkRedisSettings).
 */
export class RedisStore implements ConsentStore {
  readonly kind = 'redis' as const;
  readonly keyPrefix: string;
  readonly bucketCount: number;
  readonly maxHistory: number;
  /** Retention of the movement history, ms. */
  readonly timelineRetentionMs: number;
  /** The in-process cache, or null when disabled. */
  readonly cache: ConsentCache | null;
  /** Boot warnings collected by the last open(). */
  warnings: string[] = [];
  private readonly opts: RedisStoreOptions;
  private readonly readMs: number;
  private readonly batchMs: number;
  private readonly perKeyMs: number;
  private readonly sliceKeys: number;
  /** Keys of reads and movements of writes sent to Redis and not settled (nor timed out) yet. */
  private pendingWork = 0;
  private readonly capMs: number;
  /** Slowest recent round trip of a small read (≤ 64 keys of work), ms, as of `slowAt` (performance.now()). */
  private slowMs = 0;
  private slowAt = 0;
  /** Slowest recent time per key of work of a big read (> 64 keys), ms, as of `slowKeyAt`. */
  private slowKeyMs = 0;
  private slowKeyAt = 0;
  private readonly writeMs: number;
  private readonly connectMs: number;
  private readonly chunk: number;
  private readonly client: Client;
  /** The invalidation connection (only with a cache). */
  private readonly feed: InvalidationFeed | null;
  private readonly channel: string;
  private closed = false;
  private opened = false;
  /** Single-key reads in flight, by field: joined by lookups of the same key (getMany). */
  private readonly inflight = new Map<string, { token: number; p: Promise<(ConsentRecord | null)[]> }>();
  /** Id of this store instance in published invalidations. */
  private readonly origin = randomBytes(6).toString('base64url');

  /** @throws `GW_ERR_CONFIG_INVALID` for invalid options (checked before any connection) */
  constructor(opts: RedisStoreOptions) {
    this.opts = opts;
    if (typeof opts.url !== 'string' || opts.url === '') throw gatewayError('GW_ERR_CONFIG_INVALID', ['redis url is required']);
    this.keyPrefix = opts.keyPrefix ?? 'iys:';
    if (/[{}]/.test(this.keyPrefix)) throw gatewayError('GW_ERR_CONFIG_INVALID', ['keyPrefix must not contain { or }']);
    this.readMs = positiveInt('commandTimeoutMs', opts.commandTimeoutMs, 40);
    this.batchMs = Math.max(this.readMs, positiveInt('batchTimeoutMs', opts.batchTimeoutMs, 200));
    this.perKeyMs = positiveInt('timeoutPerKeyUs', opts.timeoutPerKeyUs, 100, 0) / 1000;
    this.sliceKeys = positiveInt('readSliceKeys', opts.readSliceKeys, 500);
    this.capMs = Math.max(this.readMs, positiveInt('timeoutCapMs', opts.timeoutCapMs, this.readMs));
    this.writeMs = positiveInt('writeTimeoutMs', opts.writeTimeoutMs, 2000);
    this.connectMs = positiveInt('connectTimeoutMs', opts.connectTimeoutMs, 2000);
    this.bucketCount = positiveInt('bucketCount', opts.bucketCount, 16384);
    if ((this.bucketCount & (this.bucketCount - 1)) !== 0) {
      throw gatewayError('GW_ERR_CONFIG_INVALID', [`bucketCount must be a power of two (got ${this.bucketCount})`]);
    }
    this.maxHistory = positiveInt('maxHistory', opts.maxHistory, 20);
    this.timelineRetentionMs = positiveInt('timelineRetentionMs', opts.timelineRetentionMs, DEFAULT_TIMELINE_RETENTION_MS);
    this.chunk = positiveInt('applyChunkSize', opts.applyChunkSize, 500);
    const heartbeatMs = positiveInt('heartbeatMs', opts.heartbeatMs, 1000);
    const cacheOpts = opts.cache === undefined ? DEFAULT_CACHE : opts.cache;
    this.cache = cacheOpts === false ? null : new ConsentCache(validateCacheOptions(cacheOpts));
    this.channel = `${this.keyPrefix}inv`;

    this.client = createClient({
      url: opts.url, cluster: opts.cluster === true, connectTimeoutMs: this.connectMs, commandTimeoutMs: Math.max(this.writeMs, this.readMs),
    });
    this.client.defineCommand('iysApply', { lua: APPLY_LUA });
    this.client.defineCommand('iysGet', { lua: GET_LUA, readOnly: true });
    // one bucket per call (cluster): a fixed key count lets auto-pipelining route by the first key
    this.client.defineCommand('iysApply1', { lua: APPLY_LUA, numberOfKeys: 3 });
    this.client.defineCommand('iysOutboxApply', { lua: OUTBOX_APPLY_LUA });
    this.feed = this.cache === null ? null : new InvalidationFeed({
      client: this.client, channel: this.channel, origin: this.origin, cache: this.cache, heartbeatMs, connectMs: this.connectMs,
    });
  }

  private get applyFn(): ApplyFn {
    const c = this.client as unknown as { iysApply: ApplyFn; iysApply1: (...args: (string | Buffer | number)[]) => Promise<number[]> };
    if (this.client instanceof Cluster) return (_numKeys, ...args) => c.iysApply1.call(this.client, ...args);
    return c.iysApply.bind(this.client);
  }

  /** Key of bucket `b` of current records. */
  private curKey(b: number): string {
    return `${this.keyPrefix}c{${b.toString(36)}}`;
  }

  /** Key of bucket `b` of movement histories (timeline.ts). */
  private timelineKey(b: number): string {
    return `${this.keyPrefix}t{${b.toString(36)}}`;
  }

  private histKey(b: number): string {
    return `${this.keyPrefix}h{${b.toString(36)}}`;
  }

  private bucketOf(field: string): number {
    return fnv1a(field) & (this.bucketCount - 1);
  }

  /**
   * Connects, checks the layout and the server's settings, subscribes to invalidations.
   * @throws `GW_ERR_STORE_UNAVAILABLE` when Redis is not ready within connectTimeoutMs (the
   *   client keeps reconnecting; call open() again), `GW_ERR_CONFIG_INVALID` when the data was
   *   written with another bucketCount.
   */
  async open(): Promise<void> {
    if (this.closed) throw gatewayError('GW_ERR_STORE_UNAVAILABLE', ['store closed']);
    if (this.opened) return;
    await waitReady(this.client, this.connectMs);
    try {
      const cfgKey = `${this.keyPrefix}cfg`;
      await withTimeout(this.client.hsetnx(cfgKey, 'bucketCount', String(this.bucketCount)), this.writeMs, 'open');
      const t0 = performance.now();
      const stored = Number(await withTimeout(this.client.hget(cfgKey, 'bucketCount'), this.writeMs, 'open'));
      this.#observe(performance.now() - t0, 1); // the first bound knows how fast this Redis answers
      if (stored !== this.bucketCount) {
        throw gatewayError('GW_ERR_CONFIG_INVALID', [
          `Redis data under prefix ${this.keyPrefix} was written with bucketCount ${stored}, not ${this.bucketCount}`]);
      }
    } catch (err) {
      if ((err as { code?: string }).code === 'GW_ERR_CONFIG_INVALID') throw err;
      throw unavailable('open', err);
    }
    if (this.opts.checkSettings !== false) {
      const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
      const all = await Promise.all(nodes.map((n) => checkRedisSettings(n)));
      this.warnings = [...new Set(all.flat())];
      const warn = this.opts.onWarning
        ?? ((m: string) => process.emitWarning(`iys-gate Redis settings: ${m}`, { code: 'IYS_GATE_REDIS_SETTINGS' }));
      for (const w of this.warnings) warn(w);
    }
    await this.feed?.start();
    this.opened = true;
  }

  /** Flushes nothing (Redis persists) and closes both connections; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache?.disable();
    await Promise.all([this.feed?.close(), quit(this.client)]);
  }

  /** The invalidation feed's heartbeat counters (null without a cache). */
  get feedStats(): { heartbeats: number; losses: number } | null {
    return this.feed?.stats ?? null;
  }

  /** See ConsentStore.get; served from the cache when possible. */
  async get(key: ConsentKey): Promise<ConsentRecord | null> {
    const [r] = await this.getMany([key]);
    return r ?? null;
  }

  /**
   * Synchronous cache probe (ConsentStore.peekCached): the cached record, `null` when the cache
   * knows the key is absent, `undefined` on a miss, while the cache is disabled (invalidation feed
   * down), without a cache, or for a key that cannot be encoded. Never throws, never reads Redis.
   */
  peekCached(key: ConsentKey): ConsentRecord | null | undefined {
    const cache = this.cache;
    if (cache === null || !cache.isEnabled) return undefined;
    let f: string;
    try { f = encodeField(key); } catch { return undefined; }
    return cache.probe(f);
  }

  /**
   * Current records for `keys` (same order, null for a miss): cache hits first, then the misses in
   * one round trip: one getRecords-n.lua call on a single node, HMGET per bucket pipelined per
   * node on a cluster.
   * @throws `GW_ERR_STORE_UNAVAILABLE` past its bound ({@link RedisStore.readBoundMs}: commandTimeoutMs
   *   plus timeoutPerKeyUs per key of work ahead and its own; batchTimeoutMs at least for more
   *   than 64 misses) or on any Redis error;
   *   `GW_ERR_VALIDATION` for a key that cannot be encoded
   */
  async getMany(keys: readonly ConsentKey[]): Promise<(ConsentRecord | null)[]> {
    const cache = this.cache;
    if (cache === null || keys.length !== 1) return this.readMany(keys, WHOLE_RECORDS);
    // Single lookups of one key made while a read of it is in flight share that read (a burst of
    // checks on a cold key makes one round trip, not one per connection), unless the key was
    // invalidated or the cache reset since that read started: then it is read again.
    const f = encodeField(keys[0]!);
    const shared = this.inflight.get(f);
    if (shared && cache.currentSince(shared.token, f)) return shared.p;
    const token = cache.currentEpoch; // readMany's begin() runs in this same tick
    const p = this.readMany(keys, WHOLE_RECORDS, [f]);
    this.inflight.set(f, { token, p });
    const clear = () => { if (this.inflight.get(f)?.p === p) this.inflight.delete(f); };
    p.then(clear, clear);
    return p;
  }

  /**
   * What the decision policy reads of each key's record (status, non-canonical flag, dealer access):
   * the batch path (ConsentStore.getPolicyMany). Same order, null for a miss. Cache hits first
   * (whole records or policy views), then the misses in one round trip (getRecords-n.lua in policy mode on a
   * single node: 3 bytes a record instead of ~50; HMGET per bucket on a cluster). Misses fill the
   * cache with policy views, which single checks do not take for whole records.
   * @throws like getMany
   */
  async getPolicyMany(keys: readonly ConsentKey[]): Promise<(PolicyRecord | null)[]> {
    return this.readMany(keys, POLICY_VIEWS);
  }

  /**
   * The bound of a read of `keys` keys sent now, in ms: commandTimeoutMs (or twice the slowest
   * recent round trip, up to timeoutCapMs) plus timeoutPerKeyUs for each key of it and of the work
   * already in flight ahead of it (batchTimeoutMs at least for more than 64 keys). For callers' own backstops (CheckService), which must not cut a read the
   * store still waits for.
   */
  readBoundMs(keys: number): number {
    return this.#bound(this.pendingWork + keys, keys);
  }

  #bound(work: number, keys: number): number {
    const now = performance.now();
    const base = 2 * this.slowMs * 0.5 ** ((now - this.slowAt) / HALF_LIFE_MS);
    const perKey = 2 * this.slowKeyMs * 0.5 ** ((now - this.slowKeyAt) / HALF_LIFE_MS);
    const ms = Math.min(this.capMs, Math.max(this.readMs, base)) + Math.min(10 * this.perKeyMs, Math.max(this.perKeyMs, perKey)) * work;
    return keys > 64 ? Math.max(ms, this.batchMs) : ms;
  }

  /**
   * Notes a read round trip of `ms` for `work` keys (ahead included) that Redis answered, in time
   * or after its bound: the slowest recent ones (decaying, half-life 2 s) widen later bounds, up to
   * their caps. A hung Redis answers nothing, so it widens nothing.
   */
  #observe(ms: number, work: number): void {
    const now = performance.now();
    if (work <= 64) {
      if (ms > this.slowMs * 0.5 ** ((now - this.slowAt) / HALF_LIFE_MS)) { this.slowMs = ms; this.slowAt = now; }
      return;
    }
    const perKey = (ms - this.readMs) / work;
    if (perKey > this.slowKeyMs * 0.5 ** ((now - this.slowKeyAt) / HALF_LIFE_MS)) { this.slowKeyMs = perKey; this.slowKeyAt = now; }
  }

  /**
   * Runs `send` as one Redis round trip of `n` keys of work, bounded by the work ahead of it and
   * its own; the work counts as in flight until it settles, times out, or `release()` is called.
   */
  #bounded<R>(n: number, ownKeys: number, send: () => Promise<R>, what: string, ahead = this.pendingWork): { p: Promise<R>; release: () => void } {
    this.pendingWork += n;
    let counted = true;
    const release = () => { if (counted) { counted = false; this.pendingWork -= n; } };
    const t0 = performance.now();
    const sent = send();
    // every reply teaches the bound, a late one too: it proves a slow Redis, not a hung one
    sent.then(() => this.#observe(performance.now() - t0, ahead + n), () => {});
    const p = withTimeout(sent, this.#bound(ahead + n, ownKeys), what);
    p.then(release, release);
    return { p, release };
  }

  /** The batched read behind getMany and getPolicyMany (redis-reads.ts). */
  private async readMany<T>(keys: readonly ConsentKey[], kind: ReadKind<T>, encoded?: readonly string[]): Promise<(T | null)[]> {
    const cache = this.cache;
    const plan = planRead<T>(keys, cache ? (f) => kind.lookup(cache, f) : null, (f) => this.bucketOf(f), (b) => this.curKey(b), encoded);
    const out = plan.out;
    if (plan.missing === 0) return out;
    const token = cache?.begin() ?? 0;
    const put = (i: number, rec: T | null) => {
      out[i] = rec;
      if (cache) kind.fill(cache, token, plan.fields[i]!, rec);
    };
    try {
      if (this.client instanceof Cluster) {
        // HMGET per bucket, auto-pipelined per node in one tick
        const entries = [...plan.groups];
        const replies = await this.#bounded(plan.missing, plan.missing, () => Promise.all(entries.map(([b, idx]) => this.client.hmgetBuffer(this.curKey(b), ...idx.map((i) => plan.fields[i]!)))), 'read').p;
        for (let g = 0; g < entries.length; g++) {
          const idx = entries[g]![1];
          const vals = replies[g]!;
          for (let j = 0; j < idx.length; j++) {
            const v = vals[j];
            put(idx[j]!, v ? kind.fromValue(keys[idx[j]!]!, v) : null);
          }
        }
        return out;
      }
      const get = (this.client as unknown as { iysGetBuffer: GetFn }).iysGetBuffer;
      if (plan.missing <= this.sliceKeys) {
        const blob = await this.#bounded(plan.missing, plan.missing, () => get.call(this.client, plan.keys.length, ...plan.keys, plan.lists, kind.mode), 'read').p;
        kind.fromReply(blob, plan.order, keys, put);
        return out;
      }
      // slices of ≤ readSliceKeys keys (whole buckets), pipelined in one tick: single lookups sent
      // meanwhile are served between them instead of behind one long script, and each slice's work
      // stops counting for later reads' bounds once it is answered. Each slice is bounded by the
      // whole batch's work and what was in flight before it (a loaded host answers a pipeline in
      // one burst, not slice by slice).
      const slices = sliceRead(plan.groups, plan.fields, this.sliceKeys, (b) => this.curKey(b));
      const ahead = this.pendingWork;
      const calls = slices.map((sl) => this.#bounded(sl.order.length, plan.missing,
        () => get.call(this.client, sl.keys.length, ...sl.keys, sl.lists, kind.mode), 'read', ahead + plan.missing - sl.order.length));
      // one slice past its bound fails the batch (closed), and its other slices no longer
      // lengthen the bounds of later reads: Redis is not keeping pace
      const blobs = await Promise.all(calls.map((c) => c.p)).catch((err: unknown) => { for (const c of calls) c.release(); throw err; });
      for (let k = 0; k < slices.length; k++) kind.fromReply(blobs[k]!, slices[k]!.order, keys, put);
      return out;
    } catch (err) {
      throw unavailable('read', err);
    } finally {
      cache?.end();
    }
  }

  /**
   * Applies movements in array order with the applyMovements Lua script (atomic per movement,
   * ordered, idempotent; history bounded to maxHistory). Resolves only after Redis accepted every
   * movement, and after this process's cache dropped the touched keys; other processes drop them
   * on the published invalidation.
   * @throws `GW_ERR_STORE_UNAVAILABLE` (some movements may have been applied; re-applying is
   *   safe), `GW_ERR_VALIDATION` for a movement the encoding cannot hold (nothing applied)
   */
  async apply(movements: readonly Movement[], opts?: ApplyOptions): Promise<ApplyOutcome[]> {
    const n = movements.length;
    if (n === 0) return [];
    const [appliedAt, cutoff] = this.#times(opts);
    const fields: string[] = new Array<string>(n);
    const values: Buffer[] = new Array<Buffer>(n);
    const buckets: number[] = new Array<number>(n);
    const fieldBytes: Buffer[] = new Array<Buffer>(n);
    for (let i = 0; i < n; i++) {
      const m = movements[i]!;
      const f = encodeField(m);
      fields[i] = f;
      fieldBytes[i] = Buffer.from(f, 'utf8');
      values[i] = encodeValue(m);
      buckets[i] = this.bucketOf(f);
    }
    // Calls: lists of movement indexes; each call's movements are applied in array order.
    const calls: number[][] = [];
    if (this.client instanceof Cluster) {
      const byBucket = new Map<number, number[]>();
      for (let i = 0; i < n; i++) {
        const g = byBucket.get(buckets[i]!);
        if (g) g.push(i); else byBucket.set(buckets[i]!, [i]);
      }
      for (const g of byBucket.values()) {
        for (let s = 0; s < g.length; s += this.chunk) calls.push(g.slice(s, s + this.chunk));
      }
    } else {
      for (let s = 0; s < n; s += this.chunk) {
        calls.push(Array.from({ length: Math.min(this.chunk, n - s) }, (_, j) => s + j));
      }
    }
    const outcomes: ApplyOutcome[] = new Array<ApplyOutcome>(n);
    const run = this.applyFn;
    // Redis works these off before any read sent after them: reads meanwhile get longer bounds
    this.pendingWork += n;
    try {
      await withTimeout(Promise.all(calls.map(async (idx) => {
        const { keys, packed } = this.#pack(idx, fieldBytes, values, buckets);
        const args: (string | Buffer | number)[] = [this.maxHistory, this.channel, this.origin, packed, appliedAt, cutoff];
        const res = await run(keys.length, ...keys, ...args);
        for (let j = 0; j < idx.length; j++) outcomes[idx[j]!] = OUTCOMES[res[j]!] ?? 'ignoredOlder';
      })), this.writeMs * Math.ceil(n / 5000), 'apply');
    } catch (err) {
      throw unavailable('apply', err);
    } finally {
      this.pendingWork -= n;
      this.cache?.invalidate(fields);
    }
    return outcomes;
  }

  /** ARGV[5] and ARGV[6] of applyMovements-3n.lua: the applied time and the retention cutoff, 13 digits each. */
  #times(opts?: ApplyOptions): [string, string] {
    const at = opts?.appliedAtMs ?? Date.now();
    const pad = (ms: number) => String(Math.max(0, Math.min(ms, 9_999_999_999_999))).padStart(13, '0');
    return [pad(at), pad(at - this.timelineRetentionMs)];
  }

  /** Keys (current, history, movement history per bucket) and the packed argument of one apply call (applyMovements-3n.lua). */
  #pack(idx: readonly number[], fieldBytes: readonly Buffer[], values: readonly Buffer[], buckets: readonly number[]): { keys: string[]; packed: Buffer } {
    const keyIndex = new Map<number, number>();
    const keys: string[] = [];
    let bytes = 0;
    for (const i of idx) bytes += 6 + fieldBytes[i]!.length + values[i]!.length;
    const packed = Buffer.allocUnsafe(bytes);
    let o = 0;
    for (const i of idx) {
      const b = buckets[i]!;
      let k = keyIndex.get(b);
      if (k === undefined) {
        k = keyIndex.size + 1;
        keyIndex.set(b, k);
        keys.push(this.curKey(b), this.histKey(b), this.timelineKey(b));
      }
      const f = fieldBytes[i]!;
      const v = values[i]!;
      o = packed.writeUInt16BE(k, o);
      o = packed.writeUInt16BE(f.length, o);
      o += f.copy(packed, o);
      o = packed.writeUInt16BE(v.length, o);
      o += v.copy(packed, o);
    }
    return { keys, packed };
  }

  /**
   * Adds İYS outbox items and applies `movements` in ONE Lua script (outboxAdd-part.lua, then
   * applyMovements-3n.lua): a refusal is queued for İYS and blocks in the mirror atomically, and
   * Redis persists both in one AOF entry. Single node only: on a Cluster the outbox keys and a
   * bucket are in different slots, so this returns null and the caller writes the outbox first,
   * then the mirror (redis-outbox.ts); likewise for more than `applyChunkSize` movements (one call).
   * @param outbox.keys the outbox's items hash and due sorted set; `outbox.args` n, then id, JSON, score triples
   * @returns outcomes per movement, or null on a Cluster or past applyChunkSize (nothing written)
   * @throws `GW_ERR_STORE_UNAVAILABLE` past writeTimeoutMs or on a Redis error (nothing or both written)
   */
  async applyWithOutbox(movements: readonly Movement[], outbox: { keys: [string, string]; args: (string | number)[] }, opts?: ApplyOptions): Promise<ApplyOutcome[] | null> {
    const n = movements.length;
    if (this.client instanceof Cluster || n > this.chunk) return null;
    const [appliedAt, cutoff] = this.#times(opts);
    const fields = movements.map((m) => encodeField(m));
    const fieldBytes = fields.map((f) => Buffer.from(f, 'utf8'));
    const values = movements.map((m) => encodeValue(m));
    const buckets = fields.map((f) => this.bucketOf(f));
    const { keys, packed } = this.#pack(movements.map((_, i) => i), fieldBytes, values, buckets);
    const run = (this.client as unknown as { iysOutboxApply: (numKeys: number, ...args: (string | Buffer | number)[]) => Promise<number[]> }).iysOutboxApply;
    this.pendingWork += n;
    try {
      const res = await withTimeout(run.call(this.client, keys.length + 2, ...keys, ...outbox.keys, this.maxHistory, this.channel, this.origin, packed, appliedAt, cutoff, ...outbox.args), this.writeMs, 'apply');
      return movements.map((_, j) => OUTCOMES[res[j]!] ?? 'ignoredOlder');
    } catch (err) {
      throw unavailable('apply', err);
    } finally {
      this.pendingWork -= n;
      this.cache?.invalidate(fields);
    }
  }

  /**
   * Every stored movement of `key`, newest first (current record, then older ones by
   * consent-order.ts), at most maxHistory. Reads Redis, never the cache.
   * @throws `GW_ERR_STORE_UNAVAILABLE`
   */
  async history(key: ConsentKey): Promise<Movement[]> {
    const f = encodeField(key);
    const b = this.bucketOf(f);
    try {
      const [cur, hist] = await withTimeout(Promise.all([
        this.client.hgetBuffer(this.curKey(b), f),
        this.client.hgetBuffer(this.histKey(b), f),
      ]), this.readMs, 'history');
      if (!cur) return [];
      const k = decodeField(f);
      return [cur, ...(hist ? decodeHistory(hist) : [])].map((v) => decodeValue(k, v));
    } catch (err) {
      throw unavailable('history', err);
    }
  }

  /**
   * The movement history of `key` (ConsentStore.timeline): its field of the `t{b}` bucket hash,
   * entries in apply order. Reads Redis, never the cache.
   * @throws `GW_ERR_STORE_UNAVAILABLE`
   */
  async timeline(key: ConsentKey): Promise<AppliedMovement[]> {
    const f = encodeField(key);
    const b = this.bucketOf(f);
    let blob: Buffer | null;
    try {
      blob = await withTimeout(this.client.hgetBuffer(this.timelineKey(b), f), this.readMs, 'timeline');
    } catch (err) {
      throw unavailable('timeline', err);
    }
    if (!blob) return [];
    const k = decodeField(f);
    return decodeHistory(blob).map((e) => ({
      movement: decodeValue(k, e.subarray(14)),
      appliedAt: Number(e.toString('latin1', 0, 13)),
      outcome: e[13] === 0x61 ? 'applied' as const : 'ignoredOlder' as const,
    }));
  }

  /**
   * Every current record (of one brand when given), by SCAN over each master and HGETALL per
   * bucket; order unspecified. Each step is bounded by writeTimeoutMs.
   * @throws `GW_ERR_STORE_UNAVAILABLE`
   */
  async *iterate(brandCode?: number): AsyncIterable<ConsentRecord> {
    const brandPrefix = brandCode === undefined ? null : brandCode.toString(36);
    const match = this.bucketPattern();
    for (const node of this.masters()) {
      let cursor = '0';
      do {
        let keys: string[];
        try {
          [cursor, keys] = await withTimeout(node.scan(cursor, 'MATCH', match, 'COUNT', 1000), this.writeMs, 'scan');
        } catch (err) {
          throw unavailable('iterate', err);
        }
        if (keys.length === 0) continue;
        let hashes: Record<string, Buffer>[];
        try {
          hashes = await withTimeout(Promise.all(keys.map((k) => node.hgetallBuffer(k))), this.writeMs, 'iterate');
        } catch (err) {
          throw unavailable('iterate', err);
        }
        for (const h of hashes) {
          for (const [f, v] of Object.entries(h)) {
            const key = decodeField(f);
            if (brandPrefix !== null && key.brandCode !== brandCode) continue;
            yield decodeValue(key, v);
          }
        }
      } while (cursor !== '0');
    }
  }

  /**
   * Number of current records: SCAN of the bucket keys on every master, HLEN of each (pipelined).
   * Each step is bounded by writeTimeoutMs.
   * @throws `GW_ERR_STORE_UNAVAILABLE`
   */
  async size(): Promise<number> {
    let total = 0;
    for (const node of this.masters()) {
      let cursor = '0';
      do {
        try {
          let keys: string[];
          [cursor, keys] = await withTimeout(node.scan(cursor, 'MATCH', this.bucketPattern(), 'COUNT', 1000), this.writeMs, 'scan');
          const lens = await withTimeout(Promise.all(keys.map((k) => node.hlen(k))), this.writeMs, 'size');
          for (const l of lens) total += l;
        } catch (err) {
          throw unavailable('size', err);
        }
      } while (cursor !== '0');
    }
    return total;
  }

  private masters(): Redis[] {
    return this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
  }

  /** SCAN pattern of the current-record buckets (prefix glob characters escaped). */
  private bucketPattern(): string {
    return `${this.keyPrefix.replace(/[*?[\]\\]/g, '\\$&')}c{*}`;
  }

  /** PING within commandTimeoutMs; false on any failure. Never throws. */
  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      const t0 = performance.now();
      const r = await withTimeout(this.client instanceof Cluster
        ? Promise.all(this.client.nodes('master').map((n) => n.ping())).then(() => 'PONG')
        : this.client.ping(), this.readMs, 'ping');
      this.#observe(performance.now() - t0, 1);
      return r === 'PONG';
    } catch {
      return false;
    }
  }

  /** @throws `GW_ERR_STORE_UNAVAILABLE` */
  async getMeta(name: string): Promise<string | null> {
    try {
      return await withTimeout(this.client.hget(`${this.keyPrefix}meta`, name), this.readMs, 'getMeta');
    } catch (err) {
      throw unavailable('getMeta', err);
    }
  }

  /** @throws `GW_ERR_STORE_UNAVAILABLE` */
  async setMeta(name: string, value: string): Promise<void> {
    try {
      await withTimeout(this.client.hset(`${this.keyPrefix}meta`, name, value), this.writeMs, 'setMeta');
    } catch (err) {
      throw unavailable('setMeta', err);
    }
  }

  /** The underlying ioredis client (for health checks and tests; do not write with it). */
  get redis(): Client {
    return this.client;
  }
}

/**
 * Builds (does not open) a Redis-backed consent store; `await store.open()` before use.
 * @throws `GW_ERR_CONFIG_INVALID` for invalid options (cache limits, bucketCount, prefix, timeouts)
 */
export function createRedisStore(opts: RedisStoreOptions): RedisStore {
  return new RedisStore(opts);
}
