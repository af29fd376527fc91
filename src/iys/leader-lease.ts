import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../mirror/redis-connection.ts';
import { withTimeout } from '../mirror/redis-connection.ts';
import type { FleetKeys } from './fleet-keys.ts';

/**
 * Takes the lease when it is free, renews it when it is ours (KEYS: lease, fence counter).
 * ARGV: instanceId, ttl ms, the value we hold ('' = none). Returns {1, value} renewed,
 * {2, value} newly acquired (fence incremented), {0, holder} held by another instance.
 */
const ACQUIRE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur and cur == ARGV[3] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, cur}
end
if cur then return {0, cur} end
local f = redis.call('INCR', KEYS[2])
local v = ARGV[1] .. '|' .. f
redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
return {2, v}
`;
/** Deletes the lease if it is ours (KEYS: lease; ARGV: our value). */
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface LeaderLeaseOptions {
  client: RedisClient;
  keys: FleetKeys;
  /**
   * Lease period in ms (config `iys.leaseMs`, default 15,000): another instance takes over at most
   * this long after the holder's death. The key's TTL is 0.7 × leaseMs and every instance tries
   * every 0.15 × leaseMs (the holder renews), so a dead holder's key expires ≤ 0.7 × leaseMs after
   * its last renewal and a follower holds it ≤ 0.85 × leaseMs after the death (0.15 × leaseMs
   * left for round trips and late timers). The holder counts itself leader for 0.6 × leaseMs
   * after it SENT its last successful renewal (monotonic clock), so it stops before the key can
   * expire even when its renewals stop being answered.
   */
  leaseMs: number;
  /** This instance's id (default `<hostname>:<pid>:<random>`). */
  instanceId?: string;
  /** Called when this instance becomes (true) or stops being (false) the leader. */
  onChange?: (leader: boolean) => void;
  /** Receives renewal failures (Redis unreachable). */
  warn?: (msg: string, err?: unknown) => void;
}

/**
 * The İYS-work lease of a Redis fleet (issue 17): one instance at a time pulls, uploads, polls
 * batches and reconciles. The lease is a key holding `<instanceId>|<fence>` with a TTL; the fence
 * (a counter incremented at every acquisition) is the fencing token: every write the leader makes
 * to the shared İYS state is a Lua script that first compares the lease key with the value this
 * instance holds (redis-outbox.ts, fleet-meta.ts), so a former leader that was paused past its
 * lease (SIGSTOP, a long GC, a frozen VM) cannot write after another took over, and its local
 * monotonic validity has lapsed before it sends another İYS request.
 */
export class LeaderLease {
  readonly instanceId: string;
  readonly leaseMs: number;
  readonly #o: LeaderLeaseOptions;
  #value: string | null = null;
  #validUntil = 0;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #leader = false;
  /** Counters (metrics): renewals answered, acquisitions, losses (stepped down), failed attempts. */
  readonly stats = { renewals: 0, acquisitions: 0, losses: 0, failures: 0 };
  /** Epoch ms this instance last became leader (null: not leader). */
  leaderSince: number | null = null;

  constructor(opts: LeaderLeaseOptions) {
    this.#o = opts;
    this.leaseMs = opts.leaseMs;
    this.instanceId = opts.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    opts.client.defineCommand('iysLeaseAcquire', { lua: ACQUIRE_LUA, numberOfKeys: 2 });
    opts.client.defineCommand('iysLeaseRelease', { lua: RELEASE_LUA, numberOfKeys: 1 });
  }

  /** True while this instance holds the lease by its own monotonic clock. */
  isLeader(): boolean {
    const ok = this.#value !== null && performance.now() < this.#validUntil;
    if (!ok && this.#leader) this.#step(false);
    return ok;
  }

  /** The lease value to fence writes with (`<instanceId>|<fence>`), or null when not leader. */
  token(): string | null {
    return this.isLeader() ? this.#value : null;
  }

  /** The fencing number of the lease this instance holds, or null. */
  get fence(): number | null {
    const t = this.token();
    return t === null ? null : Number(t.slice(t.lastIndexOf('|') + 1));
  }

  /** Starts trying/renewing every 0.15 × leaseMs (first attempt at once). */
  start(): void {
    if (this.#timer) return;
    void this.tick();
    this.#timer = setInterval(() => { void this.tick(); }, Math.max(10, Math.floor(this.leaseMs * 0.15)));
    this.#timer.unref();
  }

  /** One attempt to acquire or renew. Never throws. */
  tick(): Promise<void> {
    if (!this.#running) this.#running = this.#tick().finally(() => { this.#running = null; });
    return this.#running;
  }

  async #tick(): Promise<void> {
    const sent = performance.now();
    const ttl = Math.max(1, Math.floor(this.leaseMs * 0.7));
    const c = this.#o.client as unknown as { iysLeaseAcquire: (...a: (string | number)[]) => Promise<[number, string]> };
    try {
      const [kind, value] = await withTimeout(c.iysLeaseAcquire(this.#o.keys.lease, this.#o.keys.fence, this.instanceId, ttl, this.#value ?? ''), Math.max(50, Math.floor(this.leaseMs * 0.15)), 'lease');
      if (kind === 0) {
        this.#value = null;
        this.#validUntil = 0;
        if (this.#leader) this.#step(false);
        return;
      }
      this.#value = value;
      this.#validUntil = sent + this.leaseMs * 0.6;
      if (kind === 1) this.stats.renewals++;
      else this.stats.acquisitions++;
      if (!this.#leader) this.#step(true);
    } catch (err) {
      this.stats.failures++;
      this.#o.warn?.('İYS lease: Redis did not answer a renewal', err);
      this.isLeader(); // steps down once the local validity has lapsed
    }
  }

  #step(leader: boolean): void {
    this.#leader = leader;
    if (leader) this.leaderSince = Date.now();
    else { this.leaderSince = null; this.stats.losses++; }
    this.#o.onChange?.(leader);
  }

  /** The current holder as Redis has it: instance id, fence and remaining TTL; null when free. */
  async holder(): Promise<{ instanceId: string; fence: number; ttlMs: number } | null> {
    const [v, ttl] = await withTimeout(Promise.all([this.#o.client.get(this.#o.keys.lease), this.#o.client.pttl(this.#o.keys.lease)]), 1000, 'lease');
    if (!v) return null;
    const at = v.lastIndexOf('|');
    return { instanceId: v.slice(0, at), fence: Number(v.slice(at + 1)), ttlMs: ttl };
  }

  /** Stops renewing and releases the lease if held (a clean shutdown hands over at once). Never throws. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => {});
    const v = this.#value;
    this.#value = null;
    this.#validUntil = 0;
    if (this.#leader) this.#step(false);
    if (v === null) return;
    const c = this.#o.client as unknown as { iysLeaseRelease: (...a: string[]) => Promise<number> };
    await withTimeout(c.iysLeaseRelease(this.#o.keys.lease, v), 500, 'lease').catch(() => {});
  }
}
