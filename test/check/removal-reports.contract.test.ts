import t, { type Test } from 'tap';
import { Redis } from 'ioredis';
import { RedisReports, RemovalReports, reportChanged, type RemovalReport } from '../../src/check/removal-reports.ts';
import { redisAvailable, redisClusterAvailable, startRedis, startRedisCluster } from '../helpers/redis-server.ts';

// The removal-report contract, one suite for both twins: in memory (one gateway: the instance that
// made a report serves it) and shared through Redis (a fleet: another instance finds it), on one
// node and on a 3-master Cluster (one key per report, tagged by its own id).
interface Under { made: RemovalReports; reader: RemovalReports; clock: { now: number }; cleanup(): Promise<void> }

const report = (r: RemovalReports, over: Partial<RemovalReport> = {}): RemovalReport => ({
  id: r.newId(), upstream: 'netgsm', brandCode: 700001, requestId: 'req-1', createdAt: '2026-12-02T05:00:00.000Z',
  declaredMessageType: 'TICARI', checkedMessageType: 'TICARI', promotional: null,
  counts: { received: 3, forwarded: 2, removed: 1 }, removed: [{ index: 1, input: '05321234567', recipient: '+905321234567', reason: 'CONSENT_RET' }],
  outcome: 'forwarded', upstreamStatus: null, open: false, ...over,
});

const settle = async (fn: () => Promise<boolean>) => { for (let i = 0; i < 100 && !(await fn()); i++) await new Promise((r) => setTimeout(r, 10)); };

function contract(t: Test, name: string, factory: () => Promise<Under>) {
  t.test(`${name}: put, then found; a change after put is what is found; unknown ids are null`, async (t) => {
    const u = await factory();
    t.teardown(() => u.cleanup());
    const r = report(u.made);
    u.made.put(r);
    await settle(async () => (await u.reader.find(r.id)) !== null);
    t.same(await u.reader.find(r.id), r, 'the report, whole');
    r.upstreamStatus = 200;
    reportChanged(r);
    await settle(async () => (await u.reader.find(r.id))?.upstreamStatus === 200);
    t.equal((await u.reader.find(r.id))?.upstreamStatus, 200, 'the upstream status set after put');
    t.equal(await u.reader.find(u.made.newId()), null, 'an unknown id');
    t.not(u.made.newId(), u.made.newId(), 'fresh ids');
  });
  t.test(`${name}: gone after its TTL`, async (t) => {
    const u = await factory();
    t.teardown(() => u.cleanup());
    const r = report(u.made);
    u.made.put(r);
    await settle(async () => (await u.reader.find(r.id)) !== null);
    u.clock.now += 400; // past the 300 ms TTL of the suite's stores (Redis: a real PX of 300 ms)
    await new Promise((res) => setTimeout(res, 400));
    t.equal(await u.reader.find(r.id), null, 'expired');
  });
}

contract(t, 'memory', async () => {
  const clock = { now: 1_000_000 };
  const m = new RemovalReports({ ttlMs: 300, now: () => clock.now });
  return { made: m, reader: m, clock, cleanup: async () => {} };
});

const avail = redisAvailable();
if (avail === true) {
  const redisSuite = (url: () => string, cluster: boolean) => async (): Promise<Under> => {
    const clients: Array<Redis | InstanceType<typeof Redis.Cluster>> = [];
    const client = () => {
      const c = cluster ? new Redis.Cluster([{ host: '127.0.0.1', port: Number(new URL(url()).port) }]) : new Redis(url());
      clients.push(c);
      return c;
    };
    const clock = { now: 1_000_000 };
    const prefix = `rrc${process.pid}:`;
    const made = new RemovalReports({ ttlMs: 300, now: () => clock.now, shared: new RedisReports({ client: client(), keyPrefix: prefix }) });
    const reader = new RemovalReports({ ttlMs: 300, now: () => clock.now, shared: new RedisReports({ client: client(), keyPrefix: prefix }) });
    return { made, reader, clock, cleanup: async () => { for (const c of clients) await c.quit(); } };
  };
  t.test('redis', async (t) => {
    const server = await startRedis();
    t.teardown(() => server.cleanup());
    contract(t, 'redis', redisSuite(() => server.url, false));
  });
  t.test('redis cluster', async (t) => {
    const why = redisClusterAvailable();
    if (why !== true) { t.plan(0, why); return; }
    const c = await startRedisCluster();
    t.teardown(() => c.cleanup());
    contract(t, 'redis-cluster', redisSuite(() => c.url.split(',')[0]!.trim(), true));
  });
} else {
  t.comment(avail);
}
