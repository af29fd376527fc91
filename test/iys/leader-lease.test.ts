import t from 'tap';
import { fleetKeys } from '../../src/iys/fleet-keys.ts';
import { FleetMeta } from '../../src/iys/fleet-meta.ts';
import { LeaderLease } from '../../src/iys/leader-lease.ts';
import { RedisOutbox } from '../../src/iys/redis-outbox.ts';
import { createRedisStore } from '../../src/mirror/redis-store.ts';
import { redisAvailable, startRedis } from '../helpers/redis-server.ts';

// The İYS-work lease (issue 17): one holder, a fencing token that grows at every acquisition, and
// writes of a holder whose lease passed to another refused in Redis even while its own clock
// still believes it leads (a paused process). Expiry is forced with PEXPIRE (no sleeps).
const avail = redisAvailable();
if (avail !== true) {
  t.plan(0, avail);
} else {
  t.test('one holder; a lost lease fences its former holder\'s outbox and cursor writes', async (t) => {
    const server = await startRedis();
    t.teardown(() => server.cleanup());
    const keyPrefix = 'lease-test:';
    const store = createRedisStore({ url: server.url, keyPrefix, cache: false, checkSettings: false });
    await store.open();
    t.teardown(() => store.close());
    const keys = fleetKeys(keyPrefix);
    const changes: string[] = [];
    const a = new LeaderLease({ client: store.redis, keys, leaseMs: 60_000, instanceId: 'A', onChange: (l) => changes.push(`A:${l}`) });
    const b = new LeaderLease({ client: store.redis, keys, leaseMs: 60_000, instanceId: 'B', onChange: (l) => changes.push(`B:${l}`) });
    await a.tick();
    await b.tick();
    t.equal(a.isLeader(), true, 'A took the free lease');
    t.equal(b.isLeader(), false, 'B waits');
    t.equal(a.fence, 1);
    await a.tick();
    t.equal(a.stats.renewals, 1, 'A renewed');
    const h = await b.holder();
    t.match(h, { instanceId: 'A', fence: 1 }, 'holder as Redis has it');
    t.ok(h!.ttlMs > 0 && h!.ttlMs <= 42_000, `TTL 0.7 × leaseMs at most (${h!.ttlMs} ms)`);

    const obA = new RedisOutbox({ store, keys, token: () => a.token() });
    const obB = new RedisOutbox({ store, keys, token: () => b.token() });
    const metaA = new FleetMeta({ client: store.redis, keys, token: () => a.token(), store });
    const [item] = await obA.add([{ brandCode: 1, origin: 'rejection', receivedAt: '2026-11-30T07:00:00.000Z', deadline: null, consent: { recipient: '+905320000001', type: 'MESAJ', recipientType: 'BIREYSEL', status: 'RET', source: 'HS_WEB', consentDate: '2026-11-30 10:00:00' } }]);
    await obA.update([{ id: item!.id, patch: { claimedAt: 5 } }]);
    await metaA.setMeta('sync.1.HS.after', 'cursor-1');

    // A is "paused": its key expires in Redis while its own clock still holds the lease
    await store.redis.pexpire(keys.lease, 1);
    while (await store.redis.exists(keys.lease)) await new Promise((r) => setImmediate(r));
    await b.tick();
    t.equal(b.isLeader(), true, 'B took over');
    t.equal(b.fence, 2, 'with a higher fencing token');
    t.equal(a.isLeader(), true, 'A\'s local clock still says it leads (paused process)');
    await t.rejects(obA.update([{ id: item!.id, patch: { state: 'done', outcome: 'registered' } }]), { code: 'FENCED' }, 'A\'s outbox write is refused');
    await t.rejects(metaA.setMeta('sync.1.HS.after', 'cursor-0'), { code: 'FENCED' }, 'A cannot move a cursor');
    t.equal(await metaA.getMeta('sync.1.HS.after'), 'cursor-1', 'the cursor is unchanged');
    t.equal((await obB.get(item!.id))?.state, 'pending', 'the item is unchanged');
    await obB.update([{ id: item!.id, patch: { state: 'done', outcome: 'already_refused', claimedAt: 0 } }]);
    t.equal((await obA.get(item!.id))?.state, 'done', 'the new leader writes');
    await a.tick();
    t.equal(a.isLeader(), false, 'A steps down at its next renewal');
    await b.stop();
    t.equal(await store.redis.exists(keys.lease), 0, 'a clean stop releases the lease');
    await a.tick();
    t.equal(a.fence, 3, 'the next acquisition has the next token');
    await a.stop();
    t.same(changes, ['A:true', 'B:true', 'A:false', 'B:false', 'A:true', 'A:false']);
  });
}
