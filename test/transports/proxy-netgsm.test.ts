/**
 * Netgsm REST v2 through the proxy: real stub upstream on port 0; asserts what the upstream
 * received byte for byte and what the sender got. Also drives iys-gate with Netgsm's own JS SDK
 * (@netgsm/sms), unchanged apart from its base URL.
 */
import t from 'tap';
import { Netgsm } from '@netgsm/sms';
import { BRAND, KEY, makeProxy, startStub } from './harness.ts';

const ALLOWED = '5550000001';
const RET = '5550000002';
const NONE = '5550000003';

async function setup(t: { teardown(fn: () => unknown): void }, extra: Record<string, unknown> = {}) {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [{ name: 'netgsm', adapter: 'netgsm', url: stub.url, brandCode: BRAND, ...extra }]);
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }, { recipient: '+905550000002', status: 'RET' }]);
  return { stub, gw };
}

t.test('blocked recipients are removed; upstream gets the rewritten body with its exact length; report lists them', async (t) => {
  const { stub, gw } = await setup(t);
  const body = { msgheader: 'FIRMA', iysfilter: '11', encoding: 'TR', messages: [
    { msg: 'Yeni sezon ürünleri geldi.', no: ALLOWED }, { msg: 'Yeni sezon ürünleri geldi.', no: RET }, { msg: 'Yeni sezon ürünleri geldi.', no: NONE },
  ] };
  const res = await gw.app.inject({
    method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send?appname=x',
    headers: { 'content-type': 'application/json', authorization: 'Basic dXNlcjpwYXNz', 'x-iys-gate-key': KEY, 'x-custom': 'kept' },
    payload: JSON.stringify(body, null, 2),
  });
  t.equal(res.statusCode, 200);
  t.equal(res.body, '{"code":"00","jobid":"J1","description":"queued"}', 'provider answer relayed unchanged');
  t.equal(res.headers['x-iys-gate-counts'], 'received=3, forwarded=1, removed=2');
  t.equal(stub.requests.length, 1);
  const got = stub.requests[0]!;
  const expected = JSON.stringify({ ...body, messages: [body.messages[0]] });
  t.equal(got.body.toString('utf8'), expected, 'byte-exact rewritten body');
  t.equal(got.headers['content-length'], String(Buffer.byteLength(expected)), 'content-length recomputed');
  t.equal(got.url, '/sms/rest/v2/send?appname=x', 'path and query unchanged');
  t.equal(got.headers.authorization, 'Basic dXNlcjpwYXNz', 'provider auth passes through');
  t.equal(got.headers['x-custom'], 'kept');
  t.notOk(got.headers['x-iys-gate-key'], 'gateway key never reaches the provider');
  const id = res.headers['x-iys-gate-report'] as string;
  t.ok(id, 'report header');
  const rep = await gw.app.inject({ method: 'GET', url: `/proxy/_reports/${id}`, headers: { 'x-iys-gate-key': KEY } });
  t.equal(rep.statusCode, 200);
  t.match(rep.json(), {
    upstream: 'netgsm', brandCode: BRAND, declaredMessageType: 'TICARI', checkedMessageType: 'TICARI', outcome: 'forwarded', upstreamStatus: 200,
    counts: { received: 3, forwarded: 1, removed: 2 },
    removed: [{ index: 1, input: RET, recipient: '+905550000002', reason: 'CONSENT_RET' }, { index: 2, input: NONE, recipient: '+905550000003', reason: 'NO_CONSENT' }],
  });
  t.equal((await gw.app.inject({ method: 'GET', url: `/proxy/_reports/${id}` })).statusCode, 401, 'report needs a key');
});

t.test('nothing removed → the original bytes are forwarded untouched', async (t) => {
  const { stub, gw } = await setup(t);
  const raw = '{ "msgheader" : "FIRMA", "iysfilter":"11", "messages":[{"msg":"Merhaba","no":"5550000001"}] }';
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY }, payload: raw });
  t.equal(res.statusCode, 200);
  t.equal(stub.requests[0]!.body.toString(), raw);
  t.equal(stub.requests[0]!.headers['content-length'], String(Buffer.byteLength(raw)));
  t.notOk(res.headers['x-iys-gate-report'], 'no report when nothing was removed');
  t.equal(res.headers['x-iys-gate-counts'], 'received=1, forwarded=1, removed=0');
});

t.test('iysfilter 0 is informational (exempt); 12 checks TACIR', async (t) => {
  const { stub, gw } = await setup(t);
  const send = (iysfilter: string, msg = 'Siparişiniz kargoya verildi.') => gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY },
    payload: { msgheader: 'FIRMA', iysfilter, messages: [{ msg, no: RET }, { msg, no: NONE }] } });
  const r0 = await send('0');
  t.equal(r0.headers['x-iys-gate-counts'], 'received=2, forwarded=2, removed=0', 'informational: exempt');
  const r12 = await send('12');
  // NONE has no record at all: opt-out, allowed. RET has no TACIR record but refused as an
  // individual: the TACIR flag does not make it a merchant (policy tacirOverBireyselRet, issue 10)
  t.equal(r12.headers['x-iys-gate-counts'], 'received=2, forwarded=1, removed=1', 'TACIR without record: opt-out, allowed unless a BIREYSEL RET');
  t.equal(stub.requests.length, 2);
  t.same(JSON.parse(stub.requests[1]!.body.toString()).messages.map((m: { no: string }) => m.no), [NONE]);
});

t.test('promotional text marked informational is checked as commercial (default policy)', async (t) => {
  const { stub, gw } = await setup(t);
  const msg = 'KASIM İNDİRİMİ! Tüm ürünlerde %40 indirim, kaçırmayın!';
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY },
    payload: { msgheader: 'FIRMA', iysfilter: '0', messages: [{ msg, no: ALLOWED }, { msg, no: RET }] } });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['x-iys-gate-counts'], 'received=2, forwarded=1, removed=1');
  t.match(res.headers['x-iys-gate-promotional'], /^treat-as-commercial; hits=indirim/);
  t.same(JSON.parse(stub.requests[0]!.body.toString()).messages, [{ msg, no: ALLOWED }]);
  const sent = stub.requests[0]!;
  t.equal(JSON.parse(sent.body.toString()).iysfilter, '11', 'forwarded as the commercial message it is (newcomer trial: it said "0")');
  t.equal(sent.headers['content-length'], String(sent.body.length));
});

t.test('promotional informational message, nothing removed: still forwarded as commercial (iysfilter 12 for TACIR)', async (t) => {
  const { stub, gw } = await setup(t);
  const msg = 'Bayiye özel kampanya: %25 indirim fırsatı';
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY },
    payload: { msgheader: 'FIRMA', iysfilter: '12', messages: [{ msg, no: NONE }] } });
  t.equal(res.statusCode, 200, 'TACIR without a record: allowed (opt-out)');
  t.equal(JSON.parse(stub.requests[0]!.body.toString()).iysfilter, '12', 'already commercial: untouched');
  // the same text declared informational to a merchant list is re-declared commercial to merchants
  const stub2 = await startStub(t);
  const gw2 = await makeProxy(t, [{ name: 'netgsm', adapter: 'netgsm', url: stub2.url, brandCode: BRAND, recipientType: 'TACIR' }]);
  const res2 = await gw2.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY },
    payload: { msgheader: 'FIRMA', iysfilter: '0', messages: [{ msg, no: NONE }] } });
  t.equal(res2.statusCode, 200);
  t.equal(JSON.parse(stub2.requests[0]!.body.toString()).iysfilter, '12');
});

t.test('policy block: promotional informational message is refused, upstream not called', async (t) => {
  const { stub, gw } = await setup(t, { promotionalInformational: 'block' });
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY },
    payload: { msgheader: 'FIRMA', iysfilter: '0', messages: [{ msg: 'Hediye kuponunuz hazır! Sepette %20 indirim.', no: ALLOWED }] } });
  t.equal(res.statusCode, 422);
  t.match(res.json(), { code: 'GW_ERR_UPSTREAM_PROMOTIONAL_INFORMATIONAL', outcome: 'not_sent' });
  t.equal(stub.requests.length, 0);
});

t.test('policy warn: checked as declared, flagged', async (t) => {
  const { stub, gw } = await setup(t, { promotionalInformational: 'warn' });
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY },
    payload: { msgheader: 'FIRMA', iysfilter: '0', messages: [{ msg: 'Kampanya: %20 indirim', no: RET }] } });
  t.equal(res.statusCode, 200);
  t.match(res.headers['x-iys-gate-promotional'], /^warn; /);
  t.equal(stub.requests.length, 1);
});

t.test('every recipient blocked → upstream not called, coded 422 with the list', async (t) => {
  const { stub, gw } = await setup(t);
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY },
    payload: { msgheader: 'FIRMA', iysfilter: '11', messages: [{ msg: 'x', no: RET }, { msg: 'x', no: 'abc' }] } });
  t.equal(res.statusCode, 422);
  t.match(res.json(), {
    statusCode: 422, code: 'GW_ERR_UPSTREAM_ALL_BLOCKED', error: 'Unprocessable Entity', outcome: 'not_sent',
    counts: { received: 2, forwarded: 0, removed: 2 },
    removed: [{ index: 0, reason: 'CONSENT_RET' }, { index: 1, input: 'abc', recipient: null, reason: 'INVALID_RECIPIENT' }],
  });
  t.equal(stub.requests.length, 0);
});

t.test('gateway auth: missing/unknown key 401, other brand 403; gatewayAuth none needs no key', async (t) => {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [
    { name: 'netgsm', adapter: 'netgsm', url: stub.url, brandCode: BRAND },
    { name: 'open', adapter: 'netgsm', url: stub.url, brandCode: BRAND, gatewayAuth: 'none' },
  ]);
  const payload = { msgheader: 'F', iysfilter: '0', messages: [{ msg: 'Kargonuz yolda', no: ALLOWED }] };
  const h = { 'content-type': 'application/json' };
  t.equal((await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: h, payload })).json().code, 'GW_ERR_UNAUTHORIZED');
  t.equal((await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: { ...h, 'x-iys-gate-key': 'nope-nope-nope-nope' }, payload })).statusCode, 401);
  t.equal((await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: { ...h, 'x-iys-gate-key': 'proxy-other-brand-key-0123' }, payload })).statusCode, 403);
  t.equal((await gw.app.inject({ method: 'POST', url: '/proxy/open/sms/rest/v2/send', headers: h, payload })).statusCode, 200);
  // which upstreams exist is not told without a key; with one, an unknown name is 404
  t.equal((await gw.app.inject({ method: 'POST', url: '/proxy/nope/sms/rest/v2/send', headers: h, payload })).json().code, 'GW_ERR_UNAUTHORIZED');
  t.equal((await gw.app.inject({ method: 'POST', url: '/proxy/nope/sms/rest/v2/send', headers: { ...h, 'x-iys-gate-key': KEY }, payload })).json().code, 'GW_ERR_UPSTREAM_NOT_FOUND');
  t.equal(stub.requests.length, 1);
});

t.test('non-send paths pass through unchecked; an unreadable send is refused (fail closed)', async (t) => {
  const { stub, gw } = await setup(t);
  const raw = '{"startdate":"01.11.2026 00:00:00","stopdate":"29.11.2026 00:00:00"}';
  const r = await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/report', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY }, payload: raw });
  t.equal(r.statusCode, 200);
  t.equal(stub.requests[0]!.body.toString(), raw);
  t.notOk(r.headers['x-iys-gate-counts']);
  const bad = await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY }, payload: '{"msgheader":"F","messages":' });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().code, 'GW_ERR_UPSTREAM_UNREADABLE');
  t.equal(stub.requests.length, 1);
});

t.test("Netgsm's own SDK, only its base URL changed, sends through iys-gate", async (t) => {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [{ name: 'netgsm', adapter: 'netgsm', url: stub.url, brandCode: BRAND, gatewayAuth: 'none' }], { listen: true });
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }, { recipient: '+905550000002', status: 'RET' }]);
  const client = new Netgsm({ username: 'user850', password: 's3cret' });
  (client as unknown as { baseURL: string }).baseURL = `${gw.url}/proxy/netgsm`;
  const res = await client.sendRestSms({ msgheader: 'FIRMA', iysfilter: '11', encoding: 'TR', messages: [{ msg: 'Kış koleksiyonu', no: ALLOWED }, { msg: 'Kış koleksiyonu', no: RET }] } as never);
  t.match(res, { code: '00', jobid: 'J1' }, 'the SDK sees Netgsm\'s answer');
  const got = stub.requests[0]!;
  t.equal(got.headers.authorization, 'Basic ' + Buffer.from('user850:s3cret').toString('base64'));
  t.same(JSON.parse(got.body.toString()), { msgheader: 'FIRMA', iysfilter: '11', encoding: 'TR', messages: [{ msg: 'Kış koleksiyonu', no: ALLOWED }] });
  t.equal(got.headers['content-length'], String(got.body.length));
});

t.test('proxy metrics: requests by outcome, recipients forwarded/removed, upstream latency; no recipient in them', async (t) => {
  const { gw } = await setup(t);
  const send = (nos: string[], url = '/proxy/netgsm/sms/rest/v2/send') => gw.app.inject({
    method: 'POST', url, headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY },
    payload: JSON.stringify({ msgheader: 'FIRMA', iysfilter: '11', messages: nos.map((no) => ({ msg: 'Yeni sezon', no })) }),
  });
  t.equal((await send([ALLOWED, RET, NONE])).statusCode, 200);
  t.equal((await send([ALLOWED])).statusCode, 200);
  t.equal((await send([RET, NONE])).statusCode, 422, 'all blocked: not sent');
  t.equal((await gw.app.inject({ method: 'GET', url: '/proxy/netgsm/balance', headers: { 'x-iys-gate-key': KEY } })).statusCode, 200, 'read-only passthrough');
  // an upstream that does not answer: not sent, counted as upstream_error
  const dead = await makeProxy(t, [{ name: 'dead', adapter: 'netgsm', url: 'http://127.0.0.1:9', brandCode: BRAND }]);
  await dead.seed([{ recipient: '+905550000001', status: 'ONAY' }]);
  const failed = await dead.app.inject({ method: 'POST', url: '/proxy/dead/sms/rest/v2/send', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY },
    payload: JSON.stringify({ msgheader: 'FIRMA', iysfilter: '11', messages: [{ msg: 'x', no: ALLOWED }] }) });
  t.ok(failed.statusCode >= 502 && failed.statusCode <= 504, `dead upstream: ${failed.statusCode}`);

  const text = (await gw.app.inject({ method: 'GET', url: '/metrics' })).body;
  const val = (series: string) => Number(text.split('\n').find((l) => l.startsWith(series + ' '))?.split(' ')[1] ?? NaN);
  t.equal(val('iysgate_proxy_requests_total{upstream="netgsm",outcome="forwarded"}'), 2);
  t.equal(val('iysgate_proxy_requests_total{upstream="netgsm",outcome="all_blocked"}'), 1);
  t.equal(val('iysgate_proxy_requests_total{upstream="netgsm",outcome="passthrough"}'), 1);
  t.equal(val('iysgate_proxy_recipients_total{upstream="netgsm",result="forwarded"}'), 2);
  t.equal(val('iysgate_proxy_recipients_total{upstream="netgsm",result="removed"}'), 4);
  t.equal(val('iysgate_upstream_duration_seconds_count{upstream="netgsm",status="2xx"}'), 3);
  t.notMatch(text, /555000000|905550/, 'no recipient in any metric');
  const deadText = (await dead.app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(deadText, /iysgate_proxy_requests_total\{upstream="dead",outcome="upstream_error"\} 1/);
  t.match(deadText, /iysgate_upstream_duration_seconds_count\{upstream="dead",status="error"\} 1/);
});

t.test('commercial content check (issue 14): warn answers X-IYS-Gate-Content and forwards; block refuses before the upstream', async (t) => {
  for (const mode of ['warn', 'block'] as const) {
    const stub = await startStub(t);
    const gw = await makeProxy(t, [{ name: 'netgsm', adapter: 'netgsm', url: stub.url, brandCode: BRAND }], {
      config: { brands: [{ brandCode: BRAND, identity: { title: 'FIRMA' } }, BRAND + 1], policy: { contentCheck: mode } },
    });
    await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }]);
    const send = (msg: string) => gw.app.inject({
      method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send',
      headers: { 'content-type': 'application/json', authorization: 'Basic dXNlcjpwYXNz', 'x-iys-gate-key': KEY },
      payload: JSON.stringify({ msgheader: 'FIRMA', iysfilter: '11', messages: [{ msg, no: ALLOWED }] }),
    });
    const bare = await send('Yeni sezon ürünleri geldi.');
    t.equal(bare.headers['x-iys-gate-content'], `missing=ret-instruction,identity${mode === 'block' ? '; blocked' : ''}`, `${mode}: header`);
    if (mode === 'warn') t.equal(bare.statusCode, 200, 'warn: forwarded');
    else t.same([bare.statusCode, bare.json().code, stub.requests.length], [422, 'GW_ERR_UPSTREAM_CONTENT_MISSING', 0], 'block: refused, upstream not called');
    const full = await send("FIRMA: Yeni sezon ürünleri geldi. RET yazıp 3338'e gönderin.");
    t.equal(full.statusCode, 200);
    t.notOk(full.headers['x-iys-gate-content'], 'complete text: no header');
  }
});
