import t from 'tap';
import { Redis } from 'ioredis';
import { fleetKeys } from '../../src/iys/fleet-keys.ts';
import { LeaderLease } from '../../src/iys/leader-lease.ts';
import { RedisUploadJobs } from '../../src/iys/upload-jobs.ts';
import { createRedisStore, type RedisStore } from '../../src/mirror/redis-store.ts';
import { redisAvailable, redisClusterAvailable, startRedis, startRedisCluster } from '../helpers/redis-server.ts';
import { runUploadJobsContract } from './upload-jobs-contract.ts';

// The upload-job contract against the fleet's Redis job store: one node, and a 3-master Cluster
// (every key under the `{fleet}` tag: the fenced scripts check the lease and write in one slot).
const avail = redisAvailable();
if (avail !== true) {
  t.plan(0, avail);
} else {
  let n = 0;
  const suite = async (url: string, cluster: boolean) => {
    const keyPrefix = `ujc${process.pid}-${n++}:`;
    const open = async () => {
      const s = createRedisStore({ url, cluster, keyPrefix, cache: false, checkSettings: false });
      await s.open();
      return s;
    };
    const stores: RedisStore[] = [await open()];
    const keys = fleetKeys(keyPrefix);
    const lease = new LeaderLease({ client: stores[0]!.redis, keys, leaseMs: 60_000, instanceId: 'leader' });
    await lease.tick();
    if (!lease.isLeader()) throw new Error('lease not acquired');
    const make = (s: RedisStore) => new RedisUploadJobs({ client: s.redis, keys, maxInputBytes: 64 * 1024 * 1024 });
    const other = await open();
    stores.push(other);
    return {
      jobs: make(stores[0]!), token: () => lease.token(), stale: make(other),
      reopen: async () => { const s = await open(); stores.push(s); return make(s); },
      cleanup: async () => { await lease.stop(); for (const s of stores) await s.close(); },
    };
  };
  t.test('one node', async (t) => {
    const server = await startRedis();
    t.teardown(() => server.cleanup());
    runUploadJobsContract(t, 'redis', () => suite(server.url, false));
    t.test('an input past maxInputBytes: 413 GW_ERR_BODY_TOO_LARGE, nothing kept', async (t) => {
      const c = new Redis(server.url);
      t.teardown(() => c.quit());
      const keys = fleetKeys('ujc-big:');
      const jobs = new RedisUploadJobs({ client: c, keys, maxInputBytes: 1000 });
      const job = { id: '00000000-0000-4000-8000-000000000bad', brandCode: 1, state: 'running' as const, createdAt: new Date().toISOString(), progress: { validated: 0, sent: 0, confirmed: 0, total: 0 } };
      await t.rejects(jobs.create(job, (async function* () { yield Buffer.alloc(600); yield Buffer.alloc(600); })()), { code: 'GW_ERR_BODY_TOO_LARGE' });
      t.equal(await jobs.get(job.id), null, 'no job');
      t.same(await c.keys('ujc-big:*'), [], 'no key left');
    });
  });
  t.test('3-master cluster', async (t) => {
    const why = redisClusterAvailable();
    if (why !== true) { t.plan(0, why); return; }
    const cluster = await startRedisCluster();
    t.teardown(() => cluster.cleanup());
    runUploadJobsContract(t, 'redis-cluster', () => suite(cluster.url, true));
  });
}
