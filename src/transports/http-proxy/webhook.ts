import { CONSENT_TYPES, type ConsentType } from '../../domain/types.ts';
import { isObject, parseMessageType, parseRecipientType, UnreadableRequest, type ProviderAdapter, type ProviderMessage } from './types.ts';

/**
 * iys-gate's own send shape (API.md-style vocabulary), used by the generic webhook upstream and by
 * `POST /v1/send`: `{ brandCode?, type, messageType?, recipientType?, recipients: string[],
 * message }`. Every POST to a webhook upstream carries one message; `recipients` is rewritten.
 */
export interface SendBody {
  brandCode?: number;
  type: ConsentType;
  messageType?: 'TICARI' | 'BILGILENDIRME';
  recipientType?: 'BIREYSEL' | 'TACIR';
  recipients: string[];
  /** Text (SMS), subject/body (e-mail) or call script, any JSON shape; every string in it is read by the promotional lint. */
  message: unknown;
}

/** Texts of a `message` field: every string in it (nested up to 5 levels; HTML tags dropped). */
export function textsOfMessage(m: unknown): string[] {
  // every string anywhere in the message is read (html too, tags dropped): a shape the lint does
  // not know must not pass as informational unread (review: `{ html }` and `[…]` did)
  const out: string[] = [];
  const walk = (v: unknown, depth: number) => {
    if (typeof v === 'string') { out.push(v.includes('<') ? v.replace(/<[^>]*>/g, ' ') : v); return; }
    if (depth > 4 || v === null || typeof v !== 'object') return;
    for (const x of Array.isArray(v) ? v : Object.values(v)) walk(x, depth + 1);
  };
  walk(m, 0);
  return out;
}

/** Reads a SendBody (also used by routes/v1/send.ts). @throws UnreadableRequest */
export function readSendBody(b: unknown, defaults: { messageType: 'TICARI' | 'BILGILENDIRME'; recipientType: 'BIREYSEL' | 'TACIR' }, fixedType?: ConsentType): ProviderMessage {
  if (!isObject(b)) throw new UnreadableRequest('body must be a JSON object');
  if (!Array.isArray(b.recipients) || b.recipients.some((r) => typeof r !== 'string')) throw new UnreadableRequest('recipients must be a list of strings');
  const type = (b.type ?? fixedType) as ConsentType | undefined;
  if (!type || !(CONSENT_TYPES as readonly string[]).includes(type)) throw new UnreadableRequest('type must be MESAJ, ARAMA or EPOSTA');
  if (b.messageType !== undefined && !parseMessageType(String(b.messageType))) throw new UnreadableRequest('messageType must be TICARI or BILGILENDIRME');
  if (b.recipientType !== undefined && !parseRecipientType(b.recipientType)) throw new UnreadableRequest('recipientType must be BIREYSEL or TACIR');
  if (b.brandCode !== undefined && !(Number.isInteger(b.brandCode) && (b.brandCode as number) > 0)) throw new UnreadableRequest('brandCode must be a positive integer');
  return {
    type,
    recipients: b.recipients as string[],
    texts: textsOfMessage(b.message),
    messageType: parseMessageType(b.messageType as string | undefined) ?? defaults.messageType,
    recipientType: parseRecipientType(b.recipientType) ?? defaults.recipientType,
    brandCode: (b.brandCode as number | undefined) ?? null,
  };
}

/**
 * Generic JSON webhook: every POST body is a SendBody and is forwarded to the configured URL with
 * only the allowed `recipients`. Other methods pass through unchecked. The upstream's answer is
 * relayed as it is.
 */
export const webhook: ProviderAdapter = {
  name: 'webhook',
  type: 'MESAJ',
  sendPaths: ['/', '/hooks/sms'],
  read(req, defaults): ProviderMessage | null {
    if (req.method !== 'POST') return null;
    return readSendBody(req.body, defaults);
  },
  rewrite(body, keep) {
    const b = body as Record<string, unknown> & { recipients: string[] };
    return { body: { ...b, recipients: b.recipients.filter((_r, i) => keep[i] === true) }, dropped: [] };
  },
  markCommercial(body, recipientType) {
    return { ...(body as Record<string, unknown>), messageType: 'TICARI', recipientType };
  },
};
