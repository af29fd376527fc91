import t, { type Test } from 'tap';
import { RateBudget } from '../../src/iys/rate-budget.ts';
import { TokenBroker } from '../../src/iys/token-broker.ts';
import { startTestSimulator, DEMO } from '../../src/simulator/testing.ts';

const START = '2026-05-12T10:00:00+03:00';

async function setup(t: Test, simOpts = {}) {
  const sim = await startTestSimulator({ clockStartAt: START, clockFrozen: true, ...simOpts });
  t.teardown(() => sim.close());
  const broker = new TokenBroker({ baseUrl: sim.url, username: DEMO.username, password: DEMO.password, now: () => sim.ctx.clock.nowMs() });
  return { sim, broker };
}

t.test('caches the token; concurrent callers share one request (single-flight)', async (t) => {
  const { sim, broker } = await setup(t);
  const tokens = await Promise.all(Array.from({ length: 20 }, () => broker.getAccessToken()));
  t.equal(new Set(tokens).size, 1);
  t.equal(sim.ctx.stats.tokenRequests, 1);
  await broker.getAccessToken();
  t.equal(sim.ctx.stats.tokenRequests, 1, 'never a token per call');
});

t.test('refreshes ~5 min before expiry with the refresh grant, then falls back to password after 4 h', async (t) => {
  const { sim, broker } = await setup(t);
  const first = await broker.getAccessToken();
  await sim.advance(2 * 3_600_000 - 6 * 60_000);
  t.equal(await broker.getAccessToken(), first, '6 min before expiry: cached');
  await sim.advance(2 * 60_000);
  const second = await broker.getAccessToken();
  t.not(second, first, '4 min before expiry: refreshed');
  t.same([sim.ctx.stats.passwordGrants, sim.ctx.stats.refreshGrants], [1, 1]);
  t.same([broker.stats.passwordGrants, broker.stats.refreshGrants], [1, 1]);
  await sim.advance(5 * 3_600_000);
  const third = await broker.getAccessToken();
  t.not(third, second);
  t.same([sim.ctx.stats.passwordGrants, sim.ctx.stats.refreshGrants], [2, 1], 'expired refresh token → password grant, without trying it');
});

t.test('a refused refresh token falls back to the password grant', async (t) => {
  const { sim, broker } = await setup(t);
  const first = await broker.getAccessToken();
  await sim.http('POST', '/_sim/tokens/revoke');
  broker.invalidate(first);
  const next = await broker.getAccessToken();
  t.not(next, first);
  t.same([broker.stats.passwordGrants, broker.stats.refreshGrants, broker.stats.failures], [2, 1, 1], 'refresh tried first, refused, then password');
  t.equal(sim.ctx.stats.tokenRequests, 3);
});

t.test('H084: no token request for a full hour, then it recovers', async (t) => {
  const { sim, broker } = await setup(t, { tokenPerHourLimit: 1 });
  await sim.http('POST', '/oauth2/token', { grant_type: 'password', username: DEMO.username, password: DEMO.password });
  const err = await broker.getAccessToken().catch((e) => e);
  t.equal(err.code, 'GW_ERR_IYS_TOKEN_HALTED');
  t.same(err.iysCodes, ['H084']);
  t.equal(broker.haltedUntil, sim.ctx.clock.nowMs() + 3_600_000);
  const sent = sim.ctx.stats.tokenRequests;
  for (const step of [60_000, 30 * 60_000, 28 * 60_000]) {
    await sim.advance(step);
    await t.rejects(broker.getAccessToken(), { code: 'GW_ERR_IYS_TOKEN_HALTED' });
  }
  t.equal(sim.ctx.stats.tokenRequests, sent, 'nothing sent during the back-off (which would restart İYS\'s hour)');
  await sim.advance(60_001);
  t.type(await broker.getAccessToken(), 'string', 'one hour after H084 the broker asks again and succeeds');
});

t.test('bad credentials: GW_ERR_IYS_AUTH; token requests count against the shared budget', async (t) => {
  const sim = await startTestSimulator();
  t.teardown(() => sim.close());
  const budget = new RateBudget({ tokenPerHour: 2 });
  const bad = new TokenBroker({ baseUrl: sim.url, username: DEMO.username, password: 'wrong', budget });
  const e = await bad.getAccessToken().catch((x) => x);
  t.equal(e.code, 'GW_ERR_IYS_AUTH');
  t.equal(e.iysStatus, 400);
  await t.rejects(bad.getAccessToken(), { code: 'GW_ERR_IYS_AUTH' });
  await t.rejects(bad.getAccessToken(), { code: 'GW_ERR_IYS_BUDGET_EXHAUSTED' }, 'stops before İYS would answer H084');
  t.equal(sim.ctx.stats.tokenRequests, 2);
});
