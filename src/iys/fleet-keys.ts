/**
 * Redis keys of the fleet's shared İYS state (issue 17), all under one hash tag `{fleet}` after
 * the store's key prefix, so every multi-key script (a fenced outbox update checks the lease key
 * and writes the outbox keys) runs in one slot of a Redis Cluster:
 * - `lease`: string `<instanceId>|<fence>` with a TTL, the İYS-work lease (leader-lease.ts);
 * - `fence`: counter, the fencing token of the next lease;
 * - `ob:items` hash id → item JSON, `ob:due` zset of open items by nextAttemptAt, `ob:closed`
 *   zset of done/failed items by updatedAt (retention), `ob:stats` hash (reclaimed items);
 * - `meta`: hash of the leader's sync state (pull cursors, last pull), fenced writes.
 */
export interface FleetKeys {
  lease: string;
  fence: string;
  items: string;
  due: string;
  closed: string;
  stats: string;
  meta: string;
}

/** @param keyPrefix the store's prefix (no `{` or `}`: redis-store.ts refuses them) */
export function fleetKeys(keyPrefix: string): FleetKeys {
  const t = `${keyPrefix}{fleet}:`;
  return {
    lease: `${t}lease`, fence: `${t}fence`, items: `${t}ob:items`, due: `${t}ob:due`, closed: `${t}ob:closed`,
    stats: `${t}ob:stats`, meta: `${t}meta`,
  };
}
