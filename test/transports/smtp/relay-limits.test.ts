/**
 * smtp.maxConnections (421 past it) and smtp.listUnsubscribe off / keep (the message goes
 * upstream byte for byte: nothing added, the sender's own List-Unsubscribe removed by `off`).
 */
import t, { type Test } from 'tap';
import { client, makeSmtpGateway, rawSmtp, startSink } from './smtp-harness.ts';

t.test('maxConnections: 20 clients at once against a limit of 5 → 5 greeted, 15 get 421; a freed slot is usable again', async (t) => {
  const sink = await startSink(t);
  const gw = await makeSmtpGateway(t, sink.port, { maxConnections: 5 });
  const conns = await Promise.all(Array.from({ length: 20 }, () => rawSmtp(gw.smtpPort)));
  t.teardown(() => { for (const c of conns) c.end(); });
  // greetings first, then the over-limit replies: smtp-server counts a client when it connects
  const first = await Promise.all(conns.map((c) => c.reply().catch(() => 'closed')));
  const greeted = first.filter((r) => /^220 /.test(r));
  const refused = first.filter((r) => /^421 /.test(r));
  t.equal(greeted.length, 5, 'exactly maxConnections sessions are opened');
  t.equal(refused.length, 15, 'every other client gets 421');
  t.match(refused[0], /^421 .*Too many connected clients/);
  const over = conns.filter((_c, i) => /^421 /.test(first[i]!));
  await Promise.all(over.map((c) => c.closed));
  t.pass('the refused connections are closed by the relay');
  // a greeted session still works
  const ok = conns.find((_c, i) => /^220 /.test(first[i]!))!;
  t.match(await ok.cmd('EHLO test.example'), /^250-/);
  // free one slot; a new client is greeted
  const gone = conns.filter((_c, i) => /^220 /.test(first[i]!))[1]!;
  gone.end();
  await gone.closed;
  await new Promise((r) => setTimeout(r, 100));
  const late = await rawSmtp(gw.smtpPort);
  t.teardown(() => late.end());
  t.match(await late.reply(), /^220 /, 'a slot freed by a client leaving is given to the next one');
});

const RAW = 'From: Shop <shop@brand.example>\r\nTo: onay@example.com\r\nSubject: Yeni sezon\r\nMessage-ID: <lu-1@brand.example>\r\n'
  + 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMerhaba,\r\n..nokta ile başlayan satır\r\nİyi günler\r\n';
const SENDER_LU = 'List-Unsubscribe: <https://brand.example/unsub?u=42>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n';

async function relayOnce(t: Test, listUnsubscribe: string, raw: string) {
  const sink = await startSink(t);
  const gw = await makeSmtpGateway(t, sink.port, { listUnsubscribe });
  const info = await client(gw.smtpPort).sendMail({ envelope: { from: 'shop@brand.example', to: ['onay@example.com'] }, raw });
  t.match(info.response, /^250 2\.6\.0 Ok: forwarded to 1 of 1 recipients/);
  t.equal(sink.messages.length, 1);
  return sink.messages[0]!.raw;
}

t.test('listUnsubscribe off: no header added, the message goes upstream byte-identical', async (t) => {
  const out = await relayOnce(t, 'off', RAW);
  t.equal(out.toString('latin1'), Buffer.from(RAW, 'utf8').toString('latin1'), 'byte for byte');
  t.notMatch(out.toString(), /List-Unsubscribe/i);
});

t.test("listUnsubscribe off: the sender's own List-Unsubscribe headers are removed, nothing else changes", async (t) => {
  const withLu = RAW.replace('MIME-Version:', `${SENDER_LU}MIME-Version:`);
  const out = await relayOnce(t, 'off', withLu);
  t.equal(out.toString('latin1'), Buffer.from(RAW, 'utf8').toString('latin1'), 'exactly the message without the two fields');
});

t.test("listUnsubscribe keep: the sender's List-Unsubscribe is kept and nothing is added (byte-identical)", async (t) => {
  const withLu = RAW.replace('MIME-Version:', `${SENDER_LU}MIME-Version:`);
  const out = await relayOnce(t, 'keep', withLu);
  t.equal(out.toString('latin1'), Buffer.from(withLu, 'utf8').toString('latin1'));
});

t.test('listUnsubscribe add (the default), for contrast: the relay adds its own one-click link', async (t) => {
  const out = (await relayOnce(t, 'add', RAW)).toString();
  t.match(out, /^List-Unsubscribe: <https:\/\/gate\.example\.com\/u\/[\w-]+>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nFrom: Shop/);
  t.ok(out.endsWith(RAW.slice(RAW.indexOf('From:'))), 'everything after the added fields is the sender\'s bytes');
});
