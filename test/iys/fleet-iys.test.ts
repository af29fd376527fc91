import t from 'tap';
import { Redis } from 'ioredis';
import { IysClient } from '../../src/iys/client.ts';
import { FleetRateBudget, RedisSharedToken } from '../../src/iys/fleet-iys.ts';
import { fleetKeys } from '../../src/iys/fleet-keys.ts';
import { TokenBroker } from '../../src/iys/token-broker.ts';
import { DEMO, startTestSimulator } from '../../src/simulator/testing.ts';
import { redisAvailable, startRedis } from '../helpers/redis-server.ts';

// Issue 17: three instances of a fleet (each its own Redis connection, budget and broker) calling
// İYS at once, as routes do on any instance: one token for all of them, and the fleet's requests
// inside one rate budget, counted at the simulator.
const avail = redisAvailable();
if (avail !== true) {
  t.plan(0, avail);
} else {
  t.test('three instances: one token request, one per-second budget for all their calls', async (t) => {
    const redis = await startRedis();
    t.teardown(() => redis.cleanup());
    const at: Array<{ ms: number; op: string }> = [];
    const sim = await startTestSimulator({ perSecondLimit: 0 }, { onExchange: (e) => { at.push({ ms: performance.now(), op: e.operationId ?? e.url }); } });
    t.teardown(() => sim.close());
    const keys = fleetKeys(`fiys${process.pid}:`);
    const PER_SECOND = 4;
    const instances = await Promise.all([0, 1, 2].map(async () => {
      const c = new Redis(redis.url);
      t.teardown(() => c.quit());
      const budget = new FleetRateBudget({ client: c, keys, perSecond: PER_SECOND });
      const broker = new TokenBroker({ baseUrl: sim.url, username: DEMO.username, password: DEMO.password, budget, shared: new RedisSharedToken({ client: c, keys, username: DEMO.username }) });
      return { budget, broker, client: new IysClient({ baseUrl: sim.url, iysCode: DEMO.iysCode, username: DEMO.username, password: DEMO.password, budget, broker }) };
    }));
    const PER_INSTANCE = 5;
    const started = performance.now();
    await Promise.all(instances.flatMap((i) => Array.from({ length: PER_INSTANCE }, () => i.client.listBrands())));
    const took = performance.now() - started;
    const grants = instances.reduce((n, i) => n + i.broker.stats.passwordGrants + i.broker.stats.refreshGrants, 0);
    t.equal(grants, 1, 'one token request for the three instances');
    t.equal(at.filter((e) => /token/i.test(e.op)).length, 1, 'the simulator saw one token request');
    const calls = at.filter((e) => !/token/i.test(e.op));
    t.equal(calls.length, 3 * PER_INSTANCE, 'every call reached İYS');
    // no 1000 ms span at the simulator holds more than the budget (token request included; grants 1100 ms apart per window, the default, so ≤ 100 ms of arrival jitter stays inside)
    let worst = 0;
    for (const e of at) worst = Math.max(worst, at.filter((x) => x.ms >= e.ms && x.ms < e.ms + 1000 - 30).length);
    t.ok(worst <= PER_SECOND, `at most ${PER_SECOND} requests in any second at the simulator, over the fleet (worst ${worst})`);
    t.ok(took >= ((3 * PER_INSTANCE + 1) / PER_SECOND - 1) * 1100, `paced for the fleet, not per instance: ${Math.round(took)} ms for ${3 * PER_INSTANCE + 1} requests`);
    t.comment(`fleet slots granted per instance: ${instances.map((i) => i.budget.fleetStats.granted).join(', ')}; waits ${instances.map((i) => i.budget.fleetStats.waits).join(', ')}`);

    // İYS refuses the token (401 H351): every instance that used it drops it (as each 401 does), then all
    // ask at once: ONE new token for the fleet, shared by the three. (The earlier form invalidated each
    // instance's freshly fetched token in turn, which itself forced extra grants: flaky in CI.)
    const before = grants;
    const old = await instances[0]!.broker.getAccessToken();
    for (const i of instances) i.broker.invalidate(old);
    await new Promise((r) => setTimeout(r, 200)); // the shared copy's drop is fire-and-forget
    const tokens = await Promise.all(instances.map((i) => i.broker.getAccessToken()));
    t.equal(new Set(tokens).size, 1, 'the three share the new token');
    t.not(tokens[0], old, 'the refused token is not handed out again');
    t.equal(instances.reduce((n, i) => n + i.broker.stats.passwordGrants + i.broker.stats.refreshGrants, 0) - before, 1, 'one new token for the fleet, not one per instance');
    t.equal(at.filter((e) => /token/i.test(e.op)).length, 2, 'the simulator saw the second token request only once');
  });
}
