import t from 'tap';
import { Redis } from 'ioredis';
import { createRedisStore, checkRedisSettings, type RedisStore, type RedisStoreOptions } from '../../src/mirror/redis-store.ts';
import { redisAvailable, startRedis } from '../helpers/redis-server.ts';
import { runStoreContract, mv, norm } from './store-contract.ts';
import { encodeField } from '../../src/mirror/redis-codec.ts';

const avail = redisAvailable();
if (avail !== true) {
  t.plan(0, avail);
} else {
  const server = await startRedis();
  t.teardown(() => server.cleanup());
  const admin = new Redis(server.url);
  t.teardown(() => { admin.disconnect(); });

  let seq = 0;
  const prefix = () => `t${process.pid}:${++seq}:`;
  const PROD_CACHE = { maxEntries: 100_000, maxBytes: 64 * 1024 * 1024, ttlMs: 60_000 };

  async function open(opts: Partial<RedisStoreOptions> = {}): Promise<RedisStore> {
    const store = createRedisStore({ url: server.url, keyPrefix: prefix(), bucketCount: 64, cache: PROD_CACHE,
      commandTimeoutMs: 500, checkSettings: false, ...opts });
    await store.open();
    return store;
  }

  /** Two store instances (two gateway processes, in effect) on one prefix, both with a cache; closed at teardown. */
  async function pair(t: { teardown(fn: () => unknown): void }, opts: Partial<RedisStoreOptions> = {}): Promise<[RedisStore, RedisStore]> {
    const keyPrefix = prefix();
    const mk = () => createRedisStore({ url: server.url, keyPrefix, bucketCount: 64, cache: PROD_CACHE, checkSettings: false, ...opts });
    const a = mk();
    const b = mk();
    await a.open();
    await b.open();
    t.teardown(async () => { await a.close(); await b.close(); });
    return [a, b];
  }

  for (const cache of [PROD_CACHE, false] as const) {
    runStoreContract(t, cache ? 'redis+cache' : 'redis', async () => {
      const keyPrefix = prefix();
      const mk = () => createRedisStore({ url: server.url, keyPrefix, bucketCount: 64, cache, commandTimeoutMs: 500, checkSettings: false });
      let store = mk();
      await store.open();
      return {
        store,
        reopen: async () => { await store.close(); store = mk(); await store.open(); return store; },
        cleanup: () => store.close(),
      };
    });
  }

  t.test('every key lives under the prefix; buckets stay listpack-encoded', async (t) => {
    const store = await open({ bucketCount: 16 });
    t.teardown(() => store.close());
    const ms = Array.from({ length: 600 }, (_, i) => mv({ brandCode: 600123, recipient: `+90532${String(1_000_000 + i)}` }));
    await store.apply(ms);
    await store.apply([{ ...ms[0]!, status: 'RET', consentDate: '2026-04-01 00:00:00' }]);
    await store.setMeta('x', 'y');
    const keys = await admin.keys(`${store.keyPrefix}*`);
    t.ok(keys.length >= 17, `${keys.length} keys`);
    t.ok(keys.every((k) => k.startsWith(store.keyPrefix)));
    const curBuckets = keys.filter((k) => k.startsWith(`${store.keyPrefix}c{`));
    t.equal(curBuckets.length, 16, 'all 16 current buckets used');
    for (const k of curBuckets) t.equal(await admin.object('ENCODING', k), 'listpack', k);
    const fieldLens = await Promise.all(curBuckets.map((k) => admin.hlen(k)));
    t.equal(fieldLens.reduce((a, b) => a + b, 0), 600);
    t.equal(await store.size(), 600);
  });

  t.test('a refusal applied with its outbox item (one script) gets its movement-history entry in that script', async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const T = Date.parse('2026-11-02T06:00:00Z');
    const onay = mv({ brandCode: 600125, recipient: '+905321110077', consentDate: '2026-03-01 10:00:00', transactionId: 'wo-onay' });
    const ret = mv({ ...onay, status: 'RET', consentDate: '2026-03-02 10:00:00', transactionId: null });
    t.same(await store.apply([onay], { appliedAtMs: T }), ['applied']);
    const items = `${store.keyPrefix}ob:items`;
    const due = `${store.keyPrefix}ob:due`;
    const out = await store.applyWithOutbox([ret], { keys: [items, due], args: [1, 'item-1', '{"id":"item-1"}', T] }, { appliedAtMs: T + 60_000 });
    t.same(out, ['applied']);
    t.equal(await admin.hget(items, 'item-1'), '{"id":"item-1"}', 'the outbox item was added by the same call');
    const tl = await store.timeline(onay);
    t.same(tl.map((e) => [e.appliedAt, e.outcome, e.movement.status]), [[T, 'applied', 'ONAY'], [T + 60_000, 'applied', 'RET']]);
  });

  t.test('history is bounded to maxHistory movements', async (t) => {
    const store = await open({ maxHistory: 3 });
    t.teardown(() => store.close());
    const ms = Array.from({ length: 6 }, (_, i) => mv({ brandCode: 600124, recipient: '+905321110000',
      consentDate: `2026-03-0${i + 1} 10:00:00`, status: i % 2 ? 'RET' : 'ONAY' }));
    t.same(await store.apply(ms), ms.map(() => 'applied'));
    const h = await store.history(ms[0]!);
    t.same(h.map((m) => m.consentDate), ['2026-03-06 10:00:00', '2026-03-05 10:00:00', '2026-03-04 10:00:00']);
    t.same(await store.apply([ms[0]!]), ['ignoredOlder'], 'dropped from history: older, not kept');
    t.same((await store.history(ms[0]!)).length, 3);
  });

  t.test('scripts reload after SCRIPT FLUSH (NOSCRIPT)', async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const a = mv({ brandCode: 600125, recipient: '+905321110001' });
    t.same(await store.apply([a]), ['applied']);
    await admin.script('FLUSH');
    t.same(await store.apply([{ ...a, status: 'RET', consentDate: '2026-05-01 00:00:00' }]), ['applied']);
    t.equal((await store.get(a))?.status, 'RET');
  });

  t.test('open() refuses data written with another bucketCount', async (t) => {
    const keyPrefix = prefix();
    const a = createRedisStore({ url: server.url, keyPrefix, bucketCount: 64, checkSettings: false, cache: false });
    await a.open();
    await a.close();
    const b = createRedisStore({ url: server.url, keyPrefix, bucketCount: 128, checkSettings: false, cache: false });
    t.teardown(() => b.close());
    await t.rejects(b.open(), { code: 'GW_ERR_CONFIG_INVALID' });
  });

  t.test('options are validated at construction', async (t) => {
    const bad: Partial<RedisStoreOptions>[] = [
      { bucketCount: 1000 }, { keyPrefix: 'a{b}' }, { commandTimeoutMs: 0 }, { maxHistory: 0 },
      { cache: { maxEntries: 0, maxBytes: 1 } }, { url: '' },
    ];
    for (const b of bad) {
      t.throws(() => createRedisStore({ url: server.url, ...b }), { code: 'GW_ERR_CONFIG_INVALID' }, JSON.stringify(b));
    }
  });

  t.test('invalid movements are rejected before anything is written', async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const good = mv({ brandCode: 600126, recipient: '+905321110002' });
    await t.rejects(store.apply([good, { ...good, recipient: '+905321110003', consentDate: '2026-13-01 00:00:00' }]),
      { code: 'GW_ERR_VALIDATION' });
    await t.rejects(store.apply([{ ...good, source: 'NOPE' as never }]), { code: 'GW_ERR_VALIDATION' });
    t.equal(await store.get(good), null);
  });

  t.test('cache: a local RET is visible before apply() resolves', async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const onay = mv({ brandCode: 600127, recipient: '+905321110004' });
    await store.apply([onay]);
    t.equal((await store.get(onay))?.status, 'ONAY');
    t.equal((await store.get(onay))?.status, 'ONAY');
    t.ok(store.cache!.stats.hits >= 1, 'second read was a cache hit');
    await store.apply([{ ...onay, status: 'RET', consentDate: '2026-04-01 00:00:00' }]);
    t.equal((await store.get(onay))?.status, 'RET');
  });

  t.test('cache: a write by another instance invalidates within 100 ms; misses cached as null', async (t) => {
    const [a, b] = await pair(t);
    const onay = mv({ brandCode: 600128, recipient: '+905321110005' });
    const ghost = mv({ brandCode: 600128, recipient: '+905321110006', recipientType: 'TACIR', status: 'RET' });
    const seen = b.cache!.stats.invalidations;
    await a.apply([onay]);
    // let B receive A's invalidation first, so it cannot drop the entries filled below
    for (let i = 0; i < 100 && b.cache!.stats.invalidations === seen; i++) await new Promise((r) => setTimeout(r, 5));
    t.equal(b.cache!.stats.invalidations, seen + 1, "B received A's invalidation");
    t.same((await b.getMany([onay, ghost])).map((r) => r?.status ?? null), ['ONAY', null]);
    const hits = b.cache!.stats.hits;
    t.same((await b.getMany([onay, ghost])).map((r) => r?.status ?? null), ['ONAY', null]);
    t.equal(b.cache!.stats.hits, hits + 2, 'both answers (record and miss) served from cache');
    const t0 = performance.now();
    await a.apply([{ ...onay, status: 'RET', consentDate: '2026-04-01 00:00:00' }, ghost]);
    let statuses: (string | null)[] = [];
    while (performance.now() - t0 < 100) {
      statuses = (await b.getMany([onay, ghost])).map((r) => r?.status ?? null);
      if (statuses[0] === 'RET' && statuses[1] === 'RET') break;
      await new Promise((r) => setTimeout(r, 2));
    }
    const ms = performance.now() - t0;
    t.same(statuses, ['RET', 'RET']);
    t.ok(ms < 100, `instance B saw the refusals after ${ms.toFixed(1)} ms`);
  });

  t.test('peekCached: answers synchronously only what the cache holds whole; never a stale ONAY', async (t) => {
    const [a, b] = await pair(t);
    const onay = mv({ brandCode: 600130, recipient: '+905321110008' });
    const viaBatch = mv({ brandCode: 600130, recipient: '+905321110009' });
    const absent = mv({ brandCode: 600130, recipient: '+905321110010' });
    const seen = b.cache!.stats.invalidations;
    await a.apply([onay, viaBatch]);
    // let B receive A's invalidation first, so it cannot drop the entries filled below
    for (let i = 0; i < 100 && b.cache!.stats.invalidations < seen + 2; i++) await new Promise((r) => setTimeout(r, 5));
    t.equal(b.peekCached(onay), undefined, 'not read yet: a miss, not an answer');
    await b.getMany([onay, absent]);
    t.same(norm(b.peekCached(onay)), norm(onay), 'whole record after a read');
    t.equal(b.peekCached(absent), null, 'known absent');
    await b.getPolicyMany([viaBatch]);
    t.equal(b.peekCached(viaBatch), undefined, 'a policy view from a batch is not a whole record');
    t.equal((await b.getPolicyMany([viaBatch]))[0]?.status, 'ONAY', 'but answers the next batch');
    t.equal(b.peekCached({ ...onay, brandCode: -1 }), undefined, 'an unencodable key is a miss, not a throw');
    // a refusal written by another instance: B stops answering ONAY from its cache
    await a.apply([{ ...onay, status: 'RET', consentDate: '2026-04-01 00:00:00' }]);
    const t0 = performance.now();
    while (b.peekCached(onay)?.status === 'ONAY' && performance.now() - t0 < 100) await new Promise((r) => setTimeout(r, 2));
    t.not(b.peekCached(onay)?.status, 'ONAY', `no cached ONAY ${(performance.now() - t0).toFixed(1)} ms after the RET`);
    t.equal((await b.get(onay))?.status, 'RET');
    b.cache!.disable();
    t.equal(b.peekCached(onay), undefined, 'disabled cache (invalidation feed down) answers nothing');
  });

  t.test('invalidation feed: heartbeats echo; a killed subscriber stops the cache, which serves again, emptied, once resubscribed', async (t) => {
    const [a, b] = await pair(t, { heartbeatMs: 50 });
    const onay = mv({ brandCode: 600131, recipient: '+905321110011' });
    await a.apply([onay]);
    await new Promise((r) => setTimeout(r, 300));
    t.ok(b.feedStats!.heartbeats >= 3, `heartbeats echoed: ${b.feedStats!.heartbeats}`);
    await b.get(onay);
    t.same(norm(b.peekCached(onay)), norm(onay), 'cached');
    // drop every subscriber connection behind the stores' backs
    await admin.client('KILL', 'TYPE', 'pubsub');
    const t0 = performance.now();
    while (b.cache!.isEnabled && performance.now() - t0 < 500) await new Promise((r) => setImmediate(r));
    // it may already be back: what matters is that it was emptied
    t.equal(b.peekCached(onay), undefined, 'nothing served from before the loss');
    while (!b.cache!.isEnabled && performance.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 10));
    t.equal(b.cache!.isEnabled, true, `serving again after ${(performance.now() - t0).toFixed(0)} ms`);
    // and invalidations flow again: A's refusal reaches B's cache
    await b.get(onay);
    const seen = b.cache!.stats.invalidations;
    await a.apply([{ ...onay, status: 'RET', consentDate: '2026-04-01 00:00:00' }]);
    for (let i = 0; i < 100 && b.cache!.stats.invalidations === seen; i++) await new Promise((r) => setTimeout(r, 5));
    t.equal((await b.get(onay))?.status, 'RET');
  });

  t.test('a burst of lookups of one cold key shares one read, unless the key is invalidated meanwhile', async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const k = mv({ brandCode: 600132, recipient: '+905321110012' });
    await store.apply([k]);
    store.cache!.reset();
    const evals = async () => {
      const stats = String(await admin.info('commandstats'));
      let n = 0;
      for (const m of stats.matchAll(/cmdstat_(?:evalsha|evalsha_ro|eval|eval_ro):calls=(\d+)/g)) n += Number(m[1]);
      return n;
    };
    const before = await evals();
    const got = await Promise.all(Array.from({ length: 50 }, () => store.get(k)));
    t.same(got.map((r) => r?.status), Array(50).fill('ONAY'), 'every caller answered');
    t.equal(await evals() - before, 1, '50 concurrent lookups, one read');
    // a write acknowledged while a read is in flight: later lookups do not join that read
    store.cache!.reset();
    const before2 = await evals();
    const first = store.get(k);
    store.cache!.invalidate([encodeField(k)]);
    const second = store.get(k);
    await Promise.all([first, second]);
    t.equal(await evals() - before2, 2, 'the lookup after the invalidation made its own read');
  });

  t.test('cache: a read that started before an invalidation does not fill the cache', async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const cache = store.cache!;
    const r = mv({ brandCode: 600129, recipient: '+905321110007' });
    const token = cache.begin();
    cache.invalidate(['k1']);
    cache.fill(token, 'k1', r);
    cache.fill(token, 'k2', r);
    cache.end();
    t.equal(cache.lookup('k1'), undefined, 'invalidated during the read: not cached');
    t.same(norm(cache.lookup('k2')), norm(r));
    const token2 = cache.begin();
    cache.reset();
    cache.fill(token2, 'k3', r);
    cache.end();
    t.equal(cache.lookup('k3'), undefined, 'read older than a reset: not cached');
    cache.disable();
    t.equal(cache.lookup('k2'), undefined, 'disabled cache serves nothing');
  });

  t.test('checkRedisSettings warns about eviction and missing persistence', async (t) => {
    const s = await startRedis(['--maxmemory', '100mb', '--maxmemory-policy', 'allkeys-lru', '--appendonly', 'yes']);
    t.teardown(() => s.cleanup());
    const c = new Redis(s.url);
    t.teardown(() => { c.disconnect(); });
    const w = await checkRedisSettings(c);
    t.equal(w.length, 1, w.join('\n'));
    t.match(w[0], /maxmemory-policy is allkeys-lru.*EVICT/);
    await c.config('SET', 'maxmemory-policy', 'noeviction');
    t.same(await checkRedisSettings(c), [], 'noeviction + AOF everysec: fit for production');
    await c.config('SET', 'appendfsync', 'no');
    t.match(await checkRedisSettings(c), [/appendfsync is no/]);
    await c.config('SET', 'appendonly', 'no');
    t.match(await checkRedisSettings(c), [/does not persist at all/]);
    await c.config('SET', 'save', '900 1');
    t.match(await checkRedisSettings(c), [/RDB snapshots only/]);
    await c.config('SET', 'hash-max-listpack-value', '32');
    t.match(await checkRedisSettings(c), [/RDB snapshots only/, /listpack/]);
    const warned: string[] = [];
    const store = createRedisStore({ url: server.url, keyPrefix: prefix(), bucketCount: 64, cache: false, onWarning: (m) => warned.push(m) });
    await store.open();
    await store.close();
    t.match(warned, [/does not persist/], 'open() warns through onWarning');
    const refused = { config: async () => { throw new Error("ERR unknown command 'CONFIG'"); } };
    t.match(await checkRedisSettings(refused as never), [/cannot read Redis settings/]);
  });
}
