import { randomBytes } from 'node:crypto';
import type { Movement } from '../domain/types.ts';
import type { ApplyOutcome, ConsentStore } from '../mirror/consent-store.ts';
import { unavailable, withTimeout, type RedisClient } from '../mirror/redis-connection.ts';
import { OUTBOX_ADD_LUA, type RedisStore } from '../mirror/redis-store.ts';
import type { FleetKeys } from './fleet-keys.ts';
import type { OutboxItem } from './outbox.ts';
import { FencedError, type OutboxEntry, type OutboxPatch, type OutboxStore } from './outbox-store.ts';

/**
 * Fenced write of whole items (the leader merges patches in JS; only the lease holder writes, so
 * nobody else changes an item between its read and this write; adds never touch existing ids).
 * KEYS: lease, items, due, closed. ARGV: token, n, then n quads id, JSON, open (1/0), score
 * (open: nextAttemptAt; closed: updatedAt). Returns -1 when the lease is not `token`, else n.
 */
const UPDATE_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local n = tonumber(ARGV[2])
for i = 0, n - 1 do
  local id = ARGV[3 + 4 * i]
  if redis.call('HEXISTS', KEYS[2], id) == 1 then
    redis.call('HSET', KEYS[2], id, ARGV[4 + 4 * i])
    if ARGV[5 + 4 * i] == '1' then
      redis.call('ZADD', KEYS[3], ARGV[6 + 4 * i], id)
      redis.call('ZREM', KEYS[4], id)
    else
      redis.call('ZREM', KEYS[3], id)
      redis.call('ZADD', KEYS[4], ARGV[6 + 4 * i], id)
    end
  end
end
return n
`;
/** Fenced retention: drops closed items updated before ARGV[2] (≤ 1000 per call). KEYS: lease, items, closed, stats. */
const PURGE_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[2], 'LIMIT', 0, 1000)
for _, id in ipairs(ids) do redis.call('HDEL', KEYS[2], id) redis.call('ZREM', KEYS[3], id) end
return #ids
`;
/** Fenced counter increment. KEYS: lease, stats. ARGV: token, field, by. */
const COUNT_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
return redis.call('HINCRBY', KEYS[2], ARGV[2], ARGV[3])
`;

let lastMs = 0;
let counter = 0;
/**
 * A UUID version 7 (RFC 9562): 48-bit ms time, then a 12-bit counter within the ms, then random
 * bits, so ids sort in creation order within a process (the file outbox keeps insertion order;
 * the shared hash has none, list() sorts by createdAt then id).
 */
function uuidv7(now: number): string {
  if (now === lastMs) counter = (counter + 1) & 0xfff; else { lastMs = now; counter = 0; }
  const b = randomBytes(16);
  b.writeUIntBE(Math.max(0, Math.floor(now)) % 2 ** 48, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const isOpen = (it: OutboxItem) => it.state === 'pending' || it.state === 'submitted';
const byCreation = (a: OutboxItem, b: OutboxItem) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export interface RedisOutboxOptions {
  /** The store whose connection and mirror this outbox shares (its ioredis client, single node or Cluster). */
  store: RedisStore;
  keys: FleetKeys;
  /** The lease value to fence updates with (LeaderLease.token), null when this instance does not lead. */
  token: () => string | null;
  /** Bound of one Redis call in ms (default 2,000, the store's write bound). */
  timeoutMs?: number;
  /** Done/failed items older than this (ms) are dropped by the leader's `purge()`. Default 30 days. */
  keepDoneMs?: number;
  now?: () => number;
}

/**
 * The fleet's shared outbox on Redis (issue 17): items any instance accepted, uploaded by the
 * lease holder, all under the `{fleet}` hash tag (fleet-keys.ts).
 *
 * Why keys + a sorted index and not a stream with a consumer group: an outbox item is not a
 * message consumed once but a record with a life — it is retried with back-off (nextAttemptAt),
 * moves to `submitted` with a batch requestId and is polled 300 s later, is superseded by a newer
 * item of the same key, ends with an İYS outcome, and must stay listable by state and deadline
 * (GET /v1/outbox, the deadline metrics) for 30 days. A stream entry is immutable: every state
 * change would be a new entry plus XACK bookkeeping, back-off would need a second structure
 * anyway (XPENDING's idle time is not a due time), and listing the open items means replaying
 * the stream. With a hash of items and a sorted set of open items scored by nextAttemptAt,
 * "due now" is one ZRANGEBYSCORE, an update is one HSET + ZADD, and the pending-entry claim of
 * a stream is the claim below: before a request the leader pushes the items' nextAttemptAt by
 * the claim timeout and marks `claimedAt`; items in flight on a leader that died become due
 * again when that passes, and the next leader takes them (counted as reclaimed). What a stream
 * offers that this does not — blocking reads by many consumers — is not wanted: one leader works.
 *
 * Exactly once from İYS's point of view: an item re-sent after a reclaim is the same v2 write
 * (same recipient, type, status, consentDate); İYS answers H174/H175/H178 for a repeat, which
 * the uploader records as done (uploader.ts), so İYS holds one record per item.
 */
export class RedisOutbox implements OutboxStore {
  readonly kind = 'redis' as const;
  readonly #o: RedisOutboxOptions;
  readonly #c: RedisClient;
  readonly #ms: number;
  readonly #now: () => number;
  readonly #keepDoneMs: number;

  constructor(opts: RedisOutboxOptions) {
    this.#o = opts;
    this.#c = opts.store.redis;
    this.#ms = opts.timeoutMs ?? 2000;
    this.#now = opts.now ?? Date.now;
    this.#keepDoneMs = opts.keepDoneMs ?? 30 * 86_400_000;
    this.#c.defineCommand('iysOutboxAdd', { lua: OUTBOX_ADD_LUA, numberOfKeys: 2 });
    this.#c.defineCommand('iysOutboxUpdate', { lua: UPDATE_LUA, numberOfKeys: 4 });
    this.#c.defineCommand('iysOutboxPurge', { lua: PURGE_LUA, numberOfKeys: 4 });
    this.#c.defineCommand('iysOutboxCount', { lua: COUNT_LUA, numberOfKeys: 2 });
  }

  async open(): Promise<void> { /* the store's connection is opened by the store */ }
  async close(): Promise<void> { /* the store closes the connection */ }

  #cmd<T>(name: string, ...args: (string | number)[]): Promise<T> {
    const c = this.#c as unknown as Record<string, (...a: (string | number)[]) => Promise<T>>;
    return withTimeout(c[name]!.call(this.#c, ...args), this.#ms, `outbox ${name}`).catch((err: unknown) => { throw unavailable('outbox', err); });
  }

  #build(entries: readonly OutboxEntry[], now: number): { items: OutboxItem[]; args: (string | number)[] } {
    const items = entries.map((e): OutboxItem => ({
      ...e, id: uuidv7(now), state: 'pending', attempts: 0, nextAttemptAt: now, createdAt: now, updatedAt: now,
    }));
    const args: (string | number)[] = [items.length];
    for (const it of items) args.push(it.id, JSON.stringify(it), it.nextAttemptAt);
    return { items, args };
  }

  /** @throws GW_ERR_STORE_UNAVAILABLE past the bound (the items may have been added) */
  async add(entries: readonly OutboxEntry[], now = this.#now()): Promise<OutboxItem[]> {
    if (entries.length === 0) return [];
    const { items, args } = this.#build(entries, now);
    await this.#cmd('iysOutboxAdd', this.#o.keys.items, this.#o.keys.due, ...args);
    return items;
  }

  /**
   * One Lua script on a single node (RedisStore.applyWithOutbox); on a Cluster the outbox write
   * (slot of `{fleet}`) first, then the mirror write (the bucket's slot).
   */
  async addAndApply(entries: readonly OutboxEntry[], movements: readonly Movement[], store: ConsentStore, now = this.#now()): Promise<{ items: OutboxItem[]; outcomes: ApplyOutcome[] }> {
    if (movements.length === 0) return { items: await this.add(entries, now), outcomes: [] };
    const { items, args } = this.#build(entries, now);
    if (store === this.#o.store) {
      const outcomes = await this.#o.store.applyWithOutbox(movements, { keys: [this.#o.keys.items, this.#o.keys.due], args });
      if (outcomes) return { items, outcomes };
    }
    if (items.length) await this.#cmd('iysOutboxAdd', this.#o.keys.items, this.#o.keys.due, ...args);
    return { items, outcomes: await store.apply(movements) };
  }

  #fence(what: string): string {
    const t = this.#o.token();
    if (t === null) throw new FencedError(what);
    return t;
  }

  /**
   * Merges patches into the stored items and writes them back in one fenced script.
   * @throws FencedError when this instance does not hold the lease (nothing written);
   *   GW_ERR_STORE_UNAVAILABLE
   */
  async update(patches: ReadonlyArray<{ id: string; patch: OutboxPatch }>, now = this.#now()): Promise<void> {
    if (patches.length === 0) return;
    const token = this.#fence('outbox update');
    const ids = [...new Set(patches.map((p) => p.id))];
    const cur = await this.#read(ids);
    const merged = new Map<string, OutboxItem>();
    for (const { id, patch } of patches) {
      const it = merged.get(id) ?? cur.get(id);
      if (!it) continue;
      merged.set(id, { ...it, ...patch, updatedAt: now });
    }
    if (merged.size === 0) return;
    const args: (string | number)[] = [token, merged.size];
    for (const it of merged.values()) args.push(it.id, JSON.stringify(it), isOpen(it) ? 1 : 0, isOpen(it) ? it.nextAttemptAt : it.updatedAt);
    const k = this.#o.keys;
    const r = await this.#cmd<number>('iysOutboxUpdate', k.lease, k.items, k.due, k.closed, ...args);
    if (r === -1) throw new FencedError('outbox update');
  }

  async #read(ids: readonly string[]): Promise<Map<string, OutboxItem>> {
    const out = new Map<string, OutboxItem>();
    for (let i = 0; i < ids.length; i += 1000) {
      const slice = ids.slice(i, i + 1000);
      const vals = await withTimeout(this.#c.hmget(this.#o.keys.items, ...slice), this.#ms, 'outbox read').catch((err: unknown) => { throw unavailable('outbox', err); });
      vals.forEach((v, j) => { if (v) out.set(slice[j]!, JSON.parse(v) as OutboxItem); });
    }
    return out;
  }

  async get(id: string): Promise<OutboxItem | undefined> {
    return (await this.#read([id])).get(id);
  }

  /** HGETALL of the items hash (done ones up to their retention), sorted by creation. */
  async list(filter: (it: OutboxItem) => boolean = () => true): Promise<OutboxItem[]> {
    const all = await withTimeout(this.#c.hgetall(this.#o.keys.items), this.#ms * 5, 'outbox list').catch((err: unknown) => { throw unavailable('outbox', err); });
    return Object.values(all).map((v) => JSON.parse(v) as OutboxItem).filter(filter).sort(byCreation);
  }

  /** ZRANGEBYSCORE of the open index, then the items. */
  async due(now: number): Promise<OutboxItem[]> {
    const ids = await withTimeout(this.#c.zrangebyscore(this.#o.keys.due, '-inf', now), this.#ms, 'outbox due').catch((err: unknown) => { throw unavailable('outbox', err); });
    if (ids.length === 0) return [];
    return [...(await this.#read(ids)).values()].filter(isOpen).sort(byCreation);
  }

  /**
   * Adds whole items as they are (ids kept; an id already present is left alone): the open items
   * of a file outbox moved into the fleet's (integration.ts). Not fenced.
   * @throws GW_ERR_STORE_UNAVAILABLE
   */
  async importItems(items: readonly OutboxItem[]): Promise<void> {
    for (let i = 0; i < items.length; i += 500) {
      const slice = items.slice(i, i + 500);
      const args: (string | number)[] = [slice.length];
      for (const it of slice) args.push(it.id, JSON.stringify(it), it.nextAttemptAt);
      await this.#cmd('iysOutboxAdd', this.#o.keys.items, this.#o.keys.due, ...args);
    }
  }

  /** Fenced: drops closed items past their retention. @returns how many; @throws FencedError */
  async purge(now = this.#now()): Promise<number> {
    const k = this.#o.keys;
    const r = await this.#cmd<number>('iysOutboxPurge', k.lease, k.items, k.closed, k.stats, this.#fence('outbox purge'), now - this.#keepDoneMs);
    if (r === -1) throw new FencedError('outbox purge');
    return r;
  }

  /** Fenced: adds `n` to the fleet's count of reclaimed items. @throws FencedError */
  async countReclaimed(n: number): Promise<void> {
    const k = this.#o.keys;
    const r = await this.#cmd<number>('iysOutboxCount', k.lease, k.stats, this.#fence('outbox count'), 'reclaimed', n);
    if (r === -1) throw new FencedError('outbox count');
  }

  /** The fleet's count of items reclaimed from an instance that died or lost the lease. */
  async reclaimed(): Promise<number> {
    const v = await withTimeout(this.#c.hget(this.#o.keys.stats, 'reclaimed'), this.#ms, 'outbox stats').catch((err: unknown) => { throw unavailable('outbox', err); });
    return Number(v ?? 0);
  }
}
