import t, { type Test } from 'tap';
import { classifyBatchResults, IysClient, isCursorStale } from '../../src/iys/client.ts';
import { RateBudget } from '../../src/iys/rate-budget.ts';
import { TokenBroker } from '../../src/iys/token-broker.ts';
import { startTestSimulator, DEMO, type TestSimulator } from '../../src/simulator/testing.ts';

type T = Test;
const START = '2026-05-12T10:00:00+03:00';

/** A simulator and a client sharing its clock; retries back off 1–2 ms. */
async function setup(t: T, simOpts = {}, clientOpts: Partial<ConstructorParameters<typeof IysClient>[0]> = {}) {
  const sim = await startTestSimulator({ clockStartAt: START, clockFrozen: true, ...simOpts });
  t.teardown(() => sim.close());
  const now = () => sim.ctx.clock.nowMs();
  const budget = new RateBudget({ perSecond: 0 });
  const broker = new TokenBroker({ baseUrl: sim.url, username: DEMO.username, password: DEMO.password, now, budget });
  const client = new IysClient({
    baseUrl: sim.url, iysCode: DEMO.iysCode, username: DEMO.username, password: DEMO.password,
    budget, broker, now, retryBaseMs: 1, retryMaxMs: 2, random: () => 0.5, ...clientOpts,
  });
  return { sim, client, broker, budget };
}
const consent = (sim: TestSimulator, recipient = '+905321234567', status: 'ONAY' | 'RET' = 'ONAY') =>
  ({ recipient, type: 'MESAJ' as const, source: 'HS_WEB', status, consentDate: sim.iysNow(-60_000), recipientType: 'BIREYSEL' as const });

t.test('typed calls: write (v2), status, multi-status, history, pull, brands, file, agreement, push', async (t) => {
  const { sim, client } = await setup(t, { pushAllowHttp: false });
  const w = await client.addConsent(DEMO.brandCode, consent(sim));
  t.match(w.transactionId, /^[0-9a-f]{64}$/);
  t.equal(sim.ctx.stats.requests.addConsentV2, 1, 'v2 preferred');
  const st = await client.getConsentStatus(DEMO.brandCode, { recipient: '+905321234567', recipientType: 'BIREYSEL', type: 'MESAJ' });
  t.equal(st?.status, 'ONAY');
  t.equal(st?.transactionId, w.transactionId);
  t.equal(await client.getConsentStatus(DEMO.brandCode, { recipient: '+905321234568', recipientType: 'BIREYSEL', type: 'MESAJ' }), null);
  const multi = await client.getConsentStatuses(DEMO.brandCode, 'BIREYSEL', 'MESAJ', ['+905321234567', '+905321234568']);
  t.same(multi.list, ['+905321234567']);
  const h = await client.getConsentHistory(DEMO.brandCode, { recipient: '+905321234567', recipientType: 'BIREYSEL', type: 'MESAJ' }, { limit: 10 });
  t.equal(h.pagination.totalCount, 1);
  t.equal(await client.pullChanges(DEMO.brandCode, { source: 'HS' }), null, 'newest hour hidden → 204 → null');
  await sim.advance(61 * 60_000);
  const page = await client.pullChanges(DEMO.brandCode, { source: 'HS', limit: 10 });
  t.equal(page?.list[0]?.transactionId, w.transactionId);
  t.match(page?.after, /^\d+_[0-9a-f]{64}$/);
  const brands = await client.listBrands();
  t.same(brands.map((b) => b.brandCode), [DEMO.brandCode, DEMO.subBrandCode]);
  await sim.advance(24 * 3_600_000);
  const file = await client.getDailyFile(DEMO.brandCode, '2026-05-12');
  t.match(file, /^creationDate,transactionId,recipient,recipientType,type,status,consentDate,source\n2026-05-12 10:00:00,/);
  const ag = await client.getAgreement(DEMO.brandCode, '2026-05-12');
  t.equal(ag?.processStatus, 'completed');
  t.equal(await client.confirmAgreement(DEMO.brandCode, '2026-05-12'), true);
  t.equal(await client.getAgreement(DEMO.brandCode, '2026-05-10'), null);
  const summary = await client.getChangeSummary(DEMO.brandCode, '2026-05-12', 'BIREYSEL');
  t.same(summary.changeStats.find((s) => s.type === 'MESAJ')?.consents[0], { source: 'HS', approval: 1, rejection: 0, pending: 0, total: 1 });
  const sub = await client.getSubscription();
  t.equal(sub.status, 'ACTIVE');
  t.equal(sub.usedConsentLimit, 1);
  const push = await client.registerPush(DEMO.brandCode, [{ url: 'http://insecure.example', type: 'MESAJ', username: 'u', password: 'p' }]).catch((e) => e);
  t.equal(push.code, 'GW_ERR_IYS_REJECTED');
  t.same(push.iysCodes, ['H531']);
  t.same(await client.listPush(DEMO.brandCode), []);
});

t.test('local pre-validation: an invalid record never reaches İYS', async (t) => {
  const { sim, client } = await setup(t);
  const bad = [
    { ...consent(sim), recipient: '905321234567' },
    { ...consent(sim), recipient: '+9005321234567' },
    { ...consent(sim), consentDate: sim.iysNow(5 * 60_000) },
    { ...consent(sim), consentDate: '2026-05-05 10:00:00' },
    { ...consent(sim), source: 'HS_KARAR' },
  ];
  const codes: string[][] = [];
  for (const c of bad) codes.push((await client.addConsent(DEMO.brandCode, c).catch((e) => e)).iysCodes);
  t.same(codes, [['H121'], ['H121'], ['H162'], ['H467'], ['H408']]);
  const multi = await client.getConsentStatuses(DEMO.brandCode, 'BIREYSEL', 'MESAJ', ['+905321234567', 'a@b.co', '+905321234567']).catch((x) => x);
  t.same(multi.iysErrors.map((x: { code: string; location: unknown[] }) => [x.code, x.location]), [['H464', ['recipients', 1]], ['H193', ['recipients', 2]]]);
  const e = await client.addConsent(DEMO.brandCode, bad[0]!).catch((x) => x);
  t.equal(e.code, 'GW_ERR_IYS_INVALID_CONSENT');
  t.equal(e.statusCode, 422);
  t.equal(client.attempts, 0);
  t.equal(sim.ctx.stats.requests.addConsentV2 ?? 0, 0);
});

t.test('batch: collapse repeats, submit, poll → success / failure / enqueue (C11 shape)', async (t) => {
  const { sim, client } = await setup(t);
  await sim.http('POST', '/_sim/hold', { recipients: ['+905321230003'] });
  const sub = await client.addConsentBatch(DEMO.brandCode, [
    consent(sim, '+905321230001'),
    { ...consent(sim, '+905321230001'), consentDate: sim.iysNow(-120_000) },
    consent(sim, '+905321230002', 'RET'),
    consent(sim, '+905321230003'),
  ]);
  t.same(sub.dropped, [1], 'older repeat dropped before İYS sees it (no H194)');
  t.equal(sub.subRequests.length, 3);
  const early = await client.pollBatch(DEMO.brandCode, sub.requestId);
  t.same(early, { succeeded: [], failed: [], pending: [], notReady: true });
  await sim.advance(300_000);
  const res = await client.pollBatch(DEMO.brandCode, sub.requestId);
  t.equal(res.succeeded.length, 1);
  t.equal(res.succeeded[0]!.index, 0);
  t.same(res.failed, [{ index: 1, code: 'H175', message: 'İlk defa kaydedilen bir iznin durum (status) bilgisi RET olmamalıdır.' }]);
  t.same(res.pending, [2]);
  t.equal(res.notReady, false);
  t.same(classifyBatchResults([]).notReady, true);
});

t.test('reportRefusal: H175 → nothing_to_revoke, H174 → already_refused, never retried', async (t) => {
  const { sim, client } = await setup(t);
  const none = await client.reportRefusal(DEMO.brandCode, consent(sim, '+905321230010'));
  t.same(none, { outcome: 'nothing_to_revoke', code: 'H175' });
  await client.addConsent(DEMO.brandCode, { ...consent(sim, '+905321230011'), consentDate: sim.iysNow(-120_000) });
  const reg = await client.reportRefusal(DEMO.brandCode, consent(sim, '+905321230011'));
  t.equal(reg.outcome, 'registered');
  await sim.advance(1000);
  const again = await client.reportRefusal(DEMO.brandCode, { ...consent(sim, '+905321230011'), consentDate: sim.iysNow(-30_000) });
  t.same(again, { outcome: 'already_refused', code: 'H174' });
  t.equal(client.attempts, 4, 'one attempt each');
});

t.test('isCursorStale: the 7-day feed cannot catch up a cursor older than ~7 days', async (t) => {
  const now = new Date('2026-05-12T10:00:00Z');
  t.equal(isCursorStale(new Date('2026-05-11T10:00:00Z'), now), false);
  t.equal(isCursorStale(new Date('2026-05-04T10:00:00Z'), now), true);
  t.equal(isCursorStale(new Date('2026-05-05T12:00:00Z'), now), true, 'inside 7 days but within the 6 h margin');
});
