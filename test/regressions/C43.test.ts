// C43 (field-cases-2.md; jo3-l/obscenity #100, rspamd #4492): keyword filters miss words with
// invisible characters or look-alike letters. Trigger: Netgsm `iysfilter:"0"`, a RET recipient,
// `Büyük in\u200bdirim başladı, tüm ürünlerde kam\u200bpanya!` was forwarded as informational.
// Now: read as a person reads it → treated as commercial, the RET recipient removed, the text
// forwarded exactly as written. Variants: soft hyphen, Cyrillic а/е/о/і, Greek, spelled-apart
// letters, digits for letters, fullwidth letters; an e-mail whose promotion is only in text/html
// or in a SendGrid template (template_id + dynamic_template_data); the webhook shape.
import t from 'tap';
import { BRAND, KEY, makeProxy, startStub } from '../transports/harness.ts';

const H = { 'content-type': 'application/json', 'x-iys-gate-key': KEY };
const ONAY_NO = '5550000001';
const RET_NO = '5550000002';

async function setup(t: Parameters<typeof makeProxy>[0]) {
  const stub = await startStub(t, (r, res) => {
    if (r.url.startsWith('/v3/')) { res.statusCode = 202; res.end(); return; }
    res.setHeader('content-type', 'application/json'); res.end('{"code":"00","jobid":"J1","description":"queued"}');
  });
  const gw = await makeProxy(t, [
    { name: 'netgsm', adapter: 'netgsm', url: stub.url, brandCode: BRAND },
    { name: 'mail', adapter: 'sendgrid', url: stub.url, brandCode: BRAND },
    { name: 'hook', adapter: 'webhook', url: stub.url + '/hook', brandCode: BRAND },
  ]);
  await gw.seed([
    { recipient: `+90${ONAY_NO}`, status: 'ONAY' }, { recipient: `+90${RET_NO}`, status: 'RET' },
    { recipient: 'ok@example.com', status: 'ONAY', type: 'EPOSTA' }, { recipient: 'ret@example.com', status: 'RET', type: 'EPOSTA' },
  ]);
  return { stub, gw };
}

const DISGUISED: Array<[string, string]> = [
  ['C43 trigger: zero-width spaces', 'Büyük in\u200bdirim başladı, tüm ürünlerde kam\u200bpanya!'],
  ['soft hyphens', 'Büyük in\u00addirim başladı, tüm ürünlerde kam\u00adpanya!'],
  ['Cyrillic а е о і', 'Büyük \u0456nd\u0456r\u0456m başladı: h\u0435diy\u0435 kup\u043enunuz hazır, k\u0430mp\u0430ny\u0430!'],
  ['Cyrillic а only', 'Tüm ürünlerde k\u0430mp\u0430ny\u0430 başladı'],
  ['Greek capitals', '\u039a\u0391\u039c\u03a1\u0391\u039d\u03a5\u0391 başladı'],
  ['spaced letters', 'i n d i r i m başladı'],
  ['dotted letters', 'k.a.m.p.a.n.y.a tüm mağazalarda'],
  ['dashes between syllables', 'kam-pan-ya başladı'],
  ['digits for letters', '1nd1r1m başladı, K4MP4NY4 sadece bugün'],
  ['fullwidth letters', '\uff2b\uff21\uff2d\uff30\uff21\uff2e\uff39\uff21 başladı'],
  ['word joiner + combining dot', 'Tüm ürünlerde i\u0307ndi\u0307ri\u0307m\u2060!'],
  ['mixed', 'S\u0456ze özel %30 \u0456n\u200bd\u0456r\u0456m, kaç\u00adırma!'],
];

t.test('Netgsm iysfilter 0: disguised campaign text is commercial, the RET recipient removed, the text forwarded as written', async (t) => {
  const { stub, gw } = await setup(t);
  for (const [name, msg] of DISGUISED) {
    const before = stub.requests.length;
    const raw = JSON.stringify({ msgheader: 'FIRMA', iysfilter: '0', messages: [{ msg, no: ONAY_NO }, { msg, no: RET_NO }] });
    const res = await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: H, payload: raw });
    t.equal(res.statusCode, 200, name);
    t.equal(res.headers['x-iys-gate-counts'], 'received=2, forwarded=1, removed=1', `${name}: RET recipient removed`);
    t.match(res.headers['x-iys-gate-promotional'], /^treat-as-commercial; hits=/, name);
    t.equal(stub.requests.length, before + 1);
    const sent = stub.requests[before]!.body;
    const got = JSON.parse(sent.toString()) as { iysfilter: string; messages: Array<{ msg: string; no: string }> };
    t.same(got.messages.map((m) => m.no), [ONAY_NO], `${name}: only the consenting recipient`);
    t.equal(got.iysfilter, '11', `${name}: declared commercial to the provider`);
    t.equal(got.messages[0]!.msg, msg, `${name}: the text is the sender's, not the normalized form`);
    t.ok(sent.includes(Buffer.from(msg, 'utf8')), `${name}: its UTF-8 bytes are in the forwarded body unchanged`);
    t.notOk(sent.toString().includes(RET_NO), `${name}: the refused number never reaches the provider`);
  }
});

t.test('Netgsm iysfilter 0: informational text with invisible characters stays informational and is forwarded byte for byte', async (t) => {
  const { stub, gw } = await setup(t);
  for (const msg of ['Kargonuz yola \u200bçıktı. Takip no: 7281946352', 'Doğrulama kodunuz: 4\u200b4\u200b1\u200b2. Kimseyle paylaşmayınız.', 'Randevunuz \u0456ptal edildi.']) {
    const before = stub.requests.length;
    const raw = JSON.stringify({ msgheader: 'FIRMA', iysfilter: '0', messages: [{ msg, no: ONAY_NO }, { msg, no: RET_NO }] });
    const res = await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: H, payload: raw });
    t.equal(res.headers['x-iys-gate-counts'], 'received=2, forwarded=2, removed=0', `${msg}: exempt`);
    t.notOk(res.headers['x-iys-gate-promotional']);
    t.equal(stub.requests[before]!.body.toString(), raw, 'the original bytes');
  }
});

const MAIL = { personalizations: [{ to: [{ email: 'ok@example.com' }] }, { to: [{ email: 'ret@example.com' }] }], from: { email: 'shop@example.com' } };
const INFO = { ...H, 'x-iys-message-type': 'BILGILENDIRME', authorization: 'Bearer SG.k' };

t.test('SendGrid declared informational: a promotion only in text/html, or in a template, is not exempt', async (t) => {
  const { stub, gw } = await setup(t);
  const cases: Array<[string, Record<string, unknown>]> = [
    ['promotion only in text/html', { subject: 'Siparişiniz hazırlanıyor', content: [
      { type: 'text/plain', value: 'Siparişiniz hazırlanıyor.' },
      { type: 'text/html', value: '<p>Siparişiniz hazırlanıyor.</p><p style="font-size:20px">Tüm ürünlerde <b>%30</b> in&shy;di<span>rim</span>!</p>' },
    ] }],
    ['HTML entities for Cyrillic letters', { subject: 'Bilgilendirme', content: [{ type: 'text/html', value: '<p>K&acy;mp&acy;ny&acy; başladı</p>' }] }],
    ['a hidden preheader', { subject: 'Bilgilendirme', content: [{ type: 'text/html', value: '<div style="display:none">%50 indirim, son gün!</div><p>Hesap özetiniz ektedir.</p>' }] }],
    ['template_id (text unseen)', { template_id: 'd-0123456789abcdef', personalizations: MAIL.personalizations.map((p) => ({ ...p, dynamic_template_data: { name: 'Ayşe', order: '48213' } })) }],
    ['promotion in dynamic_template_data', { template_id: 'd-0123456789abcdef', personalizations: MAIL.personalizations.map((p) => ({ ...p, dynamic_template_data: { banner: 'Size özel h\u0435diy\u0435 kupon' } })) }],
    ['promotion in a substitution', { subject: 'Merhaba -name-', content: [{ type: 'text/plain', value: '-name-' }], personalizations: MAIL.personalizations.map((p) => ({ ...p, substitutions: { '-name-': 'k4mp4ny4 başladı' } })) }],
  ];
  for (const [name, extra] of cases) {
    const before = stub.requests.length;
    const res = await gw.app.inject({ method: 'POST', url: '/proxy/mail/v3/mail/send', headers: INFO, payload: { ...MAIL, ...extra } });
    t.equal(res.statusCode, 202, name);
    t.equal(res.headers['x-iys-gate-counts'], 'received=2, forwarded=1, removed=1', `${name}: the RET address removed`);
    t.match(res.headers['x-iys-gate-promotional'], /^treat-as-commercial; hits=/, name);
    const sent = stub.requests[before]!.body.toString();
    t.notOk(sent.includes('ret@example.com'), `${name}: the refused address never reaches SendGrid`);
    t.ok(sent.includes('ok@example.com'));
  }
  const tpl = await gw.app.inject({ method: 'POST', url: '/proxy/mail/v3/mail/send', headers: INFO, payload: { ...MAIL, template_id: 'd-1' } });
  t.match(tpl.headers['x-iys-gate-promotional'], /hits=unseen-text,template_id/, 'the reason is named');
});

t.test('SendGrid: nothing removed → the original bytes, disguised HTML included; style, comments and head are not read', async (t) => {
  const { stub, gw } = await setup(t);
  const html = '<html><head><title>Kampanya</title><style>.kampanya{color:red}</style></head><body><!-- kampanya şablonu --><p class="kampanya">Siparişiniz kargoya verildi.</p></body></html>';
  const raw = JSON.stringify({ ...MAIL, subject: 'Siparişiniz yolda', content: [{ type: 'text/plain', value: 'Siparişiniz kargoya verildi.' }, { type: 'text/html', value: html }] });
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/mail/v3/mail/send', headers: INFO, payload: raw });
  t.equal(res.headers['x-iys-gate-counts'], 'received=2, forwarded=2, removed=0', 'informational: exempt');
  t.notOk(res.headers['x-iys-gate-promotional']);
  t.equal(stub.requests.at(-1)!.body.toString(), raw, 'byte for byte');
  // a disguised promotion to a consenting address only: checked as TICARI, nothing to remove, original bytes
  const promoRaw = JSON.stringify({ personalizations: [MAIL.personalizations[0]], from: MAIL.from, subject: 'Bilgi', content: [{ type: 'text/html', value: '<p>in\u200bdi&shy;rim g&uuml;nleri</p>' }] });
  const promo = await gw.app.inject({ method: 'POST', url: '/proxy/mail/v3/mail/send', headers: INFO, payload: promoRaw });
  t.equal(promo.headers['x-iys-gate-counts'], 'received=1, forwarded=1, removed=0');
  t.match(promo.headers['x-iys-gate-promotional'], /^treat-as-commercial; hits=indirim/);
  t.equal(stub.requests.at(-1)!.body.toString(), promoRaw, 'byte for byte');
});

t.test('webhook shape and /v1/send: HTML and template messages', async (t) => {
  const { stub, gw } = await setup(t);
  const base = { brandCode: BRAND, type: 'MESAJ', messageType: 'BILGILENDIRME', recipients: ['0' + ONAY_NO, '0' + RET_NO] };
  const cases: Array<[string, unknown]> = [
    ['html with entities', { html: '<p>K&acy;mp&acy;ny&acy; başladı</p>' }],
    ['zero-width in a nested text', { parts: [{ body: 'Büyük in\u200bdirim başladı' }] }],
    ['template reference', { templateId: 'welcome-2', params: { name: 'Ayşe' } }],
  ];
  for (const [name, message] of cases) {
    for (const url of ['/proxy/hook', '/v1/send?upstream=hook']) {
      const before = stub.requests.length;
      const headers = url.startsWith('/v1') ? { 'content-type': 'application/json', authorization: `Bearer ${KEY}` } : H;
      const res = await gw.app.inject({ method: 'POST', url, headers, payload: { ...base, message } });
      t.equal(res.headers['x-iys-gate-counts'], 'received=2, forwarded=1, removed=1', `${url} ${name}`);
      const sent = JSON.parse(stub.requests[before]!.body.toString()) as { recipients: string[]; messageType: string; message: unknown };
      t.same(sent.recipients, ['0' + ONAY_NO]);
      t.equal(sent.messageType, 'TICARI', 'declared commercial');
      t.same(sent.message, message, 'the message as written');
    }
  }
});

t.test('policy block: the disguised trigger and a SendGrid template are refused before anything is sent', async (t) => {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [
    { name: 'netgsm', adapter: 'netgsm', url: stub.url, brandCode: BRAND, promotionalInformational: 'block' },
    { name: 'mail', adapter: 'sendgrid', url: stub.url, brandCode: BRAND, promotionalInformational: 'block' },
  ]);
  const sms = await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: H,
    payload: { msgheader: 'FIRMA', iysfilter: '0', messages: [{ msg: DISGUISED[0]![1], no: ONAY_NO }] } });
  t.equal(sms.statusCode, 422);
  t.match(sms.json(), { code: 'GW_ERR_UPSTREAM_PROMOTIONAL_INFORMATIONAL' });
  const mail = await gw.app.inject({ method: 'POST', url: '/proxy/mail/v3/mail/send', headers: INFO, payload: { ...MAIL, template_id: 'd-1' } });
  t.equal(mail.statusCode, 422, 'a template the gateway cannot read is not exempt');
  t.equal(stub.requests.length, 0, 'nothing reached the provider');
});
