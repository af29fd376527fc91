import { join } from 'node:path';
import type { GatewayConfig } from '../config/schema.ts';
import type { ConsentStore } from './consent-store.ts';
import { MemoryStore } from './memory-store.ts';

/**
 * Opens the configured store: Redis when `redisUrl` is set (IYS_GATE_REDIS_URL), else the embedded
 * store of config `store` under `<dataDir>/mirror`: `lmdb` (default; a directory written by an
 * earlier release, `journal.log` + `snapshot.log`, is migrated first: migrate-store.ts) or
 * `memory`. Resolves once the store can answer.
 * @throws GW_ERR_STORE_UNAVAILABLE when Redis cannot be reached at boot or the LMDB file cannot be opened
 */
export async function openStore(config: GatewayConfig, warn: (msg: string) => void = (m) => process.stderr.write(`iys-gate: warning: ${m}\n`)): Promise<ConsentStore> {
  if (config.redisUrl) {
    const { createRedisStore } = await import('./redis-store.ts');
    const store = createRedisStore({
      url: config.redisUrl,
      cluster: config.redis.cluster,
      keyPrefix: config.redis.keyPrefix,
      commandTimeoutMs: config.redis.commandTimeoutMs,
      timeoutPerKeyUs: config.redis.timeoutPerKeyUs,
      readSliceKeys: config.redis.readSliceKeys,
      cache: config.redis.cacheMaxEntries > 0 ? { maxEntries: config.redis.cacheMaxEntries, maxBytes: config.redis.cacheMaxBytes } : false,
    });
    await store.open();
    return store;
  }
  const dir = join(config.dataDir, 'mirror');
  if (config.store === 'lmdb') {
    const { LmdbStore } = await import('./lmdb-store.ts');
    const store = new LmdbStore({ dataDir: dir, warn });
    await store.open();
    return store;
  }
  const store = new MemoryStore({ dataDir: dir, warn });
  await store.open();
  return store;
}
