import t from 'tap';
import { BRAND, UNSUB_SECRET, client, makeSmtpGateway, startSink } from './smtp-harness.ts';
import { signUnsubscribeToken, verifyUnsubscribeToken } from '../../../src/transports/smtp/unsubscribe-token.ts';

t.test('token: round trip, recipient not in clear, any change is a forgery, expiry', async (t) => {
  const claim = { brandCode: BRAND, recipient: 'ali@example.com', recipientType: 'BIREYSEL' as const, issuedAt: 1_800_000_000 };
  const tok = signUnsubscribeToken(UNSUB_SECRET, claim);
  t.same(verifyUnsubscribeToken(UNSUB_SECRET, tok, { maxAgeMs: 0, now: 0 }), claim);
  t.notMatch(Buffer.from(tok, 'base64url').toString('latin1'), /ali|example/, 'recipient encrypted');
  for (const i of [0, 5, 20, tok.length - 1]) {
    const bad = tok.slice(0, i) + (tok[i] === 'A' ? 'B' : 'A') + tok.slice(i + 1);
    t.equal(verifyUnsubscribeToken(UNSUB_SECRET, bad, { maxAgeMs: 0, now: 0 }), null, `byte ${i} changed`);
  }
  t.equal(verifyUnsubscribeToken('another-secret-0123456789abcdef0123456', tok, { maxAgeMs: 0, now: 0 }), null, 'other secret');
  t.equal(verifyUnsubscribeToken(UNSUB_SECRET, tok, { maxAgeMs: 1000, now: claim.issuedAt * 1000 + 1001 }), null, 'expired');
  t.equal(verifyUnsubscribeToken(UNSUB_SECRET, 'not a token!', { maxAgeMs: 0, now: 0 }), null);
});

t.test('one-click: GET changes nothing, POST records the RET once (outbox + deadline), forged 400, next mail refused at RCPT', async (t) => {
  const sink = await startSink(t);
  const gw = await makeSmtpGateway(t, sink.port);
  const c = client(gw.smtpPort);
  await c.sendMail({ from: 'shop@brand.example', to: 'onay@example.com', subject: 'Yeni ürünler', text: 'Merhaba' });
  const raw = sink.messages[0]!.raw.toString();
  const path = /List-Unsubscribe: <https:\/\/gate\.example\.com(\/u\/[A-Za-z0-9_-]+)>/.exec(raw)![1]!;
  const key = { brandCode: BRAND, recipientType: 'BIREYSEL' as const, type: 'EPOSTA' as const, recipient: 'onay@example.com' };
  const get = await gw.app.inject({ method: 'GET', url: path });
  t.equal(get.statusCode, 200);
  t.match(get.body, /<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">/);
  t.match(get.body, /Abonelikten çık/); t.match(get.body, /Unsubscribe/);
  t.equal((await gw.store.get(key))?.status, 'ONAY', 'GET changed nothing (C22)');
  t.equal((await gw.app.iys.outbox.list()).length, 0, 'no outbox item after GET');
  const post = () => gw.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
  const p1 = await post();
  t.equal(p1.statusCode, 200);
  t.match(p1.body, /Abonelikten çıktınız/);
  const rec = await gw.store.get(key);
  t.equal(rec?.status, 'RET', 'effective at once');
  t.equal(rec?.source, 'HS_EPOSTA');
  const items = (await gw.app.iys.outbox.list());
  t.equal(items.length, 1, 'one outbox item');
  t.equal(items[0]!.consent.status, 'RET');
  t.equal(items[0]!.consent.source, 'HS_EPOSTA');
  t.match(items[0]!.deadline, /^\d{4}-\d{2}-\d{2}$/, 'with its İYS deadline');
  const p2 = await post();
  t.equal(p2.statusCode, 200, 'second POST: 200');
  t.equal((await gw.app.iys.outbox.list()).length, 1, 'and no second outbox item');
  const forged = path.slice(0, -3) + (path.endsWith('AAA') ? 'BBB' : 'AAA');
  const f = await gw.app.inject({ method: 'POST', url: forged, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
  t.equal(f.statusCode, 400);
  t.match(f.body, /GW_ERR_UNSUBSCRIBE_TOKEN_INVALID/);
  t.equal((await gw.app.inject({ method: 'GET', url: forged })).statusCode, 400, 'GET of a forged token: 400');
  t.equal((await gw.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'x=1' })).statusCode, 400, 'POST without List-Unsubscribe=One-Click: 400');
  t.equal((await gw.app.iys.outbox.list()).length, 1, 'nothing more recorded');
  const next = await c.sendMail({ from: 'shop@brand.example', to: ['onay@example.com', 'ret@example.com'], subject: 'x', text: 'y' }).then(() => null, (e: { rejectedErrors?: Array<{ response: string }> }) => e);
  t.match(next?.rejectedErrors?.[0]?.response, /^550 5\.7\.1 GW_ERR_SMTP_RECIPIENT_REFUSED: .*CONSENT_RET/, 'the next message to that address is refused at RCPT');
  t.equal(sink.messages.length, 1, 'nothing more upstream');
});
