// Found by the bad-input review of 2026-11-29 (not a field case): send requests slipped past the
// screen through path tricks (`//`, `..`, upper case) and through send APIs the adapter cannot read
// (GET with a query, form or XML bodies, PUT, a webhook GET). Each is now screened or refused, and
// nothing unscreened reaches the provider.
import t from 'tap';
import { canonicalPath } from '../../src/routes/proxy/index.ts';
import { BRAND, KEY, makeProxy, startStub } from '../transports/harness.ts';

t.test('canonicalPath', async (t) => {
  t.equal(canonicalPath('//sms/rest/v2/send'), '/sms/rest/v2/send');
  t.equal(canonicalPath('/sms/rest/x/../v2/send'), '/sms/rest/v2/send');
  t.equal(canonicalPath('/sms/./rest/v2/send/'), '/sms/rest/v2/send/');
  t.equal(canonicalPath('/sms%2Frest%2fv2/send'), '/sms/rest/v2/send');
  t.equal(canonicalPath('/%2e%2e/etc'), null);
  t.equal(canonicalPath('/../x'), null);
  t.equal(canonicalPath('/'), '/');
});

t.test('path tricks are screened, other send APIs refused, read-only endpoints pass', async (t) => {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [
    { name: 'netgsm', adapter: 'netgsm', url: stub.url, brandCode: BRAND },
    { name: 'hook', adapter: 'webhook', url: stub.url, brandCode: BRAND },
  ]);
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }, { recipient: '+905550000002', status: 'RET' }]);
  const h = { 'content-type': 'application/json', 'x-iys-gate-key': KEY, authorization: 'Basic dTpw' };
  const body = JSON.stringify({ msgheader: 'X', iysfilter: '11', messages: [{ msg: 'kampanya', no: '5550000001' }, { msg: 'kampanya', no: '5550000002' }] });
  for (const url of ['/proxy/netgsm//sms/rest/v2/send', '/proxy/netgsm/sms/rest/x/../v2/send', '/proxy/netgsm/SMS/REST/V2/SEND']) {
    const before = stub.requests.length;
    const r = await gw.app.inject({ method: 'POST', url, headers: h, payload: body });
    t.equal(r.statusCode, 200, url);
    t.equal(r.headers['x-iys-gate-counts'], 'received=2, forwarded=1, removed=1', `${url}: screened`);
    const got = stub.requests[before]!;
    t.notOk(got.body.toString().includes('5550000002'), `${url}: the refused number never reaches the provider`);
    t.notOk(got.url.includes('//') || got.url.includes('..'), `${url}: the provider receives the screened path (${got.url})`);
  }
  const n = stub.requests.length;
  const refused: Array<[string, string, string | undefined, Record<string, string>?]> = [
    ['GET', '/proxy/netgsm/sms/send/get?usercode=u&password=p&gsmno=5550000002&message=kampanya&msgheader=X', undefined],
    ['POST', '/proxy/netgsm/sms/send/get', 'usercode=u&gsmno=5550000002&message=kampanya', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['POST', '/proxy/netgsm/sms/send/xml', '<mainbody><body><no>5550000002</no></body></mainbody>', { 'content-type': 'application/xml' }],
    ['PUT', '/proxy/netgsm/sms/rest/v2/send', body],
    ['GET', '/proxy/hook/send?recipients=05550000002', undefined],
  ];
  for (const [method, url, payload, extra] of refused) {
    const r = await gw.app.inject({ method: method as 'GET', url, headers: { ...h, ...extra }, ...(payload ? { payload } : {}) });
    t.equal(r.statusCode, 400, `${method} ${url}`);
    t.equal(r.json().code, 'GW_ERR_UPSTREAM_UNREADABLE');
  }
  t.equal(stub.requests.length, n, 'none of them reached the provider');
  const report = await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/report', headers: h, payload: '{"bulkIds":["1"]}' });
  t.equal(report.statusCode, 200, 'a read-only endpoint of the adapter passes');
  const inbox = await gw.app.inject({ method: 'GET', url: '/proxy/netgsm/sms/rest/v2/msgheader', headers: h });
  t.equal(inbox.statusCode, 200, 'a GET read passes');
});

t.test('webhook: a GET with the recipients in its query is refused (the receiver may send on it); passThroughPaths still pass', async (t) => {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [{ name: 'hook', adapter: 'webhook', url: stub.url + '/hooks/sms', brandCode: BRAND, passThroughPaths: ['/status'] }]);
  for (const url of ['/proxy/hook?recipients=05550000002&message=Kampanya', '/proxy/hook/?recipients=05550000002', '/proxy/hook/notify?to=05550000002']) {
    const r = await gw.app.inject({ method: 'GET', url, headers: { 'x-iys-gate-key': KEY } });
    t.equal(r.statusCode, 400, url);
    t.equal(r.json().code, 'GW_ERR_UPSTREAM_UNREADABLE');
  }
  t.equal(stub.requests.length, 0);
  const ok = await gw.app.inject({ method: 'GET', url: '/proxy/hook/status', headers: { 'x-iys-gate-key': KEY } });
  t.equal(ok.statusCode, 200);
  t.equal(stub.requests[0]!.url, '/hooks/sms/status');
});
