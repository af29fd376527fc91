import { join } from 'node:path';
import type { GatewayConfig } from '../config/schema.ts';
import type { ConsentStore } from './consent-store.ts';
import { MemoryStore } from './memory-store.ts';

/**
 * Opens the configured store: Redis when `redisUrl` is set (IYS_GATE_REDIS_URL), else the embedded
 * store under `<dataDir>/mirror`. Resolves once the store can answer.
 * @throws GW_ERR_STORE_UNAVAILABLE when Redis cannot be reached at boot
 */
export async function openStore(config: GatewayConfig, warn: (msg: string) => void = (m) => process.stderr.write(`iys-gate: warning: ${m}\n`)): Promise<ConsentStore> {
  if (config.redisUrl) {
    const { createRedisStore } = await import('./redis-store.ts');
    const store = createRedisStore({
      url: config.redisUrl,
      cluster: config.redis.cluster,
      keyPrefix: config.redis.keyPrefix,
      commandTimeoutMs: config.redis.commandTimeoutMs,
      cache: config.redis.cacheMaxEntries > 0 ? { maxEntries: config.redis.cacheMaxEntries, maxBytes: config.redis.cacheMaxBytes } : false,
    });
    await store.open();
    return store;
  }
  const store = new MemoryStore({ dataDir: join(config.dataDir, 'mirror'), warn });
  await store.open();
  return store;
}
