// Review (attack): a GET to a provider path is passed unscreened as a "read" unless its path looks
// like a send path (SEND_LIKE). Netgsm's legacy HTTP API sends on a GET whose path names no
// "send": `GET /bulkhttppost.asp?usercode=…&gsmno=<RET>&message=…` reached the provider unscreened.
// A GET/HEAD whose query names a recipient or a message text is not a read: refused unsent (400).
import t from 'tap';
import { BRAND, KEY, makeProxy, startStub } from '../transports/harness.ts';
import { closeRawAgent, rawRequest } from '../transports/raw-http.ts';

t.teardown(closeRawAgent);
const RET = '5550000002';
const H = { 'x-iys-gate-key': KEY, authorization: 'Basic dTpw' };

async function setup(t: { teardown(fn: () => unknown): void }) {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [{ name: 'netgsm', adapter: 'netgsm', url: stub.url, brandCode: BRAND }], { listen: true });
  await gw.seed([{ recipient: '+905550000002', status: 'RET' }]);
  return { stub, gw };
}

t.test('trigger: Netgsm legacy GET send (bulkhttppost.asp) with a RET recipient is refused unsent', async (t) => {
  const { stub, gw } = await setup(t);
  const r = await rawRequest(gw.url, 'GET', `/proxy/netgsm/bulkhttppost.asp?usercode=u&password=p&gsmno=${RET}&message=Kampanya&msgheader=FIRMA`, H);
  t.equal(r.status, 400, r.body);
  t.match(JSON.parse(r.body), { code: 'GW_ERR_UPSTREAM_UNREADABLE' });
  t.equal(stub.requests.length, 0, 'the provider received nothing');
});

t.test('variants: other recipient/message query names, encoded and mixed-case names, HEAD', async (t) => {
  const { stub, gw } = await setup(t);
  const qs = [
    `?gsmno=${RET}`, `?GSMNO=${RET}`, `?gsm%6Eo=${RET}`, `?no=${RET}`, `?dest=${RET}`, `?to=${RET}`, `?receipents=${RET}`,
    `?phone=${RET}`, `?msg=Kampanya`, `?message=x&a=1`, `?text=hi`, `?a=1&recipient=${RET}`, `?numbers[]=${RET}`, `?Gsm_No=${RET}`,
  ];
  for (const q of qs) {
    for (const m of ['GET', 'HEAD']) {
      const r = await rawRequest(gw.url, m, `/proxy/netgsm/xmlbulkhttppost.asp${q}`, H);
      t.equal(r.status, 400, `${m} ${q}`);
    }
  }
  t.equal(stub.requests.length, 0, 'the provider received nothing');
});

t.test('variant: a GET carrying a body (a form or JSON a server may read on any method) never delivers that body', async (t) => {
  const { stub, gw } = await setup(t);
  await rawRequest(gw.url, 'GET', '/proxy/netgsm/bulkhttppost.asp', { ...H, 'content-type': 'application/x-www-form-urlencoded' }, `usercode=u&gsmno=${RET}&message=Kampanya`);
  await rawRequest(gw.url, 'GET', '/proxy/netgsm/api/v1/x', { ...H, 'content-type': 'application/json' }, JSON.stringify({ no: RET, msg: 'x' }));
  for (const r of stub.requests) t.equal(r.body.length, 0, `${r.method} ${r.url}: no body bytes reach the provider`);
});

t.test('reads still pass: a GET with an ordinary report query', async (t) => {
  const { stub, gw } = await setup(t);
  const r = await rawRequest(gw.url, 'GET', '/proxy/netgsm/sms/rest/v2/report?bulkid=123&type=0', H);
  t.equal(r.status, 200);
  t.equal(stub.requests.length, 1);
  const b = await rawRequest(gw.url, 'GET', '/proxy/netgsm/balance?usercode=u', H);
  t.equal(b.status, 200);
});
