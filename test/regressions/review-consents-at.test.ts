// Attack review of 2026-12-02 on GET /v1/consents?at= (issue 15): absurd times, repeated
// parameters and bad key fields get a coded 4xx, never a 500 or a record.
import t from 'tap';
import { makeGateway } from '../helpers/gateway.ts';
import { mv } from '../mirror/store-contract.ts';

const A = 700101;
const T = Date.parse('2026-11-02T06:00:00Z');

t.test('at=: absurd values and repeated parameters are coded answers', async (t) => {
  const gw = await makeGateway(t, { brands: [A] });
  await gw.store.apply([mv({ brandCode: A, recipient: '+905321220081', consentDate: '2026-03-01 09:00:00', creationDate: '2026-03-01 09:00:02', transactionId: 'r-1' })], { appliedAtMs: T });
  const get = (q: string) => gw.call('GET', `/v1/consents?brandCode=${A}&type=MESAJ&recipient=05321220081&${q}`);
  for (const bad of ['NaN', '1e20', '-1', '100000000000000000000', 'Infinity', '0x10', '2026-02-30T00:00:00Z', '2026-04-31T10:00', '2026-00-10', '2026-01-01T00:00:00+99:99', '１２３', '2026-11-02T06:00:00Z\u0000', 'x'.repeat(100_00)]) {
    const r = await get(`at=${encodeURIComponent(bad)}`);
    t.equal(r.status, 400, `at=${JSON.stringify(bad.slice(0, 40))}`);
    t.same([r.body.code, r.body.field], ['GW_ERR_VALIDATION', 'at'], `at=${JSON.stringify(bad.slice(0, 40))}`);
  }
  // the largest accepted epoch ms (15 digits) and the year 0000 are readable times with no record then or the current one
  const far = await get('at=999999999999999');
  t.same([far.status, far.body.current?.transactionId], [200, 'r-1'], 'far future: the record in force now');
  t.equal(far.body.atMs, 999999999999999);
  const zero = await get('at=0000-01-01T00:00:00Z');
  t.same([zero.status, zero.body.code], [404, 'GW_ERR_NO_RECORD_AT'], 'year 0: no record then');
  // a date-time without offset is UTC (as documented), whatever the process's time zone
  const local = await get('at=2026-11-02T06:00:01');
  t.equal(local.body.atMs, T + 1000, 'no offset: read as UTC');
  const leap = await get('at=2024-02-29');
  t.same([leap.status, leap.body.code], [404, 'GW_ERR_NO_RECORD_AT'], 'a leap day is a readable time');
  const two = await get(`at=${T + 1}&at=${T + 2}`);
  t.ok(two.status === 400 || two.status === 200, `at given twice: ${two.status}`);
  t.not(two.status, 500);
  if (two.status === 400) t.equal(two.body.code, 'GW_ERR_VALIDATION');
  const arr = await gw.call('GET', `/v1/consents?brandCode=${A}&type=MESAJ&type=ARAMA&recipient=05321220081&at=${T + 1}`);
  t.equal(arr.status, 400, 'type given twice');
  const badType = await gw.call('GET', `/v1/consents?brandCode=${A}&type=SMS&recipient=05321220081&at=${T + 1}`);
  t.same([badType.status, badType.body.code], [400, 'GW_ERR_VALIDATION']);
  const badRt = await gw.call('GET', `/v1/consents?brandCode=${A}&type=MESAJ&recipientType=KURUMSAL&recipient=05321220081&at=${T + 1}`);
  t.same([badRt.status, badRt.body.code], [400, 'GW_ERR_VALIDATION']);
});
