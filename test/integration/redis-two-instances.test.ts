import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedisStore } from '../../src/mirror/redis-store.ts';
import { killHard, startGatewayProcess } from '../helpers/process.ts';
import { redisAvailable, startRedis } from '../helpers/redis-server.ts';

// Issue 4: two gateway processes (`npm start` with IYS_GATE_REDIS_URL) share one Redis mirror; a
// refusal recorded on instance A stops ALLOW on instance B within 100 ms, although B had the
// ONAY in its in-process cache.

const avail = redisAvailable();
if (avail !== true) {
  t.plan(0, avail);
} else {
  t.test('a refusal recorded on A blocks on B within 100 ms', async (t) => {
    const redis = await startRedis();
    t.teardown(() => redis.cleanup());
    const dir = mkdtempSync(join(tmpdir(), 'iys-two-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const keyPrefix = `two${process.pid}:`;
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ redis: { keyPrefix } }));
    const KEY = 'two-instances-key-0123456789';
    const BRAND = 640000;
    const recipients = Array.from({ length: 5 }, (_, i) => `+90532600${String(1000 + i)}`);

    // seed ONAYs through the store API (as an İYS import would)
    const seed = createRedisStore({ url: redis.url, keyPrefix, cache: false, checkSettings: false });
    await seed.open();
    await seed.apply(recipients.map((recipient) => ({ brandCode: BRAND, recipientType: 'BIREYSEL' as const, type: 'MESAJ' as const,
      recipient, status: 'ONAY' as const, source: 'HS_WEB' as const, consentDate: '2026-03-02 09:14:00',
      creationDate: '2026-03-02 09:15:02', transactionId: null })));
    await seed.close();

    const env = (name: string) => ({ IYS_GATE_REDIS_URL: redis.url, IYS_GATE_API_KEY: KEY, IYS_GATE_CONFIG: configFile,
      IYS_GATE_DATA_DIR: join(dir, name) });
    const a = await startGatewayProcess(env('a'));
    t.teardown(() => killHard(a.child));
    const b = await startGatewayProcess(env('b'));
    t.teardown(() => killHard(b.child));
    const post = async (base: string, path: string, body: unknown) => {
      const res = await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body) });
      return { status: res.status, body: await res.json() as Record<string, unknown> };
    };
    for (const base of [a.base, b.base]) {
      const ready = await fetch(`${base}/readyz`);
      t.equal(ready.status, 200, `${base} ready on Redis`);
      t.match(await ready.json(), { store: { kind: 'redis', reachable: true } });
    }

    const delays: number[] = [];
    for (const recipient of recipients) {
      const req = { brandCode: BRAND, recipient, type: 'MESAJ' };
      // warm B's cache with the ONAY
      for (let i = 0; i < 3; i++) t.match((await post(b.base, '/v1/check', req)).body, { decision: 'ALLOW', reason: 'CONSENT_ONAY' });
      // and the batch path's policy views (a different cache entry kind) of another recipient
      const at = recipients.indexOf(recipient);
      const other = recipients[(at + 1) % recipients.length]!;
      const allowed = (at + 1) % recipients.length > at ? 2 : 1; // the first recipient was refused already
      for (let i = 0; i < 2; i++) t.match((await post(b.base, '/v1/check/batch', { brandCode: BRAND, type: 'MESAJ', recipients: [recipient, other] })).body, { counts: { ALLOW: allowed } });
      const rej = await post(a.base, '/v1/rejections', req);
      t.equal(rej.status, 201, 'A acknowledged the refusal');
      const t0 = performance.now();
      let decision: unknown;
      let reason: unknown;
      let batch: unknown;
      while (performance.now() - t0 < 1000) {
        ({ decision, reason } = (await post(b.base, '/v1/check', req)).body);
        batch = ((await post(b.base, '/v1/check/batch', { brandCode: BRAND, type: 'MESAJ', recipients: [recipient] })).body.results as { decision: string }[])[0]?.decision;
        if (decision === 'BLOCK' && batch === 'BLOCK') break;
      }
      t.equal(batch, 'BLOCK', 'B blocks the refused recipient in batches too');
      const ms = performance.now() - t0;
      delays.push(ms);
      t.equal(decision, 'BLOCK', 'B blocks the refused recipient');
      t.equal(reason, 'CONSENT_RET');
    }
    // B's cache gauges: hits served, A's invalidations received, serving
    const metrics = await (await fetch(`${b.base}/metrics`)).text();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    t.ok(gauge('iysgate_cache_hits_total') >= 10, `cache hits on B: ${gauge('iysgate_cache_hits_total')}`);
    t.ok(gauge('iysgate_cache_invalidations_total') >= recipients.length, `invalidations received by B: ${gauge('iysgate_cache_invalidations_total')}`);
    t.equal(gauge('iysgate_cache_serving'), 1);
    t.equal(gauge('iysgate_cache_resets_total'), 0, 'no feed loss: no reset counted (starting does not count)');
    // one cold single check = one miss (newcomer trial: it counted 3)
    const misses = gauge('iysgate_cache_misses_total');
    const fresh = (await post(b.base, '/v1/check', { brandCode: BRAND, recipient: '+905326009999', type: 'MESAJ' })).body;
    t.match(fresh, { decision: 'BLOCK', reason: 'NO_CONSENT' });
    const after = await (await fetch(`${b.base}/metrics`)).text();
    t.equal(Number(/^iysgate_cache_misses_total (\S+)$/m.exec(after)?.[1]) - misses, 1, 'one miss counted for one cold check');
    t.ok(gauge('iysgate_cache_entries') >= 1 && gauge('iysgate_cache_bytes') > 0, 'entries and bytes reported');
    // an import through A makes the shared mirror fresh on B too (B follows the store's meta)
    const t1 = performance.now();
    const csv = 'creationDate,transactionId,recipient,recipientType,type,status,consentDate,source\n'
      + '2026-03-02 09:15:02,,+905326001999,BIREYSEL,MESAJ,ONAY,2026-03-02 09:14:00,HS_WEB\n';
    const imp = await fetch(`${a.base}/v1/mirror/import?brandCode=${BRAND}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'text/csv' }, body: csv });
    t.equal(imp.status, 200, 'import through A');
    let asOf: unknown = null;
    while (asOf === null && performance.now() - t1 < 8000) {
      asOf = (await post(b.base, '/v1/check', { brandCode: BRAND, recipient: '+905326001999', type: 'MESAJ' })).body.asOf;
      if (asOf === null) await new Promise((r) => setTimeout(r, 200));
    }
    t.type(asOf, 'string', `B's asOf follows A's import (${((performance.now() - t1) / 1000).toFixed(1)} s)`);
    const worst = Math.max(...delays);
    t.ok(worst <= 100, `B stopped allowing within ${worst.toFixed(1)} ms of A's 201 (all: ${delays.map((d) => d.toFixed(1)).join(', ')})`);
  });
}
