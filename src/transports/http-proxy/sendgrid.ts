import { looksLikeHtml, readableParts, readableStrings } from '../../domain/html-text.ts';
import { headerValue, isObject, presentStrings, parseMessageType, parseRecipientType, UnreadableRequest, type ProviderAdapter, type ProviderMessage } from './types.ts';

/** SendGrid v3 mail send path. */
export const SENDGRID_SEND_PATH = '/v3/mail/send';
/** Header naming the İYS message type of an e-mail (`TICARI` | `BILGILENDIRME`); stripped before forwarding. */
export const MESSAGE_TYPE_HEADER = 'x-iys-message-type';
/** Header naming the recipient type (`BIREYSEL` | `TACIR`); stripped before forwarding. */
export const RECIPIENT_TYPE_HEADER = 'x-iys-recipient-type';

const FIELDS = ['to', 'cc', 'bcc'] as const;

function addressesOf(p: Record<string, unknown>, f: (typeof FIELDS)[number], at: string): string[] {
  const list = p[f];
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new UnreadableRequest(`${at}.${f} is not a list`);
  return list.map((a, k) => {
    if (!isObject(a) || typeof a.email !== 'string') throw new UnreadableRequest(`${at}.${f}.${k}.email is required`);
    return a.email;
  });
}

/**
 * An e-mail API in the SendGrid v3 shape: `POST /v3/mail/send` with `{ personalizations: [{ to,
 * cc?, bcc?, subject? }], from, subject?, content: [{ type, value }] }` (`Authorization: Bearer
 * SG…` passed through). Recipients: every `to`, `cc`, `bcc` address, personalization by
 * personalization. Message type: header `X-IYS-Message-Type`, else the upstream default. A
 * personalization whose every `to` is removed is dropped (SendGrid requires `to`), its kept
 * cc/bcc reported as dropped. Lint texts: subjects, every `content[]` part (HTML read as its visible
 * text, hidden text apart: domain/html-text.ts), `dynamic_template_data`, `substitutions` and
 * `sections` strings; a `template_id` marks the text unseen (the policy treats it as promotional).
 * Success 202 with an empty body; errors `{ errors: [{ message, field, help }] }`.
 */
export const sendgrid: ProviderAdapter = {
  name: 'sendgrid',
  type: 'EPOSTA',
  sendPaths: [SENDGRID_SEND_PATH],
  read(req, defaults): ProviderMessage | null {
    if (req.method !== 'POST' || req.path.replace(/\/+$/, '') !== SENDGRID_SEND_PATH) return null;
    const b = req.body;
    if (!isObject(b) || !Array.isArray(b.personalizations)) throw new UnreadableRequest('personalizations[] is required');
    const recipients: string[] = [];
    const texts: string[] = [];
    if (typeof b.subject === 'string') texts.push(...readableParts(b.subject, false));
    b.personalizations.forEach((p, i) => {
      if (!isObject(p)) throw new UnreadableRequest(`personalizations.${i} is not an object`);
      for (const f of FIELDS) recipients.push(...addressesOf(p, f, `personalizations.${i}`));
      if (typeof p.subject === 'string') texts.push(...readableParts(p.subject, false));
      // what a template or a substitution puts into the mail is text the recipient reads
      for (const k of ['dynamic_template_data', 'substitutions'] as const) if (p[k] !== undefined) texts.push(...readableStrings(p[k]));
    });
    if (Array.isArray(b.content)) {
      // every part: text/plain as written, text/html (and AMP, any *html*) as its visible text
      for (const c of b.content) {
        if (!isObject(c) || typeof c.value !== 'string') continue;
        const type = typeof c.type === 'string' ? c.type.toLowerCase() : '';
        texts.push(...readableParts(c.value, type.includes('html') || (type !== 'text/plain' && looksLikeHtml(c.value))));
      }
    }
    for (const k of ['sections', 'substitutions'] as const) if (b[k] !== undefined) texts.push(...readableStrings(b[k]));
    // a dynamic or legacy template: its text lives at SendGrid, the gateway cannot read it
    const unseen = typeof b.template_id === 'string' && b.template_id !== '' ? { unseenText: 'template_id' } : {};
    const mtHeader = headerValue(req.headers, MESSAGE_TYPE_HEADER);
    const messageType = parseMessageType(mtHeader);
    if (mtHeader !== undefined && !messageType) throw new UnreadableRequest(`${MESSAGE_TYPE_HEADER} must be TICARI or BILGILENDIRME`);
    const rtHeader = headerValue(req.headers, RECIPIENT_TYPE_HEADER);
    const recipientType = parseRecipientType(rtHeader);
    if (rtHeader !== undefined && !recipientType) throw new UnreadableRequest(`${RECIPIENT_TYPE_HEADER} must be BIREYSEL or TACIR`);
    return {
      type: 'EPOSTA', recipients, texts, ...unseen,
      messageType: messageType ?? defaults.messageType, recipientType: recipientType ?? defaults.recipientType, brandCode: null,
    };
  },
  rewrite(body, keep) {
    const b = body as Record<string, unknown> & { personalizations: Record<string, unknown>[] };
    let at = 0;
    const dropped: number[] = [];
    const personalizations: Record<string, unknown>[] = [];
    b.personalizations.forEach((p) => {
      const out: Record<string, unknown> = { ...p };
      const keptIdx: number[] = [];
      let toLeft = 0;
      for (const f of FIELDS) {
        const list = p[f] as Record<string, unknown>[] | undefined;
        if (list === undefined) continue;
        const kept = list.filter((_a, k) => { const ok = keep[at + k] === true; if (ok) keptIdx.push(at + k); return ok; });
        at += list.length;
        if (f === 'to') toLeft = kept.length;
        if (kept.length > 0) out[f] = kept; else delete out[f];
      }
      if (toLeft > 0) personalizations.push(out);
      else dropped.push(...keptIdx);
    });
    return { body: { ...b, personalizations }, dropped };
  },
  providerUsers(req) {
    const a = headerValue(req.headers, 'authorization');
    return presentStrings(a && /^bearer /i.test(a) ? a.slice(7).trim() : undefined);
  },
  /** SendGrid's shape `{ errors: [{ message, field, help }] }` with the gateway's status (@sendgrid/client: `err.code`, `err.response.body`). */
  refusal(answer) {
    return { statusCode: answer.statusCode, contentType: 'application/json', body: JSON.stringify({ errors: [{ message: `${answer.code}: ${answer.message}`, field: answer.field ?? null, help: null }], iysGate: answer }) };
  },
};

const LU = new Set(['list-unsubscribe', 'list-unsubscribe-post']);

function withoutLu(h: unknown): Record<string, unknown> | undefined {
  if (!isObject(h)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) if (!LU.has(k.toLowerCase())) out[k] = v;
  return out;
}

function hasLu(h: unknown): boolean {
  return isObject(h) && Object.keys(h).some((k) => k.toLowerCase() === 'list-unsubscribe');
}

/**
 * One-click unsubscribe headers in a SendGrid v3 body (upstream `listUnsubscribe`, issue 13):
 * `add` puts `fieldsFor(recipient)` (transports/smtp/unsubscribe-headers.ts: List-Unsubscribe
 * with its signed token, List-Unsubscribe-Post) into `personalizations[i].headers` of every
 * personalization with exactly one recipient (to + cc + bcc), since SendGrid sends one message
 * per personalization and a token names one recipient; a shared personalization gets none, nor
 * any when the sender set List-Unsubscribe top-level or in that personalization. `fieldsFor`
 * null (mail that is not TICARI) adds nothing. `off` removes List-Unsubscribe and
 * List-Unsubscribe-Post from the top-level and every personalization's `headers`.
 * @param body a body `sendgrid.read` accepted (after `rewrite`)
 * @returns the new body (the input is not changed) and the number of links added / personalizations
 *   left without one; `changed` false = forward the body as it was
 */
export function sendgridListUnsubscribe(body: unknown, mode: 'add' | 'off', fieldsFor: ((recipient: string) => Array<[string, string]>) | null): { body: unknown; changed: boolean; added: number; shared: number } {
  const b = body as Record<string, unknown> & { personalizations: Record<string, unknown>[] };
  if (mode === 'off') {
    const changed = hasLuAny(b.headers) || b.personalizations.some((p) => hasLuAny(p.headers));
    if (!changed) return { body, changed: false, added: 0, shared: 0 };
    const out: Record<string, unknown> = { ...b, personalizations: b.personalizations.map((p) => (isObject(p.headers) ? { ...p, headers: withoutLu(p.headers) } : p)) };
    if (isObject(b.headers)) out.headers = withoutLu(b.headers);
    return { body: out, changed: true, added: 0, shared: 0 };
  }
  if (!fieldsFor || hasLu(b.headers)) return { body, changed: false, added: 0, shared: 0 };
  let added = 0;
  let shared = 0;
  const personalizations = b.personalizations.map((p) => {
    if (hasLu(p.headers)) return p;
    const all = FIELDS.flatMap((f) => (Array.isArray(p[f]) ? (p[f] as Array<{ email: string }>).map((a) => a.email) : []));
    if (all.length !== 1) { shared++; return p; }
    const fields = fieldsFor(all[0]!);
    if (fields.length === 0) return p;
    added++;
    // the sender's own List-Unsubscribe-Post (without a List-Unsubscribe) makes no sense beside ours
    return { ...p, headers: { ...(withoutLu(p.headers) ?? {}), ...Object.fromEntries(fields) } };
  });
  if (added === 0) return { body, changed: false, added, shared };
  return { body: { ...b, personalizations }, changed: true, added, shared };
}

function hasLuAny(h: unknown): boolean {
  return isObject(h) && Object.keys(h).some((k) => LU.has(k.toLowerCase()));
}
