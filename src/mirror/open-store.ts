import { join } from 'node:path';
import type { GatewayConfig } from '../config/schema.ts';
import type { ConsentStore } from './consent-store.ts';
import { MemoryStore } from './memory-store.ts';
import type { MigrationProgress } from './migrate-store.ts';

/** Migration progress as a stderr line every 10%. */
function stderrProgress(): MigrationProgress {
  let next = 0;
  return (done, total) => {
    const pct = total === 0 ? 100 : Math.floor((done * 100) / total);
    if (pct < next && done < total) return;
    next = pct + 10;
    process.stderr.write(`iys-gate: migration ${done}/${total} records (${pct}%)\n`);
  };
}

/**
 * Opens the configured store: Redis when `redisUrl` is set (IYS_GATE_REDIS_URL), else the embedded
 * store of config `store` under `<dataDir>/mirror`: `lmdb` (default; a directory written by an
 * earlier release, `journal.log` + `snapshot.log`, is migrated first: migrate-store.ts) or
 * `memory`. Resolves once the store can answer.
 * @throws GW_ERR_STORE_UNAVAILABLE when Redis cannot be reached at boot or the LMDB file cannot be opened
 */
export async function openStore(
  config: GatewayConfig,
  warn: (msg: string) => void = (m) => process.stderr.write(`iys-gate: warning: ${m}\n`),
  opts: { onMigrationProgress?: MigrationProgress } = {},
): Promise<ConsentStore> {
  // the movement history (timeline.ts) is kept as long as the decisions it proves (issue 15)
  const timelineRetentionMs = config.decisions.retentionDays * 86_400_000;
  if (config.redisUrl) {
    const { createRedisStore } = await import('./redis-store.ts');
    const store = createRedisStore({
      url: config.redisUrl,
      cluster: config.redis.cluster,
      keyPrefix: config.redis.keyPrefix,
      commandTimeoutMs: config.redis.commandTimeoutMs,
      timeoutPerKeyUs: config.redis.timeoutPerKeyUs,
      readSliceKeys: config.redis.readSliceKeys,
      ...(config.redis.timeoutCapMs !== undefined ? { timeoutCapMs: config.redis.timeoutCapMs } : {}),
      timelineRetentionMs,
      cache: config.redis.cacheMaxEntries > 0 ? { maxEntries: config.redis.cacheMaxEntries, maxBytes: config.redis.cacheMaxBytes } : false,
    });
    await store.open();
    return store;
  }
  const dir = join(config.dataDir, 'mirror');
  if (config.store === 'lmdb') {
    const { LmdbStore } = await import('./lmdb-store.ts');
    const store = new LmdbStore({ dataDir: dir, warn, timelineRetentionMs });
    await store.open();
    try {
      const { migrateLegacyMirror, needsMigration } = await import('./migrate-store.ts');
      if (await needsMigration(dir, store)) {
        process.stderr.write(`iys-gate: migrating the mirror in ${dir} (journal.log + snapshot.log of the memory store) to LMDB\n`);
        const reports = await migrateLegacyMirror(dir, store, {
          brands: config.iys?.brands ?? [], warn, onProgress: opts.onMigrationProgress ?? stderrProgress(),
        });
        for (const r of reports) {
          process.stderr.write(`iys-gate: migrated ${r.records} records, ${r.history} older movements, ${r.meta} meta values in ${r.seconds.toFixed(1)} s; the old files are kept in ${r.movedTo}\n`);
        }
      }
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }
  const store = new MemoryStore({ dataDir: dir, warn, timelineRetentionMs });
  await store.open();
  return store;
}
