import { once } from 'node:events';
import t from 'tap';
import { makeSmtpGateway, mv, rawSmtp, startSink } from './smtp-harness.ts';

t.test('bad input: coded replies, no crash, nothing forwarded from a broken session', async (t) => {
  const sink = await startSink(t);
  const gw = await makeSmtpGateway(t, sink.port, { maxMessageBytes: 2_000_000, maxRecipients: 100 });
  await gw.store.apply(Array.from({ length: 100 }, (_v, i) => mv(`r${i}@example.com`, 'ONAY')));

  await t.test('pipelined commands are answered in order', async (t) => {
    const s = await rawSmtp(gw.smtpPort);
    t.match(await s.login(), /^235/);
    await s.write('MAIL FROM:<shop@brand.example>\r\nRCPT TO:<onay@example.com>\r\nRCPT TO:<ret@example.com>\r\nRCPT TO:<"ali veli"@example.com>\r\nRCPT TO:<user@[127.0.0.1]>\r\nDATA\r\n');
    t.match(await s.reply(), /^250/);
    t.match(await s.reply(), /^250/);
    t.match(await s.reply(), /^550 5\.7\.1 GW_ERR_SMTP_RECIPIENT_REFUSED: .*CONSENT_RET/);
    t.match(await s.reply(), /^(553 5\.1\.3 GW_ERR_INVALID_RECIPIENT|550 5\.7\.1 .*RECIPIENT_NOT_REGISTRABLE|501)/, 'quoted local part never allowed (C48)');
    t.match(await s.reply(), /^(553 5\.1\.3 GW_ERR_INVALID_RECIPIENT|501)/, 'IP literal never allowed (C48)');
    t.match(await s.reply(), /^354/);
    t.match(await s.cmd('Subject: pipelined\r\n\r\nbody\r\n.'), /^250 2\.6\.0 Ok: forwarded to 1 of 3 recipients report /);
    t.same(sink.messages.at(-1)!.to, ['onay@example.com']);
    s.end();
  });

  await t.test('bare LF in the body: 554 5.6.0, nothing upstream', async (t) => {
    const before = sink.messages.length;
    const s = await rawSmtp(gw.smtpPort);
    await s.login();
    await s.cmd('MAIL FROM:<shop@brand.example>'); await s.cmd('RCPT TO:<onay@example.com>');
    t.match(await s.cmd('DATA'), /^354/);
    t.match(await s.cmd('Subject: smuggle\r\n\r\nline one\nline two\n.\nMAIL FROM:<x@y.example>\r\n.'), /^554 5\.6\.0 GW_ERR_SMTP_BARE_LINE_FEED/);
    t.equal(sink.messages.length, before, 'nothing forwarded');
    t.match(await s.cmd('RSET'), /^250/, 'the session goes on');
    s.end();
  });

  await t.test('a 1 MB header line: 552 5.3.4 GW_ERR_SMTP_HEADER_TOO_LARGE, nothing upstream', async (t) => {
    const before = sink.messages.length;
    const s = await rawSmtp(gw.smtpPort);
    await s.login();
    await s.cmd('MAIL FROM:<shop@brand.example>'); await s.cmd('RCPT TO:<onay@example.com>');
    await s.cmd('DATA');
    t.match(await s.cmd(`X-Long: ${'a'.repeat(1024 * 1024)}\r\nSubject: x\r\n\r\nbody\r\n.`), /^552 5\.3\.4 GW_ERR_SMTP_HEADER_TOO_LARGE/);
    t.equal(sink.messages.length, before);
    s.end();
  });

  await t.test('DATA over smtp.maxMessageBytes: 552, nothing upstream (streamed part aborted before the final dot)', async (t) => {
    const before = sink.messages.length;
    const s = await rawSmtp(gw.smtpPort);
    await s.login();
    await s.cmd('MAIL FROM:<shop@brand.example>'); await s.cmd('RCPT TO:<onay@example.com>');
    await s.cmd('DATA');
    const line = 'x'.repeat(998) + '\r\n';
    t.match(await s.cmd('Subject: big\r\n\r\n' + line.repeat(2100) + '.'), /^552 /);
    t.equal(sink.messages.length, before);
    s.end();
  });

  await t.test('garbage after the final dot: the message once, then 500 for the garbage', async (t) => {
    const before = sink.messages.length;
    const s = await rawSmtp(gw.smtpPort);
    await s.login();
    await s.cmd('MAIL FROM:<shop@brand.example>'); await s.cmd('RCPT TO:<onay@example.com>');
    await s.cmd('DATA');
    await s.write('Subject: g\r\n\r\nbody\r\n.\r\n\u0000\u0001GARBAGE \xff\xfe\r\n');
    t.match(await s.reply(), /^250 2\.6\.0/);
    t.match(await s.reply(), /^5\d\d /);
    t.equal(sink.messages.length, before + 1);
    t.notMatch(sink.messages.at(-1)!.raw.toString('latin1'), /GARBAGE/);
    s.end();
  });

  await t.test('10,000 RCPTs: the first smtp.maxRecipients (100) decided, the rest 452 4.5.3; one copy per recipient (each its own unsubscribe link)', async (t) => {
    const before = sink.messages.length;
    const s = await rawSmtp(gw.smtpPort);
    await s.login();
    await s.cmd('MAIL FROM:<shop@brand.example>');
    await s.write(Array.from({ length: 10_000 }, (_v, i) => `RCPT TO:<r${i}@example.com>\r\n`).join(''));
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) { const r = (await s.reply()).slice(0, 9); counts.set(r, (counts.get(r) ?? 0) + 1); }
    t.equal(counts.get('250 Accep') ?? [...counts].filter(([k]) => k.startsWith('250')).reduce((a, [, v]) => a + v, 0), 100);
    t.equal(counts.get('452 4.5.3'), 9900);
    t.match(await s.cmd('DATA'), /^354/);
    t.match(await s.cmd('Subject: many\r\n\r\nbody\r\n.'), /^250 2\.6\.0 Ok: forwarded to 100 of 100/);
    const copies = sink.messages.slice(before);
    t.equal(copies.length, 100, 'one copy per recipient');
    t.same(copies.map((m) => m.to.length), Array(100).fill(1));
    t.equal(new Set(copies.map((m) => m.to[0])).size, 100, 'each recipient once');
    t.equal(new Set(copies.map((m) => /List-Unsubscribe: <([^>]+)>/.exec(m.raw.toString())![1])).size, 100, 'each with its own token');
    s.end();
  });

  await t.test('a client that disconnects mid-DATA: the upstream transaction is dropped before its final dot', async (t) => {
    const before = sink.messages.length;
    const s = await rawSmtp(gw.smtpPort);
    await s.login();
    await s.cmd('MAIL FROM:<shop@brand.example>'); await s.cmd('RCPT TO:<onay@example.com>');
    await s.cmd('DATA');
    const started = once(sink.events, 'mail');
    await s.write('Subject: cut\r\n\r\nfirst half of the body\r\n');
    await started; // the relay has begun the upstream transaction
    const upstreamClosed = once(sink.events, 'close');
    s.end();
    await upstreamClosed;
    t.equal(sink.messages.length, before, 'nothing delivered');
    const s2 = await rawSmtp(gw.smtpPort);
    await s2.login();
    await s2.cmd('MAIL FROM:<shop@brand.example>'); await s2.cmd('RCPT TO:<onay@example.com>'); await s2.cmd('DATA');
    t.match(await s2.cmd('Subject: after\r\n\r\nbody\r\n.'), /^250 2\.6\.0/, 'the relay serves the next session');
    s2.end();
  });
});
