// C38 (field-cases-2): a reverse proxy handed an upstream's 307 back to the sender; the sender's
// HTTP client followed Location and sent the original body, RET recipient included, straight to
// the provider. A 3xx answer to a screened request is now a coded 502 GW_ERR_UPSTREAM_REDIRECT,
// never relayed; the Location is only logged, masked.
import t from 'tap';
import sgClient from '@sendgrid/client';
import { BRAND, KEY, makeProxy, startStub } from '../transports/harness.ts';

const ONAY = '5550000001';
const RET = '5550000002';

async function setup(t: { teardown(fn: () => unknown): void }, status: number, adapter = 'netgsm') {
  const provider = await startStub(t); // where Location points: must never be reached
  const upstream = await startStub(t, (_r, res) => {
    res.statusCode = status;
    res.setHeader('location', `${provider.url}/sms/rest/v2/send?usercode=user850&password=s3cretpw&gsmno=905550000002`);
    res.setHeader('content-type', 'text/html');
    res.end('<a href="elsewhere">moved</a>');
  });
  const gw = await makeProxy(t, [
    { name: 'netgsm', adapter, url: upstream.url, brandCode: BRAND },
    { name: 'hook', adapter: 'webhook', url: upstream.url + '/hook', brandCode: BRAND },
    { name: 'mail', adapter: 'sendgrid', url: upstream.url, brandCode: BRAND, gatewayAuth: 'none' },
  ], { listen: true });
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }, { recipient: '+905550000002', status: 'RET' },
    { recipient: 'a@example.com', status: 'ONAY', type: 'EPOSTA' }, { recipient: 'b@example.com', status: 'RET', type: 'EPOSTA' }]);
  return { provider, upstream, gw };
}

const body = JSON.stringify({ msgheader: 'FIRMA', iysfilter: '11', messages: [{ msg: 'Kampanya', no: ONAY }, { msg: 'Kampanya', no: RET }] });

t.test('trigger: 307 from the upstream, a fetch client that follows redirects sends ONAY + RET', async (t) => {
  const { provider, upstream, gw } = await setup(t, 307);
  const res = await fetch(`${gw.url}/proxy/netgsm/sms/rest/v2/send`, {
    method: 'POST', redirect: 'follow', body,
    headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY, authorization: 'Basic dXNlcjg1MDpzM2NyZXRwdw==' },
  });
  t.equal(res.status, 502);
  t.equal(res.redirected, false, 'nothing to follow');
  t.equal(res.headers.get('location'), null, 'Location not handed back');
  const json = await res.json() as Record<string, unknown>;
  t.match(json, { statusCode: 502, code: 'GW_ERR_UPSTREAM_REDIRECT', outcome: 'not_sent', requestId: String });
  t.notMatch(JSON.stringify(json), /s3cretpw|127\.0\.0\.1/, 'the answer holds no Location');
  t.equal(provider.requests.length, 0, 'the redirect target received nothing');
  t.equal(upstream.requests.length, 1);
  t.notOk(upstream.requests[0]!.body.toString().includes(RET), 'the upstream itself only got the screened body');
  const rep = await fetch(`${gw.url}/proxy/_reports/${res.headers.get('x-iys-gate-report')}`, { headers: { 'x-iys-gate-key': KEY } });
  t.match(await rep.json(), { outcome: 'failed', upstreamStatus: 307 });
  const line = gw.logs.find((l) => l.includes('GW_ERR_UPSTREAM_REDIRECT'));
  t.ok(line, 'logged');
  t.match(line, /sms\/rest\/v2\/send\?usercode=\*\*\*&password=\*\*\*&gsmno=\*\*\*/, 'Location logged with every query value masked');
  t.notMatch(line!, /s3cretpw|user850|5550000002/, 'no credential or number in the log');
});

for (const status of [300, 301, 302, 303, 308]) {
  t.test(`variant: ${status} is refused the same way`, async (t) => {
    const { provider, gw } = await setup(t, status);
    const res = await fetch(`${gw.url}/proxy/netgsm/sms/rest/v2/send`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY } });
    t.equal(res.status, 502);
    t.equal((await res.json() as { code: string }).code, 'GW_ERR_UPSTREAM_REDIRECT');
    t.equal(provider.requests.length, 0);
  });
}

t.test('variant: /v1/send to a webhook upstream that redirects', async (t) => {
  const { provider, gw } = await setup(t, 308);
  const res = await fetch(`${gw.url}/v1/send?upstream=hook`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ type: 'MESAJ', messageType: 'TICARI', recipients: [`+90${ONAY}`, `+90${RET}`], message: 'Kampanya' }),
  });
  t.equal(res.status, 502);
  t.equal((await res.json() as { code: string }).code, 'GW_ERR_UPSTREAM_REDIRECT');
  t.equal(provider.requests.length, 0);
});

t.test('variant: the official SendGrid client (axios follows redirects) gets the 502, the target nothing', async (t) => {
  const { provider, upstream, gw } = await setup(t, 307);
  sgClient.setApiKey('SG.redirect-test');
  sgClient.setDefaultRequest('baseUrl', `${gw.url}/proxy/mail`);
  const err = await sgClient.request({ method: 'POST', url: '/v3/mail/send', body: {
    personalizations: [{ to: [{ email: 'a@example.com' }, { email: 'b@example.com' }] }], from: { email: 'shop@example.com' }, subject: 'Kasım', content: [{ type: 'text/plain', value: 'Yeni ürünler' }],
  } }).then(() => null, (e: { code?: number; response?: { body?: unknown } }) => e);
  t.ok(err, 'the client sees an error');
  t.equal(err!.code, 502);
  t.equal(provider.requests.length, 0);
  t.equal(upstream.requests.length, 1);
  t.notOk(upstream.requests[0]!.body.toString().includes('b@example.com'));
});

t.test('a read-only pass-through answer (not screened) is still relayed as it is, 3xx included', async (t) => {
  const { provider, gw } = await setup(t, 302);
  const res = await fetch(`${gw.url}/proxy/netgsm/sms/rest/v2/msgheader`, { redirect: 'manual', headers: { 'x-iys-gate-key': KEY } });
  t.equal(res.status, 302, 'a GET read sends nothing: its redirect is the provider\'s business');
  t.equal(provider.requests.length, 0);
});
