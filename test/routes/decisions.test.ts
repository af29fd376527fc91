import t from 'tap';
import { readFileSync } from 'node:fs';
import { makeGateway, toDailyCsv } from '../helpers/gateway.ts';

const fx = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));

t.test('every decision vector of fixtures/decisions.json holds', async (t) => {
  const gw = await makeGateway(t);
  const dec = fx('decisions.json');
  const byBrand = new Map<number, Array<Record<string, unknown>>>();
  for (const r of dec.mirror) byBrand.set(r.brandCode, [...(byBrand.get(r.brandCode) ?? []), r]);
  for (const [brand, rows] of byBrand) {
    const res = await gw.call('POST', `/v1/mirror/import?brandCode=${brand}`, toDailyCsv(rows), { 'content-type': 'text/csv' });
    t.equal(res.status, 200, `import brand ${brand}`);
    t.equal(res.body.rejected, 0, 'no row rejected');
    t.equal(res.body.rows, rows.length);
  }
  for (const c of dec.cases) {
    const res = await gw.call('POST', '/v1/check', c.request);
    t.equal(res.status, 200, c.name);
    t.match(res.body, c.expect, c.name);
    t.type(res.body.asOf, 'string', 'asOf set after an import');
  }
});

t.test('importing the daily sample gives every expected answer', async (t) => {
  const gw = await makeGateway(t);
  const expected = fx('iys-daily-sample.expected.json');
  const csv = readFileSync(new URL('../fixtures/iys-daily-sample.csv', import.meta.url), 'utf8');
  const res = await gw.call('POST', `/v1/mirror/import?brandCode=${expected.brandCode}`, csv, { 'content-type': 'text/csv' });
  t.equal(res.status, 200);
  t.equal(res.body.rows, 12);
  t.equal(res.body.rejected, 0);
  t.equal(res.body.layout, 'daily');
  for (const c of expected.cases) {
    const r = await gw.call('POST', '/v1/check', c.request);
    t.equal(r.status, 200, c.name);
    t.match(r.body, c.expect, c.name);
  }
  // the line closure keeps the ONAY's consentDate and wins the tie as RET
  const h = await gw.call('GET', `/v1/consents?brandCode=${expected.brandCode}&type=MESAJ&recipient=05321220001`);
  t.equal(h.status, 200);
  t.equal(h.body.current.status, 'RET');
  t.equal(h.body.current.source, 'IYS_AHS_HAT_KAPATMA');
  t.same(h.body.movements.map((m: { status: string }) => m.status), ['RET', 'ONAY'], 'movements newest first');
  // re-importing the same file changes nothing (idempotent)
  const again = await gw.call('POST', `/v1/mirror/import?brandCode=${expected.brandCode}`, csv, { 'content-type': 'text/csv' });
  t.equal(again.body.applied, 0);
  t.equal(again.body.duplicate, 12);
});

t.test('batch answers in request order with counts, bad inputs as INVALID_RECIPIENT', async (t) => {
  const gw = await makeGateway(t);
  const dec = fx('decisions.json');
  await gw.call('POST', '/v1/mirror/import?brandCode=100001', toDailyCsv(dec.mirror.filter((r: { brandCode: number }) => r.brandCode === 100001)), { 'content-type': 'text/csv' });
  const res = await gw.call('POST', '/v1/check/batch', {
    brandCode: 100001, type: 'MESAJ', recipients: ['05321110001', 'abc', '+905321110002', '0212 123 45 67', ''],
  });
  t.equal(res.status, 200);
  t.same(res.body.results.map((r: { reason: string }) => r.reason), ['CONSENT_ONAY', 'INVALID_RECIPIENT', 'CONSENT_RET', 'NOT_SMS_CAPABLE', 'INVALID_RECIPIENT']);
  t.same(res.body.results.map((r: { recipient: string | null }) => r.recipient), ['+905321110001', null, '+905321110002', '+902121234567', null]);
  t.same(res.body.counts, { ALLOW: 1, BLOCK: 4 });
});

t.test('import: bad rows are reported with line and code, never stop the import; upload layout is read', async (t) => {
  const gw = await makeGateway(t);
  const csv = [
    'recipient,type,source,status,consentDate,recipientType',
    '+905551110001,MESAJ,HS_WEB,ONAY,2025-01-02 10:00:00,BIREYSEL',
    '+905551110002,MESAJ,HS_WEB,RED,2025-01-02 10:00:00,BIREYSEL',
    'not-a-phone,MESAJ,HS_WEB,ONAY,2025-01-02 10:00:00,BIREYSEL',
    '+905551110003,SMS,HS_WEB,ONAY,2025-01-02 10:00:00,BIREYSEL',
    '+905551110004,MESAJ,HS_WEB,ONAY,2025-13-02 10:00:00,BIREYSEL',
    '+905551110005,MESAJ,HS_WEB,ONAY',
    '"+905551110006,MESAJ,HS_WEB,ONAY,2025-01-02 10:00:00,BIREYSEL',
  ].join('\n') + '\n+905551110007,MESAJ,HS_WEB,ONAY,2025-01-02 10:00:00,BIREYSEL\n';
  const res = await gw.call('POST', '/v1/mirror/import?brandCode=7', csv, { 'content-type': 'text/csv' });
  t.equal(res.status, 200);
  t.equal(res.body.layout, 'upload');
  t.equal(res.body.applied >= 1, true, 'good rows applied');
  t.ok(res.body.rejected >= 5, 'bad rows rejected');
  const byLine = Object.fromEntries(res.body.errors.map((e: { line: number; code: string; field?: string }) => [e.line, e]));
  t.match(byLine[3], { code: 'GW_ERR_IMPORT_INVALID_FIELD', field: 'status' });
  t.match(byLine[4], { code: 'GW_ERR_IMPORT_INVALID_RECIPIENT', field: 'recipient' });
  t.match(byLine[5], { code: 'GW_ERR_IMPORT_INVALID_FIELD', field: 'type' });
  t.match(byLine[6], { code: 'GW_ERR_IMPORT_INVALID_FIELD', field: 'consentDate' });
  t.match(byLine[7], { code: 'GW_ERR_IMPORT_ROW_SHAPE' });
  const ok = await gw.call('POST', '/v1/check', { brandCode: 7, recipient: '+905551110001', type: 'MESAJ' });
  t.equal(ok.body.decision, 'ALLOW');
});

t.test('import: an unknown header is a 400 with a coded error', async (t) => {
  const gw = await makeGateway(t);
  const res = await gw.call('POST', '/v1/mirror/import?brandCode=7', 'phone,consent\n1,2\n', { 'content-type': 'text/csv' });
  t.equal(res.status, 400);
  t.equal(res.body.code, 'GW_ERR_IMPORT_FORMAT');
});
