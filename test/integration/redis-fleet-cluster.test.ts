// Issue 17 on a 3-master Redis Cluster: the fleet keys share the `{fleet}` hash tag, so the
// fenced scripts (lease check + outbox write) run in one slot while the mirror's buckets spread
// over the masters. Three gateways: refusals on all three, the leader killed (kill -9) and its
// data directory deleted, another leads within leaseMs, every refusal reaches İYS exactly once,
// and the followers send İYS nothing; then the new leader paused past its lease (SIGSTOP) and
// resumed: the other leads, the resumed one sends nothing, every refusal once at İYS.
import t from 'tap';
import { rmSync } from 'node:fs';
import { killHard } from '../helpers/process.ts';
import { redisClusterAvailable, startRedisCluster } from '../helpers/redis-server.ts';
import { LEASE_MS, agreedLeader, metric, outbox, recipientOf, refuse, seedOnay, simRecords, startFleet, until, type Instance } from '../helpers/fleet.ts';

t.setTimeout(400_000);
const avail = redisClusterAvailable();
if (avail !== true) {
  t.plan(0, avail);
} else {
  t.test('three gateways on a 3-master Cluster: kill -9 of the leader, exactly once at İYS', async (t) => {
    const cluster = await startRedisCluster();
    t.teardown(() => cluster.cleanup());
    const f = await startFleet({ redisUrl: cluster.url, cluster: true, keyPrefix: 'fleetc:', teardown: (fn) => t.teardown(fn) });
    const N = 30;
    await seedOnay(f.sim, Array.from({ length: N + 20 }, (_, i) => recipientOf(i)));
    let live: Instance[] = await Promise.all([f.start(), f.start(), f.start()]);
    const first = await agreedLeader(live, 10_000);
    const statuses = await Promise.all(Array.from({ length: N }, (_, i) => refuse(live[i % 3]!, i)));
    t.same(statuses.filter((s) => s !== 201), [], `${N} refusals acknowledged across the three instances`);
    const followers = live.filter((i) => i !== first);
    const followerRequests = await Promise.all(followers.map((i) => metric(i, 'iysgate_iys_requests_total')));
    t.same(followerRequests, [0, 0], 'the followers have sent İYS nothing');
    await killHard(first.child);
    const killedAt = Date.now();
    rmSync(first.dataDir, { recursive: true, force: true });
    live = followers;
    const next = await agreedLeader(live, 10_000, first.id);
    const takeover = next.since - killedAt;
    t.ok(takeover <= LEASE_MS, `${next.name} leads ${takeover} ms after the kill (leaseMs ${LEASE_MS})`);
    t.same((await Promise.all(Array.from({ length: 10 }, (_, j) => refuse(live[j % 2]!, N + j)))).filter((s) => s !== 201), [], '10 more on the survivors');
    const ob = await until('outbox drained', 60_000, async () => {
      const o = await outbox(live[0]!);
      return o.summary.pending + o.summary.submitted === 0 && o.items.length === N + 10 ? o : undefined;
    });
    t.same(ob.items.filter((i: any) => i.state !== 'done' || !['registered', 'already_refused'].includes(i.outcome)), [], 'every item done');
    const recs = simRecords(f.sim, Array.from({ length: N + 10 }, (_, i) => recipientOf(i)));
    t.same([...recs].filter(([, n]) => n !== 1), [], `each of the ${N + 10} refusals recorded by İYS exactly once`);
    const other = live.find((i) => i !== next)!;
    t.equal(await metric(other, 'iysgate_iys_requests_total'), 0, 'the remaining follower never sent İYS a request');

    // the leader paused past its lease (SIGSTOP) and resumed: the other leads, the resumed one's
    // writes are refused by the fence and it sends nothing more
    next.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    const third = await agreedLeader([other], 10_000, next.id);
    t.ok(third.since - stoppedAt <= LEASE_MS, `${third.name} leads ${third.since - stoppedAt} ms after the leader was paused`);
    t.same((await Promise.all(Array.from({ length: 10 }, (_, j) => refuse(other, N + 10 + j)))).filter((s) => s !== 201), [], '10 refusals while the former leader is paused');
    next.child.kill('SIGCONT');
    const total = N + 20;
    const ob2 = await until('outbox drained after SIGSTOP', 60_000, async () => {
      const o = await outbox(other);
      return o.summary.pending + o.summary.submitted === 0 && o.items.length === total ? o : undefined;
    });
    t.same(ob2.items.filter((i: any) => i.state !== 'done'), [], 'every item done');
    const sentByPaused = await metric(next, 'iysgate_iys_requests_total');
    await new Promise((r) => setTimeout(r, 1000));
    t.equal(await metric(next, 'iysgate_iys_requests_total'), sentByPaused, 'the resumed former leader sends İYS nothing more');
    t.ok(await metric(next, 'iysgate_sync_lease_losses_total') >= 1, 'it counted the lost lease');
    const recs2 = simRecords(f.sim, Array.from({ length: total }, (_, i) => recipientOf(i)));
    t.same([...recs2].filter(([, n]) => n !== 1), [], `each of the ${total} refusals recorded by İYS exactly once`);
  });
}
