// Issue 17: İYS's load of a fleet is one gateway's, over 10 minutes of simulated time. Three
// instances (each its own Redis connection, IysIntegration and lease) on one private
// redis-server, against one with a single instance, both driven by the same simulated clock
// (the İYS simulator's and the gateways' `now`): every 10 s of simulated time every instance runs
// its upload timer, every 5 min its pull timer, and refusals arrive on any instance. The requests
// are counted at the simulator.
import t from 'tap';
import pino from 'pino';
import { rmSync } from 'node:fs';
import { configSchema } from '../../src/config/schema.ts';
import { IysIntegration } from '../../src/iys/integration.ts';
import { createRedisStore, type RedisStore } from '../../src/mirror/redis-store.ts';
import { DEMO, startTestSimulator } from '../../src/simulator/testing.ts';
import { redisAvailable, startRedis } from '../helpers/redis-server.ts';

const avail = redisAvailable();
if (avail !== true) {
  t.plan(0, avail);
} else {
  t.test('10 minutes of simulated pull and upload cycles: three instances cost İYS what one does', async (t) => {
    const redis = await startRedis();
    t.teardown(() => redis.cleanup());
    const run = async (instances: number, prefix: string) => {
      const counts = { total: 0, byOp: new Map<string, number>() };
      const sim = await startTestSimulator({ batchDelayMs: 1000, perSecondLimit: 0, clockStartAt: '2026-03-12T10:00:00+03:00', clockFrozen: true }, {
        onExchange: (e) => { counts.total++; const op = e.operationId ?? e.url; counts.byOp.set(op, (counts.byOp.get(op) ?? 0) + 1); },
      });
      t.teardown(() => sim.close());
      const now = () => sim.ctx.clock.nowMs();
      const config = configSchema.parse({
        dataDir: '/nonexistent-scratch', redis: { keyPrefix: prefix },
        iys: { baseUrl: sim.url, iysCode: DEMO.iysCode, username: DEMO.username, password: DEMO.password, brands: [DEMO.brandCode], leaseMs: 15_000, reconcileDaily: false },
      });
      const gws: Array<{ store: RedisStore; iys: IysIntegration }> = [];
      for (let i = 0; i < instances; i++) {
        const store = createRedisStore({ url: redis.url, keyPrefix: prefix, cache: false, checkSettings: false });
        await store.open();
        const iys = new IysIntegration({ config: { ...config, dataDir: `/tmp/iysgate-simtime-${process.pid}-${prefix}${i}` }, store, log: pino({ level: 'silent' }), onFresh: () => {}, now });
        await iys.open();
        gws.push({ store, iys });
      }
      t.teardown(async () => {
        for (const g of gws) { await g.iys.close(); await g.store.close(); }
        for (let i = 0; i < instances; i++) rmSync(`/tmp/iysgate-simtime-${process.pid}-${prefix}${i}`, { recursive: true, force: true });
      });
      for (const g of gws) await g.iys.lease!.tick(); // the lease timers' first attempt
      const leaders = gws.filter((g) => g.iys.lease!.isLeader()).length;
      let refusals = 0;
      // 10 minutes: 60 upload ticks (every 10 s), a pull cycle at 0 and every 5 min
      for (let s = 0; s < 600; s += 10) {
        if (s % 60 === 0) {
          // a refusal a minute, on instance s/60 mod n
          const g = gws[(s / 60) % gws.length]!;
          await g.iys.outbox.add([{ brandCode: DEMO.brandCode, origin: 'rejection', receivedAt: new Date(now()).toISOString(), deadline: '2026-03-16',
            consent: { recipient: `+9053277${String(10_000 + refusals++)}`, type: 'MESAJ', recipientType: 'BIREYSEL', status: 'RET', source: 'HS_WEB', consentDate: '2026-03-12 10:00:00' } }], now());
        }
        for (const g of gws) await g.iys.lease!.tick(); // renewals (real time: well inside the 15 s lease)
        if (s % 300 === 0) for (const g of gws) await g.iys.timed('pull');
        for (const g of gws) await g.iys.timed('upload');
        await sim.advance(10_000);
      }
      const open = (await gws[0]!.iys.outbox.due(Number.MAX_SAFE_INTEGER)).length;
      const sent = gws.map((g) => g.iys.workClient!.attempts);
      return { counts, leaders, refusals, open, sent };
    };
    const one = await run(1, `simtime1-${process.pid}:`);
    const three = await run(3, `simtime3-${process.pid}:`);
    t.equal(three.leaders, 1, 'one of the three leads');
    t.equal(one.refusals, 10);
    t.equal(one.open, 0, 'one instance: every refusal reported within the 10 minutes');
    t.equal(three.open, 0, 'three instances: every refusal reported within the 10 minutes');
    t.ok(one.counts.total > 0, `one instance: ${one.counts.total} İYS requests in 10 simulated minutes`);
    t.equal(three.counts.total, one.counts.total, `three instances: ${three.counts.total} İYS requests, as one instance's ${one.counts.total}`);
    t.same(Object.fromEntries(three.counts.byOp), Object.fromEntries(one.counts.byOp), 'the same requests operation by operation');
    t.equal(three.sent.filter((n) => n > 0).length, 1, `only the leader sent (per instance: ${three.sent.join(', ')})`);
    t.comment(`requests by operation over 10 simulated minutes: ${JSON.stringify(Object.fromEntries(one.counts.byOp))}`);
  });
}
