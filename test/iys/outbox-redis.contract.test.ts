import t from 'tap';
import { fleetKeys } from '../../src/iys/fleet-keys.ts';
import { LeaderLease } from '../../src/iys/leader-lease.ts';
import { RedisOutbox } from '../../src/iys/redis-outbox.ts';
import { createRedisStore, type RedisStore } from '../../src/mirror/redis-store.ts';
import { redisAvailable, redisClusterAvailable, startRedis, startRedisCluster } from '../helpers/redis-server.ts';
import { runOutboxContract } from './outbox-contract.ts';

// The outbox contract against the fleet's Redis outbox: one node, and a 3-master Cluster (where
// the outbox item and the mirror write are two steps, outbox first).
const avail = redisAvailable();
if (avail !== true) {
  t.plan(0, avail);
} else {
  let n = 0;
  const suite = async (url: string, cluster: boolean) => {
    const keyPrefix = `obc${process.pid}-${n++}:`;
    const open = async () => {
      const s = createRedisStore({ url, cluster, keyPrefix, cache: false, checkSettings: false });
      await s.open();
      return s;
    };
    const store: RedisStore = await open();
    const keys = fleetKeys(keyPrefix);
    const lease = new LeaderLease({ client: store.redis, keys, leaseMs: 60_000, instanceId: 'leader' });
    await lease.tick();
    if (!lease.isLeader()) throw new Error('lease not acquired');
    const outbox = new RedisOutbox({ store, keys, token: () => lease.token() });
    const other: RedisStore = await open();
    const stale = new RedisOutbox({ store: other, keys, token: () => 'old-leader|0' });
    const extra: RedisStore[] = [];
    return {
      outbox, store, stale,
      reopen: async () => { const s = await open(); extra.push(s); return new RedisOutbox({ store: s, keys, token: () => lease.token() }); },
      cleanup: async () => { await lease.stop(); for (const s of [store, other, ...extra]) await s.close(); },
    };
  };
  t.test('one node', async (t) => {
    const server = await startRedis();
    t.teardown(() => server.cleanup());
    runOutboxContract(t, 'redis', () => suite(server.url, false));
  });
  t.test('3-master cluster', async (t) => {
    const why = redisClusterAvailable();
    if (why !== true) { t.plan(0, why); return; }
    const cluster = await startRedisCluster();
    t.teardown(() => cluster.cleanup());
    runOutboxContract(t, 'redis-cluster', () => suite(cluster.url, true));
  });
}
