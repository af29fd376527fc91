/**
 * Issue 10 item 12: official provider SDKs, changed only in their base URL and credentials, work
 * through iys-gate with `gatewayAuth: provider` (the provider's own user matched against the
 * upstream's allowlist / sha256 list), see the gateway's refusals in the provider's own error
 * shape (a code the SDK surfaces, iys-gate's answer inside), have their OTP sends screened and
 * their read-only calls passed through. Real stub upstream on port 0; bytes it received asserted.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { Netgsm } from '@netgsm/sms';
import sgClient from '@sendgrid/client';
import { BRAND, makeProxy, startStub } from './harness.ts';

const ONAY = '5550000001';
const RET = '5550000002';
const USER = '8503000001';
const PASS = 'pw-Netgsm-1';

/** A stub answering like Netgsm per operation. */
function netgsmAnswer(path: string): string {
  if (path.startsWith('/sms/rest/v2/send')) return '{"code":"00","jobid":"J-SEND","description":"queued"}';
  if (path.startsWith('/sms/rest/v2/otp')) return '{"code":"00","jobid":"J-OTP","description":"queued"}';
  if (path.startsWith('/balance')) return '{"code":"00","balance":[{"amount":120,"balance_name":"SMS"}]}';
  if (path.startsWith('/sms/rest/v2/msgheader')) return '{"code":"00","description":"ok","msgheaders":["FIRMA"]}';
  if (path.startsWith('/sms/rest/v2/inbox')) return '{"code":"00","description":"ok","messages":[]}';
  if (path.startsWith('/sms/rest/v2/report')) return '{"code":"00","description":"ok","jobs":[]}';
  return '{"code":"70","description":"unknown"}';
}

async function netgsmSetup(t: { teardown(fn: () => unknown): void }, extra: Record<string, unknown> = {}) {
  const stub = await startStub(t, (r, res) => { res.setHeader('content-type', 'application/json'); res.end(netgsmAnswer(r.url)); });
  const gw = await makeProxy(t, [{ name: 'netgsm', adapter: 'netgsm', url: stub.url, brandCode: BRAND, gatewayAuth: 'provider', providerUsers: [USER], ...extra }], { listen: true });
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }, { recipient: '+905550000002', status: 'RET' }]);
  const sdk = (username = USER, password = PASS) => {
    const c = new Netgsm({ username, password });
    (c as unknown as { baseURL: string }).baseURL = `${gw.url}/proxy/netgsm`; // the SDK's only base-URL setting
    return c;
  };
  return { stub, gw, sdk };
}

const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
const thrown = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the SDK to throw'); }, (e: unknown) => e as Record<string, any>);

t.test('Netgsm SDK: an allowlisted user sends without any gateway key; the RET number never leaves', async (t) => {
  const { stub, sdk } = await netgsmSetup(t);
  const res = await sdk().sendRestSms({ msgheader: 'FIRMA', iysfilter: '11', encoding: 'TR', messages: [{ msg: 'Kış koleksiyonu', no: ONAY }, { msg: 'Kış koleksiyonu', no: RET }] } as never);
  t.match(res, { code: '00', jobid: 'J-SEND' });
  t.equal(stub.requests.length, 1);
  const got = stub.requests[0]!;
  t.equal(got.url, '/sms/rest/v2/send');
  t.equal(got.headers.authorization, basic(USER, PASS), 'the provider credentials pass untouched');
  const expected = JSON.stringify({ msgheader: 'FIRMA', iysfilter: '11', encoding: 'TR', messages: [{ msg: 'Kış koleksiyonu', no: ONAY }] });
  t.equal(got.body.toString('utf8'), expected, 'byte-exact screened body');
  t.equal(got.headers['content-length'], String(Buffer.byteLength(expected)));
});

t.test('Netgsm SDK: refusals come back in Netgsm\'s shape, with a code the SDK surfaces and iys-gate\'s answer inside', async (t) => {
  const { stub, sdk } = await netgsmSetup(t);
  const all = await thrown(sdk().sendRestSms({ msgheader: 'FIRMA', iysfilter: '11', messages: [{ msg: 'Kampanya', no: RET }] } as never));
  t.match(all, { status: 406, code: '70', description: /^GW_ERR_UPSTREAM_ALL_BLOCKED: / });
  t.match(all.iysGate, { code: 'GW_ERR_UPSTREAM_ALL_BLOCKED', statusCode: 422, outcome: 'not_sent', counts: { received: 1, forwarded: 0, removed: 1 },
    removed: [{ index: 0, input: RET, reason: 'CONSENT_RET' }], requestId: String });
  const bad = await thrown(sdk().sendRestSms({ msgheader: 'FIRMA', iysfilter: '99', messages: [{ msg: 'x', no: ONAY }] } as never));
  t.match(bad, { status: 406, code: '70', description: /^GW_ERR_UPSTREAM_UNREADABLE: .*iysfilter/, iysGate: { code: 'GW_ERR_UPSTREAM_UNREADABLE', field: 'body' } });
  const stranger = await thrown(sdk('8509999999', 'x').sendRestSms({ msgheader: 'FIRMA', iysfilter: '11', messages: [{ msg: 'x', no: ONAY }] } as never));
  t.match(stranger, { status: 406, code: '30', description: /^GW_ERR_UNAUTHORIZED: / }, 'a provider user not in the list: Netgsm\'s auth code');
  t.equal(stub.requests.length, 0, 'none of them reached the provider');
});

t.test('Netgsm SDK: a promotional text declared informational, policy block → code 20', async (t) => {
  const { stub, sdk } = await netgsmSetup(t, { promotionalInformational: 'block' });
  const e = await thrown(sdk().sendRestSms({ msgheader: 'FIRMA', iysfilter: '0', messages: [{ msg: 'Hafta sonu %40 indirim kampanyası!', no: ONAY }] } as never));
  t.match(e, { status: 406, code: '20', description: /^GW_ERR_UPSTREAM_PROMOTIONAL_INFORMATIONAL: /, iysGate: { outcome: 'not_sent' } });
  t.equal(stub.requests.length, 0);
});

t.test('Netgsm SDK: OTP sends are screened (informational, still linted), forwarded byte for byte', async (t) => {
  const { stub, sdk } = await netgsmSetup(t);
  const ok = await sdk().sendOtpSms({ msgheader: 'FIRMA', msg: 'Doğrulama kodunuz: 482913', no: RET });
  t.match(ok, { code: '00', jobid: 'J-OTP' }, 'an OTP is informational: exempt from consent, even to a RET number');
  t.equal(stub.requests[0]!.url, '/sms/rest/v2/otp');
  t.equal(stub.requests[0]!.body.toString(), JSON.stringify({ msgheader: 'FIRMA', msg: 'Doğrulama kodunuz: 482913', no: RET }), 'unchanged bytes');
  const promo = await thrown(sdk().sendOtpSms({ msgheader: 'FIRMA', msg: 'Kodunuz 1234. Bugüne özel %50 indirim kampanyası!', no: ONAY }));
  t.match(promo, { status: 406, code: '20', iysGate: { code: 'GW_ERR_UPSTREAM_PROMOTIONAL_INFORMATIONAL' } }, 'a promotional "OTP" cannot be declared commercial: refused');
  const invalid = await thrown(sdk().sendOtpSms({ msgheader: 'FIRMA', msg: 'Kodunuz 1234', no: '12' }));
  t.match(invalid, { status: 406, code: '50', iysGate: { code: 'GW_ERR_UPSTREAM_ALL_BLOCKED', removed: [{ reason: 'INVALID_RECIPIENT' }] } }, 'OTP number refused: Netgsm\'s OTP number code');
  t.equal(stub.requests.length, 1);
});

t.test('Netgsm SDK: read-only calls (balance, headers, inbox, report) pass through', async (t) => {
  const { stub, sdk } = await netgsmSetup(t);
  const c = sdk();
  t.match(await c.checkBalance({ stip: 2 } as never), { code: '00', balance: [{ amount: 120 }] });
  t.match(await c.getHeaders(), { code: '00', msgheaders: ['FIRMA'] });
  t.match(await c.getInbox(), { code: '00' });
  t.match(await c.getReport({ bulkIds: ['J-SEND'], startdate: '01.11.2026 00:00:00', stopdate: '29.11.2026 00:00:00' } as never), { code: '00' });
  t.same(stub.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`), ['POST /balance', 'GET /sms/rest/v2/msgheader', 'GET /sms/rest/v2/inbox', 'POST /sms/rest/v2/report']);
  t.equal(stub.requests[0]!.body.toString(), JSON.stringify({ usercode: USER, password: PASS, stip: 2 }), 'balance: the user is read from the body');
  // a balance call for an account that is not listed is refused, unsent
  const e = await thrown(sdk('8509999999', 'x').checkBalance({ stip: 2 } as never));
  t.match(e, { status: 406, code: '30' });
  t.equal(stub.requests.length, 4);
});

t.test('gatewayAuth provider: Basic user and body usercode must both be listed; sha256 list works too', async (t) => {
  const hashed = createHash('sha256').update(USER).digest('hex');
  const { stub, gw } = await netgsmSetup(t, { providerUsers: [], providerUsersSha256: [hashed] });
  const send = (auth: string | undefined, extra: Record<string, unknown> = {}) => gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, payload: { msgheader: 'F', iysfilter: '11', messages: [{ msg: 'x', no: ONAY }], ...extra } });
  t.equal((await send(basic(USER, PASS))).statusCode, 200, 'sha256-listed user');
  t.equal((await send(basic(USER, PASS), { usercode: '8509999999' })).statusCode, 406, 'a second, unlisted user in the body');
  t.equal((await send(undefined)).statusCode, 406, 'no provider user at all');
  t.equal((await send(undefined)).json().code, '30');
  t.equal(stub.requests.length, 1);
});

t.test('config: gatewayAuth provider needs a list, and is refused for the webhook adapter', async (t) => {
  await t.rejects(makeProxy(t, [{ name: 'n', adapter: 'netgsm', url: 'http://127.0.0.1:9', brandCode: BRAND, gatewayAuth: 'provider' }]), { code: 'GW_ERR_CONFIG_INVALID' });
  await t.rejects(makeProxy(t, [{ name: 'h', adapter: 'webhook', url: 'http://127.0.0.1:9', brandCode: BRAND, gatewayAuth: 'provider', providerUsers: ['x'] }]), { code: 'GW_ERR_CONFIG_INVALID' });
});

t.test('@sendgrid/client: API key matched by sha256; screened send; refusals in SendGrid\'s errors[] shape', async (t) => {
  const stub = await startStub(t, (_r, res) => { res.statusCode = 202; res.setHeader('x-message-id', 'SG-1'); res.end(); });
  const KEY_SG = 'SG.allowed-key.0123456789';
  const gw = await makeProxy(t, [{ name: 'mail', adapter: 'sendgrid', url: stub.url, brandCode: BRAND, gatewayAuth: 'provider', messageType: 'TICARI',
    providerUsersSha256: [createHash('sha256').update(KEY_SG).digest('hex')] }], { listen: true });
  await gw.seed([{ recipient: 'a@example.com', status: 'ONAY', type: 'EPOSTA' }, { recipient: 'b@example.com', status: 'RET', type: 'EPOSTA' }]);
  const client = sgClient;
  client.setApiKey(KEY_SG); // (setApiKey resets baseUrl: set it after)
  client.setDefaultRequest('baseUrl', `${gw.url}/proxy/mail`);
  const body = { personalizations: [{ to: [{ email: 'a@example.com' }, { email: 'b@example.com' }] }], from: { email: 'shop@example.com' }, subject: 'Kasım bülteni', content: [{ type: 'text/plain', value: 'Yeni ürünler' }] };
  const [res] = await client.request({ method: 'POST', url: '/v3/mail/send', body });
  t.equal(res.statusCode, 202);
  const got = stub.requests[0]!;
  t.equal(got.headers.authorization, `Bearer ${KEY_SG}`);
  t.equal(got.body.toString(), JSON.stringify({ ...body, personalizations: [{ to: [{ email: 'a@example.com' }] }] }));
  const blocked = await client.request({ method: 'POST', url: '/v3/mail/send', body: { ...body, personalizations: [{ to: [{ email: 'b@example.com' }] }] } })
    .then(() => null, (e: { code: number; response: { body: any } }) => e);
  t.equal(blocked?.code, 422);
  t.match(blocked?.response.body, { errors: [{ message: /^GW_ERR_UPSTREAM_ALL_BLOCKED: /, field: null }], iysGate: { code: 'GW_ERR_UPSTREAM_ALL_BLOCKED', removed: [{ input: 'b@example.com', reason: 'CONSENT_RET' }] } });
  client.setApiKey('SG.someone-else');
  client.setDefaultRequest('baseUrl', `${gw.url}/proxy/mail`);
  const stranger = await client.request({ method: 'POST', url: '/v3/mail/send', body }).then(() => null, (e: { code: number; response: { body: any } }) => e);
  t.equal(stranger?.code, 401);
  t.match(stranger?.response.body, { errors: [{ message: /^GW_ERR_UNAUTHORIZED: / }] });
  t.equal(stub.requests.length, 1);
});

t.test('Netgsm SDK: an upstream failure keeps its status and says why (not "HTTP Error")', async (t) => {
  const gw = await makeProxy(t, [{ name: 'netgsm', adapter: 'netgsm', url: 'http://127.0.0.1:9', brandCode: BRAND, gatewayAuth: 'provider', providerUsers: [USER] }], { listen: true });
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }]);
  const c = new Netgsm({ username: USER, password: PASS });
  (c as unknown as { baseURL: string }).baseURL = `${gw.url}/proxy/netgsm`;
  const e = await thrown(c.sendRestSms({ msgheader: 'FIRMA', iysfilter: '11', messages: [{ msg: 'x', no: ONAY }] } as never));
  t.match(e, { status: 503, code: '100', description: /^GW_ERR_UPSTREAM_UNAVAILABLE: .*nothing was sent/ });
});
