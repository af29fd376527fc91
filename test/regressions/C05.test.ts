/**
 * C05 (field-cases.md): İYS refuses a first-ever RET (H175) and a repeat of the current status
 * (H174). A naive opt-out reporter retries these forever or marks the opt-out failed.
 * iys-gate's client reports refusals idempotently: H175 → `nothing_to_revoke`, H174 →
 * `already_refused`; neither is retried (one attempt each against the simulator).
 */
import t from 'tap';
import { IysClient } from '../../src/iys/client.ts';
import { RateBudget } from '../../src/iys/rate-budget.ts';
import { TokenBroker } from '../../src/iys/token-broker.ts';
import { startTestSimulator, DEMO } from '../../src/simulator/testing.ts';

t.test('(a) RET with no İYS record; (b) second RET the next day', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: '2026-05-12T10:00:00+03:00', clockFrozen: true });
  t.teardown(() => sim.close());
  const now = () => sim.ctx.clock.nowMs();
  const budget = new RateBudget({ perSecond: 0 });
  const sleeps: number[] = [];
  const client = new IysClient({
    baseUrl: sim.url, iysCode: DEMO.iysCode, username: DEMO.username, password: DEMO.password, budget, now,
    broker: new TokenBroker({ baseUrl: sim.url, username: DEMO.username, password: DEMO.password, now, budget }),
    sleep: async (ms) => { sleeps.push(ms); },
  });
  const ret = () => ({ recipient: '+905550000002', type: 'MESAJ' as const, recipientType: 'BIREYSEL' as const, source: 'HS_MESAJ', consentDate: sim.iysNow(-60_000) });

  const a = await client.reportRefusal(DEMO.brandCode, ret());
  t.same(a, { outcome: 'nothing_to_revoke', code: 'H175' });
  t.equal(sim.ctx.stats.statuses['400'], 1);

  // The number later gets an ONAY, then a RET, then (next day) the same RET again.
  await client.addConsent(DEMO.brandCode, { ...ret(), status: 'ONAY', consentDate: sim.iysNow(-120_000) });
  t.equal((await client.reportRefusal(DEMO.brandCode, ret())).outcome, 'registered');
  await sim.advance(24 * 3_600_000);
  const b = await client.reportRefusal(DEMO.brandCode, ret());
  t.same(b, { outcome: 'already_refused', code: 'H174' });
  t.equal(client.attempts, 4, 'one request per report: never retried');
  t.same(sleeps, []);
  t.equal(sim.ctx.stats.statuses['400'], 2);
});
