/**
 * Dial lists in the dialers' own layouts (issue 19 "Dial lists"): the recipient is found by
 * position, by header name or by a dialer preset (`format=vicidial`), so a list exported from a
 * CRM for that dialer is scrubbed and uploaded unchanged — allowed records byte for byte.
 */
import t from 'tap';
import { BRAND, KEY, makeProxy } from './harness.ts';

const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'text/csv' };
async function gateway(t: Parameters<typeof makeProxy>[0]) {
  const gw = await makeProxy(t, []);
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY', type: 'ARAMA' }, { recipient: '+905550000002', status: 'RET', type: 'ARAMA' }]);
  return gw;
}
const scrub = (gw: Awaited<ReturnType<typeof gateway>>, q: string, payload: string) =>
  gw.app.inject({ method: 'POST', url: `/v1/scrub?brandCode=${BRAND}&type=ARAMA&${q}`, headers: auth, payload });

t.test('VICIdial standard format (no header): phone_number is the 5th field', async (t) => {
  const gw = await gateway(t);
  // vendor_lead_code, source_code, list_id, phone_code, phone_number, title, first_name, middle_initial, last_name
  const rows = ['CRM-1,WEB,101,90,5550000001,Bay,Ali,,Kaya', 'CRM-2,WEB,101,90,5550000002,Bayan,Ayse,,Demir', 'CRM-3,"WEB, form",101,90,5550000003,Bay,Can,,Yilmaz'];
  const r = await scrub(gw, 'format=vicidial', rows.join('\r\n') + '\r\n');
  t.equal(r.statusCode, 200);
  t.equal(r.body, rows[0] + '\r\n', 'only the ONAY lead, byte for byte');
  const a = await scrub(gw, 'format=vicidial&annotate=true', rows.join('\n') + '\n');
  t.same(a.body.trim().split('\n').map((l) => l.split(',').slice(-2).join(' ')), ['ALLOW CONSENT_ONAY', 'BLOCK CONSENT_RET', 'BLOCK NO_CONSENT'], 'a quoted separator before the column does not shift it');
});

t.test('VICIdial export with a header: phone_number found by name wherever it is', async (t) => {
  const gw = await gateway(t);
  const csv = 'lead_id,list_id,status,phone_code,first_name,phone_number,email\n7,101,NEW,90,Ali,5550000001,a@example.com\n8,101,NEW,90,Ayse,05550000002,b@example.com\n';
  const r = await scrub(gw, 'format=vicidial', csv);
  t.equal(r.body, 'lead_id,list_id,status,phone_code,first_name,phone_number,email\n7,101,NEW,90,Ali,5550000001,a@example.com\n');
});

t.test('column by position and by (Turkish) header name; a missing name is a coded 400', async (t) => {
  const gw = await gateway(t);
  const csv = 'Ad;Soyad;Telefon\nAli;"Kaya; Jr";0555 000 00 01\nAyşe;Demir;0555 000 00 02\n';
  t.equal((await scrub(gw, 'column=3', csv)).body, 'Ad;Soyad;Telefon\nAli;"Kaya; Jr";0555 000 00 01\n');
  t.equal((await scrub(gw, 'column=telefon', csv)).body, 'Ad;Soyad;Telefon\nAli;"Kaya; Jr";0555 000 00 01\n');
  const missing = await scrub(gw, 'column=gsm', csv);
  t.equal(missing.statusCode, 400);
  t.equal(missing.json().code, 'GW_ERR_VALIDATION');
  t.equal(missing.json().field, 'column');
  const noHeader = await scrub(gw, 'column=gsm&header=false', csv);
  t.equal(noHeader.statusCode, 400);
  // a position past the record's fields: nothing to call, blocked
  const short = await scrub(gw, 'column=9&header=false&annotate=true', 'Ali;Kaya;05550000001\n');
  t.match(short.body, /;BLOCK;INVALID_RECIPIENT\n$/);
  t.equal((await scrub(gw, 'column=0', csv)).statusCode, 400);
});

t.test('GOautodial lead upload: the first record is always its header, phone_number the 1st field', async (t) => {
  const gw = await gateway(t);
  // goAPIv2 goUploadLeads/goUploadMe.php: header skipped, then phone_number, vendor_lead_code, phone_code, title, first_name, …
  const header = 'Phone,VendorLeadCode,PhoneCode,Title,FirstName,MiddleInitial,LastName';
  const rows = ['5550000001,CRM-1,90,Bay,Ali,,Kaya', '5550000002,CRM-2,90,Bayan,Ayse,,Demir', '5550000003,CRM-3,90,Bay,Can,,Yilmaz'];
  const r = await scrub(gw, 'format=goautodial', [header, ...rows].join('\n') + '\n');
  t.equal(r.statusCode, 200);
  t.equal(r.body, `${header}\n${rows[0]}\n`, 'header kept, only the ONAY lead, byte for byte');
  // a first record that is a number is still screened (a flag never lets a refused number through)
  const numberFirst = await scrub(gw, 'format=goautodial', rows.slice(1).join('\n') + '\n');
  t.equal(numberFirst.body, '', 'RET and no-consent first records are removed, not kept as a header');
  const annotated = await scrub(gw, 'format=goautodial&annotate=true', [header, ...rows].join('\n') + '\n');
  t.same(annotated.body.trim().split('\n').map((l) => l.split(',').slice(-2).join(' ')), ['decision reason', 'ALLOW CONSENT_ONAY', 'BLOCK CONSENT_RET', 'BLOCK NO_CONSENT']);
});
