// A new user following the README (issue "try it as a new user"): coded errors that did not say
// what to do. A 401 on /proxy/… (key sent as Authorization, or not at all) said only "Missing or
// unknown API key" though the proxy reads X-IYS-Gate-Key; GET /v1/consents 404 said "no record
// for this key" (read as the API key); an unrecognised import header did not say which layout is
// expected; `iys-gate import` of a missing file printed "ENOENT: ENOENT: …".
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeGateway, TEST_KEY } from '../helpers/gateway.ts';

t.test('401 names where the key goes, on /v1 and on /proxy', async (t) => {
  const gw = await makeGateway(t, { upstreams: [{ name: 'sms', adapter: 'webhook', url: 'http://127.0.0.1:9', brandCode: 5 }] });
  const cases: Array<[string, string, Record<string, string>]> = [
    ['/v1 without a key', '/v1/check', {}],
    ['/v1 with an unknown key', '/v1/check', { authorization: 'Bearer not-a-key-0123456789' }],
    ['/proxy with the key as Authorization', '/proxy/sms/send', { authorization: `Bearer ${TEST_KEY}` }],
  ];
  for (const [name, url, headers] of cases) {
    const res = await gw.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: '{}' });
    t.equal(res.statusCode, 401, name);
    t.equal(res.json().code, 'GW_ERR_UNAUTHORIZED', name);
    t.match(res.json().message, /Authorization: Bearer <key>/, name);
    t.match(res.json().message, /X-IYS-Gate-Key: <key>/, name);
  }
  const ok = await gw.app.inject({ method: 'GET', url: '/proxy/_reports/00000000-0000-4000-8000-000000000000', headers: { 'x-iys-gate-key': TEST_KEY } });
  t.equal(ok.json().code, 'GW_ERR_UPSTREAM_REPORT_NOT_FOUND', 'the README header is accepted on the report route');
});

t.test('404 of GET /v1/consents names the consent key, not the API key', async (t) => {
  const gw = await makeGateway(t);
  const r = await gw.call('GET', '/v1/consents?brandCode=5&type=MESAJ&recipient=05321240077');
  t.equal(r.status, 404);
  t.equal(r.body.code, 'GW_ERR_CONSENT_NOT_FOUND');
  t.match(r.body.message, /brandCode, recipientType, type and recipient/);
});

t.test('an unrecognised import header says which layouts are expected', async (t) => {
  const gw = await makeGateway(t);
  for (const body of ['a,b\n1,2\n', 'telefon;ad\n05321240001;Ayşe\n']) {
    const r = await gw.call('POST', '/v1/mirror/import?brandCode=5', body, { 'content-type': 'text/csv' });
    t.equal(r.status, 400, body);
    t.equal(r.body.code, 'GW_ERR_IMPORT_FORMAT', body);
    t.match(r.body.message, /expected İYS's daily movement file or upload layout/, body);
  }
});

t.test('iys-gate import of a missing file: one error prefix, exit 1', async (t) => {
  const cli = fileURLToPath(new URL('../../bin/iys-gate.js', import.meta.url)); // the README's entry
  const r = spawnSync(process.execPath, [cli, 'import', '/nonexistent/list.csv', '--brand-code', '5'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, IYS_GATE_DATA_DIR: '/nonexistent/data' } });
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /^iys-gate: ENOENT: no such file or directory/m);
  t.notMatch(r.stderr, /ENOENT: ENOENT/);
});
