/**
 * Dialer adapters (issue 19): Verimor Bulutsantralim, Netgsm Netsantral and the Asterisk REST
 * Interface through the proxy, each against a real stub upstream on 127.0.0.1:0. Allowed calls
 * reach the stub byte for byte; refused ones never; campaign lists arrive without the refused
 * numbers; a call joining a refused party is not placed; the provider's error shape comes back.
 */
import t from 'tap';
import { BRAND, KEY, makeProxy, startStub } from './harness.ts';

const H = { 'x-iys-gate-key': KEY };
const J = { ...H, 'content-type': 'application/json' };
const ONAY = '905550000001';
const RET = '905550000002';
const NONE = '905550000003';

async function setup(t: Parameters<typeof startStub>[0], upstreams: unknown[], reply?: Parameters<typeof startStub>[1]) {
  const stub = await startStub(t, reply ?? ((_r, res) => { res.setHeader('content-type', 'text/plain'); res.end('358c20bc-fd86-11e5-87a2-157d41a07454'); }));
  const gw = await makeProxy(t, upstreams.map((u) => ({ url: stub.url, brandCode: BRAND, ...(u as object) })));
  await gw.seed([
    { recipient: '+' + ONAY, status: 'ONAY', type: 'ARAMA' }, { recipient: '+' + RET, status: 'RET', type: 'ARAMA' },
    // an SMS consent is not a call consent
    { recipient: '+' + NONE, status: 'ONAY', type: 'MESAJ' },
    { recipient: '+905550000004', status: 'ONAY', type: 'ARAMA', recipientType: 'TACIR' },
  ]);
  return { stub, gw };
}

t.test('verimor-switch originate: allowed call forwarded byte for byte; refused and no-consent calls never started', async (t) => {
  const { stub, gw } = await setup(t, [{ name: 'vs', adapter: 'verimor-switch' }, { name: 'vsp', adapter: 'verimor-switch', errorFormat: 'provider' }]);
  const target = `/originate?key=K12345678-1234&extension=1001&destination=${ONAY}&caller_id=908501234567`;
  const ok = await gw.app.inject({ method: 'GET', url: '/proxy/vs' + target, headers: H });
  t.equal(ok.statusCode, 200);
  t.equal(ok.body, '358c20bc-fd86-11e5-87a2-157d41a07454', 'call uuid relayed');
  t.equal(ok.headers['x-iys-gate-counts'], 'received=1, forwarded=1, removed=0');
  t.equal(stub.requests.length, 1);
  t.equal(stub.requests[0]!.url, target, 'query forwarded unchanged');
  for (const dest of [RET, NONE]) {
    const r = await gw.app.inject({ method: 'GET', url: `/proxy/vs/originate?key=K&extension=1001&destination=${dest}`, headers: H });
    t.equal(r.statusCode, 422);
    t.equal(r.json().code, 'GW_ERR_UPSTREAM_ALL_BLOCKED');
    t.equal(r.json().removed[0].reason, dest === RET ? 'CONSENT_RET' : 'NO_CONSENT');
  }
  const shaped = await gw.app.inject({ method: 'GET', url: `/proxy/vsp/originate?key=K&extension=1001&destination=${RET}`, headers: H });
  t.equal(shaped.statusCode, 400, "Verimor's refusal status");
  t.match(shaped.headers['content-type'], /^text\/plain/);
  t.match(shaped.body, /^GW_ERR_UPSTREAM_ALL_BLOCKED: /);
  t.equal(stub.requests.length, 1, 'nothing else reached the PBX');
  // informational call (appointment reminder) to a RET number: exempt, and the header is not forwarded
  const info = await gw.app.inject({ method: 'GET', url: `/proxy/vs/originate?key=K&extension=1001&destination=${RET}`, headers: { ...H, 'x-iys-message-type': 'BILGILENDIRME' } });
  t.equal(info.statusCode, 200);
  t.equal(stub.requests.length, 2);
  t.equal(stub.requests[1]!.headers['x-iys-message-type'], undefined);
  // no destination, two destinations, query and body disagreeing: refused unsent
  for (const [method, url, payload] of [
    ['GET', '/proxy/vs/originate?key=K&extension=1001', undefined],
    ['GET', `/proxy/vs/originate?key=K&destination=${ONAY}&destination=${RET}`, undefined],
    ['POST', `/proxy/vs/originate?key=K&destination=${ONAY}`, { destination: RET }],
  ] as const) {
    const r = await gw.app.inject({ method, url, headers: payload ? J : H, ...(payload ? { payload } : {}) });
    t.equal(r.statusCode, 400, `${method} ${url}`);
    t.equal(r.json().code, 'GW_ERR_UPSTREAM_UNREADABLE');
  }
  t.equal(stub.requests.length, 2);
});

t.test('verimor-switch bridge: one call joining two numbers is placed whole or not at all', async (t) => {
  const { stub, gw } = await setup(t, [{ name: 'vs', adapter: 'verimor-switch' }]);
  const ok = await gw.app.inject({ method: 'GET', url: `/proxy/vs/bridge?key=K&source=${ONAY}&destination=905550000004`, headers: { ...H, 'x-iys-recipient-type': 'TACIR' } });
  t.equal(ok.statusCode, 200, 'ONAY and a TACIR without RET (TACIR is opt-out)');
  const r = await gw.app.inject({ method: 'GET', url: `/proxy/vs/bridge?key=K&source=${ONAY}&destination=${RET}`, headers: H });
  t.equal(r.statusCode, 422);
  t.same(r.json().removed.map((x: { recipient: string; reason: string }) => [x.recipient, x.reason]), [['+' + ONAY, 'CALL_PARTY_REFUSED'], ['+' + RET, 'CONSENT_RET']]);
  t.equal(r.headers['x-iys-gate-counts'], 'received=2, forwarded=0, removed=2');
  t.equal(stub.requests.length, 1);
});

t.test('verimor-switch campaigns: refused numbers cut from phone_list; all refused → not created; promotional TTS declared commercial', async (t) => {
  const { stub, gw } = await setup(t, [{ name: 'vs', adapter: 'verimor-switch' }], (_r, res) => { res.setHeader('content-type', 'text/plain'); res.end('20212'); });
  const body = {
    key: 'K1', call_type: 'ivr', name: 'Anket', welcome_announcement_id: 128, is_commercial: true, iys_recipient_type: 'BIREYSEL',
    digit_target_1: 'user/1001',
    phone_list: [{ phone: '0' + ONAY.slice(2), phrase: '#429 12/05/2017' }, { phone: RET }, { phone: NONE.slice(2) }, { phone: '05321' }],
  };
  const r = await gw.app.inject({ method: 'POST', url: '/proxy/vs/ivr_campaigns.json', headers: J, payload: body });
  t.equal(r.statusCode, 200);
  t.equal(r.body, '20212');
  t.equal(r.headers['x-iys-gate-counts'], 'received=4, forwarded=1, removed=3');
  t.equal(stub.requests[0]!.body.toString(), JSON.stringify({ ...body, phone_list: [body.phone_list[0]] }), 'everything else byte-identical');
  const report = await gw.app.inject({ method: 'GET', url: `/proxy/_reports/${String(r.headers['x-iys-gate-report'])}`, headers: H });
  t.same(report.json().removed.map((x: { reason: string }) => x.reason), ['CONSENT_RET', 'NO_CONSENT', 'INVALID_RECIPIENT']);
  const none = await gw.app.inject({ method: 'POST', url: '/proxy/vs/ivr_campaigns.json', headers: J, payload: { ...body, phone_list: [{ phone: RET }] } });
  t.equal(none.statusCode, 422, 'an all-refused campaign is not created');
  t.equal(stub.requests.length, 1);
  // declared informational, but the TTS sells: checked as commercial and declared so to Verimor
  const promo = { ...body, is_commercial: false, digit_target_9: 'tts/tr-TR/Tüm ürünlerde yüzde 50 indirim kampanyası başladı, hemen arayın', phone_list: [{ phone: ONAY }, { phone: RET }] };
  const p = await gw.app.inject({ method: 'POST', url: '/proxy/vs/ivr_campaigns.json', headers: J, payload: promo });
  t.equal(p.statusCode, 200);
  t.match(String(p.headers['x-iys-gate-promotional']), /^treat-as-commercial/);
  const sent = JSON.parse(stub.requests[1]!.body.toString());
  t.equal(sent.is_commercial, true);
  t.equal(sent.iys_recipient_type, 'BIREYSEL');
  t.same(sent.phone_list, [{ phone: ONAY }]);
  // an informational reminder campaign passes to every number it can normalize
  const rem = await gw.app.inject({ method: 'POST', url: '/proxy/vs/ivr_campaigns.json', headers: J, payload: { ...body, is_commercial: false, digit_target_9: 'tts/tr-TR/Yarın saat 10da randevunuz vardır', phone_list: [{ phone: ONAY }, { phone: RET }] } });
  t.equal(rem.headers['x-iys-gate-counts'], 'received=2, forwarded=2, removed=0');
  for (const bad of [{ ...body, phone_list: undefined }, { ...body, phone_list: [{ name: 'x' }] }, { ...body, is_commercial: 'maybe' }, { ...body, iys_brand_code: 'x' }]) {
    const b = await gw.app.inject({ method: 'POST', url: '/proxy/vs/ivr_campaigns.json', headers: J, payload: bad });
    t.equal(b.statusCode, 400);
    t.equal(b.json().code, 'GW_ERR_UPSTREAM_UNREADABLE');
  }
  t.equal(stub.requests.length, 3);
});

t.test('netgsm-santral: originate, linkup and the auto-dial service screened; list reads pass; phonebook groups refused for commercial calls', async (t) => {
  const { stub, gw } = await setup(t, [{ name: 'ns', adapter: 'netgsm-santral' }, { name: 'nsp', adapter: 'netgsm-santral', errorFormat: 'provider' }],
    (_r, res) => { res.setHeader('content-type', 'application/json'); res.end('{"status":"success","unique_id":"sip9-1"}'); });
  const orig = `/8501234567/originate?username=8501234567&password=p&customer_num=${ONAY.slice(2)}&internal_num=110&ring_timeout=20&crm_id=1&wait_response=0&originate_order=if&trunk=8501234567`;
  const ok = await gw.app.inject({ method: 'GET', url: '/proxy/ns' + orig, headers: H });
  t.equal(ok.statusCode, 200);
  t.equal(stub.requests[0]!.url, orig);
  const refused = await gw.app.inject({ method: 'GET', url: `/proxy/nsp/8501234567/originate?username=u&customer_num=${RET.slice(2)}`, headers: H });
  t.equal(refused.statusCode, 400);
  t.equal(refused.json().status, 'error');
  t.match(refused.json().message, /^GW_ERR_UPSTREAM_ALL_BLOCKED/);
  const link = await gw.app.inject({ method: 'GET', url: `/proxy/ns/8501234567/linkup?caller=${ONAY.slice(2)}&called=${NONE.slice(2)}&ring_timeout=20`, headers: H });
  t.equal(link.statusCode, 422, 'linkup with a party without call consent is not placed');
  t.equal(stub.requests.length, 1);
  // promotional TTS on an originate declared informational cannot be declared commercial (no İYS field): refused
  const tts = await gw.app.inject({ method: 'GET', url: `/proxy/ns/8501234567/originate?customer_num=${ONAY.slice(2)}&called_text=${encodeURIComponent('Büyük indirim kampanyası başladı, kaçırmayın')}`, headers: { ...H, 'x-iys-message-type': 'BILGILENDIRME' } });
  t.equal(tts.statusCode, 422);
  t.equal(tts.json().code, 'GW_ERR_UPSTREAM_PROMOTIONAL_INFORMATIONAL');

  const list = { header: { username: '8501234567', password: 'p' }, body: { event: 'addautocall', data: { list_name: 'L', trunk: '8501234567', filter: '11', numbers: [{ number: ONAY.slice(2), name: 'a' }, { number: RET.slice(2), name: 'b' }, { number: NONE.slice(2), name: 'c' }] } } };
  const l = await gw.app.inject({ method: 'POST', url: '/proxy/ns/autocallservice', headers: J, payload: list });
  t.equal(l.statusCode, 200);
  t.same(JSON.parse(stub.requests[1]!.body.toString()).body.data.numbers, [{ number: ONAY.slice(2), name: 'a' }]);
  const add = { header: list.header, body: { event: 'addnumber', list_id: '12431', data: { numbers: [{ number: RET.slice(2), name: 'b' }] } } };
  const a = await gw.app.inject({ method: 'POST', url: '/proxy/ns/autocallservice', headers: J, payload: add });
  t.equal(a.statusCode, 422, 'adding a refused number to a running list is refused');
  const report = { header: list.header, body: { event: 'reportautocall', list_id: '12431' } };
  const rp = await gw.app.inject({ method: 'POST', url: '/proxy/ns/autocallservice', headers: J, payload: report });
  t.equal(rp.statusCode, 200, 'a report request passes unscreened');
  t.equal(stub.requests[2]!.body.toString(), JSON.stringify(report));
  const groups = await gw.app.inject({ method: 'POST', url: '/proxy/ns/autocallservice', headers: J, payload: { ...list, body: { ...list.body, data: { ...list.body.data, groups: ['otolist'] } } } });
  t.equal(groups.statusCode, 400);
  t.match(groups.json().message, /phonebook groups/);
  const unknownEvent = await gw.app.inject({ method: 'POST', url: '/proxy/ns/autocallservice', headers: J, payload: { ...list, body: { ...list.body, event: 'addautocallv2' } } });
  t.equal(unknownEvent.statusCode, 400, 'an event the gate does not know is refused, not passed');
  t.equal(stub.requests.length, 3);
});

t.test('asterisk-ari: the dialed number is read from the endpoint; unreadable endpoints refused; internal ones pass', async (t) => {
  const { stub, gw } = await setup(t, [
    { name: 'ari', adapter: 'asterisk-ari', internalPattern: '^PJSIP/[0-9]{3,5}$' },
    { name: 'ari2', adapter: 'asterisk-ari', dialPattern: '^SIP/gsm-(?<number>[0-9]+)$' },
  ], (_r, res) => { res.setHeader('content-type', 'application/json'); res.end('{"id":"1700000000.1","state":"Down"}'); });
  const calls: Array<[string, number]> = [
    [`PJSIP/trunk/${ONAY}`, 200], [`PJSIP/0${ONAY.slice(2)}@trunk`, 200], [`Local/${ONAY}@from-internal`, 200], [`SIP/trunk/+${ONAY}`, 200],
    [`PJSIP/trunk/${RET}`, 422], [`DAHDI/g1/0${RET.slice(2)}`, 422], [`PJSIP/trunk/${NONE}`, 422],
    ['PJSIP/1001', 200], ['PJSIP/trunk', 400], ['PJSIP/trunk/abc', 400], ['Console/dsp', 400],
  ];
  let reached = 0;
  for (const [endpoint, status] of calls) {
    const r = await gw.app.inject({ method: 'POST', url: `/proxy/ari/ari/channels?endpoint=${encodeURIComponent(endpoint)}&extension=100&context=default`, headers: H });
    t.equal(r.statusCode, status, endpoint);
    if (status === 400) t.equal(r.json().code, 'GW_ERR_UPSTREAM_UNREADABLE');
    if (status === 200) reached++;
    t.equal(stub.requests.length, reached, `${endpoint}: reached the PBX only when allowed`);
  }
  t.notOk(stub.requests.some((r) => r.url.includes(RET)), 'no refused number reached Asterisk');
  // the JSON-body form, and originate-with-id
  const body = await gw.app.inject({ method: 'POST', url: '/proxy/ari/ari/channels/my-id-1', headers: J, payload: { endpoint: `PJSIP/trunk/${RET}`, app: 'dialer' } });
  t.equal(body.statusCode, 422);
  const clash = await gw.app.inject({ method: 'POST', url: `/proxy/ari/ari/channels?endpoint=PJSIP/trunk/${ONAY}`, headers: J, payload: { endpoint: `PJSIP/trunk/${RET}` } });
  t.equal(clash.statusCode, 400, 'query and body naming different endpoints');
  // operations on an existing channel do not dial
  const hang = await gw.app.inject({ method: 'POST', url: '/proxy/ari/ari/channels/1700000000.1/answer', headers: H });
  t.equal(hang.statusCode, 200);
  // a custom dialPattern
  const c = await gw.app.inject({ method: 'POST', url: `/proxy/ari2/ari/channels?endpoint=SIP/gsm-${RET}`, headers: H });
  t.equal(c.statusCode, 422);
  const d = await gw.app.inject({ method: 'POST', url: `/proxy/ari2/ari/channels?endpoint=PJSIP/trunk/${ONAY}`, headers: H });
  t.equal(d.statusCode, 400, 'an endpoint the configured pattern does not read is refused');
});

t.test('dialer config: patterns validated at boot', async (t) => {
  const { parseUpstreams } = await import('../../src/transports/http-proxy/upstream-config.ts');
  const base = { url: 'http://127.0.0.1:1', brandCode: BRAND };
  t.throws(() => parseUpstreams([{ ...base, name: 'a', adapter: 'asterisk-ari', dialPattern: '^SIP/([0-9]+)$' }]), /named group/);
  t.throws(() => parseUpstreams([{ ...base, name: 'a', adapter: 'asterisk-ari', dialPattern: '^(' }]), /not a regular expression/);
  t.throws(() => parseUpstreams([{ ...base, name: 'a', adapter: 'netgsm', internalPattern: '^x$' }]), /only for the asterisk-ari adapter/);
  t.throws(() => parseUpstreams([{ ...base, name: 'a', adapter: 'asterisk-ari', ariRoot: true }, { ...base, name: 'b', adapter: 'asterisk-ari', ariRoot: true }]), /more than one/);
});

t.test('a 100,000-number campaign list is screened in one batch and cut', async (t) => {
  const { stub, gw } = await setup(t, [{ name: 'vs', adapter: 'verimor-switch' }], (_r, res) => { res.setHeader('content-type', 'text/plain'); res.end('1'); });
  const n = 100_000;
  const phone_list = Array.from({ length: n }, (_x, i) => ({ phone: i % 10 === 0 ? RET : i % 2 === 0 ? ONAY : NONE }));
  const before = process.memoryUsage().rss;
  const r = await gw.app.inject({ method: 'POST', url: '/proxy/vs/ivr_campaigns.json', headers: J, payload: { key: 'K', call_type: 'ivr', is_commercial: true, phone_list } });
  t.equal(r.statusCode, 200);
  const expected = phone_list.filter((p) => p.phone === ONAY).length;
  t.equal(r.headers['x-iys-gate-counts'], `received=${n}, forwarded=${expected}, removed=${n - expected}`);
  t.equal(JSON.parse(stub.requests[0]!.body.toString()).phone_list.length, expected);
  t.comment(`RSS growth over a ${n}-number campaign: ${Math.round((process.memoryUsage().rss - before) / 1e6)} MB`);
});
