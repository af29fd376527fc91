// C06: ordering is per quadruple (brandCode, recipient, recipientType, type): an ARAMA RET older
// than a MESAJ ONAY on the same number is accepted and suppresses calls; MESAJ is untouched; for
// the same quadruple an older-dated movement is dropped (ignoredOlder), not applied.
import t from 'tap';
import { makeGateway, toDailyCsv } from '../helpers/gateway.ts';

t.test('C06: ordering per quadruple', async (t) => {
  const gw = await makeGateway(t);
  const imp = async (rows: Array<Record<string, unknown>>) =>
    (await gw.call('POST', '/v1/mirror/import?brandCode=600', toDailyCsv(rows), { 'content-type': 'text/csv' })).body;
  await imp([{ recipient: '+905550000003', recipientType: 'BIREYSEL', type: 'MESAJ', status: 'ONAY', source: 'HS_WEB', consentDate: '2025-05-10 10:00:00' }]);
  const r = await imp([{ recipient: '+905550000003', recipientType: 'BIREYSEL', type: 'ARAMA', status: 'RET', source: 'HS_CAGRI_MERKEZI', consentDate: '2025-05-09 09:00:00' }]);
  t.equal(r.applied, 1, 'older ARAMA RET accepted: another quadruple');
  const sms = await gw.call('POST', '/v1/check', { brandCode: 600, recipient: '+905550000003', type: 'MESAJ' });
  t.same([sms.body.decision, sms.body.reason], ['ALLOW', 'CONSENT_ONAY']);
  const call = await gw.call('POST', '/v1/check', { brandCode: 600, recipient: '+905550000003', type: 'ARAMA' });
  t.same([call.body.decision, call.body.reason], ['BLOCK', 'CONSENT_RET']);
  const stale = await imp([{ recipient: '+905550000003', recipientType: 'BIREYSEL', type: 'MESAJ', status: 'RET', source: 'HS_WEB', consentDate: '2025-05-01 10:00:00' }]);
  t.same([stale.applied, stale.ignoredOlder], [0, 1], 'same quadruple, older date: dropped');
  t.equal((await gw.call('POST', '/v1/check', { brandCode: 600, recipient: '+905550000003', type: 'MESAJ' })).body.decision, 'ALLOW');
});
