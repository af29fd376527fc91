import t from 'tap';
import { Redis } from 'ioredis';
import { createRedisStore, type RedisStore } from '../../src/mirror/redis-store.ts';
import { redisClusterAvailable, startRedisCluster } from '../helpers/redis-server.ts';
import { runStoreContract, mv, norm } from '../mirror/store-contract.ts';

// Redis Cluster (issue 4): three masters started here with --cluster-enabled yes and joined by
// `redis-cli --cluster create`; the store contract passes unchanged and a 1,000-recipient batch
// spread over every slot group answers without CROSSSLOT.

const avail = redisClusterAvailable();
if (avail !== true) {
  t.plan(0, avail);
} else {
  const cluster = await startRedisCluster();
  t.teardown(() => cluster.cleanup());
  const CACHE = { maxEntries: 100_000, maxBytes: 64 * 1024 * 1024 };
  let seq = 0;
  const mk = (keyPrefix: string, over: Record<string, unknown> = {}) => createRedisStore({
    url: cluster.url, cluster: true, keyPrefix, bucketCount: 64, cache: CACHE, commandTimeoutMs: 500, checkSettings: false, ...over,
  });

  runStoreContract(t, 'redis-cluster', async () => {
    const keyPrefix = `cc${process.pid}:${++seq}:`;
    let store = mk(keyPrefix);
    await store.open();
    return {
      store,
      reopen: async () => { await store.close(); store = mk(keyPrefix); await store.open(); return store; },
      cleanup: () => store.close(),
    };
  });

  t.test('1,000-recipient batches: apply and getMany across all three masters, no CROSSSLOT', async (t) => {
    const warned: string[] = [];
    const a: RedisStore = mk(`big${process.pid}:`, { bucketCount: 4096, checkSettings: true, onWarning: (m: string) => warned.push(m) });
    const b: RedisStore = mk(`big${process.pid}:`, { bucketCount: 4096 });
    await a.open();
    await b.open();
    t.teardown(async () => { await a.close(); await b.close(); });
    t.ok(warned.some((w) => /does not persist/.test(w)), 'settings checked on the cluster masters');
    const ms = Array.from({ length: 1000 }, (_, i) => mv({ brandCode: 620000, recipient: `+90533${String(1_000_000 + i)}`,
      status: i % 7 === 0 ? 'RET' : 'ONAY' }));
    t.same(await a.apply(ms), ms.map(() => 'applied'));
    const got = await b.getMany(ms);
    t.same(got.map(norm), ms.map(norm));
    // keys really landed on every master
    for (const node of cluster.nodes) {
      const c = new Redis(node.url);
      const n = (await c.keys(`big${process.pid}:c{*`)).length;
      c.disconnect();
      t.ok(n > 100, `master :${node.port} holds ${n} buckets`);
    }
    t.equal(await b.size(), 1000);
    let seen = 0;
    for await (const r of b.iterate(620000)) { if (r.brandCode === 620000) seen++; }
    t.equal(seen, 1000, 'iterate scans every master');
    // a refusal written through instance A reaches instance B's cache within 100 ms
    t.equal((await b.get(ms[1]!))?.status, 'ONAY');
    const t0 = performance.now();
    await a.apply([{ ...ms[1]!, status: 'RET', consentDate: '2026-04-01 00:00:00' }]);
    let status: string | undefined;
    while (performance.now() - t0 < 100) {
      status = (await b.get(ms[1]!))?.status;
      if (status === 'RET') break;
      await new Promise((r) => setTimeout(r, 2));
    }
    t.equal(status, 'RET', `instance B saw the refusal after ${(performance.now() - t0).toFixed(1)} ms`);
    t.equal(await b.ping(), true);
  });

  t.test('the invalidation feed heartbeat runs end to end on a cluster (publish → cluster bus → subscriber)', async (t) => {
    const s = mk(`hb${process.pid}:`, { heartbeatMs: 50 });
    await s.open();
    t.teardown(() => s.close());
    await new Promise((r) => setTimeout(r, 400));
    t.ok(s.feedStats!.heartbeats >= 4, `heartbeats echoed: ${s.feedStats!.heartbeats}`);
    t.equal(s.feedStats!.losses, 0, 'no heartbeat lost');
    t.equal(s.cache!.isEnabled, true, 'cache serving');
  });
}
