// C07: de-duplication key is (brandCode, recipient, recipientType, type): one channel's status
// never overwrites another's.
import t from 'tap';
import { makeGateway, toDailyCsv } from '../helpers/gateway.ts';

t.test('C07: channels are separate records', async (t) => {
  const gw = await makeGateway(t);
  const res = await gw.call('POST', '/v1/mirror/import?brandCode=700', toDailyCsv([
    { recipient: '+905550000004', recipientType: 'BIREYSEL', type: 'MESAJ', status: 'RET', source: 'HS_WEB', consentDate: '2025-01-01 10:00:00' },
    { recipient: '+905550000004', recipientType: 'BIREYSEL', type: 'ARAMA', status: 'ONAY', source: 'HS_WEB', consentDate: '2025-06-01 10:00:00' },
  ]), { 'content-type': 'text/csv' });
  t.equal(res.body.applied, 2);
  const sms = await gw.call('POST', '/v1/check', { brandCode: 700, recipient: '+905550000004', type: 'MESAJ' });
  t.same([sms.body.decision, sms.body.reason], ['BLOCK', 'CONSENT_RET']);
  const call = await gw.call('POST', '/v1/check', { brandCode: 700, recipient: '+905550000004', type: 'ARAMA' });
  t.same([call.body.decision, call.body.reason], ['ALLOW', 'CONSENT_ONAY']);
});
