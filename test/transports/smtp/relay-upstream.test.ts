import t from 'tap';
import { client, makeSmtpGateway, startSink } from './smtp-harness.ts';

const mail = { from: 'shop@brand.example', to: ['onay@example.com'], subject: 'Yeni sezon', text: 'Merhaba' };

t.test('upstream down: 451 4.4.1, nothing acknowledged', async (t) => {
  const sink = await startSink(t);
  const port = sink.port;
  await new Promise<void>((r) => sink.server.close(() => r()));
  const gw = await makeSmtpGateway(t, port, { upstream: { host: '127.0.0.1', port, timeoutMs: 1000 } });
  const err = await client(gw.smtpPort).sendMail(mail).then(() => null, (e: { responseCode?: number; response?: string }) => e);
  t.equal(err?.responseCode, 451);
  t.match(err?.response, /^451 4\.4\.1 GW_ERR_SMTP_UPSTREAM_DEFERRED: Upstream 127\.0\.0\.1:\d+ did not take the message/);
});

t.test('upstream slow past the timeout, 4xx, 5xx: 451, 451, the 5xx relayed; never a partial message; the retry delivers once', async (t) => {
  let mode: 'slow' | '4xx' | '5xx' | 'ok' = 'slow';
  const sink = await startSink(t, async () => {
    if (mode === 'slow') { await new Promise((r) => setTimeout(r, 1500)); return null; }
    if (mode === '4xx') return { code: 452, text: '4.3.1 mailbox store full, try later' };
    if (mode === '5xx') return { code: 554, text: '5.7.1 content refused by upstream policy' };
    return null;
  });
  const gw = await makeSmtpGateway(t, sink.port, { upstream: { host: '127.0.0.1', port: sink.port, timeoutMs: 300 } });
  const c = client(gw.smtpPort);
  const send = () => c.sendMail(mail).then((i) => i.response, (e: { responseCode?: number; response?: string }) => e.response ?? String(e));
  t.match(await send(), /^451 4\.4\.1 GW_ERR_SMTP_UPSTREAM_DEFERRED/, 'slow: 451');
  mode = '4xx';
  t.match(await send(), /^451 4\.4\.1 GW_ERR_SMTP_UPSTREAM_DEFERRED: .*452 4\.3\.1 mailbox store full/, '4xx: 451 (the client retries)');
  mode = '5xx';
  t.match(await send(), /^554 5\.7\.1 GW_ERR_SMTP_UPSTREAM_REFUSED: .*content refused by upstream policy/, '5xx: relayed');
  t.equal(sink.messages.length, 0, 'the upstream kept nothing: no partial or unacknowledged message');
  mode = 'ok';
  t.match(await send(), /^250 2\.6\.0 Ok: forwarded to 1 of 1 recipients/, 'the retry goes through');
  t.equal(sink.messages.length, 1, 'exactly once');
  t.match(sink.messages[0]!.raw.toString(), /\r\n\r\nMerhaba\r\n$/);
});
