import t, { type Test } from 'tap';
import { IysClient } from '../../src/iys/client.ts';
import { RateBudget } from '../../src/iys/rate-budget.ts';
import { TokenBroker } from '../../src/iys/token-broker.ts';
import { startTestSimulator, DEMO, type TestSimulator } from '../../src/simulator/testing.ts';

type T = Test;
const START = '2026-05-12T10:00:00+03:00';
const key = { recipient: '+905321234567', recipientType: 'BIREYSEL' as const, type: 'MESAJ' as const };

async function setup(t: T, simOpts = {}, clientOpts: Partial<ConstructorParameters<typeof IysClient>[0]> = {}, clientClock?: () => number) {
  const sim = await startTestSimulator({ clockStartAt: START, clockFrozen: true, ...simOpts });
  t.teardown(() => sim.close());
  const now = clientClock ?? (() => sim.ctx.clock.nowMs());
  const budget = new RateBudget({ perSecond: 0 });
  const broker = new TokenBroker({ baseUrl: sim.url, username: DEMO.username, password: DEMO.password, now, budget });
  const sleeps: number[] = [];
  const client = new IysClient({
    baseUrl: sim.url, iysCode: DEMO.iysCode, username: DEMO.username, password: DEMO.password, budget, broker,
    now: () => sim.ctx.clock.nowMs(), retryBaseMs: 4, retryMaxMs: 50, random: () => 0.5,
    sleep: async (ms) => { sleeps.push(ms); }, ...clientOpts,
  });
  return { sim, client, broker, budget, sleeps };
}
const fault = (sim: TestSimulator, f: object) => sim.http('POST', '/_sim/faults', f);
const consent = (sim: TestSimulator, recipient = '+905321234567') =>
  ({ recipient, type: 'MESAJ' as const, source: 'HS_WEB', status: 'ONAY' as const, consentDate: sim.iysNow(-60_000), recipientType: 'BIREYSEL' as const });

t.test('token expiry mid-run: 401 H351 → one re-authentication (refresh grant) → success', async (t) => {
  // The client's clock does not move; the simulator's does (as if the token expired early).
  const frozen = Date.parse(START);
  const { sim, client, broker } = await setup(t, {}, {}, () => frozen);
  await client.getConsentStatus(DEMO.brandCode, key);
  await sim.advance(2 * 3_600_000 + 1000);
  const r = await client.getConsentStatus(DEMO.brandCode, key);
  t.equal(r, null);
  t.same([broker.stats.passwordGrants, broker.stats.refreshGrants], [1, 1]);
  t.equal(sim.ctx.stats.statuses['401'], 1);
  t.equal(client.attempts, 3);
});

t.test('C12-style: three callers hit 401 at once → one token request', async (t) => {
  const { sim, client, broker } = await setup(t);
  await client.getConsentStatus(DEMO.brandCode, key);
  await sim.http('POST', '/_sim/tokens/revoke');
  const before = sim.ctx.stats.tokenRequests;
  const rs = await Promise.all([1, 2, 3].map(() => client.getConsentStatus(DEMO.brandCode, key)));
  t.same(rs, [null, null, null]);
  t.equal(sim.ctx.stats.tokenRequests - before, 2, 'one refresh attempt (refused: revoked) + one password grant, shared by all three');
  t.equal(broker.stats.passwordGrants, 2);
});

t.test('H084 while fetching a token: GW_ERR_IYS_TOKEN_HALTED, no retries, no further token calls', async (t) => {
  const { sim, client, sleeps } = await setup(t, { tokenPerHourLimit: 1 });
  await sim.http('POST', '/oauth2/token', { grant_type: 'password', username: DEMO.username, password: DEMO.password });
  const e = await client.getConsentStatus(DEMO.brandCode, key).catch((x) => x);
  t.equal(e.code, 'GW_ERR_IYS_TOKEN_HALTED');
  t.same(sleeps, [], 'not retried');
  await t.rejects(client.listBrands(), { code: 'GW_ERR_IYS_TOKEN_HALTED' });
  t.equal(sim.ctx.stats.tokenRequests, 2);
});

t.test('429 burst: retried with jittered back-off and a shared pause, then succeeds', async (t) => {
  const { sim, client, sleeps } = await setup(t, {}, { pauseOn429Ms: 5 });
  await client.listBrands();
  await fault(sim, { kind: 'status', status: 429, code: 'H124', times: 3, path: '/consents/status$' });
  t.equal(await client.getConsentStatus(DEMO.brandCode, key), null);
  t.same(sleeps, [2, 4, 8], 'full jitter (random 0.5) over 4·2^n ms');
  t.equal(sim.ctx.stats.statuses['429'], 3);
  await fault(sim, { kind: 'status', status: 429, code: 'H124', times: 10 });
  const e = await client.listBrands().catch((x) => x);
  t.equal(e.code, 'GW_ERR_IYS_RATE_LIMITED');
  t.same(e.iysCodes, ['H124']);
});

t.test('5xx (H015, H192) retried; a 4xx other than the retryable ones is never retried', async (t) => {
  const { sim, client, sleeps } = await setup(t);
  await fault(sim, { kind: 'status', status: 500, code: 'H015', times: 1 });
  await fault(sim, { kind: 'status', status: 503, code: 'H192', times: 1 });
  const w = await client.addConsent(DEMO.brandCode, consent(sim));
  t.match(w.transactionId, /^[0-9a-f]{64}$/);
  t.equal(sleeps.length, 2);
  sleeps.length = 0;
  await fault(sim, { kind: 'status', status: 500, times: 10 });
  const down = await client.listBrands().catch((x) => x);
  t.equal(down.code, 'GW_ERR_IYS_UNAVAILABLE');
  t.equal(sleeps.length, 3, 'maxRetries 3');
  await sim.http('DELETE', '/_sim/faults');
  sleeps.length = 0;
  const before = client.attempts;
  const h178 = await client.addConsent(DEMO.brandCode, { ...consent(sim), status: 'RET', consentDate: sim.iysNow(-3_600_000) }).catch((x) => x);
  t.equal(h178.code, 'GW_ERR_IYS_REJECTED');
  t.equal(h178.iysStatus, 400);
  t.same(h178.iysCodes, ['H178']);
  t.equal(client.attempts - before, 1);
  t.same(sleeps, []);
  await fault(sim, { kind: 'status', status: 400, code: 'H123', times: 1 });
  t.type(await client.listBrands(), Array, 'H123 (service busy, HTTP 400) is retryable');
});

t.test('timeouts and dropped connections: idempotent calls retried, v1 writes not', async (t) => {
  const { sim, client } = await setup(t, {}, { timeoutMs: 100 });
  await client.listBrands();
  await fault(sim, { kind: 'delay', delayMs: 400, times: 1, path: '/consents/status$' });
  t.equal(await client.getConsentStatus(DEMO.brandCode, key), null, 'timed out once, retried');
  await fault(sim, { kind: 'drop', times: 1, path: '/consents$' });
  const w = await client.addConsent(DEMO.brandCode, consent(sim));
  t.match(w.transactionId, /^[0-9a-f]{64}$/, 'v2 write retried after a dropped connection');
  t.equal(sim.ctx.state.movements.length, 1);
  await fault(sim, { kind: 'drop', times: 1, path: '/consents$' });
  const e = await client.addConsent(DEMO.brandCode, consent(sim, '+905321234568'), { v1: true }).catch((x) => x);
  t.equal(e.code, 'GW_ERR_IYS_UNAVAILABLE', 'v1 write: outcome unknown, not resent');
  await fault(sim, { kind: 'delay', delayMs: 400, times: 1, path: '/consents$' });
  const to = await client.addConsent(DEMO.brandCode, consent(sim, '+905321234569'), { v1: true }).catch((x) => x);
  t.equal(to.code, 'GW_ERR_IYS_TIMEOUT');
  t.equal(to.statusCode, 504);
});

t.test('shared rate budget keeps concurrent callers under 10/s against the real limit', async (t) => {
  const sim = await startTestSimulator({ perSecondLimit: 10 });
  t.teardown(() => sim.close());
  const budget = new RateBudget();
  const broker = new TokenBroker({ baseUrl: sim.url, username: DEMO.username, password: DEMO.password, budget });
  const mk = () => new IysClient({ baseUrl: sim.url, iysCode: DEMO.iysCode, username: DEMO.username, password: DEMO.password, budget, broker });
  const clients = [mk(), mk(), mk()];
  const calls = Array.from({ length: 24 }, (_, i) => clients[i % 3]!.getConsentStatus(DEMO.brandCode, key));
  const rs = await Promise.all(calls);
  t.equal(rs.length, 24);
  t.equal(sim.ctx.stats.statuses['429'] ?? 0, 0, 'no H124');
  t.equal(sim.ctx.stats.tokenRequests, 1);
  t.equal(budget.granted, 25, '24 calls and the one token request');
});
