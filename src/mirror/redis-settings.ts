import type { Redis } from 'ioredis';

/**
 * Boot check of a Redis server's settings that decide whether consents survive: an evicted
 * TACIR refusal silently turns into an ALLOW, and an unpersisted refusal vanishes on restart.
 *
 * Checks (CONFIG GET): `maxmemory-policy` must be `noeviction`; `appendonly yes` with
 * `appendfsync everysec|always` (RDB snapshots alone lose minutes of refusals); the hash
 * listpack limits the store's memory budget assumes (`hash-max-listpack-entries` ≥ 128,
 * `hash-max-listpack-value` ≥ 64).
 *
 * @param redis one node (for a cluster call it for every master)
 * @returns human-readable warnings, empty when the server is fit for production. Never throws:
 *   a server that refuses CONFIG (managed services) yields a warning saying so.
 */
export async function checkRedisSettings(redis: Pick<Redis, 'config'>): Promise<string[]> {
  const warnings: string[] = [];
  let cfg: Map<string, string>;
  try {
    const flat = (await redis.config('GET', '*')) as unknown as string[];
    cfg = new Map<string, string>();
    for (let i = 0; i + 1 < flat.length; i += 2) cfg.set(flat[i]!, flat[i + 1]!);
  } catch (err) {
    return [`cannot read Redis settings (CONFIG GET refused: ${(err as Error).message}); make sure `
      + 'maxmemory-policy is noeviction and AOF persistence is on, or refusals can be lost'];
  }
  const policy = cfg.get('maxmemory-policy');
  if (policy !== undefined && policy !== 'noeviction') {
    const maxmemory = cfg.get('maxmemory') ?? '0';
    warnings.push(`maxmemory-policy is ${policy} (maxmemory ${maxmemory}): Redis may EVICT consent records, `
      + 'and an evicted refusal becomes an ALLOW; set maxmemory-policy noeviction');
  }
  const aof = cfg.get('appendonly');
  const save = cfg.get('save');
  if (aof !== 'yes') {
    if (save === undefined || save.trim() === '') {
      warnings.push('Redis does not persist at all (appendonly no, save ""): every refusal is lost on restart; '
        + 'set appendonly yes with appendfsync everysec');
    } else {
      warnings.push(`Redis persists by RDB snapshots only (save "${save}"): refusals recorded since the last `
        + 'snapshot are lost on a crash; set appendonly yes with appendfsync everysec');
    }
  } else {
    const fsync = cfg.get('appendfsync');
    if (fsync !== undefined && fsync !== 'everysec' && fsync !== 'always') {
      warnings.push(`appendfsync is ${fsync}: the OS decides when refusals reach disk; use everysec or always`);
    }
  }
  const entries = Number(cfg.get('hash-max-listpack-entries') ?? cfg.get('hash-max-ziplist-entries') ?? '128');
  const value = Number(cfg.get('hash-max-listpack-value') ?? cfg.get('hash-max-ziplist-value') ?? '64');
  if (entries < 128 || value < 64) {
    warnings.push(`hash-max-listpack-entries ${entries} / hash-max-listpack-value ${value} are below 128 / 64: `
      + 'consent buckets lose their compact encoding and use several times more memory');
  }
  return warnings;
}
