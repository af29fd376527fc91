// C08: one address holds independent BIREYSEL and TACIR records; TACIR rows may lack source and
// consentDate; recipientType defaults to BIREYSEL; TACIR-without-record is an explicit policy flag,
// never a fallback to the BIREYSEL row.
import t from 'tap';
import { makeGateway, toDailyCsv } from '../helpers/gateway.ts';

const rows = [
  { recipient: '+905550000005', recipientType: 'TACIR', type: 'MESAJ', status: 'ONAY', source: '', consentDate: '', creationDate: '2025-01-01 10:00:00' },
  { recipient: '+905550000005', recipientType: 'BIREYSEL', type: 'MESAJ', status: 'RET', source: 'HS_WEB', consentDate: '2025-01-02 10:00:00' },
];

t.test('C08: BIREYSEL and TACIR records are independent', async (t) => {
  const gw = await makeGateway(t);
  const imp = await gw.call('POST', '/v1/mirror/import?brandCode=800', toDailyCsv(rows), { 'content-type': 'text/csv' });
  t.same([imp.body.applied, imp.body.rejected], [2, 0], 'TACIR row without source/date accepted');
  const dflt = await gw.call('POST', '/v1/check', { brandCode: 800, recipient: '05550000005', type: 'MESAJ' });
  t.same([dflt.body.decision, dflt.body.reason], ['BLOCK', 'CONSENT_RET'], 'no recipientType = BIREYSEL');
  const tacir = await gw.call('POST', '/v1/check', { brandCode: 800, recipient: '05550000005', type: 'MESAJ', recipientType: 'TACIR' });
  t.same([tacir.body.decision, tacir.body.reason], ['ALLOW', 'CONSENT_ONAY']);
  t.same([tacir.body.consent.source, tacir.body.consent.consentDate], [null, null]);
  const none = await gw.call('POST', '/v1/check', { brandCode: 800, recipient: '05550000099', type: 'MESAJ', recipientType: 'TACIR' });
  t.same([none.body.decision, none.body.reason], ['ALLOW', 'TACIR_NOT_REJECTED']);
});

t.test('C08: policy tacirWithoutRecord=block', async (t) => {
  const gw = await makeGateway(t, { policy: { tacirWithoutRecord: 'block' } });
  await gw.call('POST', '/v1/mirror/import?brandCode=800', toDailyCsv(rows), { 'content-type': 'text/csv' });
  const none = await gw.call('POST', '/v1/check', { brandCode: 800, recipient: '05550000099', type: 'MESAJ', recipientType: 'TACIR' });
  t.same([none.body.decision, none.body.reason], ['BLOCK', 'NO_CONSENT']);
  const rec = await gw.call('POST', '/v1/check', { brandCode: 800, recipient: '05550000005', type: 'MESAJ', recipientType: 'TACIR' });
  t.equal(rec.body.decision, 'ALLOW', 'an ONAY record still counts');
});

t.test('C08: a BIREYSEL row without source or date is rejected at import', async (t) => {
  const gw = await makeGateway(t);
  const imp = await gw.call('POST', '/v1/mirror/import?brandCode=800', toDailyCsv([
    { recipient: '+905550000006', recipientType: 'BIREYSEL', type: 'MESAJ', status: 'ONAY', source: '', consentDate: '', creationDate: '2025-01-01 10:00:00' },
  ]), { 'content-type': 'text/csv' });
  t.equal(imp.body.rejected, 1);
  t.equal(imp.body.errors[0].field, 'source');
});
