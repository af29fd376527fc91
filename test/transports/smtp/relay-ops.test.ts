import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { INFO_KEY, client, makeSmtpGateway, rawSmtp, startSink } from './smtp-harness.ts';

t.test('DSN (RFC 3464) to the envelope sender for recipients refused after DATA; DKIM signs the added headers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-dkim-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  writeFileSync(join(dir, 'dkim.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const sink = await startSink(t);
  const gw = await makeSmtpGateway(t, sink.port, { dsn: true, dkim: { domainName: 'brand.example', keySelector: 'sel1', privateKeyFile: join(dir, 'dkim.pem') } });
  const two = new Promise<void>((r) => { const on = () => { if (sink.messages.length >= 2) { sink.events.off('message', on); r(); } }; sink.events.on('message', on); });
  const info = await client(gw.smtpPort, 'info-mailer', INFO_KEY).sendMail({ from: 'shop@brand.example', to: ['onay@example.com', 'ret@example.com'], subject: 'Büyük indirim', text: 'Tüm ürünlerde %50 indirim, kampanyayı kaçırmayın!' });
  t.match(info.response, /forwarded to 1 of 2 recipients report /);
  await two;
  const fwd = sink.messages.find((m) => m.from === 'shop@brand.example')!;
  const dsn = sink.messages.find((m) => m.from === '')!;
  t.ok(fwd && dsn, 'the message and a DSN went upstream');
  t.same(dsn.to, ['shop@brand.example'], 'the DSN goes to the envelope sender, null sender');
  const d = dsn.raw.toString();
  t.match(d, /Content-Type: multipart\/report; report-type=delivery-status/);
  t.match(d, /Content-Type: message\/delivery-status\r\n\r\nReporting-MTA: dns; /);
  t.match(d, /Final-Recipient: rfc822; ret@example\.com\r\nAction: failed\r\nStatus: 5\.7\.1\r\nDiagnostic-Code: smtp; 550 5\.7\.1 GW_ERR_SMTP_RECIPIENT_REFUSED CONSENT_RET/);
  t.notMatch(d, /Final-Recipient: rfc822; onay@example\.com/, 'only the refused recipient is listed');
  const f = fwd.raw.toString();
  const sig = /^DKIM-Signature: ([\s\S]*?)\r\n(?! )/m.exec(f)?.[1]?.replace(/\r\n\s+/g, ' ') ?? '';
  t.match(sig, /d=brand\.example/); t.match(sig, /s=sel1/);
  t.match(sig, /h=[^;]*List-Unsubscribe/i, 'the signature covers List-Unsubscribe (signed after adding it)');
});

t.test('shutdown: a session inside DATA finishes; new sessions are refused', async (t) => {
  const sink = await startSink(t);
  const gw = await makeSmtpGateway(t, sink.port);
  const s = await rawSmtp(gw.smtpPort);
  await s.login();
  await s.cmd('MAIL FROM:<shop@brand.example>'); await s.cmd('RCPT TO:<onay@example.com>');
  t.match(await s.cmd('DATA'), /^354/);
  const started = once(sink.events, 'mail');
  await s.write('Subject: during shutdown\r\n\r\nfirst part\r\n');
  await started;
  const closing = gw.app.smtpRelay!.close(5000);
  await s.write('second part\r\n.\r\n');
  t.match(await s.reply(), /^250 2\.6\.0 Ok: forwarded to 1 of 1/, 'the message in DATA is finished and acknowledged');
  await closing;
  t.equal(sink.messages.length, 1);
  t.match(sink.messages[0]!.raw.toString(), /first part\r\nsecond part\r\n$/);
  const late = await rawSmtp(gw.smtpPort).then(async (c) => c.reply().then((r) => r, () => 'closed'), () => 'refused');
  t.match(late, /^(refused|closed|421)/, 'no new session after close');
});

t.test('relay logs never carry a full address (C34)', async (t) => {
  const sink = await startSink(t);
  const gw = await makeSmtpGateway(t, sink.port, { upstream: { host: '127.0.0.1', port: 1, timeoutMs: 500 } });
  await client(gw.smtpPort).sendMail({ from: 'shop@brand.example', to: ['onay@example.com'], subject: 'x', text: 'y' }).catch(() => null);
  await client(gw.smtpPort).sendMail({ from: 'shop@brand.example', to: ['ret@example.com', 'ali.veli@example.com'], subject: 'x', text: 'y' }).catch(() => null);
  const out = gw.logs.join('');
  t.ok(out.includes('SMTP relay listening'), 'the relay logged');
  t.notMatch(out, /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/, 'no e-mail address in any log line');
});

t.test('DATA past smtp.dataTimeoutMs: 451 4.4.2, connection closed, nothing upstream', async (t) => {
  const sink = await startSink(t);
  const gw = await makeSmtpGateway(t, sink.port, { dataTimeoutMs: 400 });
  const s = await rawSmtp(gw.smtpPort);
  await s.login();
  await s.cmd('MAIL FROM:<shop@brand.example>'); await s.cmd('RCPT TO:<onay@example.com>');
  t.match(await s.cmd('DATA'), /^354/);
  await s.write('Subject: stalled\r\n\r\nthe client stops here\r\n');
  t.match(await s.reply(), /^451 4\.4\.2 GW_ERR_REQUEST_TIMEOUT: DATA not complete within 400 ms/);
  await s.closed;
  t.equal(sink.messages.length, 0, 'nothing delivered');
});
