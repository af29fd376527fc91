import type { FastifyInstance, FastifyReply } from 'fastify';
import { recordRefusal } from '../check/refusals.ts';
import type { OutboxItem } from '../iys/outbox.ts';
import { verifyUnsubscribeToken, type UnsubscribeClaim } from '../transports/smtp/unsubscribe-token.ts';
import type { RouteDeps } from './deps.ts';

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
};

function page(title: string, body: string): string {
  return `<!doctype html><html lang="tr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>`
    + `<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}button{font-size:1.1rem;padding:.6rem 1.2rem}</style></head><body>${body}</body></html>\n`;
}

const BAD = page('Geçersiz bağlantı / Invalid link',
  '<h1>Geçersiz bağlantı</h1><p>Bu abonelikten çıkma bağlantısı geçerli değil (bozulmuş ya da süresi dolmuş). Hiçbir şey kaydedilmedi.</p>'
  + '<h1 lang="en">Invalid link</h1><p lang="en">This unsubscribe link is not valid (damaged or expired). Nothing was recorded. (GW_ERR_UNSUBSCRIBE_TOKEN_INVALID)</p>');

const DONE = page('Abonelikten çıkıldı / Unsubscribed',
  '<h1>Abonelikten çıktınız</h1><p>Bu markadan ticari e-posta almayacaksınız; ret İYS\'ye bildirilir.</p>'
  + '<h1 lang="en">You are unsubscribed</h1><p lang="en">You will receive no more commercial e-mail from this brand; the refusal is reported to İYS.</p>');

function confirm(): string {
  return page('Abonelikten çık / Unsubscribe',
    '<h1>Abonelikten çıkmak istiyor musunuz?</h1><p>Bu markadan ticari e-posta almak istemiyorsanız düğmeye basın.</p>'
    + '<h1 lang="en">Unsubscribe?</h1><p lang="en">Press the button to stop commercial e-mail from this brand.</p>'
    + '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
    + '<button type="submit">Abonelikten çık / Unsubscribe</button></form>');
}

/** True when the body carries `List-Unsubscribe=One-Click` (RFC 8058 §3.1: urlencoded or multipart/form-data). */
function isOneClick(body: unknown): boolean {
  if (typeof body !== 'string') return false;
  if (new URLSearchParams(body).get('List-Unsubscribe') === 'One-Click') return true;
  return /name="?List-Unsubscribe"?\r\n(?:[^\r\n]+\r\n)*\r\nOne-Click\r\n/i.test(body);
}

/**
 * One-click unsubscribe (RFC 8058) for links the SMTP relay adds (`List-Unsubscribe:
 * <…/u/TOKEN>`, transports/smtp/unsubscribe-headers.ts). Public (the token is the credential).
 * - `GET /u/:token`: a confirmation page (Turkish and English) with a button that POSTs; never
 *   changes anything (mail scanners and prefetchers GET every link, field case C22). 400 page for
 *   a bad token.
 * - `POST /u/:token` with `List-Unsubscribe=One-Click`: records an EPOSTA RET for the token's
 *   brand, recipient and recipient type through the gate's one refusal path (check/refusals.ts:
 *   outbox with its 3-business-day deadline before the mirror, source HS_EPOSTA); effective at
 *   once. Idempotent: when the mirror already holds RET for that key, or an open outbox RET item
 *   exists for it, or the same POST is in flight, nothing new is recorded (200 all the same).
 *   A bad or forged token: 400 page, nothing recorded; store or outbox failure: 503 page.
 * 404 when neither `smtp.unsubscribe` nor `unsubscribe` is configured.
 */
export async function unsubscribeRoutes(app: FastifyInstance, deps: RouteDeps) {
  // the SMTP relay's links and the SendGrid proxy's (top-level `unsubscribe`): a token signed with either secret
  const cfgs = [deps.config.smtp?.unsubscribe, deps.config.unsubscribe].filter((c): c is NonNullable<typeof c> => c !== undefined);
  const cfg = cfgs[0];
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'multipart/form-data'], { parseAs: 'string', bodyLimit: 8192 }, (_req, body, done) => done(null, body));
  const inFlight = new Map<string, Promise<void>>();
  const verify = (token: string): UnsubscribeClaim | null => {
    for (const c of cfgs) {
      const claim = verifyUnsubscribeToken(c.secret, token, { maxAgeMs: c.tokenMaxAgeMs, now: deps.now() });
      if (claim) return claim;
    }
    return null;
  };
  const send = (reply: FastifyReply, status: number, html: string) => reply.code(status).headers(PAGE_HEADERS).send(html);
  const schema = { params: { type: 'object', properties: { token: { type: 'string', maxLength: 1024 } }, required: ['token'] }, tags: ['unsubscribe'], security: [] };

  app.get<{ Params: { token: string } }>('/u/:token', { schema: { ...schema, summary: 'One-click unsubscribe: confirmation page (never changes anything)' } }, async (req, reply) => {
    if (!cfg) return send(reply, 404, page('Not found', '<h1>Not found</h1>'));
    return verify(req.params.token) ? send(reply, 200, confirm()) : send(reply, 400, BAD);
  });

  app.post<{ Params: { token: string } }>('/u/:token', { schema: { ...schema, summary: 'One-click unsubscribe (RFC 8058): records an EPOSTA RET' } }, async (req, reply) => {
    if (!cfg) return send(reply, 404, page('Not found', '<h1>Not found</h1>'));
    const claim = verify(req.params.token);
    if (!claim || !isOneClick(req.body)) { deps.metrics.unsubscribes.inc({ outcome: 'invalid' }); return send(reply, 400, BAD); }
    const k = `${claim.brandCode}\u0000${claim.recipientType}\u0000${claim.recipient}`;
    let outcome = 'already';
    let p = inFlight.get(k);
    if (!p) {
      p = (async () => {
        const key = { brandCode: claim.brandCode, recipientType: claim.recipientType, type: 'EPOSTA' as const, recipient: claim.recipient };
        const now = await deps.store.get(key);
        const open = await deps.iys.outbox.list((it: OutboxItem) => (it.state === 'pending' || it.state === 'submitted')
          && it.brandCode === key.brandCode && it.consent.type === 'EPOSTA' && it.consent.recipientType === key.recipientType
          && it.consent.recipient === key.recipient && it.consent.status === 'RET');
        if (now?.status === 'RET' || open.length > 0) return;
        await recordRefusal(
          { store: deps.store, outbox: deps.iys.outbox, halfDayPolicy: deps.config.policy.halfDayPolicy, now: deps.now },
          { brandCode: claim.brandCode, recipient: claim.recipient, type: 'EPOSTA', recipientType: claim.recipientType, source: 'HS_EPOSTA' },
        );
        outcome = 'recorded';
      })().finally(() => inFlight.delete(k));
      inFlight.set(k, p);
    }
    try {
      await p;
    } catch (err) {
      req.log.error({ err }, 'unsubscribe: the refusal could not be recorded');
      return send(reply, 503, page('Hata / Error', '<h1>Şu anda kaydedilemedi</h1><p>Lütfen biraz sonra tekrar deneyin.</p><h1 lang="en">Not recorded</h1><p lang="en">Please try again in a moment.</p>'));
    }
    deps.metrics.unsubscribes.inc({ outcome });
    if (outcome === 'recorded') deps.metrics.rejections.inc();
    return send(reply, 200, DONE);
  });
}
