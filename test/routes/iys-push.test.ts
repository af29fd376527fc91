import t, { type Test } from 'tap';
import { makeGateway, TEST_KEY } from '../helpers/gateway.ts';

const PUSH = { username: 'iys-push', password: 'push-secret-123' };
const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
const item = (over: Record<string, unknown>) => ({
  iysCode: 700001, brandCode: 700001, recipient: '+905321119001', recipientType: 'BIREYSEL', type: 'MESAJ',
  status: 'RET', source: 'IYS_MOBIL', consentDate: '2026-01-10 10:00:00', creationDate: '2026-01-10 10:00:01',
  transactionId: 'ef'.repeat(32), ...over,
});

async function gateway(t: Test) {
  const gw = await makeGateway(t, {
    iys: { baseUrl: 'http://127.0.0.1:9', iysCode: 700001, username: 'u', password: 'p', brands: [700001], push: PUSH, pullIntervalMs: 0, uploadIntervalMs: 0 },
    mirrorMaxAgeMs: 0,
  });
  const push = (list: unknown[], auth = basic(PUSH.username, PUSH.password)) =>
    gw.call('POST', '/v1/iys/push', { list }, { authorization: auth });
  return { ...gw, push };
}

t.test('push: Basic auth required, constant-time compared', async (t) => {
  const gw = await gateway(t);
  const bad = await gw.push([item({})], basic(PUSH.username, 'wrong-password'));
  t.equal(bad.status, 401);
  t.equal(bad.headers['www-authenticate'], 'Basic realm="iys-gate push"');
  const none = await gw.push([item({})], 'Bearer x');
  t.equal(none.status, 401);
  t.equal(await gw.store.size(), 0, 'nothing applied');
});

t.test('push: idempotent, safe out of order, movements sharing a transactionId both kept', async (t) => {
  const gw = await gateway(t);
  const onay = item({ status: 'ONAY', source: 'IYS_WEB', consentDate: '2026-01-09 09:00:00', creationDate: '2026-01-09 09:00:01', transactionId: 'aa'.repeat(32) });
  const ret = item({});
  const first = await gw.push([ret]);
  t.equal(first.status, 200);
  t.match(first.body, { received: 1, applied: 1 });
  const late = await gw.push([onay]); // older movement delivered after the newer one
  t.match(late.body, { applied: 0, ignoredOlder: 1 });
  const again = await gw.push([ret, onay]); // a repeated delivery
  t.match(again.body, { applied: 0, duplicate: 2 });
  const check = await gw.call('POST', '/v1/check', { brandCode: 700001, recipient: '05321119001', type: 'MESAJ' });
  t.same([check.body.decision, check.body.reason], ['BLOCK', 'CONSENT_RET']);
  // same second, same transactionId, different status: two movements
  const a = item({ recipient: '+905321119002', status: 'ONAY', transactionId: 'bb'.repeat(32) });
  const b = item({ recipient: '+905321119002', status: 'RET', transactionId: 'bb'.repeat(32) });
  const both = await gw.push([a, b]);
  t.match(both.body, { applied: 2 });
  const h = await gw.call('GET', '/v1/consents?brandCode=700001&type=MESAJ&recipient=05321119002');
  t.equal(h.body.movements.length, 2);
  t.equal(h.body.current.status, 'RET');
});

t.test('push: a RET in a legacy spelling is applied; unreadable items and foreign brands are dead-lettered, the rest applied', async (t) => {
  const gw = await gateway(t);
  const r = await gw.push([item({ status: 'RED' }), item({ brandCode: 1 }), item({ recipient: 'x' }), item({ recipient: '+905321119003' })]);
  t.equal(r.status, 200);
  t.match(r.body, { received: 4, rejected: 2, deadLettered: 2, applied: 2 });
  const c = await gw.call('POST', '/v1/check', { brandCode: 700001, recipient: '05321119001', type: 'MESAJ' });
  t.equal(c.body.reason, 'CONSENT_RET', 'status RED (C10) is a refusal: it blocks');
  t.same(gw.app.iys.deadLetters.summary().openByReason, { future_date: 0, invalid_field: 0, unkeyable: 1, unknown_brand: 1 });
  const notArray = await gw.call('POST', '/v1/iys/push', { list: 'x' }, { authorization: basic(PUSH.username, PUSH.password) });
  t.equal(notArray.status, 400);
  t.equal(notArray.body.field, 'list');
});

t.test('outbox and sync gauges on /metrics', async (t) => {
  const gw = await gateway(t);
  const empty = await gw.app.inject({ method: 'GET', url: '/metrics' });
  t.notMatch(empty.body, /^iysgate_outbox_nearest_deadline_seconds/m, 'nothing open: no deadline series (a 0 would read "due now")');
  await gw.call('POST', '/v1/rejections', { brandCode: 700001, recipient: '05321119009', type: 'MESAJ' });
  const m = await gw.app.inject({ method: 'GET', url: '/metrics' });
  t.match(m.body, /iysgate_outbox_items\{state="pending"\} 1/);
  t.match(m.body, /iysgate_outbox_overdue_items 0/);
  t.match(m.body, /iysgate_outbox_nearest_deadline_seconds\{origin="rejection"\} \d+/);
  t.match(m.body, /iysgate_mirror_stale 0/);
  const st = await gw.call('GET', '/v1/sync/status');
  t.equal(st.status, 200);
  t.equal(st.body.outbox.pending, 1);
  t.equal(st.body.brands[0].brandCode, 700001);
  t.equal(st.body.brands[0].lastPullAt, null);
});

t.test('with an İYS account an import does not make a stale mirror fresh (freshness = last complete pull)', async (t) => {
  const gw = await makeGateway(t, {
    iys: { baseUrl: 'http://127.0.0.1:9', iysCode: 700001, username: 'u', password: 'p', brands: [700001], pullIntervalMs: 0, uploadIntervalMs: 0 },
  });
  t.equal(gw.app.checks.isStale(), true, 'never pulled');
  const csv = 'recipient,type,source,status,consentDate,recipientType\n+905321119100,MESAJ,HS_WEB,ONAY,2026-03-01 10:00:00,BIREYSEL\n';
  const imp = await gw.call('POST', '/v1/mirror/import?brandCode=700001', csv, { 'content-type': 'text/csv' });
  t.equal(imp.body.applied, 1);
  t.equal(gw.app.checks.isStale(), true, 'still stale after the import');
  const r = await gw.call('POST', '/v1/check', { brandCode: 700001, recipient: '05321119100', type: 'MESAJ' });
  t.same([r.body.decision, r.body.reason], ['BLOCK', 'MIRROR_STALE']);
  t.equal((await gw.call('GET', '/readyz')).status, 503);
});

t.test('an empty POST without a content type to /v1/iys/uploads is 415, not 500 (review)', async (t) => {
  const gw = await gateway(t);
  const res = await gw.app.inject({ method: 'POST', url: '/v1/iys/uploads?brandCode=700001', headers: { authorization: `Bearer ${TEST_KEY}` } });
  t.equal(res.statusCode, 415);
  t.equal(res.json().code, 'GW_ERR_UNSUPPORTED_MEDIA_TYPE');
});
