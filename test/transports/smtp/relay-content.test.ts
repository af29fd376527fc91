import t from 'tap';
import { BRAND, client, INFO_KEY, makeSmtpGateway, startSink } from './smtp-harness.ts';

// Issue 14 "Outgoing commercial content check" through the SMTP relay: a TICARI key's recipients are
// decided at RCPT TO, its text (Subject + first text part) is read at DATA and checked for a
// refusal instruction and the brand's identity; `warn` says what is missing in the 250 reply and
// counts it, `block` refuses the message before the upstream, `off` reads nothing.

const BARE = { subject: 'Kış kampanyası', text: 'Tüm ürünlerde %30 indirim sizi bekliyor.' };
const FULL = { subject: 'Marka A.Ş. kış kampanyası', text: 'Tüm ürünlerde %30 indirim. Listeden çıkmak için: https://brand.example/abonelik-iptal' };

async function missingCount(gw: Awaited<ReturnType<typeof makeSmtpGateway>>, missing: string): Promise<number> {
  const res = await gw.app.inject({ method: 'GET', url: '/metrics' });
  const m = new RegExp(`^iysgate_content_missing_total\\{entrance="smtp",missing="${missing}"\\} (\\d+)$`, 'm').exec(res.body);
  return m ? Number(m[1]) : 0;
}

for (const mode of ['warn', 'block', 'off'] as const) {
  t.test(`TICARI key, contentCheck ${mode}`, async (t) => {
    const sink = await startSink(t);
    const gw = await makeSmtpGateway(t, sink.port, {}, { brands: [{ brandCode: BRAND, identity: { title: 'Marka A.Ş.' } }, 701], policy: { contentCheck: mode } });
    const c = client(gw.smtpPort);
    const send = (m: { subject: string; text: string }) => c.sendMail({ from: 'shop@brand.example', to: ['onay@example.com'], ...m });
    if (mode === 'block') {
      await t.rejects(send(BARE), { responseCode: 550, response: /^550 5\.7\.1 GW_ERR_UPSTREAM_CONTENT_MISSING: Commercial message lacks ret-instruction, identity/ } as never, 'refused with the missing items');
      t.equal(sink.messages.length, 0, 'block: nothing reached the upstream');
    } else {
      const info = await send(BARE);
      if (mode === 'warn') t.match(info.response, /^250 2\.6\.0 Ok: forwarded to 1 of 1 recipients X-IYS-Gate-Content: missing=ret-instruction,identity; upstream/, 'warn: forwarded, the reply says what is missing');
      else t.notMatch(info.response, /X-IYS-Gate-Content/, 'off: not checked');
      t.equal(sink.messages.length, 1, `${mode}: forwarded`);
      t.notMatch(sink.messages[0]!.raw.toString('utf8'), /X-IYS-Gate-Content/i, 'the forwarded mail is not marked');
    }
    t.equal(await missingCount(gw, 'ret-instruction'), mode === 'off' ? 0 : 1, 'metric counts the missing refusal instruction');
    t.equal(await missingCount(gw, 'identity'), mode === 'off' ? 0 : 1, 'metric counts the missing identity');
    const before = sink.messages.length;
    const full = await send(FULL);
    t.notMatch(full.response, /X-IYS-Gate-Content/, 'a complete text: nothing said');
    t.equal(sink.messages.length, before + 1, 'a complete text is forwarded');
    const fwd = sink.messages.at(-1)!.raw.toString('utf8');
    t.match(fwd, /Listeden =C3=A7=C4=B1kmak|Listeden çıkmak/, 'the body went through whole after the held prefix');
  });
}

t.test('informational key whose text reads as promotional (treated as commercial): the content check runs in the DATA screening', async (t) => {
  const sink = await startSink(t);
  const gw = await makeSmtpGateway(t, sink.port, {}, { policy: { contentCheck: 'block' } });
  const c = client(gw.smtpPort, 'info-mailer', INFO_KEY);
  await t.rejects(c.sendMail({ from: 'shop@brand.example', to: ['onay@example.com'], subject: 'Sepette %50 indirim!', text: 'Bugüne özel kampanya: tüm ürünlerde %50 indirim, kaçırmayın!' }),
    { responseCode: 550, response: /GW_ERR_UPSTREAM_CONTENT_MISSING: Commercial message lacks ret-instruction/ } as never, 'refused for its content, not as promotional-informational');
  t.equal(sink.messages.length, 0);
  const notice = await c.sendMail({ from: 'shop@brand.example', to: ['onay@example.com'], subject: 'Siparişiniz kargoda', text: 'Siparişiniz 12345 numarası ile kargoya verildi.' });
  t.notMatch(notice.response, /X-IYS-Gate-Content/, 'an informational notice is not checked');
  t.equal(sink.messages.length, 1);
});
