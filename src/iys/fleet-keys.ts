/**
 * Redis keys of the fleet's shared İYS state (issue 17), all under one hash tag `{fleet}` after
 * the store's key prefix, so every multi-key script (a fenced outbox update checks the lease key
 * and writes the outbox keys) runs in one slot of a Redis Cluster:
 * - `lease`: string `<instanceId>|<fence>` with a TTL, the İYS-work lease (leader-lease.ts);
 * - `fence`: counter, the fencing token of the next lease;
 * - `ob:items` hash id → item JSON, `ob:due` zset of open items by nextAttemptAt, `ob:closed`
 *   zset of done/failed items by updatedAt (retention), `ob:stats` hash (reclaimed items);
 * - `meta`: hash of the leader's sync state (pull cursors, last pull), fenced writes;
 * - `upl:` prefix of the upload jobs (upload-jobs.ts): `upl:jobs`, `upl:running`, `upl:<id>:*`;
 * - `dl:log`: list of the dead-letter store's operations (dead-letters.ts), shared by the fleet;
 * - `iys:token:<username>`, `iys:tokenlock:<username>`, `iys:halt:<username>`: the İYS token of
 *   the fleet, the lock of its one token request, the H084 back-off (token-broker.ts);
 * - `iys:rate:<kind>`, `iys:pause`: the fleet's İYS rate budget (rate-budget.ts).
 */
export interface FleetKeys {
  lease: string;
  fence: string;
  items: string;
  due: string;
  closed: string;
  stats: string;
  meta: string;
  uploads: string;
  uploadIndex: string;
  uploadRunning: string;
  deadLetters: string;
  /** Prefix of the shared İYS token broker and rate budget keys. */
  iys: string;
}

/** @param keyPrefix the store's prefix (no `{` or `}`: redis-store.ts refuses them) */
export function fleetKeys(keyPrefix: string): FleetKeys {
  const t = `${keyPrefix}{fleet}:`;
  return {
    lease: `${t}lease`, fence: `${t}fence`, items: `${t}ob:items`, due: `${t}ob:due`, closed: `${t}ob:closed`,
    stats: `${t}ob:stats`, meta: `${t}meta`,
    uploads: `${t}upl:`, uploadIndex: `${t}upl:jobs`, uploadRunning: `${t}upl:running`, deadLetters: `${t}dl:log`, iys: `${t}iys:`,
  };
}
