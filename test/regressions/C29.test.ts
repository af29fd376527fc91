import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createRedisStore } from '../../src/mirror/redis-store.ts';
import { KeyRing } from '../../src/plugins/api-keys.ts';
import { redisAvailable, startRedis } from '../helpers/redis-server.ts';

// C29 (ioredis / availability): with Redis down, commands sit in ioredis's offline queue
// (forever with maxRetriesPerRequest: null, ~20 reconnects by default), so /check hangs instead
// of answering. Expected: bounded latency and fail closed (BLOCK STORE_UNAVAILABLE or 503),
// never ALLOW on a Redis error.

const avail = redisAvailable();
if (avail !== true) {
  t.plan(0, avail);
} else {
  t.test('Redis stopped: /v1/check answers BLOCK STORE_UNAVAILABLE fast, never ALLOW', async (t) => {
    const server = await startRedis(['--appendonly', 'yes']);
    t.teardown(() => server.cleanup());
    const dataDir = mkdtempSync(join(tmpdir(), 'iys-c29-'));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const KEY = 'c29-key-0123456789abcdef';
    // production options: config defaults, Redis URL as IYS_GATE_REDIS_URL would set it
    const config = loadConfig({ env: { IYS_GATE_API_KEY: KEY, IYS_GATE_REDIS_URL: server.url }, overrides: { dataDir, logLevel: 'silent' } });
    const store = createRedisStore({
      url: config.redisUrl!, keyPrefix: `c29:${process.pid}:`, commandTimeoutMs: config.redis.commandTimeoutMs,
      cache: { maxEntries: config.redis.cacheMaxEntries, maxBytes: config.redis.cacheMaxBytes }, checkSettings: false,
    });
    await store.open();
    t.teardown(() => store.close());
    const app = await buildApp(config, { store, keys: new KeyRing(config), logger: false });
    t.teardown(() => app.close());
    const check = async (body: Record<string, unknown>) => {
      const t0 = performance.now();
      const res = await app.inject({ method: 'POST', url: '/v1/check', headers: { authorization: `Bearer ${KEY}` }, payload: body });
      return { ms: performance.now() - t0, status: res.statusCode, body: res.json() as Record<string, unknown> };
    };
    const req = { brandCode: 600029, recipient: '+905550000001', type: 'MESAJ' as const };
    await store.apply([{ ...req, recipientType: 'BIREYSEL', status: 'ONAY', source: 'HS_WEB',
      consentDate: '2026-03-02 09:14:00', creationDate: '2026-03-02 09:15:02', transactionId: null } as const]);
    const up = await check(req);
    t.match(up.body, { decision: 'ALLOW', reason: 'CONSENT_ONAY' }, 'Redis up: ALLOW from the ONAY');
    await check(req); // cached now

    await server.stop();
    // the cache stops serving once the invalidation connection is seen closed (same tick as the
    // socket close): from then on every TICARI answer needs Redis
    for (let i = 0; i < 50 && store.cache!.isEnabled; i++) await new Promise((r) => setTimeout(r, 10));
    t.equal(store.cache!.isEnabled, false, 'cache disabled while Redis is unreachable');
    const slowest: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await check(req);
      slowest.push(r.ms);
      if (r.status === 200) {
        t.match(r.body, { decision: 'BLOCK', reason: 'STORE_UNAVAILABLE' }, `attempt ${i}: fail closed`);
      } else {
        t.equal(r.status, 503, `attempt ${i}: 503`);
      }
    }
    const worst = Math.max(...slowest);
    t.ok(worst < 1000, `every answer bounded (slowest ${worst.toFixed(1)} ms; a queued command would hang)`);
    const info = await check({ ...req, messageType: 'BILGILENDIRME' });
    t.match(info.body, { decision: 'ALLOW', reason: 'INFORMATIONAL_EXEMPT' }, 'informational still allowed');
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    t.equal(ready.statusCode, 503, '/readyz says 503');
    const rej = await app.inject({ method: 'POST', url: '/v1/rejections', headers: { authorization: `Bearer ${KEY}` },
      payload: { brandCode: 600029, recipient: '+905550000002', type: 'MESAJ' } });
    t.not(rej.statusCode, 201, `a refusal is not acknowledged while Redis is down (${rej.statusCode})`);
    t.ok(rej.statusCode >= 500);

    await server.start();
    let back = false;
    for (let i = 0; i < 100 && !back; i++) {
      await new Promise((r) => setTimeout(r, 50));
      back = (await check(req)).body.decision === 'ALLOW';
    }
    t.ok(back, 'recovers by itself once Redis is back (ALLOW from the persisted ONAY)');
  });
}
