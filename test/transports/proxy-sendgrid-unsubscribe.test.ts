/**
 * One-click unsubscribe on the SendGrid-shaped proxy (issue 13: "the same header insertion is
 * offered on the SendGrid-shaped HTTP proxy"): `upstreams[].listUnsubscribe: add` puts
 * List-Unsubscribe (own token per recipient) into personalizations[].headers; the link is the
 * same /u/TOKEN endpoint as the SMTP relay's (top-level `unsubscribe`), and its POST records the
 * RET that stops the next mail.
 */
import t from 'tap';
import { verifyUnsubscribeToken } from '../../src/transports/smtp/unsubscribe-token.ts';
import { makeGateway } from '../helpers/gateway.ts';
import { startStub } from './harness.ts';
import { mv } from './smtp/smtp-harness.ts';

const BRAND = 700;
const SECRET = 'proxy-unsubscribe-secret-0123456789abcdef';
const H = { 'content-type': 'application/json', authorization: 'Bearer SG.key' };

async function setup(t: Parameters<typeof makeGateway>[0], listUnsubscribe: 'add' | 'keep' | 'off') {
  const stub = await startStub(t, (_r, res) => { res.statusCode = 202; res.end(); });
  const gw = await makeGateway(t, {
    apiKeys: [{ name: 'p', key: 'proxy-unsub-key-0123456789abcdef', brands: [BRAND], scopes: ['proxy'] }],
    upstreams: [{ name: 'mail', adapter: 'sendgrid', url: stub.url, brandCode: BRAND, gatewayAuth: 'none', listUnsubscribe }] as never,
    unsubscribe: { baseUrl: 'https://gate.example.com', secret: SECRET },
  });
  await gw.store.apply(['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com'].map((r) => mv(r, 'ONAY', BRAND)));
  const send = (payload: unknown, headers: Record<string, string> = {}) => gw.app.inject({ method: 'POST', url: '/proxy/mail/v3/mail/send', headers: { ...H, ...headers }, payload: payload as never });
  return { stub, gw, send };
}
const mail = (personalizations: unknown[], extra: Record<string, unknown> = {}) => ({
  personalizations, from: { email: 'shop@brand.example' }, subject: 'Kasım kampanyası', content: [{ type: 'text/plain', value: 'Yeni ürünler' }], ...extra,
});

t.test('add: one token per single-recipient personalization, none for a shared one; the link records the RET', async (t) => {
  const { stub, gw, send } = await setup(t, 'add');
  const res = await send(mail([
    { to: [{ email: 'a@example.com' }] },
    { to: [{ email: 'b@example.com' }], headers: { 'X-Campaign': 'k1' } },
    { to: [{ email: 'c@example.com' }], cc: [{ email: 'd@example.com' }] },
  ]));
  t.equal(res.statusCode, 202);
  const got = JSON.parse(stub.requests[0]!.body.toString()) as { personalizations: Array<{ headers?: Record<string, string> }> };
  const [pa, pb, pc] = got.personalizations;
  const tokenOf = (h: Record<string, string> | undefined) => /^<https:\/\/gate\.example\.com\/u\/([\w-]+)>$/.exec(h?.['List-Unsubscribe'] ?? '')?.[1];
  const ta = tokenOf(pa!.headers); const tb = tokenOf(pb!.headers);
  t.ok(ta && tb, 'a and b each got a link');
  t.equal(pa!.headers!['List-Unsubscribe-Post'], 'List-Unsubscribe=One-Click');
  t.equal(pb!.headers!['X-Campaign'], 'k1', "the sender's own headers stay");
  t.equal(pc!.headers, undefined, 'a personalization for two recipients gets none (one link cannot name both)');
  const claim = verifyUnsubscribeToken(SECRET, ta!, { maxAgeMs: 0, now: Date.now() });
  t.match(claim, { brandCode: BRAND, recipient: 'a@example.com', recipientType: 'BIREYSEL' }, "a's token names a");
  t.equal(verifyUnsubscribeToken(SECRET, tb!, { maxAgeMs: 0, now: Date.now() })?.recipient, 'b@example.com');
  // the same endpoint as the SMTP relay's: GET changes nothing, POST records the RET
  t.equal((await gw.app.inject({ method: 'GET', url: `/u/${ta}` })).statusCode, 200);
  t.equal((await gw.store.get({ brandCode: BRAND, recipientType: 'BIREYSEL', type: 'EPOSTA', recipient: 'a@example.com' }))?.status, 'ONAY');
  const post = await gw.app.inject({ method: 'POST', url: `/u/${ta}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'List-Unsubscribe=One-Click' });
  t.equal(post.statusCode, 200);
  t.equal((await gw.store.get({ brandCode: BRAND, recipientType: 'BIREYSEL', type: 'EPOSTA', recipient: 'a@example.com' }))?.status, 'RET');
  const next = await send(mail([{ to: [{ email: 'a@example.com' }] }, { to: [{ email: 'b@example.com' }] }]));
  t.equal(next.headers['x-iys-gate-counts'], 'received=2, forwarded=1, removed=1', 'the next mail to a is stopped');
});

t.test('add: nothing added to informational mail, nor where the sender set List-Unsubscribe', async (t) => {
  const { stub, send } = await setup(t, 'add');
  const info = mail([{ to: [{ email: 'a@example.com' }] }], { subject: 'Siparişiniz kargoda (#4821)', content: [{ type: 'text/plain', value: 'Takip numarası 123' }] });
  t.equal((await send(info, { 'x-iys-message-type': 'BILGILENDIRME' })).statusCode, 202);
  t.same(JSON.parse(stub.requests[0]!.body.toString()), info, 'BILGILENDIRME: forwarded as sent');
  const own = mail([{ to: [{ email: 'a@example.com' }] }], { headers: { 'list-unsubscribe': '<https://brand.example/u/1>' } });
  await send(own);
  t.equal(stub.requests[1]!.body.toString(), JSON.stringify(own), "the sender's top-level List-Unsubscribe: body byte-identical");
});

t.test("keep (default) changes nothing; off removes the sender's List-Unsubscribe headers", async (t) => {
  const own = mail([{ to: [{ email: 'a@example.com' }], headers: { 'List-Unsubscribe': '<https://brand.example/u/2>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click', 'X-K': '1' } }],
    { headers: { 'List-Unsubscribe': '<mailto:u@brand.example>' } });
  const keep = await setup(t, 'keep');
  await keep.send(own);
  t.equal(keep.stub.requests[0]!.body.toString(), JSON.stringify(own), 'keep: byte-identical');
  const off = await setup(t, 'off');
  await off.send(own);
  t.same(JSON.parse(off.stub.requests[0]!.body.toString()), { ...own, headers: {}, personalizations: [{ to: [{ email: 'a@example.com' }], headers: { 'X-K': '1' } }] });
});

t.test('listUnsubscribe add without unsubscribe links configured: refused at boot', async (t) => {
  const stub = await startStub(t, (_r, res) => { res.statusCode = 202; res.end(); });
  await t.rejects(makeGateway(t, {
    upstreams: [{ name: 'mail', adapter: 'sendgrid', url: stub.url, brandCode: BRAND, listUnsubscribe: 'add' }] as never,
  }), /listUnsubscribe add needs unsubscribe \{baseUrl, secret\}/);
});
