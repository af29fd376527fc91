import t from 'tap';
import { readFileSync } from 'node:fs';
import { makeGateway, toDailyCsv } from '../helpers/gateway.ts';

const deadlines = JSON.parse(readFileSync(new URL('../fixtures/deadlines.json', import.meta.url), 'utf8'));

t.test('reportDeadline of every vector in fixtures/deadlines.json', async (t) => {
  const gw = await makeGateway(t);
  let i = 0;
  for (const c of deadlines.cases) {
    if (Date.parse(c.at) > Date.now()) continue; // receivedAt in the future is refused (tested below)
    const res = await gw.call('POST', '/v1/rejections', { brandCode: 100001, recipient: `+90532999${String(i++).padStart(4, '0')}`, type: 'MESAJ', receivedAt: c.at });
    t.equal(res.status, 201, c.note);
    t.equal(res.body.reportDeadline, c.deadline, c.note);
    t.equal(res.body.status, 'RET');
  }
  t.ok(i >= 7, 'vectors exercised');
});

t.test('a refusal is effective before the 201: the next check blocks', async (t) => {
  const gw = await makeGateway(t);
  await gw.call('POST', '/v1/mirror/import?brandCode=9', toDailyCsv([
    { recipient: '+905321230001', recipientType: 'BIREYSEL', type: 'MESAJ', status: 'ONAY', source: 'HS_WEB', consentDate: '2025-01-01 10:00:00' },
  ]), { 'content-type': 'text/csv' });
  t.equal((await gw.call('POST', '/v1/check', { brandCode: 9, recipient: '05321230001', type: 'MESAJ' })).body.decision, 'ALLOW');
  const rej = await gw.call('POST', '/v1/rejections', { brandCode: 9, recipient: '0532 123 00 01', type: 'MESAJ' });
  t.equal(rej.status, 201);
  t.equal(rej.body.recipient, '+905321230001');
  t.equal(rej.body.outcome, 'applied');
  t.match(rej.body.reportDeadline, /^\d{4}-\d{2}-\d{2}$/);
  const after = await gw.call('POST', '/v1/check', { brandCode: 9, recipient: '05321230001', type: 'MESAJ' });
  t.same([after.body.decision, after.body.reason], ['BLOCK', 'CONSENT_RET']);
  t.equal(after.body.consent.source, 'HS_MESAJ', 'default source for MESAJ');
  // other channels untouched (C06/C07: the key has four parts)
  const call = await gw.call('POST', '/v1/check', { brandCode: 9, recipient: '05321230001', type: 'ARAMA' });
  t.equal(call.body.reason, 'NO_CONSENT');
});

t.test('rejections: bad input is a coded 400', async (t) => {
  const gw = await makeGateway(t);
  const future = new Date(Date.now() + 3_600_000).toISOString();
  const cases: Array<[string, unknown, string, string]> = [
    ['future receivedAt', { brandCode: 1, recipient: '05321234567', type: 'MESAJ', receivedAt: future }, 'GW_ERR_VALIDATION', 'receivedAt'],
    ['not a date', { brandCode: 1, recipient: '05321234567', type: 'MESAJ', receivedAt: 'yesterday' }, 'GW_ERR_VALIDATION', 'receivedAt'],
    ['İYS-side source', { brandCode: 1, recipient: '05321234567', type: 'MESAJ', source: 'IYS_MOBIL' }, 'GW_ERR_VALIDATION', 'source'],
    ['status field is not accepted', { brandCode: 1, recipient: '05321234567', type: 'MESAJ', status: 'RED' }, 'GW_ERR_VALIDATION', 'status'],
    ['bad recipient', { brandCode: 1, recipient: 'abc', type: 'MESAJ' }, 'GW_ERR_INVALID_RECIPIENT', 'recipient'],
  ];
  for (const [name, body, code, field] of cases) {
    const res = await gw.call('POST', '/v1/rejections', body);
    t.equal(res.status, 400, name);
    t.equal(res.body.code, code, name);
    t.equal(res.body.field, field, name);
  }
});
