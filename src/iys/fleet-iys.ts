import { randomBytes } from 'node:crypto';
import { withTimeout, type RedisClient } from '../mirror/redis-connection.ts';
import { gatewayError } from '../errors.ts';
import { iysClientError } from './client-errors.ts';
import type { FleetKeys } from './fleet-keys.ts';
import { RateBudget, type BudgetKind, type RateBudgetOptions } from './rate-budget.ts';
import type { Held, SharedToken } from './token-broker.ts';

/** Compare-and-delete. KEYS: key; ARGV: the value expected. */
const DEL_IF_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
/** Drops the token if its access token is ARGV[1]. KEYS: token key. */
const DROP_LUA = `
local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).access == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * One İYS token for the whole fleet (token-broker.ts SharedToken) in Redis, under the fleet's
 * hash tag: `iys:token:<username>` (the token pair, JSON, until its refresh token expires),
 * `iys:tokenlock:<username>` (the instance requesting a token now), `iys:halt:<username>` (the
 * H084 back-off's end, epoch ms). The token is a credential: it lives where the mirror does.
 */
export class RedisSharedToken implements SharedToken {
  readonly #c: RedisClient;
  readonly #token: string;
  readonly #lock: string;
  readonly #halt: string;
  readonly #me = randomBytes(8).toString('hex');
  readonly #ms: number;
  readonly #now: () => number;

  /** @param opts.timeoutMs bound of one call in ms (default 1,000) */
  constructor(opts: { client: RedisClient; keys: FleetKeys; username: string; timeoutMs?: number; now?: () => number }) {
    this.#c = opts.client;
    const u = encodeURIComponent(opts.username);
    this.#token = `${opts.keys.iys}token:${u}`;
    this.#lock = `${opts.keys.iys}tokenlock:${u}`;
    this.#halt = `${opts.keys.iys}halt:${u}`;
    this.#ms = opts.timeoutMs ?? 1000;
    this.#now = opts.now ?? Date.now;
    this.#c.defineCommand('iysDelIf', { lua: DEL_IF_LUA, numberOfKeys: 1 });
    this.#c.defineCommand('iysTokenDrop', { lua: DROP_LUA, numberOfKeys: 1 });
  }

  #t<T>(p: Promise<T>): Promise<T> { return withTimeout(p, this.#ms, 'fleet İYS token'); }

  async read(): Promise<Held | null> {
    const v = await this.#t(this.#c.get(this.#token));
    return v ? JSON.parse(v) as Held : null;
  }

  async write(held: Held): Promise<void> {
    const ttl = Math.max(1000, held.refreshExp - this.#now());
    await this.#t(this.#c.set(this.#token, JSON.stringify(held), 'PX', ttl));
  }

  async lock(ms: number): Promise<boolean> {
    return (await this.#t(this.#c.set(this.#lock, this.#me, 'PX', ms, 'NX'))) === 'OK';
  }

  async unlock(): Promise<void> {
    await this.#t((this.#c as unknown as { iysDelIf: (k: string, v: string) => Promise<number> }).iysDelIf(this.#lock, this.#me));
  }

  async drop(access: string): Promise<void> {
    await this.#t((this.#c as unknown as { iysTokenDrop: (k: string, v: string) => Promise<number> }).iysTokenDrop(this.#token, access));
  }

  async haltedUntil(): Promise<number> { return Number(await this.#t(this.#c.get(this.#halt)) ?? 0); }

  async halt(untilMs: number): Promise<void> {
    const ttl = Math.max(1, untilMs - this.#now());
    await this.#t(this.#c.set(this.#halt, String(untilMs), 'PX', ttl));
  }
}

/**
 * One fleet-wide slot. KEYS: stamps zset (per second), pause key, hourly zset of the kind.
 * ARGV: perSecond, windowMs, member, hourly limit (0 = none). Times from Redis (TIME), so every
 * instance counts on one clock. Returns 0 granted, > 0 ms to wait, -1 hourly budget spent.
 */
const SLOT_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local p = tonumber(redis.call('GET', KEYS[2]) or '0')
if now < p then return p - now end
local win = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - win)
local limit = tonumber(ARGV[4])
if limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 3600000)
  if redis.call('ZCARD', KEYS[3]) >= limit then return -1 end
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + win - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], win)
if limit > 0 then
  redis.call('ZADD', KEYS[3], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[3], 3600000)
end
return 0
`;

/**
 * The fleet's İYS rate budget (rate-budget.ts with the same limits, counted once for all
 * instances in Redis): a request first waits for this process's slot (its FIFO and its own
 * counts), then takes a fleet slot — per sliding window and per hour of its kind — from one
 * script on Redis's clock, waiting as long as Redis says. A 429's pause holds every instance.
 * Keys: `iys:rate`, `iys:rate:<kind>`, `iys:pause` under the fleet's hash tag.
 * @throws from acquire: GW_ERR_IYS_BUDGET_EXHAUSTED (the fleet's hourly budget of the kind is
 *   spent); GW_ERR_IYS_UNAVAILABLE when Redis does not answer (nothing is sent; retried by the client)
 */
export class FleetRateBudget extends RateBudget {
  readonly #c: RedisClient;
  readonly #keys: FleetKeys;
  readonly #hourly: Record<Exclude<BudgetKind, 'default'>, number>;
  readonly #ms: number;
  /** Fleet slots granted to this process, and waits Redis asked for (observability). */
  readonly fleetStats = { granted: 0, waits: 0 };

  constructor(opts: RateBudgetOptions & { client: RedisClient; keys: FleetKeys; timeoutMs?: number }) {
    super(opts);
    this.#c = opts.client;
    this.#keys = opts.keys;
    this.#hourly = { status: opts.statusPerHour ?? 950, history: opts.historyPerHour ?? 95, token: opts.tokenPerHour ?? 90 };
    this.#ms = opts.timeoutMs ?? 1000;
    this.#c.defineCommand('iysFleetSlot', { lua: SLOT_LUA, numberOfKeys: 3 });
  }

  override async acquire(kind: BudgetKind = 'default'): Promise<void> {
    await super.acquire(kind);
    if (this.perSecond === 0) return;
    const c = this.#c as unknown as { iysFleetSlot: (...a: (string | number)[]) => Promise<number> };
    const member = `${process.pid}:${randomBytes(6).toString('hex')}`;
    const hourly = kind === 'default' ? 0 : this.#hourly[kind];
    for (;;) {
      let r: number;
      try {
        r = await withTimeout(c.iysFleetSlot(`${this.#keys.iys}rate`, `${this.#keys.iys}pause`, `${this.#keys.iys}rate:${kind}`, this.perSecond, this.windowMs, member, hourly), this.#ms, 'fleet İYS budget');
      } catch (e) {
        throw iysClientError('GW_ERR_IYS_UNAVAILABLE', ['the fleet\'s İYS rate budget: Redis did not answer'], { cause: e });
      }
      if (r === 0) { this.fleetStats.granted++; return; }
      if (r === -1) throw gatewayError('GW_ERR_IYS_BUDGET_EXHAUSTED', [kind, new Date(Date.now() + 60_000).toISOString()]);
      this.fleetStats.waits++;
      await new Promise((res) => setTimeout(res, r));
    }
  }

  override pause(ms: number): void {
    super.pause(ms);
    // the pause's end on Redis's clock is not known here: stored as this process's epoch ms (clocks of one fleet agree within NTP)
    void this.#c.set(`${this.#keys.iys}pause`, String(Date.now() + ms), 'PX', Math.max(1, ms)).catch(() => {});
  }
}
