import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import { gatewayError, storeUnavailable } from '../errors.ts';
import { withDeadline } from './deadline.ts';

/** A single Redis connection or a Redis Cluster client (ioredis). */
export type RedisClient = Redis | Cluster;

/**
 * Rejects `p` with GW_ERR_STORE_UNAVAILABLE when it does not settle within `ms` (deadline.ts: a
 * reply already received when the timer fires wins, so a busy event loop is not taken for a slow
 * Redis; a late rejection of `p` is swallowed: it was already reported as the timeout).
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return withDeadline(p, ms, () => { throw gatewayError('GW_ERR_STORE_UNAVAILABLE', [`${what} timed out after ${ms} ms`]); });
}

/**
 * `err` as GW_ERR_STORE_UNAVAILABLE (coded errors pass unchanged). The driver's text (e.g.
 * ioredis's offline-queue message) is kept as the logged cause, not put in the answer.
 */
export function unavailable(what: string, err: unknown): Error {
  if ((err as { code?: unknown })?.code === 'GW_ERR_VALIDATION') return err as Error;
  return storeUnavailable(err, `${what}: Redis did not answer`);
}

/** `v ?? def`, checked to be a safe integer ≥ `min`. @throws GW_ERR_CONFIG_INVALID */
export function positiveInt(name: string, v: number | undefined, def: number, min = 1): number {
  const x = v ?? def;
  if (!Number.isSafeInteger(x) || x < min) {
    throw gatewayError('GW_ERR_CONFIG_INVALID', [`${name} must be an integer >= ${min} (got ${String(v)})`]);
  }
  return x;
}

function parseSeeds(url: string): ClusterNode[] {
  return url.split(',').map((u) => {
    const p = new URL(u.trim());
    return { host: p.hostname, port: Number(p.port || 6379) };
  });
}

/**
 * The store's command client, fail-fast: no offline queue, no retries of a command
 * (`maxRetriesPerRequest: 0`), `commandTimeoutMs` as ioredis's own bound, reconnect back-off
 * ≤ 500 ms, auto-pipelining. With `cluster`, `url` lists seed nodes separated by commas and the
 * first URL's credentials apply to every node. Not connected until used (`lazyConnect`).
 * @param opts.connectTimeoutMs bound of one connection attempt (ms)
 * @param opts.commandTimeoutMs ioredis's per-command bound (ms), a backstop for the store's own
 */
export function createClient(opts: { url: string; cluster?: boolean; connectTimeoutMs: number; commandTimeoutMs: number }): RedisClient {
  const base: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: opts.connectTimeoutMs,
    commandTimeout: opts.commandTimeoutMs,
    retryStrategy: (times: number) => Math.min(times * 50, 500),
    enableAutoPipelining: true,
  };
  let client: RedisClient;
  if (opts.cluster) {
    const first = new URL(opts.url.split(',')[0]!.trim());
    client = new Cluster(parseSeeds(opts.url), {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRedirections: 4,
      enableAutoPipelining: true,
      clusterRetryStrategy: (times: number) => Math.min(times * 50, 500),
      slotsRefreshTimeout: opts.connectTimeoutMs,
      redisOptions: {
        ...base,
        username: first.username ? decodeURIComponent(first.username) : undefined,
        password: first.password ? decodeURIComponent(first.password) : undefined,
      },
    });
  } else {
    client = new Redis(opts.url, base);
  }
  // Errors surface through the commands that fail; keep the emitter from throwing.
  client.on('error', () => {});
  return client;
}

/**
 * Resolves when `c` is ready (connecting it if idle or closed).
 * @throws GW_ERR_STORE_UNAVAILABLE after `ms` (the client keeps reconnecting)
 */
export async function waitReady(c: RedisClient, ms: number): Promise<void> {
  if (c.status === 'ready') return;
  if (c.status === 'wait' || c.status === 'end' || c.status === 'close') c.connect().catch(() => {});
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      c.off('ready', onReady);
      reject(gatewayError('GW_ERR_STORE_UNAVAILABLE', [`Redis not ready within ${ms} ms`]));
    }, ms);
    const onReady = () => { clearTimeout(timer); resolve(); };
    c.once('ready', onReady);
  });
}

/** Quits `c` within 500 ms, else drops the connection. Never throws. */
export async function quit(c: RedisClient | null): Promise<void> {
  if (!c) return;
  try { await withTimeout(c.quit(), 500, 'quit'); } catch { c.disconnect(); }
}
