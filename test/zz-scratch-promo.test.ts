import t from 'tap';
import { BRAND, KEY, makeProxy, startStub } from './transports/harness.ts';
const H = { 'content-type': 'application/json', 'x-iys-gate-key': KEY };
const OK = [{ recipient: '+905550000001', status: 'ONAY' as const }, { recipient: '+905550000002', status: 'RET' as const },
  { recipient: '+905550000003', status: 'ONAY' as const, recipientType: 'TACIR' as const }];
async function run(t: any, up: any, path: string, payload: string, policyCfg?: any) {
  const stub = await startStub(t, (_r, res) => { res.setHeader('content-type', 'text/plain'); res.end('OK'); });
  const gw = await makeProxy(t, [{ name: 'u', url: stub.url, brandCode: BRAND, ...up }], policyCfg ? { config: policyCfg } : {});
  await gw.seed(OK);
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/u' + path, headers: H, payload });
  const got = stub.requests[0];
  let rep: any = null;
  if (res.headers['x-iys-gate-report']) rep = JSON.parse((await gw.app.inject({ method: 'GET', url: '/proxy/_reports/' + res.headers['x-iys-gate-report'], headers: { 'x-iys-gate-key': KEY } })).body);
  const out = { status: res.statusCode, promo: res.headers['x-iys-gate-promotional'], counts: res.headers['x-iys-gate-counts'],
    checked: rep?.checkedMessageType, removed: rep?.removed?.map((r: any) => r.reason), sent: got ? got.body.toString() : null,
    clOk: got ? got.headers['content-length'] === String(got.body.length) : null, resBody: got ? undefined : res.body };
  console.log(JSON.stringify(out));
  return out;
}
const cases: [string, any, string, string, any?][] = [
  ['netgsm promo alone', { adapter: 'netgsm' }, '/sms/rest/v2/send', JSON.stringify({ msgheader: 'F', iysfilter: '0', messages: [{ msg: 'Kampanya başladı!', no: '5550000001' }] })],
  ['netgsm mixed OTP+promo', { adapter: 'netgsm' }, '/sms/rest/v2/send', JSON.stringify({ msgheader: 'F', iysfilter: '0', messages: [{ msg: 'Doğrulama kodunuz 1234, kimseyle paylaşmayınız', no: '5550000001' }, { msg: 'Kampanya başladı!', no: '5550000002' }] })],
  ['netgsm mixed delivery+hediye', { adapter: 'netgsm' }, '/sms/rest/v2/send', JSON.stringify({ msgheader: 'F', iysfilter: '0', messages: [{ msg: 'Siparişiniz kargoya verildi', no: '5550000001' }, { msg: 'Hediye çekiniz hazır', no: '5550000002' }] })],
  ['netgsm numeric 0 promo', { adapter: 'netgsm' }, '/sms/rest/v2/send', '{"msgheader":"F","iysfilter":0,"encoding":"TR","messages":[{"msg":"%50 indirim","no":"5550000001"}]}'],
  ['netgsm missing, default BILG TACIR', { adapter: 'netgsm', messageType: 'BILGILENDIRME', recipientType: 'TACIR' }, '/sms/rest/v2/send', '{"msgheader":"F","messages":[{"msg":"Fırsat!","no":"5550000003"}]}'],
  ['netgsm body fidelity', { adapter: 'netgsm' }, '/sms/rest/v2/send', '{"msgheader":"F","iysfilter":"0","x":1.50,"big":12345678901234567890,"e":"\\u00e7","messages":[{"msg":"indirim","no":"5550000001"}]}'],
  ['netgsm warn', { adapter: 'netgsm', promotionalInformational: 'warn' }, '/sms/rest/v2/send', '{"msgheader":"F","iysfilter":"0","messages":[{"msg":"indirim","no":"5550000001"},{"msg":"indirim","no":"5550000002"}]}'],
  ['netgsm block', { adapter: 'netgsm', promotionalInformational: 'block' }, '/sms/rest/v2/send', '{"msgheader":"F","iysfilter":"0","messages":[{"msg":"indirim","no":"5550000001"}]}'],
  ['netgsm all removed', { adapter: 'netgsm' }, '/sms/rest/v2/send', '{"msgheader":"F","iysfilter":"0","messages":[{"msg":"indirim","no":"5550000002"}]}'],
  ['im array mixed iys 0 num', { adapter: 'iletimerkezi' }, '/v1/send-sms/json', JSON.stringify({ request: { authentication: { key: 'k' }, order: { sender: 'F', iys: 0, message: [{ text: 'Doğrulama kodunuz 1234', receipents: { number: ['5550000001'] } }, { text: 'Kampanya!', receipents: { number: '5550000002,5550000001' } }] } } })],
  ['im object promo', { adapter: 'iletimerkezi' }, '/v1/send-sms/json', JSON.stringify({ request: { authentication: { key: 'k' }, order: { sender: 'F', iys: '0', iysList: 'TACIR', message: { text: 'hediye', receipents: { number: ['5550000003'] } } } } })],
  ['im iys0 iysList absent TACIR default', { adapter: 'iletimerkezi', recipientType: 'TACIR' }, '/v1/send-sms/json', JSON.stringify({ request: { order: { sender: 'F', iys: '0', message: { text: 'hediye', receipents: { number: ['5550000003'] } } } } })],
  ['verimor "0"', { adapter: 'verimor' }, '/v2/send.json', JSON.stringify({ username: 'u', is_commercial: '0', messages: [{ msg: 'indirim', dest: '905550000001,905550000002' }] })],
  ['verimor 0', { adapter: 'verimor' }, '/v2/send.json', JSON.stringify({ username: 'u', is_commercial: 0, messages: [{ msg: 'indirim', dest: '905550000001' }] })],
  ['verimor "false" TACIR', { adapter: 'verimor' }, '/v2/send.json', JSON.stringify({ username: 'u', is_commercial: 'false', iys_recipient_type: 'TACIR', messages: [{ msg: 'indirim', dest: '905550000003' }] })],
  ['verimor mixed OTP+promo', { adapter: 'verimor' }, '/v2/send.json', JSON.stringify({ username: 'u', is_commercial: false, messages: [{ msg: 'Doğrulama kodunuz 1234', dest: '905550000001' }, { msg: 'Kampanya!', dest: '905550000002' }] })],
  ['webhook BILG promo', { adapter: 'webhook' }, '/', JSON.stringify({ type: 'MESAJ', messageType: 'BILGILENDIRME', recipients: ['5550000001'], message: 'indirim' })],
  ['webhook lowercase bilg', { adapter: 'webhook' }, '/', JSON.stringify({ type: 'MESAJ', messageType: 'bilgilendirme', recipients: ['5550000001'], message: 'indirim' })],
  ['webhook html', { adapter: 'webhook' }, '/', JSON.stringify({ type: 'EPOSTA', messageType: 'BILGILENDIRME', recipients: ['a@b.com'], message: { html: '<b>Kampanya %50 indirim</b>' } })],
  ['webhook array msg', { adapter: 'webhook' }, '/', JSON.stringify({ type: 'MESAJ', messageType: 'BILGILENDIRME', recipients: ['5550000001'], message: ['Kampanya %50 indirim'] })],
  ['netgsm not promo untouched', { adapter: 'netgsm' }, '/sms/rest/v2/send', '{"msgheader":"F", "iysfilter":0,"messages":[{"msg":"Kargonuz yolda","no":"5550000001"}]}'],
  ['netgsm dup key', { adapter: 'netgsm' }, '/sms/rest/v2/send', '{"msgheader":"F","iysfilter":"11","iysfilter":"0","messages":[{"msg":"Kargonuz yolda","no":"5550000001"}]}'],
];
for (const [name, up, path, payload] of cases) t.test(name, async (t) => { console.log('## ' + name); await run(t, up, path, payload); t.pass(); });
