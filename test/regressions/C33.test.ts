import t from 'tap';
import { LRUCache } from 'lru-cache';
import { configSchema } from '../../src/config/schema.ts';
import { ConsentCache, validateCacheOptions } from '../../src/mirror/cached-store.ts';
import { createRedisStore } from '../../src/mirror/redis-store.ts';
import type { ConsentRecord } from '../../src/domain/types.ts';

// C33 (lru-cache / config): an LRUCache built with `maxSize` but no `sizeCalculation` constructs
// fine and throws `TypeError: invalid size value` on the first `set`, i.e. on the first
// production request. Cache options must be validated at startup and tests must build the cache
// with the production options.

const rec = (i: number): ConsentRecord => ({
  brandCode: 600001, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: `+90532${String(1_000_000 + i)}`,
  status: i % 2 ? 'RET' : 'ONAY', source: 'HS_WEB', consentDate: '2026-03-02 09:14:00',
  creationDate: '2026-03-02 09:15:02', transactionId: '82f3e9c695dc6b8d1b11818d5701919e286de8d47f7c3eb3100c485f79e57828',
});

t.test('the pitfall itself (lru-cache 11): maxSize without sizeCalculation fails on first set', async (t) => {
  const naive = new LRUCache<string, string>({ maxSize: 1000 });
  t.throws(() => naive.set('k', 'v'), TypeError);
});

t.test('production options (config defaults) build a working cache', async (t) => {
  const cfg = configSchema.parse({});
  const cache = new ConsentCache({ maxEntries: cfg.redis.cacheMaxEntries, maxBytes: cfg.redis.cacheMaxBytes });
  cache.enable();
  const token = cache.begin();
  for (let i = 0; i < 1000; i++) cache.fill(token, `f${i}`, i % 10 === 0 ? null : rec(i));
  cache.end();
  t.equal(cache.size, 1000);
  t.equal(cache.lookup('f3')?.recipient, rec(3).recipient);
  t.equal(cache.lookup('f10'), null, 'a known miss is cached as null');
  t.equal(cache.lookup('nope'), undefined);
  t.ok(cache.calculatedBytes > 1000 * 100, `bytes are accounted (${cache.calculatedBytes})`);
});

t.test('maxBytes bounds the cache by the size calculation', async (t) => {
  const cache = new ConsentCache({ maxEntries: 1_000_000, maxBytes: 64 * 1024 });
  cache.enable();
  const token = cache.begin();
  for (let i = 0; i < 5000; i++) cache.fill(token, `f${i}`, rec(i));
  cache.end();
  t.ok(cache.calculatedBytes <= 64 * 1024, `${cache.calculatedBytes} bytes held`);
  t.ok(cache.size > 50 && cache.size < 5000, `${cache.size} entries held`);
  t.equal(cache.lookup('f4999')?.recipient, rec(4999).recipient, 'most recent kept');
  t.equal(cache.lookup('f0'), undefined, 'least recent evicted');
});

t.test('invalid options are refused at construction, listing every issue', async (t) => {
  const bad: unknown[] = [
    { maxSize: 1000 },
    { maxEntries: 0, maxBytes: 1024 * 1024 },
    { maxEntries: 100, maxBytes: 0 },
    { maxEntries: 100, maxBytes: 100 },
    { maxEntries: 1.5, maxBytes: 1024 * 1024 },
    { maxEntries: '100', maxBytes: 1024 * 1024 },
    { maxEntries: 100, maxBytes: 1024 * 1024, ttlMs: -1 },
    null,
  ];
  for (const b of bad) {
    t.throws(() => new ConsentCache(b as never), { code: 'GW_ERR_CONFIG_INVALID' }, JSON.stringify(b));
  }
  t.throws(() => validateCacheOptions({ maxSize: 1000 }), {
    code: 'GW_ERR_CONFIG_INVALID',
    message: /unknown cache option maxSize.*maxEntries must be.*maxBytes must be/,
  });
  // the store refuses to be built (no connection attempted: the port is never contacted)
  t.throws(() => createRedisStore({ url: 'redis://127.0.0.1:1', cache: { maxEntries: 10, maxBytes: 0 } }),
    { code: 'GW_ERR_CONFIG_INVALID' });
  const ok = createRedisStore({ url: 'redis://127.0.0.1:1', cache: { maxEntries: 10, maxBytes: 4096 } });
  t.equal(ok.cache?.options.ttlMs, 60_000, 'defaults filled in');
  await ok.close();
});
