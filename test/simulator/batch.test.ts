import t from 'tap';
import { startTestSimulator, DEMO } from '../../src/simulator/testing.ts';

const START = '2026-05-12T10:00:00+03:00';
const P = `/sps/${DEMO.iysCode}/brands/${DEMO.brandCode}`;
const item = (recipient: string, status = 'ONAY', consentDate = '2026-05-12 09:00:00') =>
  ({ recipient, type: 'MESAJ', source: 'HS_WEB', status, consentDate, recipientType: 'BIREYSEL' });

t.test('batch v1: 202 with requestId; empty list before the delay; success/failure/enqueue after', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: START, clockFrozen: true, batchDelayMs: 300_000 });
  t.teardown(() => sim.close());
  const auth = { authorization: `Bearer ${await sim.token()}` };
  await sim.http('POST', '/_sim/hold', { recipients: ['+905321230003'] });
  const sub = await sim.http('POST', `${P}/consents/request`, [item('+905321230001'), item('+905321230002', 'RET'), item('+905321230003')], auth);
  t.equal(sub.status, 202);
  t.match(sub.body.requestId, /^[0-9a-f-]{36}$/);
  t.equal(sub.body.subRequests.length, 3);
  t.equal(sub.body.subRequests[0].recipient, '+905321230001');
  const path = `${P}/consents/request/${sub.body.requestId}`;
  const early = await sim.http('GET', path, undefined, auth);
  t.same(early.body, [], '60 s-style early poll: empty list, not an error (C25)');
  await sim.advance(300_000);
  const res = await sim.http('GET', path, undefined, auth);
  t.equal(res.status, 200);
  t.same(res.body.map((r: { index: number; status: string }) => [r.index, r.status]), [[0, 'success'], [1, 'failure'], [2, 'enqueue']]);
  t.match(res.body[0].transactionId, /^[0-9a-f]{64}$/);
  t.equal(res.body[0].creationDate, '2026-05-12 10:05:00');
  t.same(res.body[1].error, { code: 'H175', message: 'İlk defa kaydedilen bir iznin durum (status) bilgisi RET olmamalıdır.' });
  t.notOk('transactionId' in res.body[2]);
  await sim.http('DELETE', '/_sim/hold');
  await sim.advance(1000);
  const later = await sim.http('GET', path, undefined, auth);
  t.equal(later.body[2].status, 'success', 'released item is processed on a later poll');
});

t.test('batch synchronous errors: H091, H194 with index, H092, H014', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: START, clockFrozen: true });
  t.teardown(() => sim.close());
  const auth = { authorization: `Bearer ${await sim.token()}` };
  const big = Array.from({ length: 1001 }, (_, i) => item(`+90532${String(1000000 + i).padStart(7, '0')}`));
  const r1 = await sim.http('POST', `${P}/consents/request`, big, auth);
  t.equal(r1.status, 422);
  t.equal(r1.body.errors[0].code, 'H091');
  const r2 = await sim.http('POST', `${P}/consents/request`, [item('+905321234567'), item('+905321234568'), item('+905321234569'), item('+905321234567', 'RET')], auth);
  t.equal(r2.status, 422);
  t.same(r2.body.errors.map((e: { code: string; index: number }) => [e.code, e.index]), [['H194', 3]], 'C24');
  t.equal((await sim.http('POST', `${P}/consents/request`, { not: 'a list' }, auth)).body.errors[0].code, 'H092');
  const bad = await sim.http('POST', `${P}/consents/request`, '[{"x":', { ...auth, 'content-type': 'application/json' });
  t.equal(bad.status, 400);
  t.equal(bad.body.errors[0].code, 'H014');
  const mixed = await sim.http('POST', `${P}/consents/request`, [item('+905321234567'), { ...item('905313334455999999999999') }], auth);
  t.same(mixed.body.errors.map((e: { code: string; index: number }) => [e.code, e.index]), [['H160', 1], ['H121', 1]]);
});

t.test('request ids: H198 / H199 / H400; unknown id → []', async (t) => {
  const sim = await startTestSimulator();
  t.teardown(() => sim.close());
  const auth = { authorization: `Bearer ${await sim.token()}` };
  const code = async (id: string) => (await sim.http('GET', `${P}/consents/request/${id}`, undefined, auth)).body.errors[0].code;
  t.equal(await code('a9817bd8-0642-4d8c-946b-cc47d5aac41ab-cc47d5aac41a'), 'H198');
  t.equal(await code('abcde'), 'H199');
  t.equal(await code('12345'), 'H400');
  t.same((await sim.http('GET', `${P}/consents/request/5a2edd8e-dd6e-4293-b09b-6180b2c5d021`, undefined, auth)).body, []);
});

t.test('batch v2: an identical re-sent consent points at the request that wrote it', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: START, clockFrozen: true, batchDelayMs: 0 });
  t.teardown(() => sim.close());
  const auth = { authorization: `Bearer ${await sim.token()}` };
  const V2 = `/v2${P}`;
  const first = await sim.http('POST', `${V2}/consents/request`, [item('+905321234567')], auth);
  const r1 = await sim.http('GET', `${V2}/consents/request/${first.body.requestId}`, undefined, auth);
  t.equal(r1.body[0].status, 'success');
  t.equal(r1.body[0].isAddConsentV2Service, false);
  const again = await sim.http('POST', `${V2}/consents/request`, [item('+905321234567')], auth);
  t.not(again.body.requestId, first.body.requestId, 'a new requestId');
  const r2 = await sim.http('GET', `${V2}/consents/request/${again.body.requestId}`, undefined, auth);
  t.equal(r2.body[0].status, 'success');
  t.equal(r2.body[0].isAddConsentV2Service, true);
  t.same(r2.body[0].originalRequestInformation, { requestId: first.body.requestId, subRequestId: first.body.subRequests[0].subrequestId });
  t.equal(r2.body[0].transactionId, r1.body[0].transactionId);
  t.equal(sim.ctx.state.movements.length, 1);
});
