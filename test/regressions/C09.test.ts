// C09: a mirror row with source HS_2015 and consentDate 2015-05-01 00:00:00 is a valid ONAY: the
// three-business-day rule applies only to uploads of newly collected consents, never to synced
// records.
import t from 'tap';
import { makeGateway, toDailyCsv } from '../helpers/gateway.ts';

t.test('C09: HS_2015 mirror row allows', async (t) => {
  const gw = await makeGateway(t);
  const imp = await gw.call('POST', '/v1/mirror/import?brandCode=900', toDailyCsv([
    { recipient: '+905550000009', recipientType: 'BIREYSEL', type: 'MESAJ', status: 'ONAY', source: 'HS_2015', consentDate: '2015-05-01 00:00:00', creationDate: '2020-11-02 08:00:00' },
  ]), { 'content-type': 'text/csv' });
  t.same([imp.body.applied, imp.body.rejected], [1, 0]);
  const r = await gw.call('POST', '/v1/check', { brandCode: 900, recipient: '05550000009', type: 'MESAJ' });
  t.same([r.body.decision, r.body.reason, r.body.consent.source, r.body.consent.consentDate], ['ALLOW', 'CONSENT_ONAY', 'HS_2015', '2015-05-01 00:00:00']);
});
