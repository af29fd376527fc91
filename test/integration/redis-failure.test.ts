import t, { type Test } from 'tap';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { createRedisStore, type RedisStore } from '../../src/mirror/redis-store.ts';
import type { ConsentKey } from '../../src/domain/types.ts';
import { redisAvailable, startRedis, type RedisServer } from '../helpers/redis-server.ts';
import { mv } from '../mirror/store-contract.ts';

// Failure policy (issue 4): with Redis stopped or hung, lookups fail closed with
// GW_ERR_STORE_UNAVAILABLE within a bounded time (p99 ≤ 50 ms), writes are never acknowledged,
// the cache never answers for Redis, and everything recovers by itself.

const avail = redisAvailable();
if (avail !== true) {
  t.plan(0, avail);
} else {
  const PROD_CACHE = { maxEntries: 100_000, maxBytes: 64 * 1024 * 1024 };

  function p99(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)]!;
  }

  /**
   * The bound asserted: p99 ≤ 50 ms plus the p99 event-loop delay measured during the same
   * lookups (monitorEventLoopDelay). On an idle machine the allowance is ~0; on a loaded shared
   * box it keeps other processes' CPU use from failing the test while a store that queued
   * commands (C29) would still take seconds and fail.
   */
  function assertBound(t: Test, times: number[], loop: IntervalHistogram, label: string): void {
    const allowance = loop.percentile(99) / 1e6;
    const s = [...times].sort((a, b) => a - b);
    const med = s[s.length >> 1]!;
    t.ok(p99(times) <= 50 + allowance, `${label}: p99 ${p99(times).toFixed(2)} ms, median ${med.toFixed(2)} ms, `
      + `max ${s[s.length - 1]!.toFixed(2)} ms (event-loop delay p99 ${allowance.toFixed(2)} ms)`);
  }

  /** Times `n` lookups that must all reject with GW_ERR_STORE_UNAVAILABLE. */
  async function failedLookups(t: Test, store: RedisStore, keys: ConsentKey[], n: number): Promise<number[]> {
    const times: number[] = [];
    let wrong = 0;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      try {
        // single lookups, whole-record batches and policy-view batches (batch checks) alike
        await (i % 3 === 1 ? store.get(keys[i % keys.length]!) : i % 3 === 2 ? store.getPolicyMany(keys) : store.getMany(keys));
        wrong++;
      } catch (err) {
        if ((err as { code?: string }).code !== 'GW_ERR_STORE_UNAVAILABLE') wrong++;
        // the client sees our words, not the driver's (its error is the logged cause)
        else if (/enableOfflineQueue|writeable|ECONNREFUSED/.test((err as Error).message)) wrong++;
      }
      times.push(performance.now() - t0);
    }
    t.equal(wrong, 0, `all ${n} lookups rejected with GW_ERR_STORE_UNAVAILABLE`);
    return times;
  }

  async function until(what: string, fn: () => Promise<boolean>, ms = 8000): Promise<number> {
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      if (await fn().catch(() => false)) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${what} not reached within ${ms} ms`);
  }

  async function setup(t: Test, commandTimeoutMs = 40): Promise<{ server: RedisServer; store: RedisStore; keys: ConsentKey[] }> {
    // AOF on (configured at start, never at runtime): acknowledged refusals survive the restart
    const server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    t.teardown(() => server.cleanup());
    const store = createRedisStore({ url: server.url, keyPrefix: `fail${process.pid}:`, bucketCount: 256,
      commandTimeoutMs, cache: PROD_CACHE, checkSettings: false, heartbeatMs: 200 });
    await store.open();
    t.teardown(() => store.close());
    const ms = Array.from({ length: 20 }, (_, i) => mv({ brandCode: 610000, recipient: `+90532500${String(1000 + i)}` }));
    await store.apply(ms);
    return { server, store, keys: ms };
  }

  t.test('Redis stopped: lookups fail closed fast, writes are refused, recovery is automatic', async (t) => {
    const { server, store, keys } = await setup(t);
    // warm the cache: these ONAYs must not be served while Redis is down
    t.equal((await store.getMany(keys)).filter((r) => r?.status === 'ONAY').length, 20);
    t.equal((await store.get(keys[0]!))?.status, 'ONAY');
    await server.stop();
    await until('cache disabled', async () => !store.cache!.isEnabled, 2000);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const times = await failedLookups(t, store, keys, 200);
    loop.disable();
    assertBound(t, times, loop, 'failed lookups, Redis stopped');
    t.equal(await store.ping(), false, 'ping (readyz) says not ready');
    const ret = { ...keys[0]!, status: 'RET' as const, consentDate: '2026-04-01 00:00:00' } as ReturnType<typeof mv>;
    await t.rejects(store.apply([ret]), { code: 'GW_ERR_STORE_UNAVAILABLE' }, 'a refusal is not acknowledged');
    await t.rejects(store.setMeta('x', 'y'), { code: 'GW_ERR_STORE_UNAVAILABLE' });

    await server.start();
    const took = await until('store answers again', async () => (await store.get(keys[1]!))?.status === 'ONAY');
    t.pass(`recovered ${took.toFixed(0)} ms after redis-server restarted`);
    t.same(await store.apply([ret]), ['applied'], 'the refusal is accepted once Redis is back');
    t.equal((await store.get(keys[0]!))?.status, 'RET');
    t.equal(await store.ping(), true);
    await until('cache serving again', async () => store.cache!.isEnabled);
    await store.get(keys[2]!);
    const hits = store.cache!.stats.hits;
    await store.get(keys[2]!);
    t.equal(store.cache!.stats.hits, hits + 1, 'cache serves again after recovery');
  });

  t.test('Redis hung (SIGSTOP): lookups time out within the bound; writes are refused', async (t) => {
    // a hung server is only detected by the timeout, so the latency is the timeout plus the
    // event loop's scheduling delay: 20 ms leaves room for the jitter of a loaded 2-core CI box
    const { server, store, keys } = await setup(t, 20);
    await store.getMany(keys);
    server.pause();
    t.teardown(() => server.resume());
    // cached entries may be served until the heartbeat notices (no write can happen meanwhile)
    await until('cache disabled by heartbeat', async () => !store.cache!.isEnabled, 2000);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const times = await failedLookups(t, store, keys, 100);
    loop.disable();
    assertBound(t, times, loop, 'timed-out lookups, Redis hung');
    t.ok(Math.min(...times) >= 19, `lookups waited for the 20 ms timeout (${Math.min(...times).toFixed(1)} ms)`);
    const ret = { ...keys[3]!, status: 'RET' as const, consentDate: '2026-04-01 00:00:00' } as ReturnType<typeof mv>;
    const store2 = createRedisStore({ url: server.url, keyPrefix: `fail${process.pid}:`, bucketCount: 256, cache: false,
      checkSettings: false, writeTimeoutMs: 100, connectTimeoutMs: 300 });
    t.teardown(() => store2.close());
    await t.rejects(store2.open(), { code: 'GW_ERR_STORE_UNAVAILABLE' }, 'open() is bounded too');
    server.resume();
    await until('store answers again', async () => (await store.get(keys[3]!))?.status === 'ONAY');
    t.same(await store.apply([ret]), ['applied']);
    t.equal((await store.get(keys[3]!))?.status, 'RET');
  });

  t.test('an acknowledged refusal survives a Redis restart (AOF)', async (t) => {
    const { server, store, keys } = await setup(t);
    const ret = { ...keys[5]!, status: 'RET' as const, consentDate: '2026-04-01 00:00:00' } as ReturnType<typeof mv>;
    t.same(await store.apply([ret]), ['applied']);
    await server.stop();
    await server.start();
    await until('store answers again', async () => (await store.get(keys[5]!)) !== null);
    t.equal((await store.get(keys[5]!))?.status, 'RET');
    t.equal(await store.size(), 20);
  });
}
