/**
 * C11 (field-cases.md): a batch upload answers only a requestId; per-item outcomes come later
 * (`success`, `failure` + code, `enqueue`). Treating the 202 as done loses failures; `enqueue`
 * items need re-polling; repeats of one key in a batch are refused (H194).
 * The client collapses repeats to the newest before submitting, and classifies results:
 * success → done, failure → terminal with its code, enqueue → pending (poll again).
 */
import t from 'tap';
import { startTestSimulator, simulatorClient, DEMO } from '../../src/simulator/testing.ts';

t.test('batch of RETs incl. two for one number: collapsed; outcomes success / failure / enqueue', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: '2026-05-12T10:00:00+03:00', clockFrozen: true });
  t.teardown(() => sim.close());
  const { client } = await simulatorClient(sim);
  const mk = (recipient: string, status: 'ONAY' | 'RET', agoMs: number) =>
    ({ recipient, type: 'MESAJ' as const, recipientType: 'BIREYSEL' as const, source: 'HS_MESAJ', status, consentDate: sim.iysNow(-agoMs) });
  await client.addConsent(DEMO.brandCode, mk('+905550000006', 'ONAY', 3_600_000));
  await client.addConsent(DEMO.brandCode, mk('+905550000007', 'ONAY', 3_600_000));
  await sim.http('POST', '/_sim/hold', { recipients: ['+905550000007'] });

  const sub = await client.addConsentBatch(DEMO.brandCode, [
    mk('+905550000006', 'RET', 600_000),
    mk('+905550000006', 'RET', 60_000),
    mk('+905550000007', 'RET', 60_000),
    mk('+905550000008', 'RET', 60_000),
  ]);
  t.same(sub.dropped, [0], 'the older RET for +905550000006 is not sent (no H194)');
  t.same(sub.subRequests.map((s) => s.recipient), ['+905550000006', '+905550000007', '+905550000008']);
  t.same(sim.ctx.state.movements.length, 2, '202 is not "written"');

  const early = await client.pollBatch(DEMO.brandCode, sub.requestId);
  t.equal(early.notReady, true, 'empty list before processing is not a failure');

  await sim.advance(300_000);
  const r = await client.pollBatch(DEMO.brandCode, sub.requestId);
  t.same(r.succeeded.map((s) => s.index), [0]);
  t.match(r.succeeded[0]!.transactionId, /^[0-9a-f]{64}$/);
  t.same(r.failed, [{ index: 2, code: 'H175', message: 'İlk defa kaydedilen bir iznin durum (status) bilgisi RET olmamalıdır.' }], 'terminal with its code');
  t.same(r.pending, [1], 'enqueue → poll again');

  await sim.http('DELETE', '/_sim/hold');
  await sim.advance(60_000);
  const again = await client.pollBatch(DEMO.brandCode, sub.requestId);
  t.same(again.succeeded.map((s) => s.index), [0, 1]);
  t.same(again.pending, []);
  t.equal(sim.ctx.state.current.get(`${DEMO.iysCode}|${DEMO.brandCode}|BIREYSEL|MESAJ|+905550000007`)?.status, 'RET');
});
