/**
 * iletiMerkezi, Verimor, SendGrid and the generic webhook through the proxy, each against a real
 * stub upstream speaking that provider's format. SendGrid is driven with the official
 * @sendgrid/client, only its `baseUrl` default changed.
 */
import t from 'tap';
import sgClient from '@sendgrid/client';
import { BRAND, KEY, makeProxy, startStub } from './harness.ts';

const H = { 'content-type': 'application/json', 'x-iys-gate-key': KEY };

t.test('iletiMerkezi: receipents rewritten, response relayed as is', async (t) => {
  const answer = '{"response":{"status":{"code":"200","message":"İşlem başarılı"},"order":{"id":"4815162342"}}}';
  const stub = await startStub(t, (_r, res) => { res.setHeader('content-type', 'application/json; charset=utf-8'); res.end(answer); });
  const gw = await makeProxy(t, [{ name: 'im', adapter: 'iletimerkezi', url: stub.url + '/base', brandCode: BRAND }]);
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }, { recipient: '+905550000002', status: 'RET' }]);
  const body = { request: { authentication: { key: 'APIKEY', hash: 'HASH' }, order: { sender: 'FIRMA', sendDateTime: [], iys: '1', iysList: 'BIREYSEL',
    message: { text: 'Kış sezonu başladı', receipents: { number: ['5550000001', '5550000002', '5550000009'] } } } } };
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/im/v1/send-sms/json', headers: H, payload: body });
  t.equal(res.statusCode, 200);
  t.equal(res.body, answer);
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  t.equal(res.headers['x-iys-gate-counts'], 'received=3, forwarded=1, removed=2');
  const got = stub.requests[0]!;
  t.equal(got.url, '/base/v1/send-sms/json', 'upstream URL path is a prefix');
  const expected = JSON.stringify({ request: { ...body.request, order: { ...body.request.order, message: { text: 'Kış sezonu başladı', receipents: { number: ['5550000001'] } } } } });
  t.equal(got.body.toString('utf8'), expected);
  t.equal(got.headers['content-length'], String(Buffer.byteLength(expected)));
});

t.test('Verimor: dest list cut, text/plain campaign id relayed; provider 400 relayed untouched', async (t) => {
  const stub = await startStub(t, (r, res) => {
    const b = JSON.parse(r.body.toString());
    if (b.source_addr === 'BAD') { res.statusCode = 400; res.setHeader('content-type', 'text/plain'); res.end('INVALID_SOURCE_ADDRESS'); return; }
    res.setHeader('content-type', 'text/plain'); res.end('123456789');
  });
  const gw = await makeProxy(t, [{ name: 'verimor', adapter: 'verimor', url: stub.url, brandCode: BRAND }]);
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }, { recipient: '+905550000003', status: 'ONAY', recipientType: 'TACIR' }]);
  const body = { username: '908501234567', password: 'p', source_addr: 'FIRMA', is_commercial: true, iys_recipient_type: 'BIREYSEL',
    messages: [{ msg: 'Yeni ürünler', dest: '905550000001,905550000002' }, { msg: 'Yeni ürünler', dest: '905550000004' }] };
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/verimor/v2/send.json', headers: H, payload: body });
  t.equal(res.statusCode, 200);
  t.equal(res.body, '123456789');
  t.equal(stub.requests[0]!.body.toString(), JSON.stringify({ ...body, messages: [{ msg: 'Yeni ürünler', dest: '905550000001' }] }));
  const bad = await gw.app.inject({ method: 'POST', url: '/proxy/verimor/v2/send.json', headers: H, payload: { ...body, source_addr: 'BAD' } });
  t.equal(bad.statusCode, 400);
  t.equal(bad.body, 'INVALID_SOURCE_ADDRESS', "provider's own error is the provider's");
  // TACIR: opt-out, allowed unless RET
  const tacir = await gw.app.inject({ method: 'POST', url: '/proxy/verimor/v2/send.json', headers: H, payload: { ...body, iys_recipient_type: 'TACIR' } });
  t.equal(tacir.headers['x-iys-gate-counts'], 'received=3, forwarded=3, removed=0');
});

t.test('SendGrid: official client with only baseUrl changed; to/cc/bcc filtered; 202 relayed', async (t) => {
  const stub = await startStub(t, (_r, res) => { res.statusCode = 202; res.setHeader('x-message-id', 'SGID-1'); res.end(); });
  const gw = await makeProxy(t, [{ name: 'mail', adapter: 'sendgrid', url: stub.url, brandCode: BRAND, gatewayAuth: 'none', messageType: 'TICARI' }], { listen: true });
  await gw.seed([{ recipient: 'a@example.com', status: 'ONAY', type: 'EPOSTA' }, { recipient: 'b@example.com', status: 'RET', type: 'EPOSTA' }, { recipient: 'c@example.com', status: 'ONAY', type: 'EPOSTA' }]);
  const client = sgClient;
  client.setApiKey('SG.test-key');
  client.setDefaultRequest('baseUrl', `${gw.url}/proxy/mail`);
  const body = {
    personalizations: [{ to: [{ email: 'a@example.com' }, { email: 'b@example.com' }], cc: [{ email: 'c@example.com' }], bcc: [{ email: 'z@example.com' }] }],
    from: { email: 'shop@example.com' }, subject: 'Kasım bülteni', content: [{ type: 'text/plain', value: 'Yeni ürünlerimiz' }],
  };
  const [res] = await client.request({ method: 'POST', url: '/v3/mail/send', body });
  t.equal(res.statusCode, 202);
  t.equal(res.headers['x-message-id'], 'SGID-1');
  t.equal(res.headers['x-iys-gate-counts'], 'received=4, forwarded=2, removed=2');
  const got = stub.requests[0]!;
  t.equal(got.url, '/v3/mail/send');
  t.equal(got.headers.authorization, 'Bearer SG.test-key', 'SendGrid key passes through');
  const expected = JSON.stringify({ ...body, personalizations: [{ to: [{ email: 'a@example.com' }], cc: [{ email: 'c@example.com' }] }] });
  t.equal(got.body.toString(), expected);
  t.equal(got.headers['content-length'], String(Buffer.byteLength(expected)));
});

t.test('SendGrid: X-IYS-Message-Type BILGILENDIRME exempts a service mail and is not forwarded', async (t) => {
  const stub = await startStub(t, (_r, res) => { res.statusCode = 202; res.end(); });
  const gw = await makeProxy(t, [{ name: 'mail', adapter: 'sendgrid', url: stub.url, brandCode: BRAND }]);
  const payload = { personalizations: [{ to: [{ email: 'x@example.com' }] }], from: { email: 's@example.com' }, subject: 'Siparişiniz onaylandı (#48213)', content: [{ type: 'text/plain', value: 'Teşekkürler' }] };
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/mail/v3/mail/send', headers: { ...H, 'x-iys-message-type': 'BILGILENDIRME', authorization: 'Bearer SG.k' }, payload });
  t.equal(res.statusCode, 202);
  t.equal(res.headers['x-iys-gate-counts'], 'received=1, forwarded=1, removed=0');
  t.notOk(stub.requests[0]!.headers['x-iys-message-type'], 'gateway control header stripped');
  const promo = await gw.app.inject({ method: 'POST', url: '/proxy/mail/v3/mail/send', headers: { ...H, 'x-iys-message-type': 'BILGILENDIRME' }, payload: { ...payload, subject: 'Sana özel kupon içeride: %30 indirim' } });
  t.equal(promo.statusCode, 422, 'promotional subject → checked as TICARI → no consent → all blocked');
  t.equal(promo.json().code, 'GW_ERR_UPSTREAM_ALL_BLOCKED');
  t.equal(stub.requests.length, 1);
});

t.test('webhook via /proxy and via POST /v1/send', async (t) => {
  const stub = await startStub(t, (_r, res) => { res.setHeader('content-type', 'application/json'); res.end('{"accepted":true}'); });
  const gw = await makeProxy(t, [{ name: 'hook', adapter: 'webhook', url: stub.url + '/hooks/sms', brandCode: BRAND }]);
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY', type: 'ARAMA' }]);
  const body = { brandCode: BRAND, type: 'ARAMA', messageType: 'TICARI', recipientType: 'BIREYSEL', recipients: ['05550000001', '05550000002'], message: 'Sizi yeni tarifemiz hakkında arayacağız' };
  const p = await gw.app.inject({ method: 'POST', url: '/proxy/hook', headers: H, payload: body });
  t.equal(p.statusCode, 200);
  t.equal(p.body, '{"accepted":true}');
  t.equal(stub.requests[0]!.url, '/hooks/sms');
  t.equal(stub.requests[0]!.body.toString(), JSON.stringify({ ...body, recipients: ['05550000001'] }));
  const s = await gw.app.inject({ method: 'POST', url: '/v1/send', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, payload: body });
  t.equal(s.statusCode, 200);
  t.equal(s.headers['x-iys-gate-counts'], 'received=2, forwarded=1, removed=1');
  const rep = await gw.app.inject({ method: 'GET', url: `/proxy/_reports/${s.headers['x-iys-gate-report']}`, headers: { 'x-iys-gate-key': KEY } });
  t.match(rep.json(), { upstream: 'hook', counts: { received: 2, forwarded: 1, removed: 1 }, removed: [{ index: 1, input: '05550000002', reason: 'NO_CONSENT' }] }, '/v1/send reports are served by the same endpoint');
  t.equal(stub.requests[1]!.body.toString(), JSON.stringify({ ...body, recipients: ['05550000001'] }));
  t.notOk(stub.requests[1]!.headers.authorization, 'the gateway key never reaches the webhook');
  const none = await gw.app.inject({ method: 'POST', url: '/v1/send', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, payload: { ...body, recipients: ['05550000002'] } });
  t.equal(none.statusCode, 422);
  t.match(none.json(), { code: 'GW_ERR_UPSTREAM_ALL_BLOCKED', removed: [{ input: '05550000002', reason: 'NO_CONSENT' }] });
  t.equal((await gw.app.inject({ method: 'POST', url: '/v1/send', headers: { 'content-type': 'application/json' }, payload: body })).statusCode, 401);
  t.equal(stub.requests.length, 2);
});

t.test('promotional text declared informational is forwarded declared commercial, in each provider\'s own field', async (t) => {
  const stub = await startStub(t, (_r, res) => { res.setHeader('content-type', 'application/json'); res.end('{}'); });
  const gw = await makeProxy(t, [
    { name: 'im', adapter: 'iletimerkezi', url: stub.url, brandCode: BRAND },
    { name: 'verimor', adapter: 'verimor', url: stub.url, brandCode: BRAND },
    { name: 'hook', adapter: 'webhook', url: stub.url, brandCode: BRAND },
  ]);
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }]);
  const text = 'Hafta sonuna özel %30 indirim kampanyası, kaçırmayın!';
  const sent = async (url: string, payload: unknown) => {
    const before = stub.requests.length;
    const res = await gw.app.inject({ method: 'POST', url, headers: H, payload: payload as Record<string, unknown> });
    t.equal(res.statusCode, 200, url);
    t.match(res.headers['x-iys-gate-promotional'], /^treat-as-commercial; /);
    const r = stub.requests[before]!;
    t.equal(r.headers['content-length'], String(r.body.length), 'content-length of the rewritten body');
    return JSON.parse(r.body.toString()) as Record<string, any>;
  };
  const im = await sent('/proxy/im/v1/send-sms/json', { request: { authentication: { key: 'K', hash: 'H' }, order: { sender: 'FIRMA', iys: '0',
    message: { text, receipents: { number: ['5550000001'] } } } } });
  t.match(im.request.order, { iys: '1', iysList: 'BIREYSEL' });
  const vm = await sent('/proxy/verimor/v2/send.json', { username: 'u', password: 'p', source_addr: 'FIRMA', is_commercial: false,
    messages: [{ msg: text, dest: '905550000001' }] });
  t.match(vm, { is_commercial: true, iys_recipient_type: 'BIREYSEL' });
  const hook = await sent('/proxy/hook', { type: 'MESAJ', messageType: 'BILGILENDIRME', recipients: ['+905550000001', '+905550000009'], message: text });
  t.match(hook, { messageType: 'TICARI', recipientType: 'BIREYSEL', recipients: ['+905550000001'] });
  // not promotional: informational stays informational, bytes untouched
  const plain = { type: 'MESAJ', messageType: 'BILGILENDIRME', recipients: ['+905550000009'], message: 'Siparişiniz kargoya verildi.' };
  const before = stub.requests.length;
  await gw.app.inject({ method: 'POST', url: '/proxy/hook', headers: H, payload: plain });
  t.same(JSON.parse(stub.requests[before]!.body.toString()), plain);
});

t.test('review: mixed texts in one request, webhook message shapes, /v1/send promotional header', async (t) => {
  const stub = await startStub(t, (_r, res) => { res.setHeader('content-type', 'application/json'); res.end('{}'); });
  const gw = await makeProxy(t, [
    { name: 'ng', adapter: 'netgsm', url: stub.url, brandCode: BRAND },
    { name: 'hook', adapter: 'webhook', url: stub.url, brandCode: BRAND },
  ]);
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }, { recipient: '+905550000002', status: 'RET' }, { recipient: 'a@b.com', status: 'RET', type: 'EPOSTA' }]);
  // an OTP beside a campaign: the campaign does not reach the refused recipient
  const mixed = await gw.app.inject({ method: 'POST', url: '/proxy/ng/sms/rest/v2/send', headers: H, payload: { msgheader: 'F', iysfilter: '0',
    messages: [{ msg: 'Doğrulama kodunuz 1234, kimseyle paylaşmayınız', no: '5550000001' }, { msg: 'Kampanya başladı!', no: '5550000002' }] } });
  t.equal(mixed.headers['x-iys-gate-counts'], 'received=2, forwarded=1, removed=1');
  t.equal(JSON.parse(stub.requests.at(-1)!.body.toString()).iysfilter, '11');
  // webhook messages as html or a list are read too
  for (const message of [{ html: '<b>Kampanya %50 indirim</b>' }, ['Kampanya %50 indirim']]) {
    const r = await gw.app.inject({ method: 'POST', url: '/proxy/hook', headers: H, payload: { type: 'EPOSTA', messageType: 'BILGILENDIRME', recipients: ['a@b.com'], message } });
    t.equal(r.statusCode, 422, `${JSON.stringify(message)}: checked as commercial, the refused address removed`);
    t.match(r.headers['x-iys-gate-promotional'], /^treat-as-commercial/);
  }
  // /v1/send tells the sender too
  const s = await gw.app.inject({ method: 'POST', url: '/v1/send', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    payload: { type: 'MESAJ', messageType: 'BILGILENDIRME', recipients: ['+905550000001'], message: 'Kampanya %50 indirim' } });
  t.equal(s.statusCode, 200);
  t.match(s.headers['x-iys-gate-promotional'], /^treat-as-commercial/);
  t.match(JSON.parse(stub.requests.at(-1)!.body.toString()), { messageType: 'TICARI' });
});
