/**
 * C12 (field-cases.md): parallel workers each fetch a new OAuth token on expiry/401 and trip
 * İYS's token limit (H084), after which token requests are refused for a long time; per-second
 * limits answer 429 H124. iys-gate: one token broker per credentials (single-flight), refresh
 * before expiry, back off a full hour after H084, retry 429 with jittered back-off.
 */
import t from 'tap';
import { IysClient } from '../../src/iys/client.ts';
import { RateBudget } from '../../src/iys/rate-budget.ts';
import { TokenBroker, sharedTokenBroker } from '../../src/iys/token-broker.ts';
import { startTestSimulator, DEMO } from '../../src/simulator/testing.ts';

const key = { recipient: '+905550000001', recipientType: 'BIREYSEL' as const, type: 'MESAJ' as const };

t.test('3 workers receive 401 at the same moment → one token request', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: '2026-05-12T10:00:00+03:00', clockFrozen: true });
  t.teardown(() => sim.close());
  const budget = new RateBudget({ perSecond: 0 });
  const frozen = Date.parse('2026-05-12T07:00:00Z');
  // Three workers in one process: the shared broker of (baseUrl, username).
  const workers = [1, 2, 3].map(() => new IysClient({
    baseUrl: sim.url, iysCode: DEMO.iysCode, username: DEMO.username, password: DEMO.password, budget, now: () => frozen,
    broker: sharedTokenBroker({ baseUrl: sim.url, username: DEMO.username, password: DEMO.password, budget, now: () => frozen }),
  }));
  t.equal(workers[0]!.broker, workers[2]!.broker, 'one broker per credentials');
  await Promise.all(workers.map((w) => w.getConsentStatus(DEMO.brandCode, key)));
  t.equal(sim.ctx.stats.tokenRequests, 1);
  await sim.advance(2 * 3_600_000 + 1); // every access token expires in İYS; the workers' clock did not move
  const rs = await Promise.all(workers.map((w) => w.getConsentStatus(DEMO.brandCode, key)));
  t.same(rs, [null, null, null]);
  t.equal(sim.ctx.stats.statuses['401'], 3, 'each worker saw a 401');
  t.equal(sim.ctx.stats.tokenRequests, 2, 'one shared refresh');
  t.equal(sim.ctx.stats.refreshGrants, 1);
});

t.test('on H084 stop requesting for the halt time; 429 H124 → jittered retry', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: '2026-05-12T10:00:00+03:00', clockFrozen: true, tokenPerHourLimit: 2 });
  t.teardown(() => sim.close());
  const now = () => sim.ctx.clock.nowMs();
  const budget = new RateBudget({ perSecond: 0 });
  const broker = new TokenBroker({ baseUrl: sim.url, username: DEMO.username, password: DEMO.password, budget, now });
  const sleeps: number[] = [];
  const client = new IysClient({
    baseUrl: sim.url, iysCode: DEMO.iysCode, username: DEMO.username, password: DEMO.password, budget, broker, now,
    retryBaseMs: 100, random: () => 0.25, sleep: async (ms) => { sleeps.push(ms); }, pauseOn429Ms: 0,
  });
  await sim.http('POST', '/oauth2/token', { grant_type: 'password', username: DEMO.username, password: DEMO.password });
  await sim.http('POST', '/oauth2/token', { grant_type: 'password', username: DEMO.username, password: DEMO.password });
  await t.rejects(client.getConsentStatus(DEMO.brandCode, key), { code: 'GW_ERR_IYS_TOKEN_HALTED' });
  const sent = sim.ctx.stats.tokenRequests;
  for (let i = 0; i < 5; i++) {
    await sim.advance(10 * 60_000);
    await t.rejects(client.getConsentStatus(DEMO.brandCode, key), { code: 'GW_ERR_IYS_TOKEN_HALTED' });
  }
  t.equal(sim.ctx.stats.tokenRequests, sent, 'no token request during the halt (İYS would restart its hour)');
  await sim.advance(10 * 60_000 + 1);
  await sim.http('POST', '/_sim/faults', { kind: 'status', status: 429, code: 'H124', times: 2, path: '/consents/status$' });
  t.equal(await client.getConsentStatus(DEMO.brandCode, key), null, 'recovers after the hour; 429s retried');
  t.same(sleeps, [25, 50], 'jitter 0.25 × 100·2^n ms');
});
