// Issue 17: a fleet without pets. Three gateway processes on one private redis-server (AOF on)
// and the İYS simulator: refusals accepted by any instance reach İYS exactly once (the
// simulator's own records) although the leader is killed (kill -9, data directory deleted) or
// paused past its lease (SIGSTOP), and Redis is killed and restarted mid-upload; only the leader
// talks to İYS. Short lease and timers (test/helpers/fleet.ts): seconds, not minutes.
import t from 'tap';
import { rmSync } from 'node:fs';
import { killHard } from '../helpers/process.ts';
import { redisAvailable, startRedis } from '../helpers/redis-server.ts';
import { LEASE_MS, status, agreedLeader, metric, outbox, recipientOf, refuse, seedOnay, simRecords, startFleet, until, type Instance } from '../helpers/fleet.ts';

// three processes on a loaded 2-core box: ~20 s quiet; the default 120 s bound is too short at a load average of 25
t.setTimeout(400_000);
const avail = redisAvailable();
if (avail !== true) {
  t.plan(0, avail);
} else {
  t.test('three gateways, one Redis: kill -9, SIGSTOP, İYS load of one, Redis restart', async (t) => {
    const redis = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    t.teardown(() => redis.cleanup());
    const f = await startFleet({ redisUrl: redis.url, cluster: false, keyPrefix: 'fleet:', teardown: (fn) => t.teardown(fn) });
    await seedOnay(f.sim, Array.from({ length: 80 }, (_, i) => recipientOf(i)));
    const all = await Promise.all([f.start(), f.start(), f.start()]);
    let live: Instance[] = [...all];
    let leader = await agreedLeader(live, 10_000);
    t.pass(`leader ${leader.name} (${leader.id})`);
    let sent = 0;
    const burst = (to: readonly Instance[], count: number) => {
      const base = sent;
      sent += count;
      return Promise.all(Array.from({ length: count }, (_, j) => refuse(to[j % to.length]!, base + j)));
    };
    const drained = (label: string) => until(`${label}: outbox drained`, 30_000, async () => {
      const ob = await outbox(live[0]!);
      return ob.summary.pending + ob.summary.submitted === 0 && ob.items.length === sent ? ob : undefined;
    });
    const exactlyOnce = (label: string) => {
      const recs = simRecords(f.sim, Array.from({ length: sent }, (_, i) => recipientOf(i)));
      const wrong = [...recs].filter(([, n]) => n !== 1);
      t.same(wrong, [], `${label}: each of the ${sent} refusals is recorded by İYS exactly once`);
    };

    // 1. refusals on all three; the leader is killed (kill -9) mid-upload and its data directory deleted
    t.same((await burst(live, 30)).filter((s) => s !== 201), [], '30 refusals acknowledged across the three instances');
    await killHard(leader.child);
    const killedAt = Date.now();
    rmSync(leader.dataDir, { recursive: true, force: true });
    live = live.filter((i) => i !== leader);
    const dead = leader;
    leader = await agreedLeader(live, 10_000, dead.id);
    const takeover = leader.since - killedAt;
    t.ok(takeover <= LEASE_MS, `another instance (${leader.name}) leads ${takeover.toFixed(0)} ms after the kill (leaseMs ${LEASE_MS})`);
    t.same((await burst(live, 10)).filter((s) => s !== 201), [], '10 more refusals on the survivors');
    live.push(await f.start()); // the Deployment replaces the dead instance (empty data directory)
    let ob = await drained('after kill -9');
    t.same(ob.items.filter((i: any) => i.state !== 'done' || !['registered', 'already_refused'].includes(i.outcome)), [], 'every item done: registered (or H174 after a reclaim)');
    t.comment(`outcomes: ${JSON.stringify(ob.items.reduce((a: Record<string, number>, i: any) => ({ ...a, [i.outcome]: (a[i.outcome] ?? 0) + 1 }), {}))}, reclaimed ${ob.items.filter((i: any) => i.attempts > 1).length} re-sent`);
    const today = new Date(Date.now() + 3 * 3_600_000).toISOString().slice(0, 10);
    t.same(ob.items.filter((i: any) => i.deadline < today), [], 'all before their deadline');
    exactlyOnce('after kill -9');

    // 2. the leader paused past its lease (SIGSTOP), resumed later: it leads no more, sends nothing
    const paused = leader;
    const followers = live.filter((i) => i !== paused);
    const burstDone = burst(live, 10); // some reach the paused instance only after it resumes
    paused.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    leader = await agreedLeader(followers, 10_000, paused.id);
    const takeover2 = leader.since - stoppedAt;
    t.ok(takeover2 <= LEASE_MS, `${leader.name} leads ${takeover2.toFixed(0)} ms after the leader was paused`);
    t.same((await burst(followers, 10)).filter((s) => s !== 201), [], 'refusals accepted while the former leader is paused');
    paused.child.kill('SIGCONT');
    t.same((await burstDone).filter((s) => s !== 201), [], 'refusals sent around the pause acknowledged');
    ob = await drained('after SIGSTOP');
    // the resumed former leader's own clock says its lease lapsed: it sends nothing more (step 3
    // counts its requests over 12 cycles as a follower's)
    t.ok(await metric(paused, 'iysgate_sync_lease_losses_total') >= 1, 'the resumed former leader counted the lost lease');
    t.equal((await status(paused.base)).leader.self, false, 'and does not lead');
    live = [...followers, paused];
    exactlyOnce('after SIGSTOP');

    // 3. İYS load of one instance: over 12 pull cycles the followers send nothing and the
    // simulator sees what the leader sends
    const before = await Promise.all(live.map((i) => metric(i, 'iysgate_iys_requests_total')));
    const simBefore = f.requests.total;
    const cycles = 12;
    const windowStart = performance.now();
    await until('12 pull cycles', 30_000, async () => (performance.now() - windowStart >= cycles * 250 ? true : undefined));
    const delta = (await Promise.all(live.map((i) => metric(i, 'iysgate_iys_requests_total')))).map((n, k) => n - before[k]!);
    const simDelta = f.requests.total - simBefore;
    const li = live.indexOf(leader);
    t.equal(live.length, 3);
    t.same(delta.filter((_, k) => k !== li), [0, 0], 'the followers (the resumed former leader one of them) sent no İYS request');
    t.ok(Math.abs(simDelta - delta[li]!) <= 2, `the simulator counted ${simDelta} requests, the leader sent ${delta[li]} (in flight at the edges: ≤ 2)`);
    t.ok(delta[li]! > 0 && delta[li]! <= cycles * 3 + 3, `one instance's load: ${delta[li]} requests in ${cycles} cycles of 2 feeds`);

    // 4. Redis killed (kill -9, AOF always) mid-upload and restarted: nothing lost, nothing twice
    t.same((await burst(live, 20)).filter((s) => s !== 201), [], '20 refusals acknowledged before the Redis crash');
    await redis.kill();
    await redis.start();
    ob = await drained('after the Redis restart');
    t.equal(ob.items.length, sent, `all ${sent} items survived the restart`);
    exactlyOnce('after the Redis restart');
    t.comment(`simulator requests by operation: ${JSON.stringify(Object.fromEntries(f.requests.byOp))}`);
  });
}
