import t from 'tap';
import { client, makeSmtpGateway, startSink, INFO_KEY } from './smtp-harness.ts';

t.test('nodemailer, unchanged: four recipients decided at RCPT; the upstream gets one copy for the accepted one, body byte-identical', async (t) => {
  const sink = await startSink(t);
  const gw = await makeSmtpGateway(t, sink.port);
  const raw = [
    'From: Shop <shop@brand.example>', 'To: list@brand.example', 'Subject: Kış kampanyası', 'Message-ID: <m1@brand.example>',
    'X-IYS-Recipient-Type: BIREYSEL', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit',
    '', 'Merhaba,', '.leading dot line', 'Şimdi %50 indirim.', '',
  ].join('\r\n');
  const info = await client(gw.smtpPort).sendMail({
    envelope: { from: 'shop@brand.example', to: ['onay@example.com', 'ret@example.com', 'none@example.com', 'çiğdem@example.com'] },
    raw,
  });
  t.same(info.accepted, ['onay@example.com'], 'only the ONAY address is accepted');
  t.same([...info.rejected].sort(), ['none@example.com', 'ret@example.com', 'çiğdem@example.com'].sort());
  const errs = (info as unknown as { rejectedErrors: Array<{ recipient: string; response: string }> }).rejectedErrors;
  const byRcpt = Object.fromEntries(errs.map((e) => [e.recipient, e.response]));
  t.match(byRcpt['ret@example.com'], /^550 5\.7\.1 GW_ERR_SMTP_RECIPIENT_REFUSED: .*CONSENT_RET/);
  t.match(byRcpt['none@example.com'], /^550 5\.7\.1 GW_ERR_SMTP_RECIPIENT_REFUSED: .*NO_CONSENT/);
  t.match(byRcpt['çiğdem@example.com'], /^550 5\.7\.1 .*RECIPIENT_NOT_REGISTRABLE/);
  t.equal(sink.messages.length, 1, 'the upstream received the message once');
  const got = sink.messages[0]!;
  t.same(got.to, ['onay@example.com'], 'to the accepted recipient only');
  t.equal(got.from, 'shop@brand.example');
  const text = got.raw.toString('utf8');
  t.notMatch(text, /X-IYS-Recipient-Type/i, 'X-IYS-* headers removed');
  t.match(text, /^X-IYS-Gate-Report: [0-9a-f-]{36}\r\n/, 'the removal report is announced');
  t.match(text, /\r\nList-Unsubscribe: <https:\/\/gate\.example\.com\/u\/[A-Za-z0-9_-]+>\r\n/, 'List-Unsubscribe added');
  t.match(text, /\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n/);
  t.notMatch(text, /onay%40|onay@example\.com>/, 'no recipient in clear in the link');
  // byte-identical apart from the stated headers: drop the added lines and put the removed one back
  const stated = /^(X-IYS-Gate-Report|List-Unsubscribe|List-Unsubscribe-Post): [^\r\n]*\r\n/gm;
  const rebuilt = text.replace(stated, '');
  t.equal(rebuilt, raw.replace('X-IYS-Recipient-Type: BIREYSEL\r\n', ''), 'every other byte as sent');
  const reportId = /X-IYS-Gate-Report: (\S+)/.exec(text)![1]!;
  const report = gw.app.smtpRelay!.reports.get(reportId)!;
  t.equal(report.upstream, 'smtp');
  t.same(report.counts, { received: 4, forwarded: 1, removed: 3 });
});

t.test('no AUTH: 530, no relay; bad password 535; a key without scope smtp 535', async (t) => {
  const sink = await startSink(t);
  const gw = await makeSmtpGateway(t, sink.port);
  const nodemailer = (await import('nodemailer')).default;
  const anon = nodemailer.createTransport({ host: '127.0.0.1', port: gw.smtpPort, secure: false, ignoreTLS: true, logger: false });
  await t.rejects(anon.sendMail({ from: 'a@b.example', to: 'onay@example.com', text: 'x' }), { responseCode: 530, response: /GW_ERR_UNAUTHORIZED/ } as never);
  await t.rejects(client(gw.smtpPort, 'mailer', 'wrong-key-0123456789abcdef').sendMail({ from: 'a@b.example', to: 'onay@example.com', text: 'x' }), { response: /^(?!.*Bearer)/ } as never, 'the SMTP AUTH reply names SMTP credentials, not HTTP headers');
  await t.rejects(client(gw.smtpPort, 'mailer', 'wrong-key-0123456789abcdef').sendMail({ from: 'a@b.example', to: 'onay@example.com', text: 'x' }), { responseCode: 535, response: /5\.7\.8 GW_ERR_UNAUTHORIZED: .*user = the API key name, password = the key/ } as never);
  await t.rejects(client(gw.smtpPort, 'info-mailer', 'smtp-key-0123456789abcdef').sendMail({ from: 'a@b.example', to: 'onay@example.com', text: 'x' }), { responseCode: 535 } as never, 'a key under another name');
  await t.rejects(client(gw.smtpPort, 'env:IYS_GATE_API_KEY', 'test-key-0123456789abcdef').sendMail({ from: 'a@b.example', to: 'onay@example.com', text: 'x' }), { responseCode: 535, response: /GW_ERR_BRAND_REQUIRED|GW_ERR_FORBIDDEN/ } as never);
  t.equal(sink.messages.length, 0, 'nothing relayed');
});

t.test('informational key: decided after DATA; a campaign subject is commercial, a delivery notice to RET passes', async (t) => {
  const sink = await startSink(t);
  const gw = await makeSmtpGateway(t, sink.port);
  const c = client(gw.smtpPort, 'info-mailer', INFO_KEY);
  // promotional text read from a QP-encoded utf-8 part: treated as commercial, RET and none dropped
  const promo = await c.sendMail({ from: 'shop@brand.example', to: ['onay@example.com', 'ret@example.com', 'none@example.com'], subject: '=?utf-8?Q?Sepette_%50_indirim!?=', text: 'Bugüne özel kampanya: tüm ürünlerde %50 indirim, kaçırmayın!', textEncoding: 'quoted-printable' });
  t.same(promo.accepted.length, 3, 'RCPT accepted all: the decision waits for the text');
  t.match(promo.response, /^250 2\.6\.0 Ok: forwarded to 1 of 3 recipients report [0-9a-f-]{36}/);
  t.equal(sink.messages.length, 1);
  t.same(sink.messages[0]!.to, ['onay@example.com']);
  t.match(sink.messages[0]!.raw.toString(), /List-Unsubscribe: </, 'treated as commercial: the unsubscribe link is added');
  // a delivery notice to a RET address: informational, passes
  const notice = await c.sendMail({ from: 'shop@brand.example', to: ['ret@example.com'], subject: 'Siparişiniz kargoya verildi', text: 'Sipariş numaranız 12345 kargoya verildi. Takip numarası: ABC123.' });
  t.match(notice.response, /^250 2\.6\.0 Ok: forwarded to 1 of 1 recipients decision \S+; upstream/);
  t.equal(sink.messages.length, 2);
  t.same(sink.messages[1]!.to, ['ret@example.com']);
  t.notMatch(sink.messages[1]!.raw.toString(), /List-Unsubscribe/, 'informational: no unsubscribe header added');
  // every recipient refused after DATA: 550 and nothing upstream
  await t.rejects(c.sendMail({ from: 'shop@brand.example', to: ['ret@example.com', 'none@example.com'], subject: 'Büyük indirim', text: 'Tüm ürünlerde %50 indirim, kampanya fırsatını kaçırmayın!' }), { responseCode: 550, response: /5\.7\.1 GW_ERR_SMTP_ALL_REFUSED.*report [0-9a-f-]{36}/ } as never);
  t.equal(sink.messages.length, 2, 'nothing more upstream');
});
