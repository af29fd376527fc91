// Attack review of 2026-12-02 on the SendGrid proxy's listUnsubscribe add (issue 13): header
// injection through recipients, a sender's own List-Unsubscribe with CRLF, many recipients.
import t from 'tap';
import { makeGateway } from '../helpers/gateway.ts';
import { startStub } from '../transports/harness.ts';
import { mv } from '../transports/smtp/smtp-harness.ts';

const BRAND = 701;
const H = { 'content-type': 'application/json', authorization: 'Bearer SG.key' };

t.test('listUnsubscribe add: no CR/LF ever reaches a header the gateway writes; odd personalizations handled', async (t) => {
  const stub = await startStub(t, (_r, res) => { res.statusCode = 202; res.end(); });
  const gw = await makeGateway(t, {
    apiKeys: [{ name: 'p', key: 'proxy-unsub-key-0123456789abcdef', brands: [BRAND], scopes: ['proxy'] }],
    upstreams: [{ name: 'mail', adapter: 'sendgrid', url: stub.url, brandCode: BRAND, gatewayAuth: 'none', listUnsubscribe: 'add' }] as never,
    unsubscribe: { baseUrl: 'https://gate.example.com', secret: 'review-unsubscribe-secret-0123456789abcd' },
  });
  const many = Array.from({ length: 500 }, (_x, i) => `m${i}@example.com`);
  await gw.store.apply(['a@example.com', ...many].map((r) => mv(r, 'ONAY', BRAND)));
  const send = (personalizations: unknown[]) => gw.app.inject({ method: 'POST', url: '/proxy/mail/v3/mail/send', headers: H,
    payload: { personalizations, from: { email: 'shop@brand.example' }, subject: 'Kasım kampanyası', content: [{ type: 'text/plain', value: 'Yeni ürünler' }] } as never });

  // a recipient address carrying CRLF + a header: not an address, never a header value
  const inj = await send([{ to: [{ email: 'a@example.com\r\nBcc: victim@evil.example' }] }, { to: [{ email: 'a@example.com' }] }]);
  t.ok(inj.statusCode < 500, `answered ${inj.statusCode}`);
  for (const r of stub.requests) {
    const got = JSON.parse(r.body.toString()) as { personalizations: Array<{ to: Array<{ email: string }>; headers?: Record<string, string> }> };
    for (const p of got.personalizations) {
      t.notOk(p.to.some((a) => /[\r\n]/.test(a.email)), 'no forwarded address carries CR/LF');
      for (const [k, v] of Object.entries(p.headers ?? {})) t.notMatch(`${k}: ${v}`, /[\r\n]/, `header ${k} has no CR/LF`);
    }
  }

  // 500 recipients in one personalization: one link cannot name them all, so none is added and all are screened
  const before = stub.requests.length;
  const big = await send([{ to: many.map((email) => ({ email })) }]);
  t.equal(big.statusCode, 202);
  t.equal(stub.requests.length, before + 1);
  const fwd = JSON.parse(stub.requests.at(-1)!.body.toString()) as { personalizations: Array<{ to: unknown[]; headers?: unknown }> };
  t.equal(fwd.personalizations[0]!.to.length, 500, 'every consenting recipient forwarded');
  t.equal(fwd.personalizations[0]!.headers, undefined, 'no shared link');

  // personalizations without headers, with non-object headers, with empty to: coded or forwarded, never a 5xx
  for (const p of [{ to: [{ email: 'a@example.com' }], headers: 'x' }, { to: [{ email: 'a@example.com' }], headers: ['List-Unsubscribe'] }, { to: [] }, { to: [{}] }]) {
    const r = await send([p]);
    t.ok(r.statusCode < 500, `${JSON.stringify(p)} → ${r.statusCode} ${r.body.slice(0, 100)}`);
  }
});
