import type { RedisStore } from '../mirror/redis-store.ts';
import { unavailable, withTimeout, type RedisClient } from '../mirror/redis-connection.ts';
import type { FleetKeys } from './fleet-keys.ts';
import { FencedError } from './outbox-store.ts';

/** Small durable metadata of the İYS work (pull cursors, last pull, last reconciliation). */
export interface SyncMeta {
  getMeta(name: string): Promise<string | null>;
  setMeta(name: string, value: string): Promise<void>;
}

/** KEYS: lease, meta. ARGV: token, name, value. -1 when the lease is not `token`. */
const SET_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
`;

/**
 * The fleet's sync state in Redis (`{fleet}:meta`, fleet-keys.ts): read by every instance (a
 * follower shows the leader's cursors and takes the mirror's freshness from the last pull),
 * written only by the lease holder through a fenced script, so a former leader resumed after
 * its lease cannot move a cursor back. A name never written here is read from the store's own
 * metadata (cursors of a release before the fleet state, or of a single instance).
 */
export class FleetMeta implements SyncMeta {
  readonly #c: RedisClient;
  readonly #keys: FleetKeys;
  readonly #token: () => string | null;
  readonly #storeMeta: string;
  readonly #ms: number;

  /** @param opts.store the Redis store (its own metadata hash is read for names the fleet state lacks) */
  constructor(opts: { client: RedisClient; keys: FleetKeys; token: () => string | null; store: Pick<RedisStore, 'keyPrefix'>; timeoutMs?: number }) {
    this.#c = opts.client;
    this.#keys = opts.keys;
    this.#token = opts.token;
    this.#storeMeta = `${opts.store.keyPrefix}meta`;
    this.#ms = opts.timeoutMs ?? 2000;
    this.#c.defineCommand('iysFleetMetaSet', { lua: SET_LUA, numberOfKeys: 2 });
  }

  /**
   * The fleet's value, else the store's own (`<prefix>meta`, read here with this bound: the
   * store's getMeta has the tight bound of a check, too tight for a boot on a loaded host).
   * @throws GW_ERR_STORE_UNAVAILABLE
   */
  async getMeta(name: string): Promise<string | null> {
    const [v, own] = await withTimeout(Promise.all([this.#c.hget(this.#keys.meta, name), this.#c.hget(this.#storeMeta, name)]), this.#ms, 'fleet meta')
      .catch((err: unknown) => { throw unavailable('fleet meta', err); });
    return v ?? own;
  }

  /** @throws FencedError when this instance does not hold the lease; GW_ERR_STORE_UNAVAILABLE */
  async setMeta(name: string, value: string): Promise<void> {
    const token = this.#token();
    if (token === null) throw new FencedError('sync state write');
    const c = this.#c as unknown as { iysFleetMetaSet: (...a: string[]) => Promise<number> };
    const r = await withTimeout(c.iysFleetMetaSet(this.#keys.lease, this.#keys.meta, token, name, value), this.#ms, 'fleet meta').catch((err: unknown) => { throw unavailable('fleet meta', err); });
    if (r === -1) throw new FencedError('sync state write');
  }
}
